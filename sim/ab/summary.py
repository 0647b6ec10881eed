"""The A/B test's verdict over replications: estimate, truth, bias by source, and the plan.

For each figure (fraud loss and total cost per transaction, B − A) and each replication:

- the **truth** T: B alone in its world minus A alone in its world (the run's own comparison);
- the **read-out** K: what the test reports at its last day, from the labels known by then;
- the test world's **eventual** figure E: the same cards with every label.

K − T, the bias, splits into parts that add up (per replication, then with intervals):

- ``label_delay`` = K − E: losses the labels have not revealed yet;
- ``own_labels`` = E − E_pooled: the smaller arm's learner seeing only its own cards' labels;
- ``crews`` = (E_pooled − T) − (E_static − T_static): crews adapting to the test's mixed world;
- ``other`` = E_static − T_static: what is left with static crews and pooled labels (shared
  features, crews' numbers following the whole world's profit, and noise).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from ..metrics import interval
from ..summary import ABFigure, ABPlan, ABSummary, BiasSources, Interval
from . import stats
from .run import ABReplication

FIGURES = ("fraud_loss", "total_cost")
ESTIMAND = (
    "B − A per transaction: the {figure} per transaction if `{b}` scored every card, minus the same "
    "if `{a}` scored every card"
)


def ab_daily(runs: list[ABReplication]) -> pl.DataFrame:
    """Every replication's daily A/B rows (``ab_daily.parquet``)."""
    return pl.concat([run.daily for run in runs]).sort(["variant", "replication", "day", "view"])


def _final(daily: pl.DataFrame, variant: str, view: str) -> pl.DataFrame:
    rows = daily.filter((pl.col("variant") == variant) & (pl.col("view") == view))
    return rows.filter(pl.col("day") == rows["day"].max()).sort("replication")


def read_out(run: ABReplication) -> dict[str, float]:
    """One replication's test at its last day, as sweep columns (``ab_*``): the estimate of B − A in
    fraud loss per transaction with its interval, the same with every label, the truth, and the
    crews' share of attempts on B's cards."""
    known, eventual = _final(run.daily, "test", "known"), _final(run.daily, "test", "eventual")
    return {
        "ab_estimate": known["fraud_loss_diff"][0],
        "ab_low": known["fraud_loss_low"][0],
        "ab_high": known["fraud_loss_high"][0],
        "ab_eventual": eventual["fraud_loss_diff"][0],
        "ab_truth": run.truth["test"]["fraud_loss"],
        "ab_b_share_of_crew_attempts": known["b_share_of_crew_attempts"][0],
    }


def summarize_ab(scenario, runs: list[ABReplication]) -> ABSummary:
    """The ``ab`` entry of ``summary.json``."""
    ab = scenario.ab
    daily = ab_daily(runs)
    variants = set(daily["variant"].unique())
    figures: dict[str, ABFigure] = {}
    for figure in FIGURES:
        truth = np.array([run.truth["test"][figure] for run in runs])
        known, eventual = _final(daily, "test", "known"), _final(daily, "test", "eventual")
        read_out = known[f"{figure}_diff"].to_numpy()
        low, high = known[f"{figure}_low"].to_numpy(), known[f"{figure}_high"].to_numpy()
        figures[figure] = ABFigure(
            estimand=ESTIMAND.format(figure=figure.replace("_", " "), a=ab.a, b=ab.b),
            truth=_interval(truth),
            estimate=_interval(read_out),
            eventual=_interval(eventual[f"{figure}_diff"].to_numpy()),
            bias=_interval(read_out - truth),
            interval_half_width=round(float(np.mean((high - low) / 2)), 6),
            covers_truth=round(float(np.mean((low <= truth) & (truth <= high))), 6),
            bias_sources=_sources(daily, runs, figure, variants),
        )
    return ABSummary(
        a=ab.a,
        b=ab.b,
        share_b=ab.share_b,
        labels=ab.labels,
        min_effect=ab.min_effect,
        read_out_day=int(daily["day"].max()) + 1,
        replications=len(runs),
        **figures,
        crews={
            variant: _interval(_final(daily, variant, "known")["b_share_of_crew_attempts"].to_numpy())
            for variant in sorted(variants)
        },
        plan=_plan(scenario, runs, daily),
    )


def _interval(values: np.ndarray) -> Interval:
    return Interval.from_json(interval(values))


def _sources(daily, runs, figure, variants) -> BiasSources:
    def final(variant: str, view: str) -> np.ndarray:
        return _final(daily, variant, view)[f"{figure}_diff"].to_numpy()

    truth = np.array([run.truth["test"][figure] for run in runs])
    label_delay = _interval(final("test", "known") - final("test", "eventual"))
    if "static" not in variants:
        return BiasSources(label_delay)
    pooled = "pooled" if "pooled" in variants else "test"
    own_labels = None
    if pooled == "pooled":
        own_labels = _interval(final("test", "eventual") - final("pooled", "eventual"))
    static_truth = np.array([run.truth["static"][figure] for run in runs])
    left = final("static", "eventual") - static_truth
    return BiasSources(
        label_delay, own_labels, crews=_interval(final(pooled, "eventual") - truth - left), other=_interval(left)
    )


def _plan(scenario, runs: list[ABReplication], daily: pl.DataFrame) -> ABPlan:
    """The power analysis a team would do before the test, from the first replication's cards of
    arm a (heavy-tailed amounts and repeated attacks included), against what the tests showed."""
    ab = scenario.ab
    first = runs[0]
    coverage = float(np.mean([run.known_share for run in runs]))
    plan = stats.plan(
        ab.min_effect, first.card_loss, first.card_transactions, ab.share_b, first.transactions_per_day, coverage
    )
    eventual = _final(daily, "test", "eventual")
    transactions = float((eventual["transactions_a"] + eventual["transactions_b"]).mean())
    known = daily.filter((pl.col("variant") == "test") & (pl.col("view") == "known"))
    settled = []  # per replication: the day from which the interval excluded zero to the end
    for _, rows in known.group_by("replication", maintain_order=True):
        clear = ((rows.sort("day")["fraud_loss_low"] > 0) | (rows.sort("day")["fraud_loss_high"] < 0)).to_list()
        unclear = [day for day, ok in enumerate(clear) if not ok]
        settled.append(None if not clear[-1] else (unclear[-1] + 2 if unclear else 1))
    return ABPlan(
        min_effect=ab.min_effect,
        per_transaction_sd=round(plan.per_transaction_sd, 6),
        label_coverage=round(coverage, 6),
        transactions_needed=round(plan.transactions),
        days_needed=round(plan.days, 2),
        transactions_per_day=round(first.transactions_per_day),
        planned_half_width=round(float(stats.expected_half_width(plan, transactions)), 6),
        observed_half_width=round(float(((eventual["fraud_loss_high"] - eventual["fraud_loss_low"]) / 2).mean()), 6),
        settled_on_day=tuple(settled),
    )
