"""A run: every arm and replication simulated and held in memory (:func:`simulate`), then its
output directory written atomically (:func:`save_run`; docs/outputs.md). ``fraudsim run`` and
:func:`sim.run` both go through the two."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from .executors import Executor, InProcess
from .export import stream_name
from .ledger import Ledger
from .outputs import (
    ReportError,
    atomic_directory,
    build_kept,
    library_versions,
    merge_parquet,
    output_list,
    write_json,
    write_parquet,
)
from .summary import Summary


@dataclass(frozen=True)
class SimulatedRun:
    """Every arm and replication of a scenario, simulated: the tables in memory, the summary, and
    where the ledger's parts wait (None without a ledger)."""

    scenario: object
    experiment: object  # sim.experiment.Experiment
    summary: Summary
    executor: str
    workers: int
    seconds: float
    ledger_dir: Path | None


def simulate(
    scenario, *, executor: Executor | None = None, ledger_dir: Path | None = None, progress=None
) -> SimulatedRun:
    """Run every arm and replication of ``scenario`` on ``executor`` (default: this process);
    with ``ledger_dir``, every arm writes its ledger's parts there. Writes nothing else."""
    from .experiment import run_all, summarize

    executor = executor or InProcess()
    started = time.perf_counter()
    experiment = run_all(scenario, executor, ledger_dir=ledger_dir, progress=progress)
    summary = summarize(experiment.scenario, experiment)  # the arms that failed are not in it
    return SimulatedRun(
        experiment.scenario,
        experiment,
        summary,
        executor.name,
        executor.workers,
        time.perf_counter() - started,
        ledger_dir,
    )


def save_run(run: SimulatedRun, out_dir: Path, *, report: bool = True, pdf: bool = False) -> Path:
    """Write ``run``'s output directory atomically: its tables, summary, ledger (when it has
    one; its parts are kept) and, with ``report``, its report. Returns the directory.

    Raises :class:`~sim.outputs.ReportError` when the report failed: the tables are written.
    """
    out_dir = Path(out_dir)
    with atomic_directory(out_dir) as work:
        report_error = write_files(run, work, report=report, pdf=pdf)
    if report_error:
        raise ReportError(out_dir, report_error)
    return out_dir


def write_files(run: SimulatedRun, work: Path, *, report: bool = True, pdf: bool = False) -> str | None:
    """Write ``run``'s files into ``work``; returns the report's error, if it failed."""
    import platform

    from . import __version__
    from .experiment import totals
    from .scenario import resolved_toml

    started = time.perf_counter()
    scenario, experiment = run.scenario, run.experiment
    (work / "scenario.resolved.toml").write_text(resolved_toml(scenario, __version__), encoding="utf-8")
    daily = experiment.daily()
    write_parquet(work / "daily.parquet", daily)
    write_parquet(work / "arms.parquet", totals(daily))
    write_parquet(work / "model_events.parquet", experiment.model_events())
    write_parquet(work / "labels_daily.parquet", experiment.labels_daily())
    write_parquet(work / "label_coverage.parquet", experiment.label_coverage())
    write_parquet(work / "quality_daily.parquet", experiment.quality_daily())
    write_parquet(work / "crews.parquet", experiment.crews_daily())
    write_parquet(work / "reliability.parquet", experiment.reliability())
    if scenario.ab is not None:
        from .ab.summary import ab_daily

        write_parquet(work / "ab_daily.parquet", ab_daily([run.ab for run in experiment.runs]))
    if run.ledger_dir is not None:
        keep = run.ledger_dir != work  # parts elsewhere serve the next save too
        for name in Ledger.NAMES:
            merge_parquet([a.ledger_parts[name] for a in experiment.arm_runs], work / f"{name}.parquet", keep=keep)
        (work / "streams").mkdir()
        for arm in experiment.arm_runs:
            if "stream" in arm.ledger_parts:
                place = shutil.copyfile if keep else shutil.move
                place(arm.ledger_parts["stream"], work / "streams" / stream_name(arm.arm, arm.replication))
    write_json(work / "summary.json", run.summary.to_json())
    written = time.perf_counter() - started
    report_seconds, report_error = 0.0, None
    if report:
        from .report.html import build_report

        report_seconds, report_error = build_kept(work, lambda directory: build_report(directory, pdf=pdf))
    arm_tx = sum(a.transactions for a in experiment.arm_runs)
    arm_seconds = sum(a.seconds for a in experiment.arm_runs)
    warm_tx = sum(r.warmup_transactions for r in experiment.runs)
    warm_seconds = sum(r.warmup_seconds for r in experiment.runs)
    write_json(
        work / "run_info.json",
        {
            "fraudsim_version": __version__,
            "python": platform.python_version(),
            "machine": platform.machine(),
            "platform": platform.platform(),
            "executor": run.executor,
            "workers": run.workers,
            "wall_seconds": round(run.seconds + time.perf_counter() - started, 3),
            "simulation_seconds": round(run.seconds + written, 3),
            "report_seconds": round(report_seconds, 3),
            "transactions": arm_tx,
            "warmup_transactions": warm_tx,
            "transactions_per_second": round((arm_tx + warm_tx) / max(arm_seconds + warm_seconds, 1e-9)),
            "arms": [
                {
                    "arm": a.arm,
                    "replication": a.replication,
                    "transactions": a.transactions,
                    "seconds": round(a.seconds, 3),
                    "transactions_per_second": round(a.transactions / max(a.seconds, 1e-9)),
                }
                for a in experiment.arm_runs
            ],
            "versions": library_versions(),
            **({"report_error": report_error} if report_error else {}),
            **({"failures": experiment.failures} if experiment.failures else {}),
            "outputs": output_list(work),
        },
    )
    return report_error


def write_run(
    scenario,
    out_dir: Path,
    *,
    ledger: bool = False,
    report: bool = True,
    executor: Executor | None = None,
    progress=None,
) -> Summary:
    """Run every arm and replication of ``scenario`` on ``executor`` (default: this process) and
    write the run directory atomically, the ledger's parts inside it (no copy of a large ledger).

    Returns the summary (the content of ``summary.json``).
    """
    out_dir = Path(out_dir)
    with atomic_directory(out_dir) as work:
        run = simulate(scenario, executor=executor, ledger_dir=work if ledger else None, progress=progress)
        report_error = write_files(run, work, report=report)
    if report_error:
        raise ReportError(out_dir, report_error)
    return run.summary
