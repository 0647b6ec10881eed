"""The scale benchmark (issue 24): one arm of the quickstart world at growing sizes.

    .venv/bin/python benchmarks/scale.py [--sizes 20000,200000,2000000] [--goal] [--docs]

``make bench-scale`` runs it with ``--goal --docs``. Each run is ``fraudsim run`` in a fresh
child process (one worker, one replication, no report) on the quickstart world with its arms
replaced, merchants one per ten customers; the child's peak RSS and CPU time come from the
operating system (``wait4``), its transactions from ``run_info.json``. Besides one ``static``
arm over 30 days at every size, the middle size is run again with a 90-day horizon, a 14-day
history and an ``online`` arm beside ``static``, to show how cost grows with each. ``--goal``
adds the issue's goal row: 2,100,000 customers, a 97-day horizon, ``--ledger``; and the same
world without the ledger. A size whose
memory estimate (``sim.memory``, what validation checks) exceeds this machine's memory is
skipped, and said so. Writes ``reports/bench/scale.json`` and ``scale.md``; ``--docs`` also
puts the table into ``docs/performance.md`` (between its ``scale`` markers). ``--goal-only``
measures the goal rows again and keeps the other rows (the table says when each was measured).
Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import numpy as np
import tomli_w

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from docblock import fill  # noqa: E402

import sim  # noqa: E402
from sim.memory import estimate, gigabytes, machine_memory  # noqa: E402

QUICKSTART = ROOT / "scenarios" / "quickstart.toml"
DOCS = ROOT / "docs" / "performance.md"
OUT = ROOT / "reports" / "bench"
THREADS = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "POLARS_MAX_THREADS")}
STATIC = {"name": "static", "learner": "static"}
ONLINE = {"name": "online", "learner": "online"}


def case(label: str, customers: int, horizon: str = "30d", history: str = "60d", arms=(STATIC,), ledger=False):
    return {
        "case": label,
        "customers": customers,
        "horizon": horizon,
        "history": history,
        "arms": [arm["name"] for arm in arms],
        "ledger": ledger,
        "_arms": list(arms),
    }


def cases(sizes: list[int], goal: bool) -> list[dict]:
    middle = sizes[len(sizes) // 2]
    runs = [case("one static arm, 30 days", size) for size in sizes]
    runs += [
        case("horizon 90 days", middle, horizon="90d"),
        case("history 14 days", middle, history="14d"),
        case("static and online arms", middle, arms=(STATIC, ONLINE)),
    ]
    return [*runs, *goal_cases()] if goal else runs


def goal_cases() -> list[dict]:
    """Issue 24's goal: one arm of 2.1 million customers over 97 days, with the ledger; and the
    same without it, to tell the engine's time from the ledger's."""
    return [
        case("the goal's world without --ledger", 2_100_000, horizon="97d"),
        case("the goal: 97 days, --ledger", 2_100_000, horizon="97d", ledger=True),
    ]


def scenario_file(run: dict, folder: Path) -> Path:
    data = tomllib.loads(QUICKSTART.read_text(encoding="utf-8"))
    data.update(name="scale", horizon=run["horizon"], history=run["history"], replications=1, arms=run["_arms"])
    data["population"] = {**data["population"], "customers": run["customers"], "merchants": run["customers"] // 10}
    path = folder / "scale.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def measure(run: dict, folder: Path) -> dict:
    """Run one case in a child process; its wall and CPU seconds, peak RSS and transactions."""
    path = scenario_file(run, folder)
    needed = estimate(sim.load(path)).total
    result = {key: value for key, value in run.items() if not key.startswith("_")} | {"estimate_bytes": needed}
    if needed > 0.9 * machine_memory():
        return result | {"skipped": f"the estimate, {gigabytes(needed)}, exceeds this machine's memory"}
    out = folder / "out"
    command = [sys.executable, "-m", "sim", "run", str(path), "-q", "--workers", "1", "--no-report", "--out", str(out)]
    if run["ledger"]:
        command.append("--ledger")
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **THREADS})
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        return result | {"skipped": f"fraudsim run failed (exit status {os.waitstatus_to_exitcode(status)})"}
    info = json.loads((out / "run_info.json").read_text(encoding="utf-8"))
    transactions = info["transactions"] + info["warmup_transactions"]
    cpu = usage.ru_utime + usage.ru_stime
    disk = sum(file.stat().st_size for file in out.rglob("*") if file.is_file())
    shutil.rmtree(out)
    return result | {
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
        "peak_rss_bytes": usage.ru_maxrss * 1024,
        "transactions": transactions,
        "warmup_transactions": info["warmup_transactions"],
        "tx_per_cpu_second": round(transactions / cpu),
        "output_bytes": disk,
    }


def measure_all(runs: list[dict]) -> list[dict]:
    """:func:`measure` each run in a folder of its own, printing each result as it comes."""
    results = []
    for run in runs:
        with tempfile.TemporaryDirectory(prefix="fraudsim-scale-") as folder:
            results.append(measure(run, Path(folder)))
        print(json.dumps(results[-1]), flush=True)
    return results


def _nbytes(obj, seen: set[int], depth: int = 0) -> int:
    """Bytes of the numpy arrays reachable from ``obj`` (each counted once)."""
    if id(obj) in seen or depth > 8:
        return 0
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        return obj.nbytes
    if isinstance(obj, dict):
        children = list(obj.values())
    elif isinstance(obj, list | tuple | set | frozenset):
        children = list(obj)
    elif hasattr(obj, "__dict__"):
        children = list(vars(obj).values())
    else:
        return 0
    return sum(_nbytes(child, seen, depth + 1) for child in children)


def state(customers: int) -> dict:
    """The warmed-up world of the middle size with one static arm, part by part: bytes and units
    (run in a child process by ``--state``)."""
    from sim.engine import warm_up
    from sim.rng import Streams

    with tempfile.TemporaryDirectory(prefix="fraudsim-scale-") as folder:
        scenario = sim.load(scenario_file(case("state", customers), Path(folder)))
    world, _ = warm_up(scenario, Streams(scenario.seed, 0))
    store, queue = world.store, world.queue
    live = store.next_id - store.live_from
    kept = store.kept_rows
    seen: set[int] = set()
    wallets = [crew.wallet for crew in world.crews.active]
    parts = {
        "customers and merchants (habits, features)": (
            _nbytes(world.population, seen) + _nbytes(world.features, seen),
            customers,
            "customer",
        ),
        "stored transactions: whether each is kept, and where": (store.index_bytes, live, "stored transaction"),
        "stored transactions: the kept rows' features, merchant and card": (kept * 176, kept, "kept row"),
        "pending label events": (_nbytes(queue, seen), len(queue), "pending label"),
        "crews' cards": (_nbytes(wallets, seen), sum(len(w.card) for w in wallets), "crew card"),
    }
    return {name: {"bytes": b, "units": n, "unit": unit} for name, (b, n, unit) in parts.items()}


def table(results: list[dict]) -> str:
    lines = [
        "| case | customers | transactions (warm-up + horizon) | wall | CPU | tx per CPU second | peak RSS "
        "| estimate (validation) | estimate ÷ peak |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in results:
        head = f"| {row['case']} | {row['customers']:,} |"
        if "skipped" in row:
            lines.append(f"{head} skipped: {row['skipped']} | | | | | {gigabytes(row['estimate_bytes'])} | |")
            continue
        ratio = row["estimate_bytes"] / row["peak_rss_bytes"]
        lines.append(
            f"{head} {row['transactions']:,} ({row['warmup_transactions']:,} + "
            f"{row['transactions'] - row['warmup_transactions']:,}) | {row['wall_seconds']:.0f} s "
            f"| {row['cpu_seconds']:.0f} s | {row['tx_per_cpu_second']:,} | {gigabytes(row['peak_rss_bytes'])} "
            f"| {gigabytes(row['estimate_bytes'])} | {ratio:.2f} |"
        )
    return "\n".join(lines)


def state_table(parts: dict, customers: int) -> str:
    lines = [
        f"The warmed-up world at {customers:,} customers, part by part (numpy arrays reachable from each; `--state`):",
        "",
        "| part | bytes | units | bytes per unit | bytes per customer |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, part in parts.items():
        per_unit = part["bytes"] / max(part["units"], 1)
        shown = f"{per_unit:,.0f}" if per_unit >= 10 else f"{per_unit:.2f}"  # a bit-packed part: under a byte
        lines.append(
            f"| {name} | {gigabytes(part['bytes'])} | {part['units']:,} {part['unit']}s | {shown} "
            f"| {part['bytes'] / customers:,.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000,200000,2000000", help="customers, comma-separated")
    parser.add_argument(
        "--goal", action="store_true", help="add the 2.1-million-customer, 97-day runs (with and without --ledger)"
    )
    parser.add_argument("--docs", action="store_true", help="write the table into docs/performance.md")
    parser.add_argument("--render", action="store_true", help="only render reports/bench/scale.json again")
    parser.add_argument(
        "--goal-only", action="store_true", help="measure the goal rows again, keeping the other rows of scale.json"
    )
    parser.add_argument("--state", type=int, metavar="CUSTOMERS", help="(child) print the warmed-up state's parts")
    args = parser.parse_args()
    if args.state:
        print(json.dumps(state(args.state)))
        return
    OUT.mkdir(parents=True, exist_ok=True)
    if args.goal_only:  # the other rows kept as measured; the goal rows' date said apart
        meta = json.loads((OUT / "scale.json").read_text(encoding="utf-8"))
        goals = measure_all(goal_cases())
        named = {run["case"] for run in goal_cases()}
        meta["results"] = [row for row in meta["results"] if row["case"] not in named] + goals
        meta["goal_measured"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        (OUT / "scale.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
        results = meta["results"]
    elif args.render:  # the measurements kept, the estimates of today's sim.memory
        results = json.loads((OUT / "scale.json").read_text(encoding="utf-8"))["results"]
        arms = {"static": STATIC, "online": ONLINE}
        for row in results:
            run = case(row["case"], row["customers"], row["horizon"], row["history"], [arms[a] for a in row["arms"]])
            with tempfile.TemporaryDirectory(prefix="fraudsim-scale-") as folder:
                row["estimate_bytes"] = estimate(sim.load(scenario_file(run, Path(folder)))).total
    else:
        results = measure_all(cases([int(size) for size in args.sizes.split(",")], args.goal))
        middle = sorted(int(size) for size in args.sizes.split(","))[1]
        child = subprocess.run(
            [sys.executable, __file__, "--state", str(middle)],
            cwd=ROOT,
            env={**os.environ, **THREADS},
            capture_output=True,
            text=True,
            check=True,
        )
        stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        load = os.getloadavg()[0]
        meta = {
            "measured": stamp,
            "load_average": load,
            "results": results,
            "state": json.loads(child.stdout),
            "state_customers": middle,
        }
        (OUT / "scale.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    meta = json.loads((OUT / "scale.json").read_text(encoding="utf-8"))
    again = f" (the goal rows again by `--goal-only` of {meta['goal_measured']})" if "goal_measured" in meta else ""
    text = (
        f"`make bench-scale` of {meta['measured']}{again} (load average {meta['load_average']:.2f} at the end), "
        f"fraudsim {sim.__version__}:\n\n{table(results)}\n\n{state_table(meta['state'], meta['state_customers'])}"
    )
    (OUT / "scale.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    if args.docs:
        fill(DOCS, "scale", text)


if __name__ == "__main__":
    main()
