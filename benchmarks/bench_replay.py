"""How much faster ``fraudsim replay --batch`` is than river's own ``progressive_val_score`` (target: 5×).

    .venv/bin/python benchmarks/bench_replay.py [--rows 1000000] [--delay 1d] [--tick 15m]

Generates a drifting stream (8 features, 30 days, about 3% fraud), writes it as Parquet, then
in one process times, on the same stream:

- **river**: ``evaluate.progressive_val_score(dataset, LogisticRegression(), LogLoss(), moment,
  delay)``, the dataset yielding ``(x, y)`` dicts made from in-memory rows (moment and delay
  given so that neither is a feature);
- **batch**: our ``--batch`` mode with the online logistic learner (``--no-scaling``, river's
  defaults), end to end: reading the file, replaying, metrics, ``predictions.parquet``;
- **exact**: our exact mode, the same way; its scores must equal river's (checked to 1e-9).

River and batch mode run ``--repeats`` times, alternating, and the medians are compared. Writes
``reports/bench/replay.json`` (timings, the ratio, and batch-vs-exact metric differences) and
prints one line. Not a test: timings depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.parallel import pin_threads  # noqa: E402  (before numpy and polars start their threads)

pin_threads()

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402
from river import evaluate, linear_model, metrics  # noqa: E402

from sim import __version__  # noqa: E402
from sim.outputs import write_json  # noqa: E402
from sim.replays import LabelDelay, ReplaySettings, StreamSpec, arm_from_options, replay  # noqa: E402
from sim.units import DAY, parse_duration  # noqa: E402

FEATURES = tuple(f"f{i}" for i in range(8))
COMPARED = ("log_loss", "roc_auc", "ece", "recall", "specificity")


def drifting_stream(rows: int, days: float = 30.0, seed: int = 11) -> pl.DataFrame:
    """Rows in time order; the fraud model rotates from one weight vector to another over the span."""
    rng = np.random.default_rng(seed)
    time_s = np.sort(rng.uniform(0, days * DAY, rows)).round(3)
    X = rng.normal(size=(rows, len(FEATURES)))
    before, after = rng.normal(0, 1.2, len(FEATURES)), rng.normal(0, 1.2, len(FEATURES))
    share = time_s / (days * DAY)
    logit = -4.0 + (1 - share) * (X @ before) + share * (X @ after)
    label = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    return pl.DataFrame({"time": time_s, **{name: X[:, k] for k, name in enumerate(FEATURES)}, "label": label})


def river_baseline(frame: pl.DataFrame, delay_s: float) -> tuple[float, np.ndarray]:
    """River's own delayed progressive validation; returns seconds and scores in row order."""
    X = frame.select(FEATURES).to_numpy().tolist()
    labels = (frame["label"].to_numpy() == 1).tolist()
    times = iter(frame["time"].to_list())
    dataset = ((dict(zip(FEATURES, row, strict=True)), y) for row, y in zip(X, labels, strict=True))
    started = time.perf_counter()
    steps = evaluate.iter_progressive_val_score(
        dataset,
        linear_model.LogisticRegression(),
        metrics.LogLoss(),
        moment=lambda x: next(times),
        delay=delay_s,
        yield_predictions=True,
    )
    answered = np.fromiter((step["Prediction"].get(True, 0.0) for step in steps), np.float64, len(X))
    seconds = time.perf_counter() - started
    # river yields in label-arrival order: times are sorted and the delay constant, so that is row order
    return seconds, answered


def ours(path: Path, out: Path, delay_s: float, batch: bool, tick: float) -> tuple[float, dict, np.ndarray]:
    spec = StreamSpec(time="time", label="label", delay=LabelDelay(constant_s=delay_s), features=FEATURES)
    arm = arm_from_options("online", scaling=False)
    settings = ReplaySettings(mode="batch" if batch else "exact", tick=tick)
    started = time.perf_counter()
    summary = replay(path, spec, [arm], settings, out, report=False)
    seconds = time.perf_counter() - started
    scores = pl.read_parquet(out / "predictions.parquet").sort("row")["score"].to_numpy()
    return seconds, summary["metrics"]["online"], scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--delay", default="1d", help="constant label delay")
    parser.add_argument("--tick", default="15m", help="micro-batch length of --batch mode")
    parser.add_argument("--repeats", type=int, default=2, help="timings of river and of batch mode (medians)")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "bench" / "replay.json")
    args = parser.parse_args(argv)
    delay_s, tick = parse_duration(args.delay), parse_duration(args.tick)
    frame = drifting_stream(args.rows)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "stream.parquet"
        frame.write_parquet(path)
        batch_times, river_times = [], []
        for repeat in range(args.repeats):
            batch_s, batch_metrics, _ = ours(path, Path(folder) / f"batch{repeat}", delay_s, True, tick)
            river_s, river_scores = river_baseline(frame, delay_s)
            batch_times.append(batch_s)
            river_times.append(river_s)
        exact_s, exact_metrics, exact_scores = ours(path, Path(folder) / "exact", delay_s, False, tick)
    batch_s, river_s = statistics.median(batch_times), statistics.median(river_times)
    gap = float(np.abs(exact_scores - river_scores).max())
    ratio = river_s / batch_s
    result = {
        "rows": args.rows,
        "features": len(FEATURES),
        "days": 30,
        "fraud_rate": float(frame["label"].mean()),
        "delay": args.delay,
        "tick": args.tick,
        "learner": "online logistic, no scaling (river's defaults)",
        "repeats": args.repeats,
        "river_progressive_val_score_s": round(river_s, 3),
        "batch_s": round(batch_s, 3),
        "exact_s": round(exact_s, 3),
        "river_runs_s": [round(t, 3) for t in river_times],
        "batch_runs_s": [round(t, 3) for t in batch_times],
        "speedup_batch_vs_river": round(ratio, 2),
        "speedup_exact_vs_river": round(river_s / exact_s, 2),
        "exact_vs_river_max_abs_score_difference": gap,
        "metrics_exact": exact_metrics,
        "metrics_batch": batch_metrics,
        "metric_differences_batch_minus_exact": {key: batch_metrics[key] - exact_metrics[key] for key in COMPARED},
        "fraudsim_version": __version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, result)
    differences = ", ".join(f"{k} {v:+.2g}" for k, v in result["metric_differences_batch_minus_exact"].items())
    print(
        f"replay of {args.rows:,} rows: river progressive_val_score {river_s:.1f}s, ours --batch {batch_s:.2f}s "
        f"({ratio:.1f}× faster), exact {exact_s:.1f}s (max |score − river| {gap:.1e}); batch − exact: {differences}"
    )
    return 0 if ratio >= 5 and gap <= 1e-9 else 1


if __name__ == "__main__":
    sys.exit(main())
