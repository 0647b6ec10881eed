"""Report figures. Each takes data frames (never engine objects) and returns a Figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import polars as pl  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402
from scipy import stats  # noqa: E402

from ..units import format_money  # noqa: E402

plt.rcParams.update({
    "figure.dpi": 100, "savefig.dpi": 100, "axes.spines.top": False, "axes.spines.right": False,
    "axes.grid": True, "grid.alpha": 0.25, "font.size": 10, "svg.hashsalt": "fraudsim",
})  # fmt: skip

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f"]


def arm_colors(arms: list[str]) -> dict[str, str]:
    return {arm: PALETTE[i % len(PALETTE)] for i, arm in enumerate(arms)}


def _money_axis(ax, currency: str) -> None:
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_money(v, currency)))


def band(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and 95 % Student-t band over replications (rows) for each column."""
    mean = values.mean(axis=0)
    if values.shape[0] < 2:
        return mean, mean, mean
    half = stats.t.ppf(0.975, values.shape[0] - 1) * values.std(axis=0, ddof=1) / np.sqrt(values.shape[0])
    return mean, mean - half, mean + half


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
    per_day = daily.group_by(["arm", "day"]).agg(
        pl.col("fraud_attempts").mean(), pl.col("fraud_approved").mean()
    ).sort(["arm", "day"])
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
    parts = (("fraud_loss", "fraud loss", "#d62728"), ("friction", "friction (false declines)", "#ff7f0e"),
             ("review_cost", "investigator reviews", "#7f7f7f"))  # fmt: skip
    for column, label, color in parts:
        values = np.array([means.filter(pl.col("arm") == a)[column].item() for a in order])
        ax.barh(order, values, left=left, color=color, label=label)
        left += values
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: format_money(v, currency)))
    ax.set_title("Total cost over the horizon, split by kind (mean over replications)")
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def _total(means: pl.DataFrame, arm: str) -> float:
    row = means.filter(pl.col("arm") == arm)
    return float(row["fraud_loss"].item() + row["friction"].item() + row["review_cost"].item())
