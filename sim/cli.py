"""The ``fraudsim`` command. It parses arguments and calls functions; nothing else.

``main(argv) -> int`` is testable in-process. Bad input exits with status 2
and one message naming the file, the key and what is allowed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from . import __version__
from .scenario import ScenarioError, load_scenario

err = Console(stderr=True, highlight=False)
out = Console(highlight=False)

EXAMPLES_RUN = """
\b
Examples:
  fraudsim run scenarios/quickstart.toml
  fraudsim run scenarios/quickstart.toml --set horizon=30d --set arms.online.lr=0.1
  fraudsim run scenarios/quickstart.toml --replications 5 --workers 2 --ledger
"""


class UserError(click.ClickException):
    """A problem with the user's input: printed without a traceback, exit status 2."""

    exit_code = 2

    def show(self, file=None) -> None:
        err.print(f"[bold red]error:[/] {self.message}", soft_wrap=True)


def _load(path: str, overrides: tuple[str, ...], extra: dict[str, object] | None = None):
    sets = list(overrides) + [f"{key}={value}" for key, value in (extra or {}).items() if value is not None]
    try:
        return load_scenario(path, sets)
    except ScenarioError as error:
        raise UserError(str(error)) from None


SET_HELP = "Override a scenario key, e.g. --set horizon=30d or --set arms.online.lr=0.1 (repeatable)."


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="fraudsim")
def cli() -> None:
    """Simulate card fraud under adaptive fraudsters and delayed labels, and compare learners.

    Start with `fraudsim run scenarios/quickstart.toml`, then open reports/quickstart/index.html.
    """


@cli.command(epilog=EXAMPLES_RUN)
@click.argument("file", type=click.Path(dir_okay=True))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
@click.option("-r", "--replications", type=click.IntRange(1, 10_000), help="Independent worlds per arm (overrides the file).")
@click.option("-w", "--workers", type=click.IntRange(1, 512), default=None,
              help="Processes running replications in parallel [default: the machine's cores].")
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False),
              help="Output directory [default: reports/<name>].")
@click.option("--ledger", is_flag=True, help="Also write every transaction and label event (transactions.parquet, labels.parquet).")
@click.option("--no-report", is_flag=True, help="Write the tables but not the HTML report.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary table.")
def run(file, overrides, replications, workers, out_dir, ledger, no_report, quiet) -> None:
    """Run a scenario FILE: every arm, every replication; write tables and a report."""
    from .outputs import write_run

    scenario = _load(file, overrides, {"replications": replications})
    target = Path(out_dir) if out_dir else Path("reports") / scenario.name
    workers = workers or min(os.cpu_count() or 1, scenario.replications)
    with _progress(quiet) as progress:
        task = progress.add_task(f"{scenario.name}", total=None)

        def advance(done: float, total: float) -> None:
            progress.update(task, completed=done, total=total)

        summary = write_run(scenario, target, ledger=ledger, report=not no_report, workers=workers, progress=advance)
    if not quiet:
        _print_summary(summary)
        where = target / "index.html" if not no_report else target
        out.print(f"Wrote [bold]{where}[/]", soft_wrap=True)


@cli.command()
@click.argument("file", type=click.Path(dir_okay=True))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
def validate(file, overrides) -> None:
    """Check a scenario FILE without running it."""
    from .engine import warmup_length
    from .units import format_duration

    scenario = _load(file, overrides)
    arms = ", ".join(f"{a.name} ({a.learner})" for a in scenario.arms)
    out.print(
        f"[green]ok[/] {file}: scenario [bold]{scenario.name}[/], horizon {format_duration(scenario.horizon)}, "
        f"warm-up {format_duration(warmup_length(scenario))}, {scenario.replications} replication(s); arms: {arms}"
    )


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False), default="scenarios")
def scenarios(directory) -> None:
    """List the scenarios in DIRECTORY (default: scenarios/) with one line each."""
    from .scenario import read_toml

    folder = Path(directory)
    if not folder.is_dir():
        raise UserError(f"{directory}: no such directory")
    table = Table(show_header=True, header_style="bold", box=None)
    table.add_column("file")
    table.add_column("name")
    table.add_column("what it shows")
    for path in sorted(folder.rglob("*.toml")):
        try:
            raw = read_toml(path)
        except ScenarioError as error:
            table.add_row(str(path), "[red]unreadable[/]", error.message)
            continue
        first_line = str(raw.get("description", "")).strip().splitlines()[:1]
        table.add_row(str(path), str(raw.get("name", "")), first_line[0] if first_line else "")
    out.print(table)


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False))
def report(directory) -> None:
    """Rebuild the report of a run DIRECTORY from its saved tables, without re-running."""
    from .report.html import build_report

    folder = Path(directory)
    needed = ("summary.json", "scenario.resolved.toml", "daily.parquet", "arms.parquet")
    missing = [name for name in needed if not (folder / name).exists()]
    if missing:
        raise UserError(f"{directory}: not a fraudsim run directory (missing {', '.join(missing)})")
    target = build_report(folder)
    out.print(f"Wrote [bold]{target}[/]", soft_wrap=True)


def _progress(quiet: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=err,
        disable=quiet,
        transient=True,
    )


def _print_summary(summary: dict) -> None:
    from .units import short_money

    currency = summary["currency"]
    table = Table(title=f"{summary['scenario']}: {summary['replications']} replication(s), "
                        f"{summary['horizon_days']:g} days", header_style="bold")  # fmt: skip
    for column in ("rank", "arm", "total cost (95% CI)", "fraud loss", "friction"):
        table.add_column(column, justify="left" if column == "arm" else "right", no_wrap=True)

    def with_interval(entry: dict) -> str:
        text = short_money(entry["mean"], currency)
        if entry["ci_low"] is not None:
            text += f" ({short_money(entry['ci_low'], currency)}–{short_money(entry['ci_high'], currency)})"
        return text

    for arm in summary["ranking"]:
        entry = summary["arms"][arm]
        table.add_row(str(entry["rank"]), arm, with_interval(entry["total_cost"]),
                      with_interval(entry["fraud_loss"]), short_money(entry["friction"]["mean"], currency))  # fmt: skip
    out.print(table)


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv``; return the exit status."""
    try:
        cli.main(args=argv, prog_name="fraudsim", standalone_mode=False)
    except click.exceptions.Exit as done:
        return int(done.exit_code)
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.exceptions.Abort:
        err.print("aborted")
        return 130
    return 0


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())
