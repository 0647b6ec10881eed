"""What the course's answers measure: each a mean over replications with its 95 % interval, read
from a run's (or a sweep's) saved tables by the definitions the reports use (paired by
replication; a relative difference as a share of the baseline's mean, `summary.json`'s).

A measure is a function of an output directory that returns an `Interval`; `benchmarks/course.py`
names one per answer. Shares are per replication, then averaged (each replication one world).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim.experiment.summaries import relative_interval  # noqa: E402
from sim.metrics import interval  # noqa: E402
from sim.report.data import read_json, read_summary  # noqa: E402
from sim.report.sweep import layout, paired  # noqa: E402
from sim.summary import Interval  # noqa: E402

Measure = Callable[[Path], Interval]


def _per_rep(directory: Path, arm: str, values: pl.Expr) -> np.ndarray:
    """``values`` of the arm's totals (arms.parquet), one per replication, in replication order."""
    frame = pl.read_parquet(directory / "arms.parquet").filter(pl.col("arm") == arm)
    if frame.is_empty():
        raise KeyError(f"{directory}: no arm {arm!r}")
    return frame.sort("replication").select(values).to_series().to_numpy().astype(float)


DECLINED_FRAUD = 1 - pl.col("fraud_amount_approved") / pl.col("fraud_amount_attempted")  # of the fraud value
FALSE_DECLINES = pl.col("legit_declined") / (pl.col("transactions") - pl.col("fraud_attempts"))  # of honest ones
FALLBACK = pl.col("fallback_transactions") / pl.col("transactions")  # decided by the rules, not the model


def difference(arm: str, baseline: str, measure: str = "total_cost") -> Measure:
    """``arm`` − ``baseline`` in ``measure``, paired by replication, as a share of the baseline's
    mean (negative: ``arm`` costs less): the run's own paired difference from summary.json, which
    holds every pair with the better-ranked arm as baseline."""

    def measured(directory: Path) -> Interval:
        entry = read_summary(directory / "summary.json").difference(baseline, arm)
        if entry is None:
            raise KeyError(f"{directory}: summary.json has no {arm} against {baseline} ({baseline} must rank first)")
        return getattr(entry, f"{measure}_relative")

    return measured


def share(arm: str, of: pl.Expr, days: tuple[int, int] | None = None) -> Measure:
    """A share per replication (``of`` over the arm's totals, or over ``days`` [first, last) of
    the daily table), its mean and interval."""

    def measured(directory: Path) -> Interval:
        if days is None:
            return Interval.from_json(interval(_per_rep(directory, arm, of)))
        totals = _period(directory, arm, days)
        return Interval.from_json(interval(totals.select(of).to_series().to_numpy().astype(float)))

    return measured


def share_difference(arm: str, baseline: str, of: pl.Expr) -> Measure:
    """``arm``'s share minus ``baseline``'s, paired by replication (in points of share)."""

    def measured(directory: Path) -> Interval:
        return Interval.from_json(interval(_per_rep(directory, arm, of) - _per_rep(directory, baseline, of)))

    return measured


def _period(directory: Path, arm: str, days: tuple[int, int]) -> pl.DataFrame:
    """The arm's daily rows of days [first, last) summed per replication, in replication order."""
    frame = pl.read_parquet(directory / "daily.parquet").filter(
        (pl.col("arm") == arm) & pl.col("day").is_between(days[0], days[1] - 1)
    )
    return frame.group_by("replication").agg(pl.all().exclude("arm", "day").sum()).sort("replication")


def period_ratio(arm: str, of: pl.Expr, before: tuple[int, int], during: tuple[int, int]) -> Measure:
    """``of`` over the days ``during`` divided by the same over ``before`` ([first, last) each), per
    replication."""

    def measured(directory: Path) -> Interval:
        rates = [_period(directory, arm, days).select(of).to_series().to_numpy() for days in (before, during)]
        return Interval.from_json(interval(rates[1] / rates[0]))

    return measured


def ab_figure(measure: str = "total_cost", field: str = "bias") -> Measure:
    """An A/B test's ``field`` (``estimate``: what it reads on its last day, ``truth``, or ``bias``:
    the two's difference) in ``measure`` per transaction, B − A (summary.json's ``ab``)."""
    return lambda directory: getattr(getattr(read_summary(directory / "summary.json").ab, measure), field)


def headroom(measure: str = "total_cost") -> Measure:
    """What the oracle saves over the static arm, as a share of static's (summary.json's
    ``fresh_labels``)."""
    return lambda directory: getattr(
        read_summary(directory / "summary.json").fresh_labels.headroom, f"{measure}_relative"
    )


def recovered(arm: str, measure: str = "total_cost") -> Measure:
    """The share of the oracle's saving over static that ``arm`` recovers (``fresh_labels``)."""
    return lambda directory: getattr(read_summary(directory / "summary.json").fresh_labels.recovered[arm], measure)


def coverage(age_days: float, group: str = "fraud") -> Measure:
    """The share of the ``group``'s transactions (``fraud`` or ``honest``) whose true label has
    arrived ``age_days`` after the transaction (the label coverage figure's curve), over the
    replications of the first arm."""
    column = "share_labelled_fraud" if group == "fraud" else "share_labelled"

    def measured(directory: Path) -> Interval:
        frame = pl.read_parquet(directory / "label_coverage.parquet")
        frame = frame.filter((pl.col("arm") == frame["arm"][0]) & (pl.col("group") == group))
        values = frame.filter(pl.col("age_s") == age_days * 86_400).sort("replication")[column].to_numpy()
        if len(values) == 0:
            raise KeyError(
                f"{directory}: no label coverage at {age_days} days (ages: {frame['age'].unique().to_list()})"
            )
        return Interval.from_json(interval(values))

    return measured


def sweep_difference(arm: str, baseline: str, at: str, measure: str = "total_cost") -> Measure:
    """In a sweep: ``arm`` − ``baseline`` at the point whose swept value reads ``at`` (as the
    report's axis labels it), paired, as a share of the baseline's mean."""

    def measured(directory: Path) -> Interval:
        results = pl.read_parquet(directory / "results.parquet")
        table = paired(results, read_json(directory / "sweep.json", ()), arm, baseline, measure)
        row = table.filter(pl.col("_label") == at)
        if row.height != 1:
            raise KeyError(f"{directory}: no single point at {at!r} (points: {table['_label'].to_list()})")
        return Interval(row["mean"][0], row["low"][0], row["high"][0])

    return measured


def sweep_change(arm: str, at_from: str, at_to: str, measure: str = "fraud_loss") -> Measure:
    """In a sweep: ``arm``'s ``measure`` at ``at_to`` against ``at_from``, paired by replication
    (the same seeds at every point), as a share of its mean at ``at_from``."""

    def measured(directory: Path) -> Interval:
        results = pl.read_parquet(directory / "results.parquet")
        frame, _ = layout(results, read_json(directory / "sweep.json", ()))
        frame = frame.filter(pl.col("arm") == arm)

        def at(label: str) -> np.ndarray:
            return frame.filter(pl.col("_label") == label).sort("replication")[measure].to_numpy()

        first, last = at(at_from), at(at_to)
        return relative_interval(last - first, first)

    return measured


__all__ = [
    "ab_figure",
    "coverage",
    "DECLINED_FRAUD",
    "FALLBACK",
    "FALSE_DECLINES",
    "difference",
    "headroom",
    "period_ratio",
    "recovered",
    "share",
    "share_difference",
    "sweep_change",
    "sweep_difference",
    "sweep_table",
]


def sweep_table(directory: Path, arms: tuple[str, ...], baseline: str, measure: str) -> dict:
    """Each of ``arms`` against ``baseline`` at every point of a sweep (as :func:`sweep_difference`):
    the points' labels in order and, per arm, one interval per point (as JSON)."""
    results = pl.read_parquet(directory / "results.parquet")
    sweep = read_json(directory / "sweep.json", ())
    columns = {arm: paired(results, sweep, arm, baseline, measure).sort("_x") for arm in arms}
    first = next(iter(columns.values()))
    return {
        "points": first["_label"].to_list(),
        "arms": {
            arm: [Interval(r["mean"], r["low"], r["high"]).to_json() for r in table.iter_rows(named=True)]
            for arm, table in columns.items()
        },
    }
