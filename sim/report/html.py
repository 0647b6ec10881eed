"""Build a run report from the saved tables: ``index.html`` plus PNG figures beside it.

The page is self-contained (figures inline as PNG data) and opens offline.
Everything shown from the scenario is HTML-escaped.
"""

from __future__ import annotations

import base64
import html
import io
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import polars as pl
from matplotlib.figure import Figure

from ..units import format_money
from . import figures, narrative


@dataclass(frozen=True)
class Section:
    title: str
    figure: Figure
    caption: str
    filename: str


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def _summary_table(summary: dict) -> str:
    currency = summary["currency"]

    def cell(entry: dict) -> str:
        text = format_money(entry["mean"], currency)
        if entry.get("ci_low") is not None:
            text += (f"<br><small>{format_money(entry['ci_low'], currency)} – "
                     f"{format_money(entry['ci_high'], currency)}</small>")  # fmt: skip
        return text

    rows = []
    for arm in summary["ranking"]:
        entry = summary["arms"][arm]
        counts = entry["counts"]
        rows.append(
            "<tr>"
            f"<td>{entry['rank']}</td><td>{html.escape(arm)}</td><td>{html.escape(entry['learner'])}</td>"
            f"<td>{cell(entry['total_cost'])}</td><td>{cell(entry['fraud_loss'])}</td>"
            f"<td>{cell(entry['friction'])}</td><td>{cell(entry['review_cost'])}</td>"
            f"<td>{counts['fraud_approved']:,.0f} / {counts['fraud_attempts']:,.0f}</td>"
            f"<td>{counts['legit_declined']:,.0f}</td>"
            "</tr>"
        )
    return (
        "<table><thead><tr><th>rank</th><th>arm</th><th>learner</th><th>total cost</th>"
        "<th>expected fraud loss</th><th>friction</th><th>reviews</th><th>fraud approved / attempted</th>"
        "<th>honest declined</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#222;line-height:1.5}
h1{margin-bottom:.2rem} .lede{color:#555} figure{margin:2rem 0} figure img{max-width:100%}
figcaption{color:#333;font-size:.95rem} table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:right} th:nth-child(2),td:nth-child(2),
th:nth-child(3),td:nth-child(3){text-align:left} small{color:#666} .finding{background:#f4f7fb;
border-left:4px solid #1f77b4;padding:.6rem 1rem} code{background:#f2f2f2;padding:0 .2rem}
"""


def build_report(run_dir: Path) -> Path:
    """Write ``index.html`` and figures into ``run_dir`` from its saved tables."""
    run_dir = Path(run_dir)
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    scenario = tomllib.loads((run_dir / "scenario.resolved.toml").read_text(encoding="utf-8"))
    daily = pl.read_parquet(run_dir / "daily.parquet")
    arm_totals = pl.read_parquet(run_dir / "arms.parquet")
    arms = [a for a in summary["ranking"]]
    currency = summary["currency"]

    sections = [
        Section("Cumulative fraud loss", figures.cumulative_figure(
            daily, "fraud_loss", "Cumulative fraud loss per arm", arms, currency),
            narrative.fraud_loss_caption(summary), "fraud_loss.png"),
        Section("Cumulative total cost", figures.cumulative_figure(
            daily, "total_cost", "Cumulative total cost per arm", arms, currency),
            narrative.total_cost_caption(summary), "total_cost.png"),
        Section("Fraud attempted and approved", figures.fraud_flow_figure(daily, arms),
                narrative.fraud_flow_caption(summary), "fraud_flow.png"),
        Section("Where the cost comes from", figures.cost_split_figure(arm_totals, arms, currency),
                narrative.cost_split_caption(summary), "cost_split.png"),
    ]  # fmt: skip

    body = []
    for section in sections:
        data = _png(section.figure)
        (run_dir / section.filename).write_bytes(data)
        encoded = base64.b64encode(data).decode("ascii")
        body.append(
            f"<figure><h2>{html.escape(section.title)}</h2>"
            f'<img alt="{html.escape(section.title)}" src="data:image/png;base64,{encoded}">'
            f"<figcaption>{html.escape(section.caption)}</figcaption></figure>"
        )
    name = html.escape(str(scenario.get("name", "")))
    description = html.escape(str(scenario.get("description", "")))
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>fraudsim report: {name}</title><style>{STYLE}</style></head><body>
<h1>fraudsim report: {name}</h1>
<p class="lede">{description}</p>
<p class="finding">{html.escape(narrative.ranking_sentence(summary))}</p>
<h2>Summary</h2>
<p>Arms ranked by total cost. Money is summed over the {summary['horizon_days']:g}-day horizon; each figure
is the mean over {summary['replications']} replication(s), with its 95% interval beneath where there are
two or more. Seed {summary['seed']}; the world ran {summary['warmup_days']:g} days under the rules policy
before day 0 so that labels were arriving in steady state.</p>
{_summary_table(summary)}
{''.join(body)}
<h2>Scenario</h2>
<p>The resolved scenario, every default filled in, is in <code>scenario.resolved.toml</code> beside this page.</p>
</body></html>
"""
    target = run_dir / "index.html"
    target.write_text(page, encoding="utf-8")
    return target
