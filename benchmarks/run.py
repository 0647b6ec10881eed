"""The performance benchmarks (issue 9): throughput per arm, river's baseline, memory, the quickstart.

    .venv/bin/python benchmarks/run.py [--repeats 3] [--quick] [--only engine,quickstart,memory] [--docs]
    .venv/bin/python benchmarks/run.py --render reports/bench/bench.json --docs   # the report again, no runs

``make bench`` runs it with ``--docs``, which writes the report into docs/performance.md (its
``bench`` block, between ``<!-- bench:begin -->`` and ``<!-- bench:end -->``). Every measurement
runs in a fresh child process (so each has its own peak RSS and nothing carries over),
``--repeats`` times, and the medians are reported:

- **engine**: the benchmark scenario (``benchmarks/large_issuer.toml``) end to end — warm-up,
  the history's first models, then every arm (traffic, crews, features, scoring, policy, labels,
  learning, results tables) — timed per phase; in the same child, river's
  ``progressive_val_score`` with a delay on rows of the same simulation's features, so the ratio
  of the two holds on a busy machine;
- **quickstart**: ``fraudsim run scenarios/quickstart.toml`` (one replication; one worker, then every
  core) from the command line, report included;
- **memory**: peak RSS of the same world run for 180 and 360 days, and of two runs writing a
  large ledger (the quickstart for 300 days; at 100,000 cards for 60).

Times are given as CPU seconds of the process (the figure the goals are judged on: the machine is
shared, and a busy neighbour stretches wall time but not CPU time) and as wall seconds. Writes
``reports/bench/bench.json`` and ``reports/bench/bench.md``. Not a test: nothing asserts on time.
``--sim DIR`` times another checkout's ``sim`` package with the same harness (before/after).
``benchmarks/bench_sweep.py`` (parallel sweeps) is separate.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from docblock import fill

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "performance.md"
BENCHMARKS = ("engine", "quickstart", "memory")
SCENARIO = ROOT / "benchmarks" / "large_issuer.toml"
QUICKSTART = ROOT / "scenarios" / "quickstart.toml"
THREADS = {
    name: "1"
    for name in (
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "POLARS_MAX_THREADS",
        "NUMEXPR_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS",
    )
}

GOALS = {
    "online_tx_per_s": 500_000,
    "static_tx_per_s": 1_000_000,
    "river_ratio": 10.0,
    "rss_ratio_360_180": 1.3,
    "ledger_12m_rss_gb": 2.0,
    "quickstart_seconds": 10.0,
}
# The memory runs: the quickstart's world at 50,000 cards (25,000 transactions a day) with two arms.
MEMORY_SETS = [
    "population.customers=50000",
    "population.merchants=5000",
    "replications=1",
    'arms=[{name="online", learner="online"}, {name="static", learner="static"}]',
]
# Large ledgers: the quickstart's world and arms for 300 days (6 arms: 6 × 300 × 20,000 cards × 0.5 a day = 18
# million rows); and 60 days at 100,000 cards (6 × 60 × 100,000 × 0.5, as many), whose warm-up is 5 times larger.
LEDGER_SETS = ["horizon=300d", "replications=1"]
LEDGER_WIDE_SETS = ["population.customers=100000", "population.merchants=10000", "replications=1"]
RIVER_ROWS = 50_000
RIVER_DELAY_ROWS = 5_000


def child_env(sim: Path) -> dict[str, str]:
    return {**os.environ, **THREADS, "MPLBACKEND": "Agg", "PYTHONPATH": str(sim)}


def run_child(command: list[str], sim: Path) -> tuple[float, float, float, str]:
    """Run ``command``; return its wall seconds, CPU seconds, peak RSS (GB) and stdout."""
    started = time.perf_counter()
    # cwd=sim: ``python -m sim`` puts the working directory first on sys.path, ahead of PYTHONPATH, so
    # from ROOT it would import ROOT's package whatever --sim says. stderr goes to a file, not a pipe:
    # a pipe nobody reads while we wait would block a child writing more than 64 KiB of it.
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen(command, cwd=sim, env=child_env(sim), stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        err.seek(0)
        stderr = err.read().decode(errors="replace")
        out.seek(0)
        stdout = out.read().decode()
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({child.returncode}):\n{stderr[-3000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024**2, stdout


# --------------------------------------------------------------------------- the children


def engine_child(scenario_path: str, sets: list[str], river_rows: int) -> dict:
    """One replication of the benchmark scenario, phase by phase, then river's baseline."""
    from sim.engine import run_arm, warm_up
    from sim.results import ArmRecorder
    from sim.rng import Streams
    from sim.scenario import load_scenario

    scenario = load_scenario(scenario_path, sets)
    streams = Streams(scenario.seed, 0)
    clock = _Clock()
    world, history = warm_up(scenario, streams)
    phases = [{"phase": "warm-up", "transactions": world.store.next_id, **clock.lap()}]
    for kind in sorted({getattr(arm, "model", "") for arm in scenario.arms} & {"logistic", "gbm"}):
        history.first_model(kind)  # shared by every arm, like the warm-up
    phases.append({"phase": "history fit", "transactions": 0, **clock.lap()})
    for arm in scenario.arms:
        recorder = ArmRecorder(scenario, arm.name, 0)
        engine = run_arm(scenario, arm, streams, world, history, recorder)
        for table in (
            recorder.daily,
            recorder.labels_daily,
            recorder.label_coverage,
            recorder.quality_daily,
            recorder.crews_daily,
            recorder.reliability_table,
        ):
            table()
        phases.append({"phase": arm.name, "learner": arm.learner, "transactions": engine.transactions, **clock.lap()})
    river = river_baseline(history.X[:river_rows], history.y[:river_rows])
    import resource

    return {
        "phases": phases,
        "river": river,
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
    }


def river_baseline(X, y) -> dict:
    """river's own delayed progressive validation of the online arm's model on ``X``, ``y``."""
    from river import evaluate, linear_model, metrics, optim, preprocessing, stream

    from sim.schema.features import FEATURES

    model = preprocessing.StandardScaler() | linear_model.LogisticRegression(
        optimizer=optim.SGD(0.002), intercept_lr=0.002
    )
    dataset = stream.iter_array(X.astype(float), y.astype(bool), feature_names=list(FEATURES))
    clock = _Clock()
    evaluate.progressive_val_score(dataset, model, metrics.LogLoss(), delay=RIVER_DELAY_ROWS)
    return {"transactions": len(y), "delay_rows": RIVER_DELAY_ROWS, "features": len(FEATURES), **clock.lap()}


class _Clock:
    def __init__(self) -> None:
        self._wall, self._cpu = time.perf_counter(), time.process_time()

    def lap(self) -> dict[str, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        lap = {"wall_s": round(wall - self._wall, 3), "cpu_s": round(cpu - self._cpu, 3)}
        self._wall, self._cpu = wall, cpu
        return lap


# --------------------------------------------------------------------------- the benchmarks


def bench_engine(args, sim: Path) -> dict:
    sets = ["horizon=7d", "warmup=20d"] if args.quick else []
    repeats = []
    for repeat in range(args.repeats):
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            "engine",
            "--scenario",
            str(SCENARIO),
            "--river-rows",
            str(args.river_rows),
        ] + [f"--set={s}" for s in sets]
        wall, cpu, rss, stdout = run_child(command, sim)
        result = json.loads(stdout.strip().splitlines()[-1])
        result["child_wall_s"], result["child_cpu_s"] = round(wall, 3), round(cpu, 3)
        repeats.append(result)
        _note(
            f"engine {repeat + 1}/{args.repeats}: "
            + ", ".join(f"{p['phase']} {_rate(p, 'cpu_s')}" for p in result["phases"] if p["transactions"])
        )
    phases = []
    for i, first in enumerate(repeats[0]["phases"]):
        entry = {key: first[key] for key in ("phase", "transactions") if key in first}
        entry["learner"] = first.get("learner", "")
        for clock in ("cpu_s", "wall_s"):
            entry[clock] = statistics.median(r["phases"][i][clock] for r in repeats)
            if first["transactions"]:
                entry[f"tx_per_s_{clock[:-2]}"] = round(
                    statistics.median(
                        r["phases"][i]["transactions"] / max(r["phases"][i][clock], 1e-9) for r in repeats
                    )
                )
        phases.append(entry)
    river = []
    for clock in ("cpu_s", "wall_s"):
        rates = [r["river"]["transactions"] / max(r["river"][clock], 1e-9) for r in repeats]
        online = [next(p for p in r["phases"] if p.get("learner") == "online") for r in repeats]
        ratios = [o["transactions"] / max(o[clock], 1e-9) / rate for o, rate in zip(online, rates, strict=True)]
        river.append(
            {
                "clock": clock[:-2],
                "river_tx_per_s": round(statistics.median(rates)),
                "ratio": round(statistics.median(ratios), 2),
                "ratios": [round(x, 2) for x in ratios],
            }
        )
    return {
        "scenario": str(SCENARIO.relative_to(ROOT)),
        "sets": sets,
        "phases": phases,
        "river": {**{k: repeats[0]["river"][k] for k in ("transactions", "delay_rows", "features")}, "by_clock": river},
        "peak_rss_gb": round(statistics.median(r["peak_rss_gb"] for r in repeats), 3),
        "repeats": repeats,
    }


def _sim_run(scenario: Path, sets: list[str], out: Path, *flags: str, workers: int = 1) -> list[str]:
    return [
        sys.executable,
        "-m",
        "sim",
        "run",
        str(scenario),
        "--workers",
        str(workers),
        "--quiet",
        "--out",
        str(out),
        *flags,
    ] + [f"--set={s}" for s in sets]


def bench_quickstart(args, sim: Path, work: Path) -> dict:
    """One replication of the quickstart on one worker and on every core (its warm-up, then its
    arms shared out), alternating, so both see the same machine."""
    sets = ["replications=1"] + (["horizon=14d"] if args.quick else [])
    cores = os.cpu_count() or 1
    by_workers: dict[int, list[dict]] = {1: [], cores: []}
    for repeat in range(args.repeats):
        for workers, runs in by_workers.items():
            out = work / f"quickstart-{workers}-{repeat}"
            wall, cpu, rss, _ = run_child(_sim_run(QUICKSTART, sets, out, workers=workers), sim)
            info = json.loads((out / "run_info.json").read_text())
            runs.append(
                {
                    "wall_s": round(wall, 3),
                    "cpu_s": round(cpu, 3),
                    "peak_rss_gb": round(rss, 3),
                    "report_s": info["report_seconds"],
                    "arms": info["arms"],
                }
            )
            _note(f"quickstart {repeat + 1}/{args.repeats}, {workers} worker(s): {wall:.1f} s wall, {cpu:.1f} s CPU")
    result = {}
    for workers, runs in by_workers.items():
        arms = {}
        for arm in runs[0]["arms"]:
            arms[arm["arm"]] = round(
                statistics.median(
                    next(a for a in r["arms"] if a["arm"] == arm["arm"])["transactions_per_second"] for r in runs
                )
            )
        result[workers] = {
            "wall_s": statistics.median(r["wall_s"] for r in runs),
            "cpu_s": statistics.median(r["cpu_s"] for r in runs),
            "arm_tx_per_s_wall": arms,
            "runs": runs,
        }
    return {"sets": sets, **result[1], "cores": cores, "all_cores": result[cores]}


def bench_memory(args, sim: Path, work: Path) -> dict:
    horizons = ("30d", "60d") if args.quick else ("180d", "360d")
    result: dict[str, object] = {"sets": MEMORY_SETS, "runs": {}}
    for horizon in horizons:
        out = work / f"memory-{horizon}"
        wall, cpu, rss, _ = run_child(
            _sim_run(QUICKSTART, [*MEMORY_SETS, f"horizon={horizon}"], out, "--ledger", "--no-report"), sim
        )
        result["runs"][horizon] = {"peak_rss_gb": round(rss, 3), "wall_s": round(wall, 1), "cpu_s": round(cpu, 1)}
        _note(f"memory {horizon}: peak RSS {rss:.2f} GB ({cpu:.0f} s CPU)")
    short, long = (result["runs"][h]["peak_rss_gb"] for h in horizons)
    result["ratio"] = round(long / short, 3)
    for key, sets in (("ledger", LEDGER_SETS), ("ledger_wide", LEDGER_WIDE_SETS)):
        sets = sets + (["horizon=6d"] if args.quick else [])
        out = work / key
        wall, cpu, rss, _ = run_child(_sim_run(QUICKSTART, sets, out, "--ledger", "--no-report"), sim)
        info = json.loads((out / "run_info.json").read_text())
        result[key] = {
            "sets": sets,
            "transactions": info["transactions"],
            "warmup_transactions": info["warmup_transactions"],
            "peak_rss_gb": round(rss, 3),
            "wall_s": round(wall, 1),
            "cpu_s": round(cpu, 1),
        }
        _note(f"{key}: {info['transactions']:,} transactions, peak RSS {rss:.2f} GB")
    return result


# --------------------------------------------------------------------------- the report


def _rate(entry: dict, clock: str) -> str:
    return f"{entry['transactions'] / max(entry[clock], 1e-9):,.0f} tx/s"


def goals(results: dict) -> list[dict]:
    rows = []
    engine = results.get("engine")
    if engine:
        by_learner = {p["learner"]: p for p in engine["phases"] if p.get("learner")}
        for learner, key in (("online", "online_tx_per_s"), ("static", "static_tx_per_s")):
            if learner in by_learner:
                rows.append(
                    {
                        "goal": f"{learner} arm, tx/s (CPU)",
                        "target": f"≥ {GOALS[key]:,}",
                        "measured": f"{by_learner[learner]['tx_per_s_cpu']:,}",
                        "met": by_learner[learner]["tx_per_s_cpu"] >= GOALS[key],
                    }
                )
        ratio = engine["river"]["by_clock"][0]["ratio"]
        rows.append(
            {
                "goal": "online arm ÷ river progressive_val_score (CPU)",
                "target": f"≥ {GOALS['river_ratio']}×",
                "measured": f"{ratio}×",
                "met": ratio >= GOALS["river_ratio"],
            }
        )
    memory = results.get("memory")
    if memory:
        rows.append(
            {
                "goal": "peak RSS 360 d ÷ 180 d",
                "target": f"≤ {GOALS['rss_ratio_360_180']}",
                "measured": f"{memory['ratio']}",
                "met": memory["ratio"] <= GOALS["rss_ratio_360_180"],
            }
        )
        for key, what in (("ledger", "quickstart world"), ("ledger_wide", "100,000 cards")):
            rss = memory[key]["peak_rss_gb"]
            rows.append(
                {
                    "goal": f"peak RSS, {memory[key]['transactions']:,}-transaction run with --ledger ({what})",
                    "target": f"< {GOALS['ledger_12m_rss_gb']} GB",
                    "measured": f"{rss:.2f} GB",
                    "met": rss < GOALS["ledger_12m_rss_gb"],
                }
            )
    quick = results.get("quickstart")
    if quick:
        for label, run in (("1 worker", quick), (f"{quick['cores']} workers", quick["all_cores"])):
            rows.append(
                {
                    "goal": f"quickstart (1 replication) incl. report, {label}, wall",
                    "target": f"< {GOALS['quickstart_seconds']} s",
                    "measured": f"{run['wall_s']:.1f} s (CPU {run['cpu_s']:.1f} s)",
                    "met": run["wall_s"] < GOALS["quickstart_seconds"],
                }
            )
    return rows


def markdown(results: dict) -> str:
    lines = [
        f"# fraudsim benchmarks — {results['started']}",
        "",
        f"fraudsim {results['fraudsim_version']} (`{results['sim']}`), Python {results['python']}, "
        f"{results['cpus']} CPUs ({results['cpu_model']}), load average {results['load_before']} before and "
        f"{results['load_after']} after; medians of {results['repeats']} runs.",
        "",
    ]
    lines += ["| goal | target | measured | met |", "| --- | --- | --- | --- |"]
    lines += [
        f"| {g['goal']} | {g['target']} | {g['measured']} | {'yes' if g['met'] else '**no**'} |"
        for g in results["goals"]
    ]
    engine = results.get("engine")
    if engine:
        lines += [
            "",
            f"## Engine: `{engine['scenario']}` {' '.join(engine['sets'])}".rstrip(),
            "",
            "| phase | transactions | CPU s | tx/s (CPU) | wall s | tx/s (wall) |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for p in engine["phases"]:
            lines.append(
                f"| {p['phase']} | {p['transactions']:,} | {p['cpu_s']:.1f} | {p.get('tx_per_s_cpu', 0):,} | "
                f"{p['wall_s']:.1f} | {p.get('tx_per_s_wall', 0):,} |"
            )
        lines += _learner_cost(engine["phases"])
        river = engine["river"]
        lines += [
            "",
            f"river `progressive_val_score` (StandardScaler | LogisticRegression, SGD 0.002, delay "
            f"{river['delay_rows']:,} rows) on {river['transactions']:,} of the run's transactions × "
            f"{river['features']} features:",
            "",
        ]
        for row in river["by_clock"]:
            lines.append(
                f"- {row['clock']}: river {row['river_tx_per_s']:,} tx/s; online arm ÷ river = "
                f"**{row['ratio']}×** (per run: {row['ratios']})"
            )
        lines += ["", f"Peak RSS of the engine run: {engine['peak_rss_gb']:.2f} GB."]
    quick = results.get("quickstart")
    if quick:
        arms = ", ".join(f"{arm} {rate:,}" for arm, rate in quick["arm_tx_per_s_wall"].items())
        lines += [
            "",
            f"## Quickstart ({' '.join(quick['sets'])})",
            "",
            f"`fraudsim run scenarios/quickstart.toml --workers 1`, report included: "
            f"{quick['wall_s']:.1f} s wall, "
            f"{quick['cpu_s']:.1f} s CPU. Arms (tx/s, wall, from run_info.json): {arms}. "
            f"With `--workers {quick['cores']}` (the arms shared out after the warm-up): "
            f"{quick['all_cores']['wall_s']:.1f} s wall, {quick['all_cores']['cpu_s']:.1f} s CPU.",
        ]
    memory = results.get("memory")
    if memory:
        lines += ["", "## Memory (peak RSS, `--ledger`)", "", "| run | peak RSS GB | CPU s |", "| --- | ---: | ---: |"]
        for horizon, run in memory["runs"].items():
            lines.append(
                f"| quickstart world at 50,000 cards, 2 arms, horizon {horizon} | {run['peak_rss_gb']:.2f} | "
                f"{run['cpu_s']:.0f} |"
            )
        for key, what in (("ledger", "quickstart world"), ("ledger_wide", "quickstart at 100,000 cards")):
            ledger = memory[key]
            lines.append(
                f"| {what}, {' '.join(ledger['sets'])}: {ledger['transactions']:,} ledger transactions "
                f"(+{ledger['warmup_transactions']:,} warm-up) | {ledger['peak_rss_gb']:.2f} | "
                f"{ledger['cpu_s']:.0f} |"
            )
    lines += ["", "Versions: " + ", ".join(f"{k} {v}" for k, v in results["versions"].items()), ""]
    return "\n".join(lines)


def _learner_cost(phases: list[dict]) -> list[str]:
    """The online learner's own cost: the online arm's CPU time per transaction over the static
    arm's, on the same world (they differ only in learning)."""
    per_tx = {p["learner"]: p["cpu_s"] / p["transactions"] for p in phases if p.get("transactions")}
    if not {"online", "static"} <= per_tx.keys():
        return []
    cost = (per_tx["online"] - per_tx["static"]) * 1e6
    share = 1 - per_tx["static"] / per_tx["online"]
    return [
        "",
        f"The online learner's own cost (the online arm's CPU time per transaction minus the static "
        f"arm's): {cost:.2f} CPU s per million transactions, {share:.0%} of the online arm's time.",
    ]


def _note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("fraudsim", "numpy", "river", "polars", "pyarrow", "scikit-learn", "simpy"):
        with contextlib.suppress(PackageNotFoundError):
            found[name] = version(name)
    return found


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement (medians reported)")
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated benchmarks to run")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the harness, measures nothing")
    parser.add_argument("--sim", type=Path, default=ROOT, help="directory holding the `sim` package to time")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "bench")
    parser.add_argument(
        "--docs", action="store_true", help="write the results into docs/performance.md (its `bench` block)"
    )
    parser.add_argument(
        "--render", type=Path, metavar="BENCH_JSON", help="measure nothing: write a saved bench.json's report again"
    )
    parser.add_argument("--river-rows", type=int, default=RIVER_ROWS, help=argparse.SUPPRESS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--scenario", help=argparse.SUPPRESS)
    parser.add_argument("--set", dest="sets", action="append", default=[], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "engine":
        print(json.dumps(engine_child(args.scenario, args.sets, args.river_rows)))
        return 0
    if args.render:
        results = json.loads(args.render.read_text(encoding="utf-8"))
        if args.docs:
            _whole(results["quick"], [name for name in BENCHMARKS if name in results])
    else:
        if args.docs:  # refused before the runs, not after them
            _whole(args.quick, args.only.split(","))
        results = measure(args)
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "bench.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        (args.out / "bench.md").write_text(markdown(results), encoding="utf-8")
    print(markdown(results))
    if args.docs:
        fill(DOCS, "bench", docs_block(results))
    return 0


def _whole(quick: bool, benchmarks: list[str]) -> None:
    """docs/performance.md keeps a run of every benchmark at full size, nothing less."""
    missing = [name for name in BENCHMARKS if name not in benchmarks]
    if quick or missing:
        why = "a --quick run" if quick else f"a run without {', '.join(missing)}"
        raise SystemExit(f"--docs: {DOCS} keeps whole runs of every benchmark, not {why}")


def measure(args: argparse.Namespace) -> dict:
    """Every benchmark ``--only`` names, with the machine they ran on and the goals' verdicts."""
    sim = args.sim.resolve()
    wanted = set(args.only.split(","))
    results: dict[str, object] = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "sim": str(sim),
        "repeats": args.repeats,
        "quick": args.quick,
        "fraudsim_version": _versions().get("fraudsim", "?"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "load_before": [round(x, 2) for x in os.getloadavg()],
        "versions": _versions(),
    }
    with tempfile.TemporaryDirectory(prefix="fraudsim-bench-") as folder:
        work = Path(folder)
        if "engine" in wanted:
            results["engine"] = bench_engine(args, sim)
        if "quickstart" in wanted:
            results["quickstart"] = bench_quickstart(args, sim, work)
        if "memory" in wanted:
            results["memory"] = bench_memory(args, sim, work)
    results["load_after"] = [round(x, 2) for x in os.getloadavg()]
    results["goals"] = goals(results)
    return results


def docs_block(results: dict) -> str:
    """The report for docs/performance.md: its title as a sentence and its sections one level down."""
    title, *rest = markdown(results).splitlines()
    when = title.split(" — ", 1)[1]
    lines = [f"`benchmarks/run.py --repeats {results['repeats']}` of {when}:"]
    lines += [line.replace("## ", "### ", 1) if line.startswith("## ") else line for line in rest]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
