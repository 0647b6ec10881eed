"""Build a run report from the saved tables: ``index.html`` plus PNG figures beside it.

The page is self-contained (figures inline as PNG data) and opens offline. It comes from the
template ``templates/run.html.j2``, which escapes everything shown from the scenario. Each section
draws a figure and writes its caption from the numbers; a section whose data the run did not
record is left out with a note saying why.
"""

from __future__ import annotations

import contextlib
import io
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import polars as pl
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from ..outputs import replace_file
from ..summary import Interval, Summary
from ..units import format_money
from . import ab as ab_report
from . import figures, narrative
from .data import RunData, load_run
from .findings import Finding
from .pages import Cell, FigureBlock, PageSection, Table, render


@dataclass(frozen=True)
class Section:
    title: str
    filename: str
    build: Callable[[RunData], tuple[Figure, str] | str]  # (figure, caption), or why it is left out


def _has(column: str, frame_name: str = "daily"):
    def check(run: RunData) -> bool:
        frame = getattr(run, frame_name)
        return frame is not None and column in frame.columns and float(frame[column].sum()) > 0

    return check


def _cumulative(column: str, title: str, caption: Callable[[Summary], str]):
    def build(run: RunData):
        fig = figures.cumulative_figure(run.daily, column, title, run.ranking, run.currency)
        return fig, caption(run.summary)

    return build


INTERVAL_SCHEMA = {"mean": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64}


def _fresh_labels(run: RunData):
    fresh = run.summary.fresh_labels
    if fresh is None or not fresh.recovered:
        return narrative.fresh_labels_finding(run.summary).text
    rows = [
        {"arm": arm, "measure": measure, **getattr(entry, measure).to_json()}
        for arm, entry in fresh.recovered.items()
        for measure in ("total_cost", "fraud_loss")
    ]
    frame = pl.DataFrame(rows, schema={"arm": pl.String, "measure": pl.String, **INTERVAL_SCHEMA})
    return figures.fresh_labels_figure(frame, run.ranking), narrative.fresh_labels_finding(run.summary).text


def _coverage(run: RunData):
    if run.label_coverage is None:
        return "This run did not record label coverage."
    return figures.coverage_figure(run.label_coverage, run.ranking), narrative.coverage_caption(run.label_coverage)


def _sources(run: RunData):
    if run.labels_daily is None or run.labels_daily["events"].sum() == 0:
        return "No label events reached the learners during the horizon."
    return (
        figures.label_sources_figure(run.labels_daily, run.ranking),
        narrative.label_sources_caption(run.labels_daily),
    )


def _investigators(run: RunData):
    if not _has("investigator_duty_s")(run):
        return "No investigators in this scenario (`labels.investigators.count = 0`), so no alerts were reviewed."
    return figures.investigators_figure(run.daily, run.ranking), narrative.investigators_caption(run.daily)


def _blocks(run: RunData):
    if not _has("cards_blocked")(run):
        return "No stolen card was blocked in this run."
    return figures.blocks_figure(run.daily, run.ranking), narrative.blocks_caption(run.arms, run.summary)


def _quality(run: RunData):
    if run.quality_daily is None or run.quality_daily["roc_auc"].drop_nulls().len() == 0:
        return "Model quality could not be measured (no fraud in the measurement windows)."
    return (
        figures.quality_figure(run.quality_daily, run.ranking),
        narrative.quality_caption(
            run.quality_daily, run.daily, tuple(a for a, e in run.summary.arms.items() if e.learner == "rules")
        ),
    )


def _exploration(run: RunData):
    if not _has("explored", "arms")(run):
        return (
            "No exploration (`policy.exploration = 0`): declined transactions stay censored, so their "
            "outcome cannot be estimated."
        )
    return figures.exploration_figure(run.arms, run.ranking), narrative.exploration_caption(run.arms, run.scenario)


def _crews(figure, caption):
    def build(run: RunData):
        if run.crews is None or run.crews.height == 0 or run.crews["attempts"].sum() == 0:
            return "No crew made an attempt during the horizon."
        return figure(run), caption(run)

    return build


def _reliability(run: RunData):
    if run.reliability is None or run.reliability["weight"].sum() == 0:
        return "This run did not record calibration."
    return figures.reliability_figure(run.reliability, run.ranking), narrative.reliability_caption(run.reliability)


def _staleness(run: RunData):
    if (
        "model_staleness_s" not in run.daily.columns
        or run.daily["model_staleness_s"].drop_nans().drop_nulls().len() == 0
    ):
        return "Only rule-based arms: no model learns from labels."
    return figures.staleness_figure(run.daily, run.ranking), narrative.staleness_caption(run.daily)


def _timeline(run: RunData):
    events = run.model_events
    if events is None or events.height == 0:
        return "No model was retrained, and no drift alarm or fallback happened."
    return (
        figures.timeline_figure(events, run.ranking, run.summary.horizon_days),
        narrative.timeline_caption(events),
    )


def _against_best(run: RunData):
    """Each arm − the best-ranked one, per replication, by total cost and by fraud loss."""
    best = run.ranking[0] if run.ranking else None
    entries = [d for d in run.summary.differences if d.baseline == best]
    if not entries:
        return "One arm only: there is nothing to compare it with."
    if run.summary.replications < 2:
        return "One replication: a difference between arms has no interval; run more replications to see one."
    rows = [
        {
            "arm": d.arm,
            "measure": measure,
            **getattr(d, measure).to_json(),
            "relative": getattr(d, f"{measure}_relative").mean,
        }
        for d in entries
        for measure in ("total_cost", "fraud_loss")
    ]
    frame = pl.DataFrame(
        rows, schema={"arm": pl.String, "measure": pl.String, **INTERVAL_SCHEMA, "relative": pl.Float64}
    )
    return (
        figures.differences_figure(frame, best, run.ranking, run.currency),
        narrative.differences_caption(best, entries, run.summary.horizon_days),
    )


SECTIONS = (
    Section("The value of fresh labels", "fresh_labels.png", _fresh_labels),
    Section("Each arm against the best, paired", "differences.png", _against_best),
    Section(
        "Cumulative fraud loss",
        "fraud_loss.png",
        _cumulative("fraud_loss", "Cumulative fraud loss per arm", narrative.fraud_loss_caption),
    ),
    Section(
        "Cumulative total cost",
        "total_cost.png",
        _cumulative("total_cost", "Cumulative total cost per arm", narrative.total_cost_caption),
    ),
    Section(
        "Where the cost comes from",
        "cost_split.png",
        lambda run: (
            figures.cost_split_figure(run.arms, run.ranking, run.currency),
            narrative.cost_split_caption(run.summary),
        ),
    ),
    Section(
        "Fraud attempted and approved",
        "fraud_flow.png",
        lambda run: (figures.fraud_flow_figure(run.daily, run.ranking), narrative.fraud_flow_caption(run.summary)),
    ),
    Section(
        "What crews try",
        "tactic_mix.png",
        _crews(
            lambda run: figures.tactic_mix_figure(run.crews, run.ranking),
            lambda run: narrative.tactic_mix_caption(run.crews),
        ),
    ),
    Section(
        "Crews follow the money",
        "crews.png",
        _crews(
            lambda run: figures.crews_figure(run.crews, run.ranking, run.currency),
            lambda run: narrative.crews_caption(run.crews, run.currency),
        ),
    ),
    Section("Model quality: what the team sees and what is true", "quality.png", _quality),
    Section("Calibration", "reliability.png", _reliability),
    Section("Model staleness", "staleness.png", _staleness),
    Section("Retrains, drift and fallbacks", "timeline.png", _timeline),
    Section("How soon the truth arrives", "label_coverage.png", _coverage),
    Section("Where labels come from", "label_sources.png", _sources),
    Section(
        "The class mix a learner sees",
        "class_mix.png",
        lambda run: (figures.class_mix_figure(run.daily, run.ranking), narrative.class_mix_caption(run.daily)),
    ),
    Section(
        "Label noise",
        "label_noise.png",
        lambda run: (figures.noise_figure(run.arms, run.ranking), narrative.noise_caption(run.arms)),
    ),
    Section("Investigators", "investigators.png", _investigators),
    Section("Stolen cards blocked", "cards_blocked.png", _blocks),
    Section("What declines hide", "exploration.png", _exploration),
)


def ab_sections(run: RunData) -> tuple[Section, ...]:
    """The A/B test's sections, first in the report of a run that had one."""
    ab, currency = run.summary.ab, run.currency
    if run.ab_daily is None or ab is None:
        return ()
    return (
        Section(
            "A/B test: the estimate against the truth",
            "ab_estimate.png",
            lambda run: (
                ab_report.estimate_figure(run.ab_daily, ab, currency),
                ab_report.estimate_caption(ab, currency) + " " + ab_report.plan_text(ab, currency),
            ),
        ),
        Section(
            "A/B test: where the bias comes from",
            "ab_bias.png",
            lambda run: (ab_report.sources_figure(ab, currency), ab_report.sources_caption(ab, currency)),
        ),
        Section(
            "A/B test: crews on the challenger's cards",
            "ab_crews.png",
            lambda run: (ab_report.crews_figure(run.ab_daily, ab), ab_report.crews_caption(ab)),
        ),
    )


def _png(fig: Figure, keep_open: bool = False) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    if not keep_open:
        plt.close(fig)
    return buffer.getvalue()


def _summary_table(summary: Summary) -> Table:
    """The arms ranked by total cost, each money figure with its 95 % interval beneath (when there is one)."""
    currency = summary.currency

    def cell(entry: Interval) -> Cell:
        if entry.ci_low is None:
            return Cell(format_money(entry.mean, currency))
        interval = f"{format_money(entry.ci_low, currency)} – {format_money(entry.ci_high, currency)}"
        return Cell(format_money(entry.mean, currency), interval)

    rows = []
    for arm in summary.ranking:
        entry = summary.arms[arm]
        counts = entry.counts
        rows.append(
            [
                Cell(str(entry.rank)),
                Cell(arm),
                Cell(entry.learner),
                *(cell(entry.money(measure)) for measure in ("total_cost", "fraud_loss", "friction", "review_cost")),
                Cell(f"{counts.fraud_approved:,.0f} / {counts.fraud_attempts:,.0f}"),
                Cell(f"{counts.legit_declined:,.0f}"),
            ]
        )
    head = [
        "rank",
        "arm",
        "learner",
        "total cost",
        "expected fraud loss",
        "friction",
        "reviews",
        "fraud approved / attempted",
        "honest declined",
    ]
    return Table(head, rows)


def _anchor(title: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in title.lower()).strip("-")


def pdf_page(pdf, figure: Figure, title: str, caption: str) -> None:
    """The figure with its title above and its caption below, on one PDF page."""
    width, height = figure.get_size_inches()
    lines = textwrap.wrap(caption, width=int(width * 14))
    extra = 0.18 * len(lines) + 0.6
    figure.set_size_inches(width, height + extra)
    figure.subplots_adjust(bottom=extra / (height + extra) + 0.08 * height / (height + extra))
    figure.text(0.02, 0.02, "\n".join(lines), fontsize=8, va="bottom", ha="left")
    figure.text(0.02, 0.995, title, fontsize=11, weight="bold", va="top")
    pdf.savefig(figure)


def _pdf_cover(pdf, run: RunData, findings: list[Finding]) -> None:
    text = [
        f"fraudsim report: {run.scenario.get('name', '')}",
        "",
        *(
            ["Changed from the scenario's file:", *(f"  {line}" for line in run.summary.changes), ""]
            if run.summary.changes
            else []
        ),
        *textwrap.wrap(str(run.scenario.get("description", "")), 95),
        "",
        "Findings:",
    ]
    for finding in findings:
        text += textwrap.wrap(f"• {finding}", 95)
    text += ["", "Arms ranked by total cost (mean over replications):"]
    for arm in run.ranking:
        entry = run.summary.arms[arm]
        text.append(
            f"  {entry.rank}. {arm}: total {format_money(entry.total_cost.mean, run.currency)}, "
            f"fraud loss {format_money(entry.fraud_loss.mean, run.currency)}, "
            f"friction {format_money(entry.friction.mean, run.currency)}"
        )
    text_page(pdf, text)


def text_page(pdf: PdfPages, lines: list[str]) -> None:
    """A page of text (a report's cover)."""
    figure = plt.figure(figsize=(8.27, 11.69))
    figure.text(0.06, 0.96, "\n".join(lines), fontsize=9, va="top", family="DejaVu Sans")
    pdf.savefig(figure)
    plt.close(figure)


def _sections(run: RunData, pages: PdfPages | None) -> tuple[list[PageSection], dict[str, bytes]]:
    """Every section, drawn or left out with the reason, and their PNGs by filename (and, with
    ``pages``, each figure as a PDF page)."""
    sections, images = [], {}
    for section in ab_sections(run) + SECTIONS:
        anchor = _anchor(section.title)
        result = section.build(run)
        if isinstance(result, str):
            sections.append(PageSection(section.title, anchor, note=result))
            continue
        figure, caption = result
        data = _png(figure, keep_open=pages is not None)
        if pages is not None:
            pdf_page(pages, figure, section.title, caption)
            plt.close(figure)
        images[section.filename] = data
        sections.append(PageSection(section.title, anchor, figure=FigureBlock(section.title, caption, data)))
    return sections, images


@figures.styled
def build_report(run_dir: Path, pdf: bool = False) -> Path:
    """Write ``index.html`` and figures (and with ``pdf``, ``report.pdf``) into ``run_dir``
    from its saved tables."""
    run = load_run(run_dir)
    summary = run.summary
    findings = narrative.findings(summary, run.daily, run.label_coverage, run.crews, run.quality_daily)
    if summary.ab is not None:
        findings.insert(0, ab_report.finding(summary.ab, run.currency))
    with pdf_pages(run.directory, pdf) as pages:
        if pages is not None:
            _pdf_cover(pages, run, findings)
        sections, images = _sections(run, pages)
    text = render(
        "run.html.j2",
        name=str(run.scenario.get("name", "")),
        description=str(run.scenario.get("description", "")),
        changes=summary.changes,
        findings=findings,
        sections=sections,
        horizon_days=f"{summary.horizon_days:g}",
        replications=summary.replications,
        seed=summary.seed,
        warmup_days=f"{summary.warmup_days:g}",
        summary=_summary_table(summary),
    )
    # Each file is written whole, once every figure is drawn: a failure leaves the old report as it was.
    for filename, data in images.items():
        replace_file(run.directory / filename, data)
    target = run.directory / "index.html"
    replace_file(target, text)
    return target


@contextlib.contextmanager
def pdf_pages(directory: Path, wanted: bool) -> Iterator[PdfPages | None]:
    """``report.pdf``'s pages (None if not ``wanted``), built in memory and written whole only if
    everything succeeds."""
    if not wanted:
        yield None
        return
    buffer = io.BytesIO()
    with PdfPages(buffer, metadata={"Creator": "fraudsim", "CreationDate": None}) as pages:
        yield pages
    replace_file(directory / "report.pdf", buffer.getvalue())


__all__ = ["SECTIONS", "build_report"]
