"""A run's summary: per arm, money with a mean and a 95 % Student-t interval over replications
(null bounds with one replication), the ranking, paired differences and the value of fresh
labels — :class:`sim.summary.Summary`, written as ``summary.json``."""

from __future__ import annotations

import numpy as np
import polars as pl

from ..engine import warmup_length
from ..metrics import interval, round6, t_interval
from ..results import NOT_SUMMED
from ..schema import Scenario
from ..summary import (
    SCHEMA_VERSION,
    ArmSummary,
    Counts,
    Difference,
    FreshLabels,
    Headroom,
    Interval,
    Recovered,
    Summary,
)
from ..units import DAY
from .records import Experiment

MONEY = ArmSummary.MONEY
COUNTS = ("transactions", "fraud_attempts", "fraud_approved", "declines", "legit_declined")


def totals(daily: pl.DataFrame) -> pl.DataFrame:
    """Per arm and replication, the sums over the horizon."""
    value_columns = [c for c in daily.columns if c not in ("arm", "replication", "day", *NOT_SUMMED)]
    return (
        daily.group_by(["arm", "replication"], maintain_order=True)
        .agg([pl.col(c).sum() for c in value_columns])
        .sort(["arm", "replication"])
    )


def summarize(scenario: Scenario, experiment: Experiment) -> Summary:
    """The content of ``summary.json``: per arm, money with intervals and counts; the ranking."""
    per_rep = totals(experiment.daily())
    arms: dict[str, dict] = {}
    for arm in scenario.arms:
        rows = per_rep.filter(pl.col("arm") == arm.name)
        arms[arm.name] = {
            "learner": arm.learner,
            **{name: _interval(rows[name].to_numpy()) for name in MONEY},
            "counts": Counts(**{name: round6(rows[name].to_numpy().mean()) for name in COUNTS}),
        }
    ranking = tuple(sorted(arms, key=lambda name: (arms[name]["total_cost"].mean, name)))
    rank = {name: i for i, name in enumerate(ranking, start=1)}
    skipped: dict[str, int] = {}
    for arm_run in experiment.arm_runs:
        for event in arm_run.model_events:
            if event.kind == "skipped":
                skipped[arm_run.arm] = skipped.get(arm_run.arm, 0) + 1
    ab = None
    if scenario.ab is not None:
        from ..ab.summary import summarize_ab

        ab = summarize_ab(scenario, [run.ab for run in experiment.runs])
    return Summary(
        schema_version=SCHEMA_VERSION,
        scenario=scenario.name,
        seed=scenario.seed,
        replications=len(experiment.runs),
        horizon_days=round6(scenario.horizon / DAY),
        warmup_days=round6(warmup_length(scenario) / DAY),
        currency=scenario.currency,
        ranking=ranking,
        arms={name: ArmSummary(**entry, rank=rank[name]) for name, entry in arms.items()},
        differences=paired_differences(per_rep, ranking),
        fresh_labels=fresh_labels(scenario, per_rep),
        ab=ab,
        # a model that could not learn was never deployed: say so
        warnings=tuple(
            f"{arm}: {n} retrain(s) skipped over all replications for want of labels of a class "
            "(min_labels); the model already serving stayed"
            for arm, n in sorted(skipped.items())
        ),
        changes=scenario.changes,
    )


def _interval(values: np.ndarray) -> Interval:
    return Interval.from_json(interval(values))


def relative_interval(difference: np.ndarray, base: np.ndarray) -> Interval:
    """A paired difference as a share of the baseline's mean over replications: its mean and 95 %
    interval divided by that mean, so that the relative interval never disagrees in sign with the
    difference's own (docs/outputs.md, ``summary.json``). Null when the baseline's mean is not
    positive.

    >>> relative_interval(np.array([-1.0, -3.0, 1.0]), np.array([10.0, 10.0, 10.0]))
    Interval(mean=-0.1, ci_low=-0.596828, ci_high=0.396828)
    """
    scale = float(np.mean(base))
    if not scale > 0:
        return Interval(None, None, None)
    return _interval(np.asarray(difference, float) / scale)


def ratio_interval(saved: np.ndarray, headroom: np.ndarray) -> Interval:
    """mean(saved) / mean(headroom) over paired replications, with a 95 % interval by the delta
    method (Student t on the residuals saved − R × headroom); null bounds with one replication or
    no headroom.

    >>> ratio_interval(np.array([5.0, 6.0, 7.0]), np.array([10.0, 10.0, 10.0]))
    Interval(mean=0.6, ci_low=0.351586, ci_high=0.848414)
    """
    mean_headroom = float(np.mean(headroom))
    if mean_headroom == 0:
        return Interval(None, None, None)
    ratio = float(np.mean(saved)) / mean_headroom
    if len(saved) < 2:
        return Interval(round6(ratio), None, None)
    _, low, high = t_interval((saved - ratio * headroom) / abs(mean_headroom))
    return Interval(round6(ratio), round6(ratio + low), round6(ratio + high))


def fresh_labels(scenario: Scenario, per_rep: pl.DataFrame) -> FreshLabels | None:
    """The value of fresh labels: what the oracle (every true label at once) saves over the static
    model (no label after the history), and the share of that each other arm recovers, by total
    cost and by fraud loss, paired by replication. None unless the run has both arms."""
    static = next((a.name for a in scenario.arms if a.learner == "static"), None)
    oracle = next((a.name for a in scenario.arms if a.learner == "oracle"), None)
    if static is None or oracle is None:
        return None
    by_arm = {arm.name: per_rep.filter(pl.col("arm") == arm.name).sort("replication") for arm in scenario.arms}
    headroom: dict[str, Interval] = {}
    for name in ("total_cost", "fraud_loss"):
        base = by_arm[static][name].to_numpy()
        saved = base - by_arm[oracle][name].to_numpy()
        headroom[name] = _interval(saved)
        headroom[f"{name}_relative"] = relative_interval(saved, base)
    recovered = {
        arm.name: Recovered(
            *(
                ratio_interval(
                    by_arm[static][name].to_numpy() - by_arm[arm.name][name].to_numpy(),
                    by_arm[static][name].to_numpy() - by_arm[oracle][name].to_numpy(),
                )
                for name in ("total_cost", "fraud_loss")
            )
        )
        for arm in scenario.arms
        if arm.name not in (static, oracle)
    }
    return FreshLabels(static, oracle, Headroom(**headroom), recovered)


def paired_differences(per_rep: pl.DataFrame, ranking: tuple[str, ...]) -> tuple[Difference, ...]:
    """Every pair of arms, the better-ranked as baseline: arm − baseline per replication
    (same seed, same honest traffic), with 95 % intervals; ``*_relative`` as shares of the
    baseline's mean (:func:`relative_interval`)."""
    rows: list[Difference] = []
    by_arm = {arm: per_rep.filter(pl.col("arm") == arm).sort("replication") for arm in ranking}
    for i, baseline in enumerate(ranking):
        for arm in ranking[i + 1 :]:
            a, b = by_arm[arm], by_arm[baseline]
            figures: dict[str, Interval] = {}
            for name in ("total_cost", "fraud_loss"):
                difference = a[name].to_numpy() - b[name].to_numpy()
                figures[name] = _interval(difference)
                figures[f"{name}_relative"] = relative_interval(difference, b[name].to_numpy())
            rows.append(Difference(arm, baseline, **figures))
    return tuple(rows)
