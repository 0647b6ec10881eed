"""Users' own models (docs/own-model.md): what wrapping one costs per tick, and a worked comparison.

    .venv/bin/python benchmarks/own_model.py overhead [--rows 1000,10000] [--repeats 200]
    .venv/bin/python benchmarks/own_model.py compare [--replications 4] [--horizon 90d] [--workers 2]

``overhead`` times scoring one tick of rows (the simulator's features, made up) three ways: the
bundled logistic model (fraudsim's own arithmetic on scikit-learn's fitted weights), the same
scikit-learn ``LogisticRegression`` given as a user's model (through its ``predict_proba``, as any
user model is scored), and that ``predict_proba`` called directly; and the check every tick's
scores get (one probability in [0, 1] per row). Medians over ``--repeats``, in microseconds.

``compare`` runs the quickstart world with the bundled learners beside a scikit-learn
``HistGradientBoostingClassifier`` retrained daily and a river ``ARFClassifier`` learning online,
and prints each arm's saving over ``static`` (paired by replication, 95 % Student-t intervals) by
total cost and by fraud loss, and its seconds per replication, as a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim.detect.models import SklearnModel  # noqa: E402
from sim.learn.checks import toy_history  # noqa: E402
from sim.learn.protocol import scores_problem  # noqa: E402
from sim.metrics import t_interval  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _median_us(call, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return 1e6 * statistics.median(times)


def overhead(rows: list[int], repeats: int) -> None:
    from sklearn.linear_model import LogisticRegression

    history = toy_history(rows=5000)
    bundled = SklearnModel("logistic").fit(history.X, history.y)
    users = SklearnModel(LogisticRegression()).fit(history.X, history.y)
    print("| rows per tick | bundled logistic | same model as a user's | its predict_proba alone | score check |")
    print("| --- | --- | --- | --- | --- |")
    for n in rows:
        X = np.random.default_rng(n).normal(size=(n, history.X.shape[1])).astype(np.float32)
        p = users.predict_proba(X)
        times = [
            _median_us(lambda X=X: bundled.predict_proba(X), repeats),
            _median_us(lambda X=X: users.predict_proba(X), repeats),
            _median_us(lambda X=X: users.estimator.predict_proba(X.astype(np.float64)), repeats),
            _median_us(lambda p=p, n=n: scores_problem(p, n), repeats),
        ]
        print(f"| {n:,} | " + " | ".join(f"{t:,.0f} µs" for t in times) + " |")


def compare(replications: int, horizon: str, workers: int) -> None:
    import polars as pl
    from river import forest
    from sklearn.ensemble import HistGradientBoostingClassifier

    import sim

    scenario = sim.load(ROOT / "scenarios" / "quickstart.toml", {"horizon": horizon})
    arms = [
        sim.arms.Oracle(),
        sim.arms.Online("online"),
        sim.arms.Batch("batch-daily", every="1d"),
        sim.arms.Batch("hgb-daily", model=HistGradientBoostingClassifier(max_iter=100), every="1d"),
        sim.arms.Online("arf-online", model=forest.ARFClassifier(n_models=5)),
        sim.arms.Static(),
    ]
    started = time.perf_counter()
    result = sim.run(scenario, arms=arms, replications=replications, workers=workers, progress=False)
    seconds = time.perf_counter() - started
    totals = result.arms.sort("arm", "replication")
    base = totals.filter(pl.col("arm") == "static")
    with tempfile.TemporaryDirectory() as scratch:  # the run's timings, as run_info.json records them
        info = json.loads((result.save(Path(scratch) / "run", report=False) / "run_info.json").read_text())
    arm_seconds = {}
    for row in info["arms"]:
        arm_seconds[row["arm"]] = arm_seconds.get(row["arm"], 0.0) + row["seconds"]
    command = f"own_model.py compare --replications {replications} --horizon {horizon}"
    world = f"Quickstart world, {horizon}, {replications} replications, seed {scenario.seed}"
    print(f"{world}: `{command}` ({seconds:.0f} s)")
    print()
    print("| arm | saving over static, total cost | by fraud loss | seconds per replication |")
    print("| --- | --- | --- | --- |")
    for arm in [a.name for a in arms if a.name != "static"]:
        mine = totals.filter(pl.col("arm") == arm)
        cells = []
        for key in ("total_cost", "fraud_loss"):
            saving = (base[key].to_numpy() - mine[key].to_numpy()) / base[key].to_numpy()
            mean, low, high = t_interval(saving)
            cells.append(f"{100 * mean:+.1f} % ({100 * low:+.1f} to {100 * high:+.1f})")
        print(f"| `{arm}` | {cells[0]} | {cells[1]} | {arm_seconds[arm] / replications:.0f} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    timing = commands.add_parser("overhead")
    timing.add_argument("--rows", default="1000,10000")
    timing.add_argument("--repeats", type=int, default=200)
    worked = commands.add_parser("compare")
    worked.add_argument("--replications", type=int, default=4)
    worked.add_argument("--horizon", default="90d")
    worked.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    if args.command == "overhead":
        overhead([int(n) for n in args.rows.split(",")], args.repeats)
    else:
        compare(args.replications, args.horizon, args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
