"""A run's output directory: every arm and replication run, and their tables, summary and
report written atomically (docs/outputs.md)."""

from __future__ import annotations

from pathlib import Path

from .executors import Executor, InProcess
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
    write the run directory atomically.

    Returns the summary (the content of ``summary.json``).
    """
    import platform
    import time

    from . import __version__
    from .experiment import Experiment, run_all, summarize, totals
    from .scenario import resolved_toml

    executor = executor or InProcess()
    started = time.perf_counter()
    with atomic_directory(out_dir) as work:
        (work / "scenario.resolved.toml").write_text(resolved_toml(scenario, __version__), encoding="utf-8")
        ledger_dir = work if ledger else None
        experiment: Experiment = run_all(scenario, executor, ledger_dir=ledger_dir, progress=progress)
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
        if ledger:
            for name in ("transactions", "labels", "alerts"):
                merge_parquet([a.ledger_parts[name] for a in experiment.arm_runs], work / f"{name}.parquet")
        summary = summarize(scenario, experiment)
        write_json(work / "summary.json", summary.to_json())
        simulated = time.perf_counter() - started
        report_seconds, report_error = 0.0, None
        if report:
            from .report.html import build_report

            report_seconds, report_error = build_kept(work, build_report)
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
                "executor": executor.name,
                "workers": executor.workers,
                "wall_seconds": round(time.perf_counter() - started, 3),
                "simulation_seconds": round(simulated, 3),
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
                "outputs": output_list(work),
            },
        )
    if report_error:
        raise ReportError(out_dir, report_error)
    return summary
