"""The replay report: ``index.html`` built from a replay directory's saved tables.

Self-contained (figures inline as PNG data); the template ``templates/replay.html.j2`` escapes
every text from the user's data. It shows each learner's metrics, quality day by day, score
distributions, calibration, money when the stream has amounts, and how late the labels arrived,
and it says plainly why money on a logged stream is counterfactual.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
from matplotlib.figure import Figure

from ..replays.rankings import METRICS
from ..summary import Interval
from ..units import format_money, human_duration
from .data import read_json
from .figures import arm_colors, plt, styled
from .findings import Finding
from .html import _png
from .pages import Cell, FigureBlock, Table, render

NEEDED = ("replay.json", "predictions.parquet", "metrics.parquet", "metrics_daily.parquet", "reliability.parquet")


def _quality_figure(daily: pl.DataFrame, learners: list[str]) -> Figure:
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
    colors = arm_colors(learners)
    for ax, column, title in zip(
        axes, ("roc_auc", "log_loss"), ("ROC AUC (higher is better)", "log loss (lower is better)"), strict=True
    ):
        for name in learners:
            frame = daily.filter(pl.col("learner") == name).sort("day").drop_nulls(column)
            ax.plot(frame["day"].to_numpy(), frame[column].to_numpy(), color=colors[name], lw=1.2, label=name)
        ax.set_title(title)
        ax.set_xlabel("day of the replay")
    handles, labels = axes[0].get_legend_handles_labels()  # below the plots, where it hides no curve
    fig.legend(handles, labels, loc="lower center", ncol=min(len(learners), 5), frameon=False, fontsize=8)
    fig.tight_layout(rect=(0, 0.1 + 0.04 * ((len(learners) - 1) // 5), 1, 1))
    return fig


def _scores_figure(predictions: pl.DataFrame, learners: list[str]) -> Figure:
    columns = min(len(learners), 3)
    rows = -(-len(learners) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.8 * rows), squeeze=False, sharex=True)
    bins = np.linspace(-6, 0, 49)
    for ax, name in zip(axes.flat, learners, strict=False):
        frame = predictions.filter(pl.col("learner") == name)
        scores = np.log10(np.clip(frame["score"].to_numpy(), 1e-6, 1.0))
        fraud = frame["label"].to_numpy() == 1
        for mask, label, color in ((~fraud, "legitimate", "#1f77b4"), (fraud, "fraud", "#d62728")):
            if mask.any():
                ax.hist(scores[mask], bins=bins, density=True, alpha=0.55, color=color, label=label)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("score (log10)")
    for ax in list(axes.flat)[len(learners) :]:
        ax.set_visible(False)
    axes[0][0].legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def _reliability_figure(reliability: pl.DataFrame, learners: list[str]) -> Figure:
    fig, ax = plt.subplots(figsize=(5, 4.4))
    colors = arm_colors(learners)
    for name in learners:
        frame = reliability.filter(
            (pl.col("learner") == name) & (pl.col("weighting") == "count") & (pl.col("count") > 0)
        )
        ax.plot(
            frame["mean_p"].to_numpy(), frame["mean_y"].to_numpy(), marker="o", color=colors[name], lw=1.2, label=name
        )
    ax.plot([0, 1], [0, 1], color="grey", ls=":", lw=1)
    ax.set_xlabel("mean score in the bin")
    ax.set_ylabel("fraud rate in the bin")
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def _money_figure(metrics: pl.DataFrame, learners: list[str], currency: str, base: dict) -> Figure:
    fig, ax = plt.subplots(figsize=(7, 3.6))
    frame = {row["learner"]: row for row in metrics.iter_rows(named=True)}
    names = {"approve_all": "approve all", "constant_score": "no model"}
    columns = learners + [names[key] for key in base]
    frame |= {names[key]: entry for key, entry in base.items()}
    x = np.arange(len(columns))
    for offset, column, color in ((-0.2, "fraud_loss", "#d62728"), (0.2, "friction", "#ff7f0e")):
        ax.bar(
            x + offset,
            [frame[name][column] for name in columns],
            width=0.4,
            color=color,
            label=column.replace("_", " "),
        )
    if base:
        ax.axvline(len(learners) - 0.5, color="#999999", linewidth=0.8, linestyle=":")
    ax.set_xticks(x, columns, rotation=20 if len(columns) > 4 else 0, ha="right" if len(columns) > 4 else "center")
    ax.yaxis.set_major_formatter(lambda value, _: format_money(value, currency))
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def _delay_figure(delays_days: np.ndarray) -> Figure:
    fig, ax = plt.subplots(figsize=(7, 3.2))
    finite = np.sort(delays_days[np.isfinite(delays_days)])
    if len(finite):
        ax.step(finite, np.arange(1, len(finite) + 1) / len(delays_days), where="post", color="#1f77b4")
    ax.set_xlabel("label delay (days)")
    ax.set_ylabel("share of labels arrived")
    ax.set_ylim(0, 1.02)
    fig.tight_layout()
    return fig


def _figure(title: str, fig: Figure, caption: str) -> FigureBlock:
    return FigureBlock(title, caption, _png(fig))


def _number(value, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _table(metrics: pl.DataFrame, currency: str, top_k: int | None) -> Table:
    """Learners ranked by log loss (a proper scoring rule: calibration and ranking together)."""
    money = "total_cost" in metrics.columns
    cards = "card_precision" in metrics.columns
    head = ["rank", "learner", "kind", "rows", "frauds", "log loss", "ROC AUC", "average precision"]
    head += ([f"card precision@{top_k}"] if cards else []) + ["recall", "specificity", "ECE"]
    head += ["fraud loss", "friction", "total cost"] if money else []
    rows = []
    for rank, row in enumerate(metrics.sort(["log_loss", "learner"]).iter_rows(named=True), start=1):
        cells = [
            str(rank),
            row["learner"],
            row["kind"],
            f"{row['rows']:,}",
            f"{row['frauds']:,}",
            _number(row["log_loss"], 4),
            _number(row["roc_auc"]),
            _number(row["average_precision"]),
        ]
        cells += [_number(row["card_precision"])] if cards else []
        cells += [_number(row["recall"]), _number(row["specificity"]), _number(row["ece"], 4)]
        if money:
            cells += [format_money(row[c], currency) for c in ("fraud_loss", "friction", "total_cost")]
        rows.append([Cell(text) for text in cells])
    return Table(head, rows)


def _window_note(summary: dict) -> str:
    """Which scored rows the metrics count, when not all of them."""
    window, scored = summary.get("evaluation"), summary["stream"]["scored_rows"]
    if not window or window["counted_rows"] == scored:
        return ""
    start, until = window["score_from_s"], window["score_until_s"]
    period = f"from {human_duration(start)} after the history's end" if start else "from the history's end"
    period += f" until {human_duration(until)} after it" if until is not None else " to the stream's end"
    cards = ", leaving out rows of cards already known to be compromised" if window["skip_known_cards"] else ""
    return (
        f" The metrics count {window['counted_rows']:,} of the {scored:,} scored rows "
        f"({window['counted_frauds']:,} fraud): {period}{cards}; every row still flowed through the learners."
    )


def _card_note(top_k: int | None) -> str:
    if not top_k:
        return ""
    return (
        f" Card precision@{top_k} is the fraudulent share of the {top_k} cards with the highest score each day "
        "(what investigators who check that many cards a day would find; a card found is left out of later "
        "days), averaged over the days."
    )


def ranking_findings(summary: dict) -> dict[str, Finding]:
    """The rankings of replay.json, by metric (``roc_auc``, ``log_loss``, ``total_cost`` when
    ranked): the best learner, and whether it is clearly best (every gap's block-bootstrap
    interval leaves out zero)."""
    ranks = summary.get("rankings") or {}
    return {
        key: Finding(
            "replay_ranking",
            ranks[key]["best"],
            measure=key,
            value=Interval(ranks[key]["value"], None, None),
            facts={
                "currency": summary["currency"],
                "clearly_best": ranks[key]["clearly_best"],
                "others": ranks[key]["others"],
            },
        )
        for key in METRICS  # replay.json's ranked metrics, in their order
        if key in ranks
    }


@styled
def build_replay_report(directory: Path) -> Path:
    """Write ``index.html`` into a replay ``directory`` from its saved tables."""
    directory = Path(directory)
    summary = read_json(directory / "replay.json", ("stream", "currency", "learners"))
    predictions = pl.read_parquet(directory / "predictions.parquet")
    metrics = pl.read_parquet(directory / "metrics.parquet")
    daily = pl.read_parquet(directory / "metrics_daily.parquet")
    reliability = pl.read_parquet(directory / "reliability.parquet")
    stream, currency = summary["stream"], summary["currency"]
    learners = [entry["name"] for entry in summary["learners"]]
    sections = []

    caption = "Each learner's quality day by day, on every row scored that day, as the labels eventually said."
    cold = [e["name"] for e in summary["learners"] if e["learner"] in ("batch", "hybrid", "split")]
    if cold and not summary["history_s"]:
        caption += (
            f" Without --history, {', '.join(cold)} had no model before a first retrain and scored every row "
            "0.5 until then."
        )
    sentences = {key: f.text for key, f in ranking_findings(summary).items()}
    caption += "".join(" " + sentences[key] for key in ("roc_auc", "log_loss") if key in sentences)
    sections.append(_figure("Quality over time", _quality_figure(daily, learners), caption))
    sections.append(
        _figure(
            "Score distributions",
            _scores_figure(predictions, learners),
            "How each learner scored fraud (red) and legitimate rows (blue); the further apart, "
            "the better it separates them.",
        )
    )
    sections.append(
        _figure(
            "Calibration",
            _reliability_figure(reliability, learners),
            "Mean score against the fraud rate in ten equal-width score bins: on the dotted "
            "line, a score of 0.2 means a one-in-five chance of fraud. Expected calibration "
            "error (ECE, in the table) is the weighted gap.",
        )
    )
    if "total_cost" in metrics.columns:
        money = sentences.get("total_cost", "")
        base = summary.get("baselines") or {}
        if base:
            everything, constant = base["approve_all"], base["constant_score"]
            money += (
                f" Approving everything would have cost {format_money(everything['total_cost'], currency)}, "
                f"and the policy at a constant score (the fraud share, {constant['score']:.2%}) "
                f"{format_money(constant['total_cost'], currency)}."
            )
        sections.append(
            _figure(
                "Money (counterfactual)",
                _money_figure(metrics, learners, currency, base),
                f"Fraud approved and honest customers declined if each learner's scores had "
                f"decided with the expected-cost policy. {money} Read the caveat "
                f"above: this is what the scores decide on this traffic, "
                f"not what they save.",
            )
        )
    first = summary["learners"][0]["name"]
    for entry in summary["learners"]:
        if entry["learner"] != "oracle":
            first = entry["name"]
            break
    own = predictions.filter(pl.col("learner") == first)
    delays = ((own["label_at"] - own["time"]).fill_null(float("inf")).to_numpy()) / 86400.0
    pending = stream["labels_pending_at_end"] / max(stream["scored_rows"], 1)
    median = stream["median_delay_s"]
    sections.append(
        _figure(
            "How late the labels arrive",
            _delay_figure(delays),
            f"Label delay: {stream['delay']}; median "
            f"{human_duration(median) if median is not None else 'never'}. "
            f"{pending:.0%} of the labels were still pending when the stream ended; they still "
            f"count in every metric, "
            f"since every row was scored before its label arrived.",
        )
    )
    mode = summary["mode"]
    how = f"Mode: {mode}" + (f" (ticks of {human_duration(summary['tick_s'])})" if mode == "batch" else "")
    history = (
        f"; learners started from the first {human_duration(summary['history_s'])}" if summary["history_s"] else ""
    )
    page = render(
        "replay.html.j2",
        stream_name=Path(stream["file"]).name,
        rows=f"{stream['scored_rows']:,}",
        days=f"{stream['days']:.1f}",
        frauds=f"{stream['frauds']:,}",
        learners=len(learners),
        delay=stream["delay"],
        caveat=summary["caveat"],
        warnings=summary.get("warnings", []),
        threshold=f"{summary['threshold']:g}",
        card_note=_card_note(summary.get("top_k")),
        window_note=_window_note(summary),
        metrics=_table(metrics, currency, summary.get("top_k")),
        figures=sections,
        mode=how,
        semantics=summary["semantics"].rstrip("."),
        history=history,
        features=", ".join(stream["features"]),
        stream_file=stream["file"],
        time_column=stream["time_column"],
        label_column=stream["label_column"],
    )
    target = directory / "index.html"
    target.write_text(page, encoding="utf-8")
    return target


__all__ = ["NEEDED", "build_replay_report"]
