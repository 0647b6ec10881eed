"""``fraudsim run``: every arm and replication of a scenario, its tables and report."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from ..console import UserError, dask_option, err, out, out_option, quiet_option, workers_option
from ..outputs import check_output_dir
from ..report.findings import Finding
from ..summary import Interval, Summary
from .common import SET_HELP, display_path, load

EXAMPLES_RUN = """
\b
Examples:
  fraudsim run scenarios/quickstart.toml
  fraudsim run scenarios/quickstart.toml --set horizon=30d --set arms.online.lr=0.1
  fraudsim run scenarios/quickstart.toml --replications 5 --workers 2 --ledger
  fraudsim run scenarios/quickstart.toml --replications 8 --dask tcp://scheduler:8786
"""


@click.command(epilog=EXAMPLES_RUN)
@click.argument("file", type=click.Path(dir_okay=True))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
@click.option(
    "-r", "--replications", type=click.IntRange(1, 10_000), help="Independent worlds per arm (overrides the file)."
)
@workers_option("Processes running replications, or each replication's arms, in parallel (or workers of --dask local)")
@dask_option
@out_option("reports/<name>")
@click.option(
    "--ledger",
    is_flag=True,
    help="Also write every transaction, label event and alert (transactions, labels and alerts.parquet), and "
    "each arm's stream with the features it scored, a dataset replay reads (streams/).",
)
@click.option("--no-report", is_flag=True, help="Write the tables but not the HTML report.")
@quiet_option
def run(file, overrides, replications, workers, dask_address, out_dir, ledger, no_report, quiet) -> None:
    """Run a scenario FILE: every arm, every replication; write tables and a report."""
    from ..api import run as simulate
    from ..executors import ExecutorError
    from ..experiment.records import ModelFailureError
    from ..learn.protocol import ModelFailure

    scenario = load(file, overrides, {"replications": replications})
    target = Path(out_dir) if out_dir else Path("reports") / scenario.name
    check_output_dir(target)  # before the simulation, not after it
    try:
        result = simulate(scenario, workers=workers, dask=dask_address, ledger=ledger, progress=not quiet)
    except ExecutorError as error:
        raise UserError(str(error)) from None
    except (ModelFailure, ModelFailureError) as error:  # a model's fault, not the file's: exit 1, nothing written
        err.print(f"[bold red]error:[/] {escape(str(error))}", soft_wrap=True)
        raise click.exceptions.Exit(1) from None
    result.save(target, report=not no_report)
    summary = result.summary
    if not quiet:
        print_summary(summary)
        where = target / "index.html" if not no_report else target
        out.print(f"Wrote [bold]{where}[/]", soft_wrap=True)
    for failure in result.failures:  # the other arms' results are written; the status says not all ran
        err.print(
            f"[bold red]error:[/] {escape(failure)}; its results are not in {display_path(target)}", soft_wrap=True
        )
    if result.failures:
        raise click.exceptions.Exit(1)


def print_summary(summary: Summary) -> None:
    from ..units import short_money

    currency = summary.currency
    table = Table(
        title=f"{summary.scenario}: {summary.replications} replication(s), {summary.horizon_days:g} days",
        header_style="bold",
    )
    for column in ("rank", "arm", "total cost (95% CI)", "fraud loss", "friction"):
        table.add_column(column, justify="left" if column == "arm" else "right", no_wrap=True)

    def with_interval(entry: Interval) -> str:
        text = short_money(entry.mean, currency)
        if entry.ci_low is not None:
            text += f" ({short_money(entry.ci_low, currency)}–{short_money(entry.ci_high, currency)})"
        return text

    for arm in summary.ranking:
        entry = summary.arms[arm]
        table.add_row(
            str(entry.rank),
            arm,
            with_interval(entry.total_cost),
            with_interval(entry.fraud_loss),
            short_money(entry.friction.mean, currency),
        )
    out.print(table)
    for warning in summary.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)
    for finding in headline_findings(summary):
        out.print(escape(finding.text), soft_wrap=True)


def headline_findings(summary: Summary) -> list[Finding]:
    """The report's first findings, those the summary alone decides: the A/B test's read-out, what
    fresh labels are worth, and the best arm against the next."""
    from ..report.ab import finding as ab_finding
    from ..report.narrative import summary_findings

    found = [ab_finding(summary.ab, summary.currency)] if summary.ab is not None else []
    return found + summary_findings(summary, differences=1)
