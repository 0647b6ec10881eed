"""What a run records: each arm of each replication, and the tables concatenated over them.

Plain data, picklable: a worker process or a Dask worker returns these records.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from ..schema import Scenario


class ModelFailureError(Exception):
    """Every arm of a run stopped: no result is left to compare."""


if TYPE_CHECKING:
    from ..ab.run import ABReplication
    from ..learn.learners import ModelEvent


@dataclass(frozen=True, eq=False)
class ArmRun:
    """One arm in one replication: its tables, model events and timing."""

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
    failure: str | None = None  # why the arm stopped before the horizon (its tables are then empty)

    @classmethod
    def failed(cls, arm: str, replication: int, failure: str, seconds: float) -> ArmRun:
        """An arm whose learner broke its contract: no tables, the failure in words."""
        empty = pl.DataFrame()
        return cls(arm, replication, empty, empty, empty, empty, empty, empty, [], 0, seconds, failure=failure)


@dataclass(frozen=True, eq=False)
class ReplicationRun:
    """One replication: its arms in the scenario's order, its warm-up and its A/B test."""

    replication: int
    arms: list[ArmRun]
    warmup_transactions: int
    warmup_seconds: float
    ab: ABReplication | None = None


@dataclass
class Experiment:
    """Every arm of every replication, replications in order; the run's tables concatenate theirs."""

    scenario: Scenario
    runs: list[ReplicationRun] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # arms stopped by their learner, in words

    def without_failed(self) -> Experiment:
        """The experiment without the arms that failed in any replication (so that every arm
        left is paired over the same replications), the failures kept in words."""
        failed = [a for a in self.arm_runs if a.failure is not None]
        if not failed:
            return self
        names = {a.arm for a in failed}
        if names >= {arm.name for arm in self.scenario.arms}:
            raise ModelFailureError("every arm failed: " + "; ".join(str(a.failure) for a in failed))
        scenario = self.scenario.model_copy(update={"arms": [a for a in self.scenario.arms if a.name not in names]})
        runs = [replace(run, arms=[a for a in run.arms if a.arm not in names]) for run in self.runs]
        failures = [f"replication {a.replication}: {a.failure}" for a in failed]
        return Experiment(scenario, runs, self.failures + failures)

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
        filled = [pl.col(c).fill_null(0.0) for c in tactics]
        return table.select(*fixed, *filled).sort(["arm", "replication", "day", "crew"])

    def reliability(self) -> pl.DataFrame:
        return pl.concat([a.reliability for a in self.arm_runs]).sort(["arm", "replication", "weighting", "bin"])

    def label_coverage(self) -> pl.DataFrame:
        return pl.concat([a.label_coverage for a in self.arm_runs]).sort(["arm", "replication", "group", "age_s"])

    def model_events(self) -> pl.DataFrame:
        rows = [
            {
                "arm": a.arm,
                "replication": a.replication,
                "time": e.time,
                "kind": e.kind,
                "rows": e.rows,
                "positives": e.positives,
                "detail": e.detail,
            }
            for a in self.arm_runs
            for e in a.model_events
        ]
        schema = {
            "arm": pl.String,
            "replication": pl.Int32,
            "time": pl.Float64,
            "kind": pl.String,
            "rows": pl.Int64,
            "positives": pl.Int64,
            "detail": pl.String,
        }
        return pl.DataFrame(rows, schema=schema).sort(["arm", "replication", "time", "kind"])
