"""The report's A/B test sections: the estimate against the truth, the bias by source, the crews'
share of the challenger's cards, and the plan. Figures take ``ab_daily.parquet`` and the
``ab`` entry of ``summary.json``."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import polars as pl
from matplotlib.figure import Figure

from ..summary import ABSummary, Interval
from .figures import PALETTE, band
from .findings import Finding, interval_text, per_transaction, signed_per_transaction

SOURCES = {
    "label_delay": "labels not arrived yet",
    "own_labels": "challenger learns from its own cards only",
    "crews": "crews adapt to the mixed world",
    "other": "left with static crews and pooled labels",
}
VARIANTS = {"test": "the test", "pooled": "with pooled labels", "static": "static crews, pooled labels"}


def _interval(entry: Interval, currency: str) -> str:
    return interval_text(entry, currency, signed_per_transaction)


def _wide(daily: pl.DataFrame, variant: str, view: str, column: str) -> np.ndarray:
    rows = daily.filter((pl.col("variant") == variant) & (pl.col("view") == view)).sort(["replication", "day"])
    wide = rows.pivot(on="day", index="replication", values=column, sort_columns=True)
    return wide.drop("replication").to_numpy()


def estimate_figure(daily: pl.DataFrame, ab: ABSummary, currency: str) -> Figure:
    """The test's estimate of B − A in fraud loss per transaction, day by day, against the truth."""
    fig, ax = plt.subplots(figsize=(8, 4.2))
    estimate = _wide(daily, "test", "known", "fraud_loss_diff")
    days = np.arange(1, estimate.shape[1] + 1)
    low, high = (_wide(daily, "test", "known", f"fraud_loss_{side}").mean(axis=0) for side in ("low", "high"))
    ax.fill_between(days, low, high, color=PALETTE[0], alpha=0.15, lw=0, label="the test's 95 % interval (typical)")
    ax.plot(days, estimate.mean(axis=0), color=PALETTE[0], lw=2, label="the test's estimate (labels known by then)")
    eventual, _, _ = band(_wide(daily, "test", "eventual", "fraud_loss_diff"))
    ax.plot(days, eventual, color=PALETTE[0], lw=1, ls="--", label="the same cards with every label")
    truth = ab.fraud_loss.truth
    ax.axhline(truth.mean, color=PALETTE[1], lw=2, label="the truth (each detector alone)")
    if truth.ci_low is not None:
        ax.axhspan(truth.ci_low, truth.ci_high, color=PALETTE[1], alpha=0.12, lw=0)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel("day of the test")
    ax.set_ylabel(f"B − A, fraud loss per transaction ({currency})")
    ax.set_title(f"A/B test: {ab.b} (B, {ab.share_b:.0%} of cards) vs {ab.a} (A)")
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def estimate_caption(ab: ABSummary, currency: str) -> str:
    figure = ab.fraud_loss
    text = (
        f"The estimand: {figure.estimand}. After {ab.read_out_day} days the test reads, on average over "
        f"{ab.replications} replication(s), {_interval(figure.estimate, currency)} per transaction (the "
        f"interval is that of the mean); the truth is {_interval(figure.truth, currency)}, so the test is off by "
        f"{_interval(figure.bias, currency)}. A typical test's own 95 % interval is ±"
        f"{per_transaction(figure.interval_half_width, currency)} wide, and it covered the truth in "
        f"{figure.covers_truth:.0%} of the replications. The dashed line is what the same test would read "
        "once every label had arrived."
    )
    return text


def sources_figure(ab: ABSummary, currency: str) -> Figure:
    """The bias of the read-out, split into parts that add up, with 95 % intervals."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharey=True)
    for ax, figure in zip(axes, ("fraud_loss", "total_cost"), strict=True):
        sources = getattr(ab, figure).bias_sources.parts()
        names = [name for name in SOURCES if name in sources]
        means = np.array([sources[name].mean for name in names])
        lows = np.array([sources[name].ci_low if sources[name].bounded else sources[name].mean for name in names])
        highs = np.array([sources[name].ci_high if sources[name].bounded else sources[name].mean for name in names])
        y = np.arange(len(names))
        ax.barh(y, means, color=[PALETTE[i] for i in range(len(names))], alpha=0.8)
        ax.errorbar(means, y, xerr=[means - lows, highs - means], fmt="none", ecolor="black", capsize=3, lw=1)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_yticks(y, [SOURCES[name] for name in names])
        ax.set_title(f"{figure.replace('_', ' ')} per transaction ({currency})", fontsize=10)
        ax.invert_yaxis()
    fig.suptitle("Where the test's bias comes from (read-out − truth)", fontsize=11)
    fig.tight_layout()
    return fig


def sources_caption(ab: ABSummary, currency: str) -> str:
    sources = ab.fraud_loss.bias_sources.parts()
    parts = "; ".join(f"{SOURCES[name]}: {_interval(sources[name], currency)}" for name in SOURCES if name in sources)
    return (
        f"The read-out's bias in fraud loss per transaction, {_interval(ab.fraud_loss.bias, currency)}, is the "
        f"sum of: {parts}. The parts come from re-running the test with pooled labels and with crews frozen to "
        "their tactic mix at day 0, each beside the truth of its own world."
    )


def crews_figure(daily: pl.DataFrame, ab: ABSummary) -> Figure:
    """The crews' share of attempts that hit B's cards, cumulative from day 0, per variant."""
    fig, ax = plt.subplots(figsize=(8, 3.8))
    for i, variant in enumerate(VARIANTS):
        if variant not in set(daily["variant"].unique()):
            continue
        mean, low, high = band(_wide(daily, variant, "known", "b_share_of_crew_attempts"))
        days = np.arange(1, len(mean) + 1)
        ax.plot(days, mean, color=PALETTE[i], lw=2, label=VARIANTS[variant])
        ax.fill_between(days, low, high, color=PALETTE[i], alpha=0.12, lw=0)
    ax.axhline(ab.share_b, color="black", lw=1, ls=":", label=f"B's share of cards ({ab.share_b:.0%})")
    ax.set_xlabel("day of the test")
    ax.set_ylabel("share of crew attempts on B's cards")
    ax.set_title("Do crews find the weaker arm?")
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def crews_caption(ab: ABSummary) -> str:
    test = ab.crews["test"]
    ratio = test.mean / ab.share_b if ab.share_b else float("nan")
    where = "above" if ratio > 1.05 else "below" if ratio < 0.95 else "close to"
    text = (
        f"By the end, {test.mean:.1%} of the crews' attempts hit B's cards, {where} B's "
        f"{ab.share_b:.0%} share of cards ({ratio:.2f}×)."
    )
    if "static" in ab.crews:
        text += f" With crews frozen to their tactic mix: {ab.crews['static'].mean:.1%}."
    return text + " Crews never know which arm a card is in; they see only their own declines."


def plan_text(ab: ABSummary, currency: str) -> str:
    plan = ab.plan
    settled = [day for day in plan.settled_on_day if day is not None]
    seen = (
        f"in {len(settled)} of {len(plan.settled_on_day)} replication(s) the interval excluded zero from day "
        f"{min(settled)} on"
        if settled
        else "in no replication did the interval settle on a sign"
    )
    return (
        f"Before the test, a team wanting to detect a difference of {per_transaction(plan.min_effect, currency)} "
        f"per transaction (80 % power, 5 % two-sided) would plan for {plan.transactions_needed:,} transactions: "
        f"{plan.days_needed:,.0f} days at {plan.transactions_per_day:,} a day "
        f"with {ab.share_b:.0%} of cards on B, "
        f"given the card-level spread of the loss (±{per_transaction(plan.per_transaction_sd, currency)} "
        f"per transaction) and labels revealing {plan.label_coverage:.0%} of it by the read-out. The plan predicts "
        f"a ±{per_transaction(plan.planned_half_width, currency)} interval after {ab.read_out_day} days; the "
        f"tests got ±{per_transaction(plan.observed_half_width, currency)} (every label known). Observed: {seen}."
    )


def finding(ab: ABSummary, currency: str) -> Finding:
    """The report's finding: what the test read, the truth, its bias and the planned duration."""
    figure = ab.fraud_loss
    return Finding(
        "ab",
        ab.b,
        ab.a,
        "fraud_loss_per_transaction",
        figure.bias,
        {
            "currency": currency,
            "share_b": ab.share_b,
            "read_out_day": ab.read_out_day,
            "estimate": figure.estimate.mean,
            "truth": figure.truth.mean,
            "min_effect": ab.min_effect,
            "days_needed": ab.plan.days_needed,
        },
    )
