"""The sweep report: trade-off curves, a heat map of paired differences, findings in words.

Built from ``results.parquet`` and ``sweep.json`` only. The first grid key is the x axis (on a
log scale, in human units, when its values are durations); every arm is a line with its 95 %
interval over replications. Differences between arms are paired by replication (same seeds).
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import polars as pl
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ..metrics import t_interval
from ..units import format_duration, format_money, human_duration
from . import figures
from .html import STYLE, _png


def _interval(values: np.ndarray) -> tuple[float, float, float]:
    return tuple(float(x) for x in t_interval(values))


def _x(sweep: dict) -> tuple[str, str | None]:
    """The swept column shown on the x axis, and its seconds column for durations."""
    first = sweep["grid"][0]
    return first["column"], first.get("seconds_column")


def _label(value, seconds: float | None) -> str:
    return human_duration(seconds) if seconds is not None else str(value)


def curves(results: pl.DataFrame, sweep: dict, figure_column: str, currency: str) -> Figure:
    column, seconds = _x(sweep)
    x_column = seconds or column
    arms = results["arm"].unique(maintain_order=True).to_list()
    colors = figures.arm_colors(arms)
    fig, ax = plt.subplots(figsize=(8, 4.4))
    for arm in arms:
        rows = []
        for key, frame in results.filter(pl.col("arm") == arm).group_by(x_column, maintain_order=True):
            rows.append((key[0], *_interval(frame[figure_column].to_numpy())))
        rows.sort()
        x, mean, low, high = (np.array(v, float) for v in zip(*rows, strict=True))
        ax.plot(x, mean, marker="o", color=colors[arm], lw=2, label=arm)
        ax.fill_between(x, low, high, color=colors[arm], alpha=0.15, lw=0)
    if seconds:
        ax.set_xscale("log")
        ticks = sorted(results[seconds].unique().to_list())
        ax.set_xticks(ticks, [format_duration(t) for t in ticks])
    ax.set_xlabel(key_name(column).strip("`"))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_money(v, currency)))
    ax.set_title(f"{figure_column.replace('_', ' ').capitalize()} against {key_name(column).strip('`')} (95% bands)")
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def paired(results: pl.DataFrame, sweep: dict, arm: str, other: str, figure_column: str = "total_cost") -> pl.DataFrame:
    """Per point: (arm − other) / other with its 95 % interval, paired by replication."""
    column, seconds = _x(sweep)
    keys = ["point", column] + ([seconds] if seconds else [])
    a = results.filter(pl.col("arm") == arm).select(*keys, "replication", pl.col(figure_column).alias("a"))
    b = results.filter(pl.col("arm") == other).select("point", "replication", pl.col(figure_column).alias("b"))
    joined = a.join(b, on=["point", "replication"]).with_columns(relative=(pl.col("a") - pl.col("b")) / pl.col("b"))
    rows = []
    for key, frame in joined.group_by(keys, maintain_order=True):
        mean, low, high = _interval(frame["relative"].to_numpy())
        rows.append(dict(zip(keys, key, strict=True)) | {"mean": mean, "low": low, "high": high})
    return pl.DataFrame(rows).sort("point")


def heat_map(results: pl.DataFrame, sweep: dict, reference: str) -> Figure:
    """Relative total-cost difference of ``reference`` against every other arm at every point."""
    column, seconds = _x(sweep)
    others = [a for a in results["arm"].unique(maintain_order=True).to_list() if a != reference]
    table = [paired(results, sweep, reference, other) for other in others]
    matrix = np.array([t["mean"].to_numpy() for t in table])
    labels = [_label(v, s) for v, s in zip(table[0][column].to_list(),
                                           table[0][seconds].to_list() if seconds else [None] * table[0].height,
                                           strict=True)]  # fmt: skip
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(others) + 1.8))
    limit = max(float(np.nanmax(np.abs(matrix))), 0.01)
    image = ax.imshow(matrix, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    for i, t in enumerate(table):
        for j, row in enumerate(t.iter_rows(named=True)):
            clear = not (row["low"] <= 0 <= row["high"])
            ax.text(j, i, f"{row['mean']:+.0%}" + ("" if clear else "?"), ha="center", va="center", fontsize=8)
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(others)), [f"{reference} vs {o}" for o in others])
    ax.set_xlabel(key_name(column).strip("`"))
    ax.grid(False)
    fig.colorbar(image, ax=ax, format=FuncFormatter(lambda v, _: f"{v:+.0%}"), label="total cost difference")
    ax.set_title(f"Total cost of {reference} relative to each arm (blue: {reference} cheaper; ?: no clear difference)")
    fig.tight_layout()
    return fig


KEY_NAMES = {
    "labels.chargeback.delay.median": "the median chargeback delay",
    "labels.customer_report.delay.median": "the median report delay",
    "labels.investigators.count": "the number of investigators",
    "labels.maturity.window": "the maturity window",
    "ab.share_b": "B's share of cards",
    "crews.attackers.strategy": "the crews' strategy",
}


def key_name(column: str) -> str:
    """A swept key in words, where we know one."""
    if column in KEY_NAMES:
        return KEY_NAMES[column]
    if column.startswith("arms.") and column.endswith(".every"):
        return f"{column.split('.')[1]}'s retraining interval"
    return f"`{column}`"


def crossover(results: pl.DataFrame, sweep: dict, reference: str) -> list[str]:
    """For each other arm: how far along the swept key the reference keeps a clear cost edge."""
    column, seconds = _x(sweep)
    what = key_name(column)
    out = []
    for other in [a for a in results["arm"].unique(maintain_order=True).to_list() if a != reference]:
        rows = list(paired(results, sweep, reference, other).sort(seconds or column).iter_rows(named=True))
        clear = [r["high"] < 0 for r in rows]

        def at(r) -> str:
            return _label(r[column], r[seconds] if seconds else None)

        def show(r) -> str:
            return f"{r['mean']:+.0%} (95% CI {r['low']:+.0%} to {r['high']:+.0%}) at {at(r)}"

        if all(clear):
            out.append(f"{reference} cost less than {other} whatever {what}: {show(rows[0])}, {show(rows[-1])}.")
        elif not clear[0]:
            better = [at(r) for r, c in zip(rows, clear, strict=True) if c]
            worse = [r for r in rows if r["low"] > 0]
            text = f"{reference} had no clear edge over {other} at {what} of {at(rows[0])}"
            text += f"; it was clearly cheaper only at {', '.join(better)}" if better else ", nor anywhere else tried"
            if worse:
                text += f"; {other} was clearly cheaper at {', '.join(at(r) for r in worse)}"
            out.append(f"{text} ({show(rows[0])}; {show(rows[-1])}).")
        else:
            gone = clear.index(False)
            text = (f"{reference}'s edge over {other} disappears once {what} reaches {at(rows[gone])}: "
                    f"{show(rows[gone - 1])}, but {show(rows[gone])}")  # fmt: skip
            later = [at(r) for r, c in zip(rows[gone:], clear[gone:], strict=True) if c]
            out.append(text + (f" (a smaller edge shows again at {', '.join(later)})." if later else "."))
    return out


def _series(results: pl.DataFrame, sweep: dict) -> tuple[str, str, list[tuple[str, pl.DataFrame]]]:
    """One replication per row (the A/B columns repeat on every arm), grouped by the second
    grid key if there is one: (x column, x label, [(series name, rows)])."""
    column, seconds = _x(sweep)
    first_arm = results["arm"][0]
    rows = results.filter(pl.col("arm") == first_arm)
    if len(sweep["grid"]) < 2:
        return seconds or column, key_name(column).strip("`"), [("", rows)]
    other = sweep["grid"][1]["column"]
    groups = [(f"{key_name(other).strip('`')} = {value[0]}", frame)
              for value, frame in rows.group_by(other, maintain_order=True)]  # fmt: skip
    return seconds or column, key_name(column).strip("`"), groups


def ab_sections(results: pl.DataFrame, sweep: dict, currency: str) -> list[tuple]:
    """The A/B test's read-out against the truth, and the crews' share of B's cards, against the
    swept key."""
    x_column, x_label, groups = _series(results, sweep)
    estimate, ax = plt.subplots(figsize=(8, 4.4))
    shares, ax_share = plt.subplots(figsize=(8, 3.8))
    for i, (name, frame) in enumerate(groups):
        color = figures.PALETTE[i % len(figures.PALETTE)]
        points = []
        for key, rows in frame.group_by(x_column, maintain_order=True):
            points.append((key[0], *(_interval(rows[c].to_numpy())[0] for c in
                                      ("ab_estimate", "ab_truth", "ab_b_share_of_crew_attempts")),
                           *_interval(rows["ab_estimate"].to_numpy())[1:]))  # fmt: skip
        points.sort()
        x, est, truth, share, low, high = (np.array(v, float) for v in zip(*points, strict=True))
        label = f" ({name})" if name else ""
        ax.plot(x, est, marker="o", color=color, lw=2, label=f"A/B estimate{label}")
        ax.fill_between(x, low, high, color=color, alpha=0.12, lw=0)
        ax.plot(x, truth, marker="s", color=color, lw=1.5, ls="--", label=f"truth{label}")
        ax_share.plot(x, share, marker="o", color=color, lw=2, label=name or "crews")
    ax.axhline(0, color="black", lw=0.8)
    if x_column == "ab.share_b":
        ax_share.plot(x, x, color="black", lw=1, ls=":", label="B's share of cards")
    for axis in (ax, ax_share):
        axis.set_xlabel(x_label)
        axis.legend(frameon=False, fontsize=8)
    ax.set_ylabel(f"B − A, fraud loss per transaction ({currency})")
    ax.set_title("A/B test read-out against the truth (95% bands over replications)")
    ax_share.set_ylabel("crews' attempts on B's cards")
    ax_share.set_title("Crews' share of attempts on B's cards at the read-out")
    estimate.tight_layout()
    shares.tight_layout()
    return [
        ("A/B estimate against the truth", estimate, "ab_estimate.png",
         "Solid: what the A/B test reads at its last day from the labels known then (B − A in fraud loss per "
         "transaction), mean over replications with its 95% band; dashed: the truth, each detector alone in its own "
         "world with the same seeds. The gap between them is the test's bias."),
        ("Crews on the challenger's cards", shares, "ab_crews.png",
         "The share of crews' attempts that hit B's cards by the read-out. Above B's share of cards, crews have found "
         "the arm that lets more through, without ever knowing which arm a card is in."),
    ]  # fmt: skip


def build_sweep_report(directory: Path) -> Path:
    directory = Path(directory)
    results = pl.read_parquet(directory / "results.parquet")
    sweep = json.loads((directory / "sweep.json").read_text(encoding="utf-8"))
    currency = "EUR"
    arms = results["arm"].unique(maintain_order=True).to_list()
    learners = dict(zip(results["arm"].to_list(), results["learner"].to_list(), strict=False))
    reference = next((a for a in arms if learners.get(a) == "online"), arms[0])
    sections = [
        ("Expected fraud loss", curves(results, sweep, "fraud_loss", currency), "tradeoff_fraud_loss.png",
         "Each line is an arm: its fraud loss (amount plus fee of approved fraud) summed over the horizon, mean "
         "over replications with the 95% band, at each value of the swept key."),
        ("Total cost", curves(results, sweep, "total_cost", currency), "tradeoff_total_cost.png",
         "The same for total cost (fraud loss + friction + reviews), the figure arms are ranked by."),
    ]  # fmt: skip
    if "ab_estimate" in results.columns:
        sections += ab_sections(results, sweep, currency)
    findings = []
    if len(arms) > 1:
        sections.append((f"{reference} against the others", heat_map(results, sweep, reference), "heat_map.png",
                         f"Each cell: how much more (red) or less (blue) {reference} cost than the arm of its row, at "
                         "that point, as a share of the other arm's cost, paired by replication; a ? marks an "
                         "interval that crosses zero."))  # fmt: skip
        findings = crossover(results, sweep, reference)
    body = []
    for title, figure, filename, caption in sections:
        data = _png(figure)
        (directory / filename).write_bytes(data)
        body.append(f"<figure><h2>{html.escape(title)}</h2><img alt=\"{html.escape(title)}\" "
                    f"src=\"data:image/png;base64,{base64.b64encode(data).decode('ascii')}\">"
                    f"<figcaption>{html.escape(caption)}</figcaption></figure>")  # fmt: skip
    name = html.escape(sweep.get("sweep", directory.name))
    items = "".join(f"<li>{html.escape(f)}</li>" for f in findings) or "<li>One arm only: nothing to compare.</li>"
    size = (f'{len(sweep.get("points", []))} points × {results["arm"].n_unique()} arms × '
            f'{results["replication"].n_unique()} replications')  # fmt: skip
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fraudsim sweep: {name}</title><style>{STYLE}</style></head><body>
<h1>fraudsim sweep: {name}</h1>
<p class="lede">{html.escape(sweep.get("description", ""))}</p>
<div class="finding"><strong>Findings</strong><ul>{items}</ul></div>
<p>{size};
replication r has the same seeds at every point, so differences are paired.
Every number is in <code>results.parquet</code>.</p>
{''.join(body)}
</body></html>
"""
    target = directory / "index.html"
    target.write_text(page, encoding="utf-8")
    return target
