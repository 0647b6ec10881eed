"""Running a sweep: the unit of work, skipping what is saved, and assembling ``results.parquet``."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from ..executors import Executor, WorkersLost, make_executor
from ..experiment.scheduling import run_replication
from ..experiment.summaries import totals
from ..outputs import atomic_write, write_json, write_parquet
from ..schema import Scenario
from ..units import parse_duration
from .points import SweepError, SweepPlan
from .store import ResultStore, _exclusive

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class PointRun:
    """What :func:`run_point` returns: one row per arm, and the seconds it took."""

    rows: pl.DataFrame
    seconds: float


def run_point(scenario: Scenario, replication: int, progress: Callable[[float], None] | None = None) -> PointRun:
    """Run replication ``replication`` of a resolved point: every arm's sums over the horizon,
    one row per arm (``arm``, ``learner``, ``replication``, then the figures of ``arms.parquet``).

    Module-level and picklable: process pools and Dask workers run it. :func:`run_replication`
    holds numeric libraries to one thread, so every executor gives the same numbers.

    >>> from sim.scenario import validate
    >>> tiny = validate({"name": "t", "horizon": "1d", "history": "1d", "tick": "1h",
    ...                  "population": {"customers": 100, "merchants": 20},
    ...                  "labels": {"chargeback": {"window": "2d"}, "maturity": {"window": "2d"}},
    ...                  "arms": [{"name": "rules", "learner": "rules"}]}, "inline")
    >>> run_point(tiny, 0).rows.select("arm", "learner", "replication").row(0)
    ('rules', 'rules', 0)
    """
    started = time.perf_counter()
    run = run_replication(scenario, replication, progress=progress)
    rows = totals(pl.concat([arm.daily for arm in run.arms]))
    learners = {arm.name: arm.learner for arm in scenario.arms}
    learner = pl.Series("learner", [learners[name] for name in rows["arm"]], dtype=pl.String)
    rows = rows.insert_column(1, learner)
    if run.ab is not None:  # the A/B test's read-out, the same on every arm's row
        from ..ab.summary import read_out

        rows = rows.with_columns(pl.lit(value, pl.Float64).alias(name) for name, value in read_out(run.ab).items())
    return PointRun(rows, time.perf_counter() - started)


@dataclass(frozen=True)
class SweepProgress:
    """Where a sweep stands: runs are (point, replication) pairs still to compute."""

    runs_done: int
    runs: int
    days_done: float
    days: float


@dataclass(frozen=True)
class SweepOutcome:
    """What :func:`run_sweep` did."""

    out_dir: Path
    results: pl.DataFrame
    runs: int
    computed: int
    reused: int
    wall_seconds: float
    executor: str
    workers: int


def run_sweep(
    plan: SweepPlan,
    out_dir: Path,
    executor: Executor | None = None,
    *,
    force: bool = False,
    progress: Callable[[SweepProgress], None] | None = None,
) -> SweepOutcome:
    """Run every (point, replication) not saved yet (all of them with ``force``), saving each as it
    completes; then write ``results.parquet``, ``sweep.json`` and ``sweep_info.json``."""
    started = time.perf_counter()
    out_dir = Path(out_dir)
    executor = executor or make_executor()
    with _exclusive(out_dir):
        points = out_dir / "points"
        if points.exists() and not points.is_dir():
            raise SweepError(
                f"{points}: is a file where the sweep keeps its saved runs (a folder); move it, or choose another --out"
            )
        store = ResultStore(points)
        store.clean()
        tasks = plan.tasks()
        pending = [task for task in tasks if force or store.load(task) is None]
        total_days = sum(task.days for task in pending)
        state = {"runs": 0, "days": 0.0}
        seconds: dict[tuple[str, int], float] = {}

        def report(extra_days: float = 0.0) -> None:
            if progress is not None:
                progress(SweepProgress(state["runs"], len(pending), state["days"] + extra_days, total_days))

        def done(i: int, run: PointRun) -> None:
            task = pending[i]
            store.save_scenario(task.key, task.scenario, plan.version)
            store.save(task, run.rows)
            seconds[(task.key, task.replication)] = run.seconds
            state["runs"] += 1
            state["days"] += task.days
            report()

        report()
        if pending:
            calls = [(task.scenario, task.replication) for task in pending]
            try:
                with executor:
                    executor.map(run_point, calls, done, lambda i, days: report(days))
            except WorkersLost as error:
                raise SweepError(
                    f"{error}; the results finished so far are saved: run the same command again to resume"
                ) from None
        for point in plan.points:
            store.save_scenario(point.key, point.scenario, plan.version)
        results = assemble(plan, store)
        atomic_write(out_dir / "results.parquet", lambda temporary: write_parquet(temporary, results))
        atomic_write(out_dir / "sweep.json", lambda temporary: write_json(temporary, describe(plan)))
        wall = time.perf_counter() - started
        info = {
            "fraudsim_version": plan.version,
            "python": platform.python_version(),
            "machine": platform.machine(),
            "executor": executor.name,
            "workers": executor.workers,
            "wall_seconds": round(wall, 3),
            "runs": len(tasks),
            "computed": len(pending),
            "reused": len(tasks) - len(pending),
            "run_seconds": [
                {"point_key": key, "replication": r, "seconds": round(s, 3)} for (key, r), s in sorted(seconds.items())
            ],
        }
        atomic_write(out_dir / "sweep_info.json", lambda temporary: write_json(temporary, info))
    return SweepOutcome(
        out_dir,
        results,
        len(tasks),
        len(pending),
        len(tasks) - len(pending),
        wall,
        executor.name,
        executor.workers,
    )


def assemble(plan: SweepPlan, store: ResultStore) -> pl.DataFrame:
    """The long table: one row per point × arm × replication, grid values as columns, sorted."""
    parts = []
    for task in plan.tasks():
        rows = store.load(task)
        if rows is None:
            raise SweepError(f"{store.path(task.key, task.replication)}: missing after the sweep ran")
        parts.append(rows.with_columns(pl.lit(task.key, dtype=pl.String).alias("point_key")))
    rows = pl.concat(parts, how="vertical")
    points = points_frame(plan)
    figures = [c for c in rows.columns if c not in ("arm", "learner", "replication", "point_key")]
    return (
        points.join(rows, on="point_key", how="inner")
        .select(*points.columns, "arm", "learner", "replication", *figures)
        .sort(["point", "arm", "replication"], maintain_order=True)
    )


def points_frame(plan: SweepPlan) -> pl.DataFrame:
    """One row per point: its number, its key and its grid values (durations also in seconds)."""
    columns: list[pl.Series] = [
        pl.Series("point", [p.index for p in plan.points], dtype=pl.Int32),
        pl.Series("point_key", [p.key for p in plan.points], dtype=pl.String),
    ]
    for column in plan.columns:
        values = [p.value(column.key) for p in plan.points]
        columns.append(pl.Series(column.key, [column.cell(v) for v in values], dtype=column.dtype))
        if column.duration:
            columns.append(pl.Series(f"{column.key}_s", [parse_duration(v) for v in values], dtype=pl.Float64))
    return pl.DataFrame(columns)


def describe(plan: SweepPlan) -> dict[str, Any]:
    """The content of ``sweep.json``: what was swept (byte-stable: no timings or absolute paths)."""
    sweep = plan.sweep
    arms = {(arm.name, arm.learner): None for point in plan.points for arm in point.scenario.arms}
    return {
        "schema_version": SCHEMA_VERSION,
        "sweep": sweep.name,
        "description": sweep.description.strip(),
        "base": Path(os.path.relpath(sweep.base_file, sweep.file.parent)).as_posix(),
        "overrides": list(sweep.overrides),
        "fraudsim_version": plan.version,
        "seed": plan.points[0].scenario.seed,
        "currency": plan.points[0].scenario.currency,
        "replications": sweep.replications,
        "arms": [{"name": name, "learner": learner} for name, learner in arms],
        "grid": [column.describe() for column in plan.columns],
        "points": [{"point": p.index, "point_key": p.key, "values": dict(p.values)} for p in plan.points],
    }
