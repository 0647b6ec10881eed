"""How much faster a sweep runs on 2 worker processes than on 1 (the target is at least 1.8×).

    .venv/bin/python benchmarks/bench_sweep.py [--repeats 3]

Runs the same 8-point sweep (a small quickstart world, 2 replications: 16 runs) with 1 worker
(in this process, as ``--workers 1`` does) and with 2 (a local process pool), alternating, each
into a fresh directory with ``force``; takes the median of the repeats, checks both give the
same ``results.parquet`` bytes, writes ``reports/bench/sweep.json`` and prints one line.
The ratio of medians is the headline; the ratio of the fastest times is printed beside it
because on a shared machine other work inflates some repeats (the fastest is the least
disturbed, as ``timeit`` argues). Not a test: timings depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import os
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

from sim import __version__  # noqa: E402
from sim.executors import make_executor  # noqa: E402
from sim.outputs import write_json  # noqa: E402
from sim.scenario import load_sweep  # noqa: E402
from sim.sweeps import plan_sweep, run_sweep  # noqa: E402

SWEEP = """
name = "bench"
description = "8 points of a small quickstart world, for timing executors."
base = "{base}"
replications = 2

[set]
"population.customers" = 4000
"population.merchants" = 400
horizon = "14d"
arms = [
    {{ name = "online", learner = "online" }},
    {{ name = "batch-weekly", learner = "batch", every = "7d", window = "60d" }},
]

[grid]
"labels.chargeback.delay.median" = ["1h", "1d", "7d", "30d"]
"arms.batch-weekly.every" = ["1d", "7d"]
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timings per worker count (median taken)")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "bench" / "sweep.json")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="fraudsim-bench-") as folder:
        work = Path(folder)
        base = os.path.relpath(ROOT / "scenarios" / "quickstart.toml", work)
        (work / "bench.toml").write_text(SWEEP.format(base=Path(base).as_posix()), encoding="utf-8")
        plan = plan_sweep(load_sweep(work / "bench.toml"))
        runs = len(plan.tasks())
        seconds: dict[int, list[float]] = {1: [], 2: []}
        outputs: dict[int, bytes] = {}
        load_before = os.getloadavg()
        for repeat in range(args.repeats):
            for workers in (1, 2):
                out = work / f"out-{workers}-{repeat}"
                started = time.perf_counter()
                run_sweep(plan, out, make_executor(workers), force=True)
                seconds[workers].append(round(time.perf_counter() - started, 3))
                outputs[workers] = (out / "results.parquet").read_bytes()
                print(f"  repeat {repeat + 1}: {workers} worker(s) {seconds[workers][-1]:.1f} s", file=sys.stderr)
    median = {workers: statistics.median(values) for workers, values in seconds.items()}
    fastest = {workers: min(values) for workers, values in seconds.items()}
    ratio = round(median[1] / median[2], 3)
    ratio_fastest = round(fastest[1] / fastest[2], 3)
    result = {
        "benchmark": "sweep: 1 worker (in-process) vs 2 (local process pool)",
        "fraudsim_version": __version__,
        "points": len(plan.points),
        "replications": plan.sweep.replications,
        "runs": runs,
        "repeats": args.repeats,
        "seconds_1_worker": seconds[1],
        "seconds_2_workers": seconds[2],
        "median_1_worker": median[1],
        "median_2_workers": median[2],
        "ratio": ratio,
        "fastest_1_worker": fastest[1],
        "fastest_2_workers": fastest[2],
        "ratio_fastest": ratio_fastest,
        "target_ratio": 1.8,
        "meets_target": ratio >= 1.8,
        "same_results": outputs[1] == outputs[2],
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, result)
    print(
        f"sweep benchmark: {len(plan.points)} points × {plan.sweep.replications} replications = {runs} runs; "
        f"1 worker {median[1]:.1f} s, 2 workers {median[2]:.1f} s (median of {args.repeats}): "
        f"{ratio:.2f}× (target ≥ 1.8×); fastest {fastest[1]:.1f} s vs {fastest[2]:.1f} s: {ratio_fastest:.2f}×; "
        f"load average {result['load_average_before'][0]:.1f} before, {result['load_average_after'][0]:.1f} after"
        f"{'' if result['same_results'] else '; RESULTS DIFFER'}"
    )
    return 0 if result["same_results"] else 1


if __name__ == "__main__":
    sys.exit(main())
