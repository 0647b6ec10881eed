"""Report figures. Each takes data frames (never engine objects) and returns a Figure."""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import matplotlib.pyplot as plt
import numpy as np
import polars as pl
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from .. import metrics
from ..metrics import t_interval
from ..units import format_money, short_money

P = ParamSpec("P")
R = TypeVar("R")

# The reports' matplotlib settings, applied only while a report or one of its figures is drawn
# (:func:`styled`): a notebook's own plots keep the user's.
STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "font.size": 10,
    "svg.hashsalt": "fraudsim",
}


def styled(function: Callable[P, R]) -> Callable[P, R]:
    """``function`` run in the reports' style (:data:`STYLE`), the caller's settings restored after."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with plt.rc_context(STYLE):
            return function(*args, **kwargs)

    return wrapper


# Okabe and Ito's colour-blind-safe palette (yellow last: faint on white), and the colour each
# bundled arm's name always gets, in every report.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#000000", "#CC79A7", "#D55E00", "#56B4E9", "#999999", "#F0E442"]
TACTIC_PALETTE = [*PALETTE[:-1], "#88CCEE", "#117733", "#882255", "#DDCC77", "#332288", "#44AA99", "#AA4499"]  # + Tol's
ARM_COLORS = {
    "online": "#0072B2",
    "batch-weekly": "#E69F00",
    "batch": "#E69F00",
    "batch-daily": "#009E73",
    "static": "#000000",
    "oracle": "#CC79A7",
    "hybrid": "#D55E00",
    "split": "#56B4E9",
    "rules": "#999999",
}


def arm_colors(arms: list[str]) -> dict[str, str]:
    """Each arm's colour, by a rule every report shares: a bundled arm's name has its own
    (:data:`ARM_COLORS`); any other name takes the palette's colour its name hashes to, or the
    next one no arm of ``arms`` has (names in sorted order), so that it keeps its colour from
    report to report while its neighbours do.

    >>> arm_colors(["rules", "online"]) == {"rules": "#999999", "online": "#0072B2"}
    True
    """
    return named_colors(arms, PALETTE, ARM_COLORS)


def named_colors(names: list[str], palette: list[str], fixed: dict[str, str] | None = None) -> dict[str, str]:
    """The colour of each of ``names``: its own in ``fixed``, else the one of ``palette`` its
    name hashes to, or the next one free among ``names`` (taken in sorted order). Two names
    fixed to one colour (``batch`` and ``batch-weekly``) keep it for the first in sorted order."""
    colors: dict[str, str] = {}
    for name in sorted(n for n in set(names) if n in (fixed or {})):
        if fixed[name] not in colors.values():
            colors[name] = fixed[name]
    for name in sorted(set(names) - set(colors)):
        start = zlib.crc32(name.encode()) % len(palette)
        ring = [palette[(start + k) % len(palette)] for k in range(len(palette))]
        colors[name] = next((c for c in ring if c not in colors.values()), ring[0])
    return {name: colors[name] for name in names}


def _money_axis(ax, currency: str) -> None:
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_money(v, currency)))


band = t_interval  # mean and 95 % band over replications (rows), per column


def cumulative(daily: pl.DataFrame, column: str) -> dict[str, np.ndarray]:
    """Per arm, a (replications × days) array of the running sum of ``column``."""
    out: dict[str, np.ndarray] = {}
    for arm in daily["arm"].unique(maintain_order=True).to_list():
        frame = daily.filter(pl.col("arm") == arm).sort(["replication", "day"])
        wide = frame.pivot(on="day", index="replication", values=column, sort_columns=True)
        out[arm] = np.cumsum(wide.drop("replication").to_numpy(), axis=1)
    return out


def cumulative_figure(daily: pl.DataFrame, column: str, title: str, arms: list[str], currency: str) -> Figure:
    """Running total of a money column per arm, with a 95 % band over replications."""
    fig, ax = plt.subplots(figsize=(8, 4.2))
    colors = arm_colors(arms)
    series = cumulative(daily, column)
    for arm in arms:
        values = series[arm]
        days = np.arange(1, values.shape[1] + 1)
        mean, low, high = band(values)
        ax.plot(days, mean, color=colors[arm], label=arm, lw=2)
        if values.shape[0] > 1:
            ax.fill_between(days, low, high, color=colors[arm], alpha=0.18, lw=0)
    ax.set_xlabel("day")
    ax.set_title(title)
    _money_axis(ax, currency)
    ax.legend(frameon=False, ncol=min(len(arms), 4))
    fig.tight_layout()
    return fig


def fraud_flow_figure(daily: pl.DataFrame, arms: list[str]) -> Figure:
    """Daily fraud attempts (all arms) and approved fraud per arm, averaged over replications."""
    fig, ax = plt.subplots(figsize=(8, 4.2))
    colors = arm_colors(arms)
    per_day = (
        daily.group_by(["arm", "day"])
        .agg(pl.col("fraud_attempts").mean(), pl.col("fraud_approved").mean())
        .sort(["arm", "day"])
    )
    for arm in arms:
        frame = per_day.filter(pl.col("arm") == arm)
        days = frame["day"].to_numpy() + 1
        ax.plot(days, frame["fraud_attempts"].to_numpy(), color=colors[arm], lw=1, ls=":", alpha=0.9)
        ax.plot(days, frame["fraud_approved"].to_numpy(), color=colors[arm], lw=2, label=f"{arm}: approved")
    ax.plot([], [], color="grey", ls=":", label="attempted (dotted, per arm)")
    ax.set_xlabel("day")
    ax.set_ylabel("fraud transactions per day")
    ax.set_title("Fraud attempted and approved per day")
    ax.legend(frameon=False, fontsize=8, ncol=2)
    fig.tight_layout()
    return fig


def cost_split_figure(arm_totals: pl.DataFrame, arms: list[str], currency: str) -> Figure:
    """Mean total cost per arm split into fraud loss, friction and review, best arm first."""
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(arms) + 1.6))
    means = arm_totals.group_by("arm").agg(
        pl.col("fraud_loss").mean(), pl.col("friction").mean(), pl.col("review_cost").mean()
    )
    order = sorted(arms, key=lambda a: -_total(means, a))  # best at the top
    left = np.zeros(len(order))
    parts = (
        ("fraud_loss", "fraud loss", "#d62728"),
        ("friction", "friction (false declines)", "#ff7f0e"),
        ("review_cost", "investigator reviews", "#7f7f7f"),
    )
    for column, label, color in parts:
        values = np.array([means.filter(pl.col("arm") == a)[column].item() for a in order])
        ax.barh(order, values, left=left, color=color, label=label)
        left += values
    _money_axis_x(ax, currency)
    ax.set_title("Total cost over the horizon, split by kind (mean over replications)")
    ax.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=3)  # never over a bar
    fig.tight_layout()
    return fig


def fresh_labels_figure(recovered: pl.DataFrame, arms: list[str]) -> Figure:
    """Where each arm falls between never learning (0, the static model) and instant truth (1, the
    oracle), by total cost and by fraud loss, with 95 % intervals. ``recovered``: columns arm,
    measure (total_cost, fraud_loss), mean, ci_low, ci_high."""
    order = [a for a in arms if a in set(recovered["arm"].to_list())][::-1]  # best at the top
    colors = arm_colors(arms)
    fig, axes = plt.subplots(1, 2, figsize=(9, 0.5 * len(order) + 1.9), sharey=True)
    for ax, (measure, title) in zip(
        axes, (("total_cost", "by total cost"), ("fraud_loss", "by fraud loss")), strict=True
    ):
        frame = recovered.filter(pl.col("measure") == measure)
        for y, arm in enumerate(order):
            row = frame.filter(pl.col("arm") == arm)
            if row.height == 0 or row["mean"][0] is None:
                continue
            mean, low, high = row["mean"][0], row["ci_low"][0], row["ci_high"][0]
            ax.barh(y, mean, color=colors[arm], alpha=0.85)
            if low is not None:
                ax.errorbar(mean, y, xerr=[[mean - low], [high - mean]], color="black", capsize=3, lw=1)
        for x, label in ((0.0, "static"), (1.0, "oracle")):
            ax.axvline(x, color="#444444", lw=1, ls="--")
            ax.annotate(label, (x, 1.0), xycoords=("data", "axes fraction"), ha="center", va="bottom", fontsize=8)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0%}"))
        ax.set_yticks(range(len(order)), order)
        ax.set_title(f"share of instant truth's saving recovered, {title}", fontsize=9, pad=14)
    fig.tight_layout()
    return fig


def differences_figure(differences: pl.DataFrame, best: str, arms: list[str], currency: str) -> Figure:
    """Each arm's cost minus the best arm's, paired by replication, with its 95 % interval, by total
    cost and by fraud loss (``differences``: arm, measure, mean, ci_low, ci_high, relative)."""
    order = [a for a in arms if a in set(differences["arm"].to_list())][::-1]  # closest to the best at the top
    colors = arm_colors(arms)
    fig, axes = plt.subplots(1, 2, figsize=(9, 0.5 * len(order) + 1.9), sharey=True)
    for ax, (measure, title) in zip(axes, (("total_cost", "total cost"), ("fraud_loss", "fraud loss")), strict=True):
        frame = differences.filter(pl.col("measure") == measure)
        for y, arm in enumerate(order):
            row = frame.filter(pl.col("arm") == arm).row(0, named=True)
            mean, low, high = row["mean"], row["ci_low"], row["ci_high"]
            ax.errorbar(mean, y, xerr=[[mean - low], [high - mean]], color=colors[arm], fmt="o", capsize=4, lw=1.6)
            ax.annotate(
                f"{row['relative']:+.0%}", (mean, y), xytext=(0, 7), textcoords="offset points", ha="center", fontsize=8
            )
        ax.axvline(0.0, color="#444444", lw=1, ls="--")
        _money_axis_x(ax, currency)
        ax.set_yticks(range(len(order)), order)
        ax.set_ylim(-0.6, len(order) - 0.4)
        ax.set_title(f"{title}: arm − {best}", fontsize=9)
    fig.suptitle(
        "Each arm against the best, paired by replication (95 % intervals; right of 0: costs more)", fontsize=10
    )
    fig.tight_layout()
    return fig


def _money_axis_x(ax, currency: str) -> None:
    """Money on the x axis, short (€20k) and at most six ticks, so labels never overlap."""
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: short_money(v, currency)))


def _total(means: pl.DataFrame, arm: str) -> float:
    row = means.filter(pl.col("arm") == arm)
    return float(row["fraud_loss"].item() + row["friction"].item() + row["review_cost"].item())


# --------------------------------------------------------------------------- labels


def per_day_mean(daily: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """Per arm and day, the mean over replications of ``columns``."""
    return daily.group_by(["arm", "day"]).agg([pl.col(c).mean() for c in columns]).sort(["arm", "day"])


def coverage_figure(coverage: pl.DataFrame, arms: list[str]) -> Figure:
    """Share of transactions labelled by age: fraud labelled fraud (solid), honest with any label (dashed)."""
    fig, ax = plt.subplots(figsize=(8, 4.2))
    colors = arm_colors(arms)
    mean = (
        coverage.group_by(["arm", "group", "age_s"])
        .agg(pl.col("share_labelled_fraud").mean(), pl.col("share_labelled").mean())
        .sort(["arm", "group", "age_s"])
    )
    # Measured at these ages only: drawn as steps, not ramps (maturity labels all arrive at its window).
    lines = (  # group, share column, style
        ("fraud", "share_labelled_fraud", {"marker": "o", "lw": 2}),
        ("honest", "share_labelled", {"marker": ".", "lw": 1, "ls": "--"}),
    )
    for arm in arms:
        for group, column, style in lines:
            frame = mean.filter((pl.col("arm") == arm) & (pl.col("group") == group))
            label = f"{arm}: fraud labelled as fraud" if group == "fraud" else None
            ax.step(frame["age_s"] / 86400, frame[column], where="post", color=colors[arm], label=label, **style)
    ax.plot([], [], color="grey", ls="--", label="honest transactions with any label")
    ax.set_xscale("log")
    ages = mean["age_s"].unique().sort().to_list()
    ax.set_xticks([a / 86400 for a in ages], [_age_name(a) if a != 120 * 86400 else "" for a in ages])
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("transaction age")
    ax.set_ylabel("share labelled")
    ax.set_title("How soon the truth arrives")
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def _age_name(seconds: float) -> str:
    return f"{seconds / 3600:g}h" if seconds < 86400 else f"{seconds / 86400:g}d"


def label_sources_figure(labels_daily: pl.DataFrame, arms: list[str]) -> Figure:
    """Label events arriving per day by source, one panel per arm (mean over replications)."""
    shown = arms[:6]
    fig, axes = plt.subplots(len(shown), 1, figsize=(8, 1.9 * len(shown) + 0.6), sharex=True, squeeze=False)
    sources = ["investigator", "customer_report", "chargeback", "decline_confirmation", "maturity"]
    palette = dict(zip(sources, ["#CC79A7", "#009E73", "#D55E00", "#56B4E9", "#999999"], strict=True))
    mean = labels_daily.group_by(["arm", "day", "source"]).agg(pl.col("events").mean())
    for ax, arm in zip(axes[:, 0], shown, strict=True):
        wide = (
            mean.filter(pl.col("arm") == arm).pivot(on="source", index="day", values="events").sort("day").fill_null(0)
        )
        days = wide["day"].to_numpy() + 1
        present = [s for s in sources if s in wide.columns]
        for source in present:  # lines, not stacked areas: on a log scale a stack's layers cannot be read
            ax.plot(days, wide[source].to_numpy(), color=palette[source], lw=1.5, label=source.replace("_", " "))
        ax.set_yscale("symlog", linthresh=1)
        ax.set_ylabel(arm, fontsize=9)
    axes[0, 0].set_title("Label events arriving per day, by source (log scale)")
    axes[-1, 0].set_xlabel("day")
    axes[-1, 0].legend(frameon=False, fontsize=8, ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.45))
    fig.tight_layout()
    return fig


def class_mix_figure(daily: pl.DataFrame, arms: list[str]) -> Figure:
    """Fraud share among arriving labels per day, against the fraud share among transactions."""
    fig, ax = plt.subplots(figsize=(8, 4.2))
    colors = arm_colors(arms)
    mean = per_day_mean(daily, ["labels_arrived", "fraud_labels_arrived", "transactions", "fraud_attempts"])
    for arm in arms:
        frame = mean.filter(pl.col("arm") == arm)
        days = frame["day"].to_numpy() + 1
        share = frame["fraud_labels_arrived"].to_numpy() / np.maximum(frame["labels_arrived"].to_numpy(), 1)
        ax.plot(days, share, color=colors[arm], lw=1.8, label=f"{arm}: fraud share of arriving labels")
    truth = mean.group_by("day").agg(pl.col("fraud_attempts").sum() / pl.col("transactions").sum()).sort("day")
    ax.plot(
        truth["day"].to_numpy() + 1,
        truth.to_series(1).to_numpy(),
        color="black",
        ls=":",
        lw=1.5,
        label="fraud share of transactions",
    )
    if (truth.to_series(1) > 0).any():  # a fraud-free world has nothing to put on a log scale
        ax.set_yscale("log")
    ax.set_xlabel("day")
    ax.set_ylabel("fraud share (log scale)")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.2%}" if v < 0.01 else f"{v:.0%}"))
    ax.set_title("The class mix a learner sees")
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- investigators and blocks


def investigators_figure(daily: pl.DataFrame, arms: list[str]) -> Figure:
    """Investigator utilisation and mean queue wait per day, per arm."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 5.2), sharex=True)
    colors = arm_colors(arms)
    mean = per_day_mean(
        daily, ["investigator_busy_s", "investigator_duty_s", "review_wait_s", "reviews", "alerts", "alerts_dropped"]
    )
    for arm in arms:
        frame = mean.filter(pl.col("arm") == arm)
        days = frame["day"].to_numpy() + 1
        duty = frame["investigator_duty_s"].to_numpy()
        utilisation = np.divide(
            frame["investigator_busy_s"].to_numpy(), duty, out=np.full(len(duty), np.nan), where=duty > 0
        )
        wait = frame["review_wait_s"].to_numpy() / np.maximum(frame["reviews"].to_numpy(), 1) / 3600
        top.plot(days, utilisation, color=colors[arm], lw=1.8, label=arm)
        bottom.plot(days, wait, color=colors[arm], lw=1.8)
    top.set_ylabel("utilisation")
    top.set_ylim(0, None)
    bottom.set_ylabel("mean wait (hours)")
    bottom.set_xlabel("day")
    top.set_title("Investigators: how busy, and how long alerts wait")
    top.legend(frameon=False, fontsize=8, ncol=min(4, len(arms)))
    fig.tight_layout()
    return fig


def blocks_figure(daily: pl.DataFrame, arms: list[str]) -> Figure:
    """Stolen cards crews lost to blocks per day (cumulative), per arm."""
    fig, ax = plt.subplots(figsize=(8, 3.8))
    colors = arm_colors(arms)
    for arm, values in cumulative(daily, "cards_blocked").items():
        if arm not in colors:
            continue
        mean, low, high = band(values)
        days = np.arange(1, values.shape[1] + 1)
        ax.plot(days, mean, color=colors[arm], lw=2, label=arm)
        if values.shape[0] > 1:
            ax.fill_between(days, low, high, color=colors[arm], alpha=0.15, lw=0)
    ax.set_xlabel("day")
    ax.set_ylabel("stolen cards blocked (cumulative)")
    ax.set_title("Fraud stopped at the source: stolen cards blocked")
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def noise_figure(arm_totals: pl.DataFrame, arms: list[str]) -> Figure:
    """Label noise per arm: friendly fraud, fraud labelled legitimate, investigator errors."""
    columns = [
        ("friendly_fraud_labels", "friendly fraud (honest labelled fraud)"),
        ("fraud_labelled_legit", "fraud that matures as legitimate"),
        ("investigator_misses", "investigator misses"),
        ("investigator_false_alarms", "investigator false alarms"),
    ]
    means = arm_totals.group_by("arm").agg([pl.col(c).mean() for c, _ in columns])
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(arms) * len(columns) / 2 + 2))
    height = 0.8 / len(columns)
    for k, (column, label) in enumerate(columns):
        values = [means.filter(pl.col("arm") == a)[column].item() for a in arms]
        ax.barh(np.arange(len(arms)) + k * height, values, height=height, label=label)
    ax.set_yticks(np.arange(len(arms)) + 0.4 - height / 2, arms)
    ax.set_xlabel("label events over the horizon (mean over replications)")
    ax.set_title("Label noise")
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- model quality


def quality_figure(quality: pl.DataFrame, arms: list[str]) -> Figure:
    """ROC AUC and recall over time: the team's known-at-t view (dashed) and the truth (solid)."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 5.4), sharex=True)
    colors = arm_colors(arms)
    mean = quality.group_by(["arm", "day", "view"]).agg(pl.col("roc_auc").mean(), pl.col("recall").mean()).sort("day")
    for arm in arms:
        for view, style in (("eventual", "-"), ("known", "--")):
            frame = mean.filter((pl.col("arm") == arm) & (pl.col("view") == view))
            days = frame["day"].to_numpy() + 1
            label = arm if view == "eventual" else None
            top.plot(days, frame["roc_auc"].to_numpy(), color=colors[arm], ls=style, lw=1.6, label=label)
            bottom.plot(days, frame["recall"].to_numpy(), color=colors[arm], ls=style, lw=1.6)
    top.plot([], [], color="grey", ls="--", label="as the team sees it (labels known that day)")
    top.set_ylabel("ROC AUC")
    bottom.set_ylabel("recall (share of fraud declined)")
    bottom.set_xlabel("day")
    top.set_title("Model quality over a trailing window: known at the time vs the truth")
    top.legend(frameon=False, fontsize=8, ncol=2)
    fig.tight_layout()
    return fig


def exploration_figure(arm_totals: pl.DataFrame, arms: list[str]) -> Figure:
    """What the model believed about the would-be declines it approved at random, and the truth."""
    explored = arm_totals.group_by("arm").agg(
        pl.col("explored").sum(), pl.col("explored_fraud").sum(), pl.col("explored_score").sum()
    )
    shown = [a for a in arms if explored.filter(pl.col("arm") == a)["explored"].item() > 0]
    fig, ax = plt.subplots(figsize=(8, 0.55 * len(shown) + 1.8))
    y = np.arange(len(shown))
    rows = [explored.filter(pl.col("arm") == a).row(0, named=True) for a in shown]
    believed = [r["explored_score"] / r["explored"] for r in rows]
    actual = [r["explored_fraud"] / r["explored"] for r in rows]
    bounds = np.array([metrics.wilson(r["explored_fraud"], r["explored"]) for r in rows]).reshape(-1, 2)
    ax.barh(y + 0.2, believed, height=0.4, color="#0072B2", label="model's mean fraud probability")
    ax.barh(
        y - 0.2,
        actual,
        height=0.4,
        color="#D55E00",
        xerr=[np.subtract(actual, bounds[:, 0]), bounds[:, 1] - actual],
        capsize=3,
        label="share that really was fraud (95% interval)",
    )
    ax.set_yticks(y, [f"{a}\n({r['explored']:,.0f} explored)" for a, r in zip(shown, rows, strict=True)])
    ax.set_xlim(0, 1)
    ax.set_title("Inside the declined region: would-be declines approved at random")
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- crews


def tactic_mix(crews: pl.DataFrame) -> pl.DataFrame:
    """Per arm and day, the share of all crew attempts using each tactic (attempt-weighted)."""
    tactics = [c for c in crews.columns if c.startswith("tactic_")]
    return (
        crews.group_by(["arm", "day"])
        .agg([(pl.col(t) * pl.col("attempts")).sum().alias(t) for t in tactics] + [pl.col("attempts").sum()])
        .with_columns([(pl.col(t) / pl.col("attempts").clip(lower_bound=1)).alias(t) for t in tactics])
        .sort(["arm", "day"])
    )


def tactic_mix_figure(crews: pl.DataFrame, arms: list[str]) -> Figure:
    """Stacked share of crew attempts per tactic over time, one panel per arm."""
    mix = tactic_mix(crews)
    tactics = [c for c in mix.columns if c.startswith("tactic_") and mix[c].sum() > 0]
    shown = arms[:6]
    fig, axes = plt.subplots(len(shown), 1, figsize=(8, 1.8 * len(shown) + 0.8), sharex=True, squeeze=False)
    colors = named_colors(tactics, TACTIC_PALETTE)  # a tactic keeps its colour whatever else is shown
    for ax, arm in zip(axes[:, 0], shown, strict=True):
        frame = mix.filter(pl.col("arm") == arm)
        days = frame["day"].to_numpy() + 1
        ax.stackplot(
            days,
            *[frame[t].to_numpy() for t in tactics],
            colors=[colors[t] for t in tactics],
            labels=[t.removeprefix("tactic_").replace("_", " ") for t in tactics],
        )
        ax.set_ylim(0, 1)
        ax.set_ylabel(arm, fontsize=9)
    axes[0, 0].set_title("What crews try: share of attempts per tactic")
    axes[0, 0].legend(frameon=False, fontsize=7, ncol=3, loc="lower left")
    axes[-1, 0].set_xlabel("day")
    fig.tight_layout()
    return fig


def crews_figure(crews: pl.DataFrame, arms: list[str], currency: str) -> Figure:
    """Crews active and their total daily profit, per arm (mean over replications)."""
    per_day = crews.group_by(["arm", "replication", "day"], maintain_order=True).agg(
        pl.col("crew").n_unique().alias("crews"), pl.col("profit").sum()
    )
    mean = per_day.group_by(["arm", "day"]).agg(pl.col("crews").mean(), pl.col("profit").mean()).sort("day")
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 5.2), sharex=True)
    colors = arm_colors(arms)
    for arm in arms:
        frame = mean.filter(pl.col("arm") == arm)
        days = frame["day"].to_numpy() + 1
        top.plot(days, frame["crews"].to_numpy(), color=colors[arm], lw=1.8, label=arm)
        bottom.plot(days, frame["profit"].to_numpy(), color=colors[arm], lw=1.8)
    top.set_ylabel("crews active\n(mean of replications)")  # a mean of whole counts: 2.5 is half 2, half 3
    bottom.set_ylabel("crews' profit per day")
    bottom.axhline(0, color="grey", lw=0.8)
    _money_axis(bottom, currency)
    bottom.set_xlabel("day")
    top.set_title("Crews follow the money")
    top.legend(frameon=False, fontsize=8, ncol=min(4, len(arms)))
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- models


def reliability_figure(reliability: pl.DataFrame, arms: list[str]) -> Figure:
    """Mean score against true fraud rate per score bin, by count and by amount (log axes)."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.4), sharey=True)
    colors = arm_colors(arms)
    sums = reliability.with_columns(
        sum_p=pl.col("mean_p") * pl.col("weight"), sum_y=pl.col("mean_y") * pl.col("weight")
    )
    pooled = (
        sums.group_by(["arm", "weighting", "bin"])
        .agg(pl.col("weight").sum(), pl.col("sum_p").sum(), pl.col("sum_y").sum())
        .sort("bin")
    )
    for ax, weighting in zip(axes, ("count", "amount"), strict=True):
        for arm in arms:
            frame = pooled.filter((pl.col("arm") == arm) & (pl.col("weighting") == weighting) & (pl.col("weight") > 0))
            p = (frame["sum_p"] / frame["weight"]).to_numpy()
            y = (frame["sum_y"] / frame["weight"]).to_numpy()
            ax.plot(p, np.maximum(y, 1e-5), marker="o", color=colors[arm], lw=1.2, label=arm)
        ax.plot([1e-4, 1], [1e-4, 1], color="grey", ls=":", lw=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(1e-4, 1)
        ax.set_ylim(1e-5, 1)
        ax.set_xlabel("mean score in the bin")
        ax.set_title("by transactions" if weighting == "count" else "by amount (money)")
    axes[0].set_ylabel("true fraud rate in the bin")
    axes[0].legend(frameon=False, fontsize=8)
    fig.suptitle("Reliability: do the probabilities mean what they say?")
    fig.tight_layout()
    return fig


def staleness_figure(daily: pl.DataFrame, arms: list[str]) -> Figure:
    """Age of the newest fraud each arm's deployed model learnt from, day by day."""
    fig, ax = plt.subplots(figsize=(8, 3.8))
    colors = arm_colors(arms)
    mean = daily.group_by(["arm", "day"]).agg(pl.col("model_staleness_s").mean()).sort("day")
    for arm in arms:
        frame = mean.filter(pl.col("arm") == arm)
        values = frame["model_staleness_s"].to_numpy() / 86400
        if np.all(np.isnan(values)):
            continue
        ax.plot(frame["day"].to_numpy() + 1, values, color=colors[arm], lw=1.8, label=arm)
    ax.set_xlabel("day")
    ax.set_ylabel("days since the newest fraud\nit learnt from happened")
    ax.set_title("Model staleness: the age of what it knows about fraud")
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def timeline_figure(events: pl.DataFrame, arms: list[str], horizon_days: float) -> Figure:
    """Per arm (replication 0): retrains, deploys, drift alarms, and the spans spent on the rules."""
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(arms) + 1.6))
    first = events.filter(pl.col("replication") == events["replication"].min()) if events.height else events
    markers = {  # kind: (marker, colour, offset from the arm's row): a retrain and its deploy never overlap
        "retrain": ("|", "#0072B2", 0.18),
        "skipped": ("s", "#999999", 0.18),
        "deploy": ("^", "#009E73", -0.18),
        "drift": ("x", "#D55E00", 0.0),
    }
    for row, arm in enumerate(arms):
        mine = first.filter(pl.col("arm") == arm).sort("time")
        start = None
        for time, kind in zip(mine["time"].to_list(), mine["kind"].to_list(), strict=True):
            if kind == "fallback":
                start = time
            elif kind == "recover" and start is not None:
                ax.barh(row, (time - start) / 86400, left=start / 86400, height=0.5, color="#ff7f0e", alpha=0.5)
                start = None
        if start is not None:
            ax.barh(row, horizon_days - start / 86400, left=start / 86400, height=0.5, color="#ff7f0e", alpha=0.5)
        for kind, (marker, color, offset) in markers.items():
            times = mine.filter(pl.col("kind") == kind)["time"].to_numpy() / 86400
            ax.scatter(
                times,
                np.full(len(times), row + offset),
                marker=marker,
                color=color,
                s=60,
                zorder=3,
                label=kind if row == 0 else None,
            )
    from matplotlib.patches import Patch

    handles, labels = ax.get_legend_handles_labels()
    handles.append(Patch(color="#ff7f0e", alpha=0.5))
    labels.append("on the rules (fallback)")
    ax.set_yticks(range(len(arms)), arms)
    ax.set_ylim(-0.6, len(arms) - 0.4)  # the first and last rows clear of the axes
    ax.set_xlim(0, horizon_days)
    ax.set_xlabel("day")
    ax.set_title("What happened to each model (first replication)")
    ax.legend(handles, labels, frameon=False, fontsize=8, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.25))
    fig.tight_layout()
    return fig
