"""The sweep report: trade-off curves, a heat map of paired differences, findings in words.

Built from ``results.parquet`` and ``sweep.json`` only. The first grid key is the x axis: on a
log scale in human units when its values are durations, as categories in the sweep file's order
when they are words or tables. Every arm is a line with its 95 % interval over replications; each
combination of the other grid keys gets a panel of its own (and a row of the heat map, and its
own findings). Differences between arms are paired by replication (same seeds).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import matplotlib.pyplot as plt
import numpy as np
import polars as pl
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ..metrics import t_interval
from ..outputs import replace_file
from ..summary import Interval
from ..units import format_duration, format_money, human_duration
from . import figures
from .data import read_json
from .findings import Finding
from .html import _png, pdf_page, pdf_pages, text_page
from .pages import FigureBlock, render


def _interval(values: np.ndarray) -> tuple[float, float, float]:
    return tuple(float(x) for x in t_interval(values))


@dataclass(frozen=True)
class Axis:
    """How the first grid key is drawn: durations on a log scale in human units, numbers as they
    are, anything else (strategies, tables) as categories in the sweep file's order."""

    column: str
    kind: Literal["duration", "number", "category"]
    ticks: tuple[float, ...]
    labels: tuple[str, ...]

    @property
    def name(self) -> str:
        return key_name(self.column).strip("`")


def layout(results: pl.DataFrame, sweep: dict) -> tuple[pl.DataFrame, Axis]:
    """``results`` with ``_x`` (the first grid key as a number), ``_label`` (its value in words)
    and ``_panel`` (the other grid keys' values in words, "" with one key), and the x axis.

    Keys zipped with the first vary with it, so they add no panel; every other grid key (and
    the zip, as one) does: each panel is one combination of their values."""
    first = sweep["grid"][0]
    column, seconds = first["column"], first.get("seconds_column")
    points = results.unique("point").sort("point")
    if seconds:
        kind, x = "duration", pl.col(seconds).cast(pl.Float64)
        label = pl.col(seconds).map_elements(human_duration, return_dtype=pl.String)
    elif results.schema[column].is_numeric():
        kind, x, label = "number", pl.col(column).cast(pl.Float64), pl.col(column).cast(pl.String)
    else:
        kind = "category"
        order = points[column].cast(pl.String).unique(maintain_order=True).to_list()
        x = pl.col(column).cast(pl.String).replace_strict(order, list(range(len(order))), return_dtype=pl.Float64)
        label = pl.col(column).cast(pl.String)
    others = [g for g in sweep["grid"][1:] if not (g.get("in") == "zip" and first.get("in") == "zip")]
    panel = pl.lit("")
    if others:
        parts = [pl.lit(f"{key_name(g['column']).strip('`')} = ") + pl.col(g["column"]).cast(pl.String) for g in others]
        panel = pl.concat_str(parts, separator=", ")
    out = results.with_columns(_x=x, _label=label, _panel=panel)
    ticks = out.unique("_x").sort("_x")
    return out, Axis(column, kind, tuple(ticks["_x"].to_list()), tuple(ticks["_label"].to_list()))


def _panels(frame: pl.DataFrame) -> list[str]:
    return frame.sort("point")["_panel"].unique(maintain_order=True).to_list()


def _set_x(ax, axis: Axis) -> None:
    if axis.kind == "duration":
        ax.set_xscale("log")
        ax.set_xticks(axis.ticks, [format_duration(t) for t in axis.ticks])
    elif axis.kind == "category":
        ax.set_xticks(axis.ticks, axis.labels)
        ax.set_xlim(min(axis.ticks) - 0.5, max(axis.ticks) + 0.5)


def curves(results: pl.DataFrame, sweep: dict, figure_column: str, currency: str) -> Figure:
    """Each arm's ``figure_column`` against the first grid key, mean and 95 % band over
    replications; one panel per combination of the other grid keys."""
    frame, axis = layout(results, sweep)
    arms = frame["arm"].unique(maintain_order=True).to_list()
    colors = figures.arm_colors(arms)
    panels = _panels(frame)
    fig, axes = plt.subplots(
        len(panels), 1, figsize=(8, 3.2 * len(panels) + 1.2), sharex=True, sharey=True, squeeze=False
    )
    for ax, panel in zip(axes[:, 0], panels, strict=True):
        for k, arm in enumerate(arms):
            rows = frame.filter((pl.col("arm") == arm) & (pl.col("_panel") == panel))
            points = sorted(
                (key[0], *_interval(part[figure_column].to_numpy()))
                for key, part in rows.group_by("_x", maintain_order=True)
            )
            x, mean, low, high = (np.array(v, float) for v in zip(*points, strict=True))
            if axis.kind == "category":  # no order between the values: points side by side, no lines
                x = x + 0.1 * (k - (len(arms) - 1) / 2)
                ax.errorbar(x, mean, yerr=[mean - low, high - mean], fmt="o", color=colors[arm], capsize=3, label=arm)
                continue
            ax.plot(x, mean, marker="o", color=colors[arm], lw=2, label=arm)
            ax.fill_between(x, low, high, color=colors[arm], alpha=0.15, lw=0)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_money(v, currency)))
        if panel:
            ax.set_title(panel, fontsize=9)
        _set_x(ax, axis)
    axes[0, 0].legend(frameon=False, fontsize=8)
    axes[-1, 0].set_xlabel(axis.name)
    bands = "95% intervals" if axis.kind == "category" else "95% bands"
    fig.suptitle(f"{figure_column.replace('_', ' ').capitalize()} against {axis.name} ({bands})", fontsize=11)
    fig.tight_layout()
    return fig


def paired(results: pl.DataFrame, sweep: dict, arm: str, other: str, figure_column: str = "total_cost") -> pl.DataFrame:
    """Per point: arm − other, paired by replication, as a share of other's mean, with its 95 %
    interval (as ``summary.json``'s relative differences); with the point's ``_x``, ``_label``
    and ``_panel`` (see :func:`layout`)."""
    frame, _ = layout(results, sweep)
    keys = ["point", "_x", "_label", "_panel"]
    a = frame.filter(pl.col("arm") == arm).select(*keys, "replication", pl.col(figure_column).alias("a"))
    b = frame.filter(pl.col("arm") == other).select("point", "replication", pl.col(figure_column).alias("b"))
    joined = a.join(b, on=["point", "replication"]).with_columns(
        relative=(pl.col("a") - pl.col("b")) / pl.col("b").mean().over("point")
    )
    rows = []
    for key, part in joined.group_by(keys, maintain_order=True):
        mean, low, high = _interval(part["relative"].to_numpy())
        rows.append(dict(zip(keys, key, strict=True)) | {"mean": mean, "low": low, "high": high})
    return pl.DataFrame(rows).sort("point")


HEAT_LIMIT = 0.5  # every sweep's heat map: ±50 % at the deepest colours (beyond, as deep), so a shade means one thing


def heat_map(results: pl.DataFrame, sweep: dict, reference: str, figure_column: str = "total_cost") -> Figure:
    """Relative total-cost difference of ``reference`` against every other arm at every point:
    a row per other arm (and per combination of the other grid keys), a column per value of the
    first."""
    frame, axis = layout(results, sweep)
    others = [a for a in results["arm"].unique(maintain_order=True).to_list() if a != reference]
    tables = {other: paired(results, sweep, reference, other, figure_column) for other in others}
    panels = _panels(frame)
    rows = [(other, panel) for panel in panels for other in others]
    matrix = np.full((len(rows), len(axis.ticks)), np.nan)
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(rows) + 1.8))
    for i, (other, panel) in enumerate(rows):
        for row in tables[other].filter(pl.col("_panel") == panel).iter_rows(named=True):
            j = axis.ticks.index(row["_x"])
            matrix[i, j] = row["mean"]
            clear = not (row["low"] <= 0 <= row["high"])
            dark = abs(row["mean"]) > 0.6 * HEAT_LIMIT  # white text where the colour is deep
            ax.text(
                j,
                i,
                f"{row['mean']:+.0%}" + ("" if clear else "?"),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if dark else "black",
            )
    image = ax.imshow(matrix, cmap="RdBu_r", vmin=-HEAT_LIMIT, vmax=HEAT_LIMIT, aspect="auto")
    ax.set_xticks(range(len(axis.ticks)), axis.labels)
    ax.set_yticks(range(len(rows)), [f"{reference} vs {o}" + (f"\n{p}" if p else "") for o, p in rows])
    ax.set_xlabel(axis.name)
    ax.grid(False)
    measure = figure_column.replace("_", " ")
    fig.colorbar(
        image, ax=ax, format=FuncFormatter(lambda v, _: f"{v:+.0%}"), label=f"{measure} difference", extend="both"
    )
    ax.set_title(
        f"{measure.capitalize()} of {reference} relative to each arm\n(blue: {reference} lower; ?: no clear difference)"
    )
    fig.tight_layout()
    return fig


KEY_NAMES = {
    "labels.chargeback.delay.median": "the median chargeback delay",
    "labels.customer_report.delay.median": "the median report delay",
    "labels.investigators.count": "the number of investigators",
    "labels.maturity.window": "the maturity window",
    "ab.share_b": "B's share of cards",
}


def key_name(column: str) -> str:
    """A swept key in words, where we know one."""
    if column in KEY_NAMES:
        return KEY_NAMES[column]
    if column.startswith("crews.") and column.endswith(".strategy"):
        return "the crews' strategy"
    if column.startswith("arms.") and column.endswith(".every"):
        return f"{column.split('.')[1]}'s retraining interval"
    return f"`{column}`"


def _points(rows: list[dict]) -> list[dict]:
    """A paired table's rows as a finding's points: the key's value in words, and the interval."""
    return [{"at": r["_label"], "value": Interval(r["mean"], r["low"], r["high"])} for r in rows]


def crossover(
    results: pl.DataFrame,
    sweep: dict,
    reference: str,
    figure_column: str = "total_cost",
    others: list[str] | None = None,
) -> list[Finding]:
    """For each other arm (or each of ``others``; and each combination of the other grid keys):
    how far along the swept key the reference keeps a clear edge in ``figure_column`` — or, for
    a key without an order, where it has one."""
    _, axis = layout(results, sweep)
    if others is None:
        others = [a for a in results["arm"].unique(maintain_order=True).to_list() if a != reference]
    out = []
    for other in others:
        table = paired(results, sweep, reference, other, figure_column)
        for panel in _panels(table):
            rows = list(table.filter(pl.col("_panel") == panel).sort("_x").iter_rows(named=True))
            facts = {"key": key_name(axis.column), "ordered": axis.kind != "category", "panel": panel}
            out.append(Finding("sweep_edge", reference, other, figure_column, facts=facts | {"points": _points(rows)}))
    return out


def growth(results: pl.DataFrame, sweep: dict, figure_column: str = "fraud_loss") -> list[Finding]:
    """For a swept key with an order: each arm's ``figure_column`` at the key's last value against
    its first, paired by replication (every point runs the same replication seeds)."""
    frame, axis = layout(results, sweep)
    if axis.kind == "category" or len(axis.ticks) < 2:
        return []
    out = []
    for panel in _panels(frame):
        part = frame.filter(pl.col("_panel") == panel)
        ends = [part.filter(pl.col("_x") == x) for x in (axis.ticks[0], axis.ticks[-1])]
        changes = {}
        for arm in part["arm"].unique(maintain_order=True).to_list():
            first, last = (e.filter(pl.col("arm") == arm).sort("replication")[figure_column].to_numpy() for e in ends)
            changes[arm] = Interval(*_interval((last - first) / first.mean()))
        facts = {"key": key_name(axis.column), "from": axis.labels[0], "to": axis.labels[-1], "panel": panel}
        out.append(Finding("sweep_growth", measure=figure_column, facts=facts | {"changes": changes}))
    return out


def sweep_findings(results: pl.DataFrame, sweep: dict, reference: str) -> list[Finding]:
    """The sweep report's findings, by total cost and by fraud loss: where ``reference`` keeps a
    clear edge over each other arm; where each other learned arm keeps one over the frozen model
    (the ``static`` learner), when there is one; and how fraud loss moves along the swept key."""
    learners = dict(zip(results["arm"].to_list(), results["learner"].to_list(), strict=False))
    frozen = next((a for a, learner in learners.items() if learner == "static"), None)
    learned = [a for a, learner in learners.items() if a not in (reference, frozen) and learner != "rules"]
    out = []
    for column in ("total_cost", "fraud_loss"):
        out += crossover(results, sweep, reference, column)
        if frozen is not None:
            out += [f for arm in learned for f in crossover(results, sweep, arm, column, [frozen])]
    return out + growth(results, sweep)


def ab_sections(results: pl.DataFrame, sweep: dict, currency: str) -> list[tuple]:
    """The A/B test's read-out against the truth, and the crews' share of B's cards, against the
    swept key."""
    frame, axis = layout(results, sweep)
    frame = frame.filter(pl.col("arm") == frame["arm"][0])  # the A/B columns repeat on every arm
    estimate, ax = plt.subplots(figsize=(8, 4.4))
    shares, ax_share = plt.subplots(figsize=(8, 3.8))
    for i, panel in enumerate(_panels(frame)):
        color = figures.PALETTE[i % len(figures.PALETTE)]
        points = []
        for key, rows in frame.filter(pl.col("_panel") == panel).group_by("_x", maintain_order=True):
            points.append(
                (
                    key[0],
                    *(
                        _interval(rows[c].to_numpy())[0]
                        for c in ("ab_estimate", "ab_truth", "ab_b_share_of_crew_attempts")
                    ),
                    *_interval(rows["ab_estimate"].to_numpy())[1:],
                )
            )
        points.sort()
        x, est, truth, share, low, high = (np.array(v, float) for v in zip(*points, strict=True))
        label = f" ({panel})" if panel else ""
        ax.plot(x, est, marker="o", color=color, lw=2, label=f"A/B estimate{label}")
        ax.fill_between(x, low, high, color=color, alpha=0.12, lw=0)
        ax.plot(x, truth, marker="s", color=color, lw=1.5, ls="--", label=f"truth{label}")
        ax_share.plot(x, share, marker="o", color=color, lw=2, label=panel or "crews")
    ax.axhline(0, color="black", lw=0.8)
    if axis.column == "ab.share_b":
        ax_share.plot(x, x, color="black", lw=1, ls=":", label="B's share of cards")
    for each in (ax, ax_share):
        each.set_xlabel(axis.name)
        _set_x(each, axis)
        each.legend(frameon=False, fontsize=8)
    ax.set_ylabel(f"B − A, fraud loss per transaction ({currency})")
    ax.set_title("A/B test read-out against the truth (95% bands over replications)")
    ax_share.set_ylabel("crews' attempts on B's cards")
    ax_share.set_title("Crews' share of attempts on B's cards at the read-out")
    estimate.tight_layout()
    shares.tight_layout()
    return [
        (
            "A/B estimate against the truth",
            estimate,
            "ab_estimate.png",
            "Solid: what the A/B test reads at its last day from the labels known then (B − A in fraud loss per "
            "transaction), mean over replications with its 95% band; dashed: the truth, each detector alone in its own "
            "world with the same seeds. The gap between them is the test's bias.",
        ),
        (
            "Crews on the challenger's cards",
            shares,
            "ab_crews.png",
            "The share of crews' attempts that hit B's cards by the read-out. Above B's share of cards, crews have "
            "found the arm that lets more through, without ever knowing which arm a card is in.",
        ),
    ]


def sweep_sections(results: pl.DataFrame, sweep: dict) -> tuple[list[str], list[tuple]]:
    """A sweep report's findings, and its sections: (title, a function drawing the figure,
    file name, caption) each."""
    currency = sweep.get("currency", "EUR")  # sweeps written before it was recorded were in euros
    arms = results["arm"].unique(maintain_order=True).to_list()
    learners = dict(zip(results["arm"].to_list(), results["learner"].to_list(), strict=False))
    reference = next((a for a in arms if learners.get(a) == "online"), arms[0])
    sections = [
        (
            "Expected fraud loss",
            lambda: curves(results, sweep, "fraud_loss", currency),
            "tradeoff_fraud_loss.png",
            "Each line is an arm: its fraud loss (amount plus fee of approved fraud) summed over the horizon, mean "
            "over replications with the 95% band, at each value of the swept key (points with 95% intervals when "
            "the values have no order; a panel for each combination of any other swept keys).",
        ),
        (
            "Total cost",
            lambda: curves(results, sweep, "total_cost", currency),
            "tradeoff_total_cost.png",
            "The same for total cost (fraud loss + friction + reviews), the figure arms are ranked by.",
        ),
    ]
    if "ab_estimate" in results.columns:
        sections += [
            (title, lambda f=figure: f, filename, caption)
            for title, figure, filename, caption in ab_sections(results, sweep, currency)
        ]
    findings = []
    if len(arms) > 1:
        sections.append(
            (
                f"{reference} against the others",
                lambda: heat_map(results, sweep, reference),
                "heat_map.png",
                f"Each cell: how much more (red) or less (blue) {reference} cost than the arm of its row, at "
                "that point, as a share of the other arm's mean cost, paired by replication; a ? marks an "
                "interval that crosses zero. Every sweep's map has the same scale (±50 % at the deepest colour).",
            )
        )
        sections.append(
            (
                f"{reference} against the others, by fraud loss",
                lambda: heat_map(results, sweep, reference, "fraud_loss"),
                "heat_map_fraud_loss.png",
                f"The same by fraud loss, the money lost to fraud alone: {reference} can lose less to fraud "
                "and still cost more, through false declines.",
            )
        )
        findings = sweep_findings(results, sweep, reference)
    return findings, sections


@figures.styled
def build_sweep_report(directory: Path, pdf: bool = False) -> Path:
    """Write ``index.html`` and its figures (and with ``pdf``, ``report.pdf``) into a sweep's
    ``directory`` from ``results.parquet`` and ``sweep.json``."""
    directory = Path(directory)
    results = pl.read_parquet(directory / "results.parquet")
    sweep = read_json(directory / "sweep.json", ())
    findings, sections = sweep_sections(results, sweep)
    blocks, images = [], {}
    with pdf_pages(directory, pdf) as pages:
        if pages is not None:
            text_page(
                pages,
                [
                    f"fraudsim sweep: {sweep.get('sweep', directory.name)}",
                    "",
                    *textwrap.wrap(sweep.get("description", ""), 95),
                    "",
                    "Findings:",
                    *(line for f in findings for line in textwrap.wrap(f"• {f}", 95)),
                ],
            )
        for title, draw, filename, caption in sections:
            figure = draw()
            images[filename] = data = _png(figure, keep_open=pages is not None)
            if pages is not None:
                pdf_page(pages, figure, title, caption)
                plt.close(figure)
            blocks.append(FigureBlock(title, caption, data))
    size = (
        f"{len(sweep.get('points', []))} points × {results['arm'].n_unique()} arms × "
        f"{results['replication'].n_unique()} replications"
    )
    page = render(
        "sweep.html.j2",
        name=sweep.get("sweep", directory.name),
        description=sweep.get("description", ""),
        findings=findings,
        size=size,
        figures=blocks,
    )
    for filename, data in images.items():
        replace_file(directory / filename, data)
    target = directory / "index.html"
    replace_file(target, page)
    return target
