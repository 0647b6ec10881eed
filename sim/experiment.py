"""Arms × replications: run them, then summarise with intervals over replications.

A replication is one seed's world: one warm-up, then every arm in its own copy
of it. Figures get a mean and a 95 % Student-t interval over replications
(null with one replication). ``run_replication(scenario, r)`` is the unit of
work a sweep distributes; it returns plain data and is picklable.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
from threadpoolctl import threadpool_limits

from .ab.run import ABReplication, per_transaction, run_ab, world_runs
from .engine import run_arm, warm_up, warmup_length
from .learn.learners import ModelEvent
from .metrics import t_interval
from .results import NOT_SUMMED, ArmRecorder
from .rng import Streams
from .schema import Scenario
from .units import DAY

SCHEMA_VERSION = 1
MONEY = ("fraud_loss", "friction", "review_cost", "total_cost")
COUNTS = ("transactions", "fraud_attempts", "fraud_approved", "declines", "legit_declined")


@dataclass
class ArmRun:
    """One arm in one replication."""

    arm: str
    replication: int
    daily: pl.DataFrame
    labels_daily: pl.DataFrame
    label_coverage: pl.DataFrame
    quality_daily: pl.DataFrame
    crews_daily: pl.DataFrame
    reliability: pl.DataFrame
    model_events: list[ModelEvent]
    transactions: int
    seconds: float
    ledger_parts: dict[str, Path] = field(default_factory=dict)


@dataclass
class ReplicationRun:
    replication: int
    arms: list[ArmRun]
    warmup_transactions: int
    warmup_seconds: float
    ab: ABReplication | None = None


@dataclass
class Experiment:
    """Every arm of every replication."""

    scenario: Scenario
    runs: list[ReplicationRun] = field(default_factory=list)

    @property
    def arm_runs(self) -> list[ArmRun]:
        return [arm for run in self.runs for arm in run.arms]

    def daily(self) -> pl.DataFrame:
        return pl.concat([a.daily for a in self.arm_runs]).sort(["arm", "replication", "day"])

    def labels_daily(self) -> pl.DataFrame:
        return pl.concat([a.labels_daily for a in self.arm_runs]).sort(["arm", "replication", "day", "source"])

    def quality_daily(self) -> pl.DataFrame:
        return pl.concat([a.quality_daily for a in self.arm_runs]).sort(["arm", "replication", "day", "view"])

    def crews_daily(self) -> pl.DataFrame:
        """Crews per arm, replication and day; tactic columns are the union over arms (0 where absent)."""
        frames = [a.crews_daily for a in self.arm_runs]
        table = pl.concat(frames, how="diagonal")
        tactics = sorted(c for c in table.columns if c.startswith("tactic_"))
        fixed = [c for c in table.columns if not c.startswith("tactic_")]
        return table.select(*fixed, *[pl.col(c).fill_null(0.0) for c in tactics]).sort(["arm", "replication", "day", "crew"])

    def reliability(self) -> pl.DataFrame:
        return pl.concat([a.reliability for a in self.arm_runs]).sort(["arm", "replication", "weighting", "bin"])

    def label_coverage(self) -> pl.DataFrame:
        return pl.concat([a.label_coverage for a in self.arm_runs]).sort(["arm", "replication", "group", "age_s"])

    def model_events(self) -> pl.DataFrame:
        rows = [
            {"arm": a.arm, "replication": a.replication, "time": e.time, "kind": e.kind, "rows": e.rows,
             "positives": e.positives, "detail": e.detail}
            for a in self.arm_runs
            for e in a.model_events
        ]  # fmt: skip
        schema = {"arm": pl.String, "replication": pl.Int32, "time": pl.Float64, "kind": pl.String,
                  "rows": pl.Int64, "positives": pl.Int64, "detail": pl.String}  # fmt: skip
        return pl.DataFrame(rows, schema=schema).sort(["arm", "replication", "time", "kind"])


def run_replication(
    scenario: Scenario,
    replication: int,
    ledger_dir: Path | None = None,
    progress: Callable[[float], None] | None = None,
) -> ReplicationRun:
    """Warm the world up once, then run every arm in its own copy of it.

    ``progress`` receives simulated days done (warm-up and arms together).
    """
    with threadpool_limits(1):  # one BLAS thread: the same sums (and bytes) on every machine, and faster
        return _run_replication(scenario, replication, ledger_dir, progress)


def _run_replication(scenario: Scenario, replication: int, ledger_dir: Path | None,
                     progress: Callable[[float], None] | None) -> ReplicationRun:  # fmt: skip
    streams = Streams(scenario.seed, replication)
    warmup = warmup_length(scenario)
    done = [0.0]

    def ticker(offset: float) -> Callable[[float], None]:
        def report(now: float) -> None:
            if progress is not None:
                progress(offset + (now + warmup if offset == 0 else now) / DAY)

        return report

    started = time.perf_counter()
    world, history = warm_up(scenario, streams, ticker(0.0))
    for kind in sorted({getattr(arm, "model", None) for arm in scenario.arms} & {"logistic", "gbm"}):
        history.first_model(kind)  # fitted once and shared by every arm, so timed with the warm-up
    warmup_seconds = time.perf_counter() - started
    warmup_transactions = world.store.next_id
    done[0] = warmup / DAY
    arms: list[ArmRun] = []
    for arm in scenario.arms:
        recorder = ArmRecorder(scenario, arm.name, replication, ledger_dir)
        started = time.perf_counter()
        engine = run_arm(scenario, arm, streams, world, history, recorder, ticker(done[0]))
        done[0] += scenario.horizon / DAY
        arms.append(
            ArmRun(arm.name, replication, recorder.daily(), recorder.labels_daily(), recorder.label_coverage(),
                   recorder.quality_daily(), recorder.crews_daily(), recorder.reliability_table(),
                   engine.model_events, engine.transactions, time.perf_counter() - started,
                   recorder.ledger.paths if recorder.ledger is not None else {})
        )  # fmt: skip
    ab = None
    if scenario.ab is not None:
        separate = {arm.arm: per_transaction(arm.daily) for arm in arms}
        ab = run_ab(scenario, streams, world, history, replication, separate,
                    None if progress is None else lambda days: progress(done[0] + days))  # fmt: skip
    return ReplicationRun(replication, arms, warmup_transactions, warmup_seconds, ab)


def run_all(
    scenario: Scenario,
    workers: int = 1,
    ledger_dir: Path | None = None,
    progress: Callable[[float, float], None] | None = None,
) -> Experiment:
    """Every replication of ``scenario``, in order; ``progress(done, total)`` in simulated days."""
    per_replication = simulated_days(scenario)
    total = per_replication * scenario.replications
    experiment = Experiment(scenario)
    if workers <= 1 or scenario.replications == 1:
        for r in range(scenario.replications):
            base = r * per_replication

            def report(days: float, base: float = base) -> None:
                if progress is not None:
                    progress(base + days, total)

            experiment.runs.append(run_replication(scenario, r, ledger_dir, report))
        return experiment
    from .parallel import process_pool

    with process_pool(workers) as pool:
        futures = [pool.submit(run_replication, scenario, r, ledger_dir) for r in range(scenario.replications)]
        for done, future in enumerate(futures, start=1):
            experiment.runs.append(future.result())
            if progress is not None:
                progress(done * per_replication, total)
    return experiment


def simulated_days(scenario: Scenario) -> float:
    """Simulated days per replication (warm-up plus every arm), for progress bars."""
    return (warmup_length(scenario) + (len(scenario.arms) + world_runs(scenario)) * scenario.horizon) / DAY


# --------------------------------------------------------------------------- summaries


def interval(values: np.ndarray) -> dict[str, float | None]:
    """Mean and 95 % Student-t interval over replications (null bounds with one value).

    >>> interval(np.array([1.0, 2.0, 3.0]))
    {'mean': 2.0, 'ci_low': -0.484138, 'ci_high': 4.484138}
    """
    mean, low, high = t_interval(values)
    if np.size(values) < 2:
        return {"mean": _round(mean), "ci_low": None, "ci_high": None}
    return {"mean": _round(mean), "ci_low": _round(low), "ci_high": _round(high)}


def _round(x: float) -> float:
    return round(float(x), 6)


def totals(daily: pl.DataFrame) -> pl.DataFrame:
    """Per arm and replication, the sums over the horizon."""
    value_columns = [c for c in daily.columns if c not in ("arm", "replication", "day", *NOT_SUMMED)]
    return daily.group_by(["arm", "replication"], maintain_order=True).agg(
        [pl.col(c).sum() for c in value_columns]
    ).sort(["arm", "replication"])


def summarize(scenario: Scenario, experiment: Experiment) -> dict:
    """The content of ``summary.json``: per arm, money with intervals and counts; the ranking."""
    per_rep = totals(experiment.daily())
    arms: dict[str, dict] = {}
    for arm in scenario.arms:
        rows = per_rep.filter(pl.col("arm") == arm.name)
        entry: dict[str, object] = {"learner": arm.learner}
        for name in MONEY:
            entry[name] = interval(rows[name].to_numpy())
        entry["counts"] = {name: _round(rows[name].to_numpy().mean()) for name in COUNTS}
        arms[arm.name] = entry
    ranking = sorted(arms, key=lambda name: (arms[name]["total_cost"]["mean"], name))
    for rank, name in enumerate(ranking, start=1):
        arms[name]["rank"] = rank
    summary = {
        "schema_version": SCHEMA_VERSION,
        "scenario": scenario.name,
        "seed": scenario.seed,
        "replications": len(experiment.runs),
        "horizon_days": _round(scenario.horizon / DAY),
        "warmup_days": _round(warmup_length(scenario) / DAY),
        "currency": scenario.currency,
        "ranking": ranking,
        "arms": arms,
        "differences": paired_differences(per_rep, ranking),
    }
    if scenario.ab is not None:
        from .ab.summary import summarize_ab

        summary["ab"] = summarize_ab(scenario, [run.ab for run in experiment.runs])
    return summary


def paired_differences(per_rep: pl.DataFrame, ranking: list[str]) -> list[dict]:
    """Every pair of arms, the better-ranked as baseline: arm − baseline per replication
    (same seed, same honest traffic), with 95 % intervals; ``*_relative`` divides by the
    baseline's own figure in that replication."""
    rows: list[dict] = []
    by_arm = {arm: per_rep.filter(pl.col("arm") == arm).sort("replication") for arm in ranking}
    for i, baseline in enumerate(ranking):
        for arm in ranking[i + 1 :]:
            a, b = by_arm[arm], by_arm[baseline]
            entry: dict[str, object] = {"arm": arm, "baseline": baseline}
            for name in ("total_cost", "fraud_loss"):
                difference = a[name].to_numpy() - b[name].to_numpy()
                entry[name] = interval(difference)
                entry[f"{name}_relative"] = interval(difference / np.maximum(b[name].to_numpy(), 1e-9))
            rows.append(entry)
    return rows
