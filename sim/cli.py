"""The ``fraudsim`` command. It parses arguments and calls functions; nothing else.

``main(argv) -> int`` is testable in-process. Bad input exits with status 2
and one message naming the file, the key and what is allowed.
"""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from . import __version__
from .console import UserError, err, not_empty, out, printable, progress_bar, run_command
from .outputs import REPORT_ERROR, SWEEP_MARKERS, check_output_dir
from .scenario import ScenarioError, load_scenario

EXAMPLES_RUN = """
\b
Examples:
  fraudsim run scenarios/quickstart.toml
  fraudsim run scenarios/quickstart.toml --set horizon=30d --set arms.online.lr=0.1
  fraudsim run scenarios/quickstart.toml --replications 5 --workers 2 --ledger
"""


def _load(path: str, overrides: tuple[str, ...], extra: dict[str, object] | None = None):
    sets = list(overrides) + [f"{key}={value}" for key, value in (extra or {}).items() if value is not None]
    try:
        return load_scenario(path, sets)
    except ScenarioError as error:
        raise UserError(str(error)) from None


SET_HELP = "Override a scenario key, e.g. --set horizon=30d or --set arms.online.lr=0.1 (repeatable)."


class _Commands(click.Group):
    """The command group; ``replay`` is loaded when first asked for (click's lazy subcommands), so
    ``sim.replay.cli``, which builds on this module, can be imported first."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), "replay"})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name == "replay" and name not in self.commands:
            from .replay.cli import replay_command

            self.add_command(replay_command, name="replay")
        return super().get_command(ctx, name)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="fraudsim")
def cli() -> None:
    """Simulate card fraud under adaptive fraudsters and delayed labels, and compare learners.

    Start with `fraudsim run scenarios/quickstart.toml`, then open reports/quickstart/index.html.
    """


@cli.command(epilog=EXAMPLES_RUN)
@click.argument("file", type=click.Path(dir_okay=True))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
@click.option(
    "-r", "--replications", type=click.IntRange(1, 10_000), help="Independent worlds per arm (overrides the file)."
)
@click.option(
    "-w",
    "--workers",
    type=click.IntRange(1, 512),
    default=None,
    help="Processes running replications, or each replication's arms, in parallel [default: the machine's cores].",
)
@click.option(
    "-o",
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    callback=not_empty,
    help="Output directory [default: reports/<name>].",
)
@click.option(
    "--ledger",
    is_flag=True,
    help="Also write every transaction and label event (transactions.parquet, labels.parquet).",
)
@click.option("--no-report", is_flag=True, help="Write the tables but not the HTML report.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary table.")
def run(file, overrides, replications, workers, out_dir, ledger, no_report, quiet) -> None:
    """Run a scenario FILE: every arm, every replication; write tables and a report."""
    from .rundir import write_run

    scenario = _load(file, overrides, {"replications": replications})
    target = Path(out_dir) if out_dir else Path("reports") / scenario.name
    check_output_dir(target)  # before the simulation, not after it
    workers = workers or min(os.cpu_count() or 1, scenario.replications * len(scenario.arms))
    with progress_bar(quiet) as progress:
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
        + (
            f"; A/B test: {scenario.ab.b} on {scenario.ab.share_b:.0%} of cards against {scenario.ab.a}"
            if scenario.ab
            else ""
        ),
        soft_wrap=True,
    )


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False), default="scenarios")
def scenarios(directory) -> None:
    """List the scenarios in DIRECTORY (default: scenarios/) with one line each."""
    from .scenario import read_toml

    folder = Path(directory)
    if not folder.is_dir():
        raise UserError(f"{directory}: no such directory")
    # One block per file, not a table: a path does not fit a column on a narrow terminal.
    for path in sorted(folder.rglob("*.toml")):
        shown = display_path(path)
        try:
            raw = read_toml(path)
        except ScenarioError as error:
            out.print(f"[bold]{escape(shown)}[/]  [red]unreadable[/]: {escape(error.message)}", soft_wrap=True)
            continue
        out.print(f"[bold]{escape(shown)}[/]", soft_wrap=True)
        name, what = printable(str(raw.get("name", ""))), printable(first_sentence(str(raw.get("description", ""))))
        line = " — ".join(part for part in (name, what) if part)
        indent = " " * 4
        wrapped = textwrap.fill(line, max(out.width, 40), initial_indent=indent, subsequent_indent=indent)
        out.print(escape(wrapped) + "\n", soft_wrap=True)


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--pdf", is_flag=True, help="Also write report.pdf: every figure with its caption, one per page.")
def report(directory, pdf) -> None:
    """Rebuild the report of a run, replay or sweep DIRECTORY from its saved tables, without re-running."""
    import json
    import tomllib

    import polars as pl

    from .report.data import REQUIRED, DamagedOutput
    from .report.html import build_report

    damaged = (pl.exceptions.PolarsError, OSError, json.JSONDecodeError, tomllib.TOMLDecodeError, DamagedOutput)
    folder = Path(directory)
    sweep = (folder / "results.parquet").exists() and (folder / "sweep.json").exists()
    replay = (folder / "replay.json").exists()
    missing = [name for name in REQUIRED if not (folder / name).exists()]
    if missing and not (sweep or replay):
        raise UserError(f"{directory}: not a fraudsim run, replay or sweep directory (missing {', '.join(missing)})")
    try:
        if sweep:
            from .report.sweep import build_sweep_report

            target = build_sweep_report(folder, pdf=pdf)
        elif replay:
            from .report.replay import build_replay_report

            if pdf:
                raise UserError(f"{directory}: --pdf is for run and sweep reports; a replay's report is one page")
            target = build_replay_report(folder)
        else:
            target = build_report(folder, pdf=pdf)
    except damaged as error:
        reason = (str(error).splitlines() or [""])[0]
        raise UserError(
            f"{directory}: a saved table cannot be read, so the report was not rebuilt "
            f"({type(error).__name__}: {reason})"
        ) from None
    (folder / REPORT_ERROR).unlink(missing_ok=True)  # the failure it recorded is mended
    out.print(f"Wrote [bold]{target}[/]" + (f" and [bold]{folder / 'report.pdf'}[/]" if pdf else ""), soft_wrap=True)


EXAMPLES_SWEEP = """
\b
Examples:
  fraudsim sweep scenarios/sweeps/label_delay.toml
  fraudsim sweep scenarios/sweeps/label_delay.toml --workers 2 --set population.customers=5000
  fraudsim sweep scenarios/sweeps/label_delay.toml --dask local
  fraudsim sweep scenarios/sweeps/label_delay.toml --dask tcp://scheduler:8786

\b
Runs already saved under the output directory are skipped, so a sweep that was
stopped resumes where it left off; --force recomputes them.
"""


@cli.command(epilog=EXAMPLES_SWEEP)
@click.argument("file", type=click.Path(dir_okay=True))
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a key of the base scenario, before the grid (repeatable).",
)
@click.option(
    "-w",
    "--workers",
    type=click.IntRange(1, 512),
    default=None,
    help="Local worker processes (or workers of --dask local) [default: the machine's cores].",
)
@click.option(
    "--dask",
    "dask_address",
    metavar="ADDRESS|local",
    callback=not_empty,
    help="Run on the Dask scheduler at ADDRESS (tcp://host:8786), or on a local Dask cluster.",
)
@click.option("--force", is_flag=True, help="Recompute every run, even those already saved.")
@click.option(
    "-o",
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    callback=not_empty,
    help="Output directory [default: reports/<sweep name>].",
)
@click.option("--no-report", is_flag=True, help="Write results.parquet but not the HTML report.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary table.")
def sweep(file, overrides, workers, dask_address, force, out_dir, no_report, quiet) -> None:
    """Run a sweep FILE: every grid point × arm × replication; write results.parquet and a report."""
    from .scenario import load_sweep
    from .sweep import SweepError, make_executor, plan_sweep, run_sweep

    try:
        plan = plan_sweep(load_sweep(file, overrides))
    except ScenarioError as error:
        raise UserError(str(error)) from None
    target = Path(out_dir) if out_dir else Path("reports") / plan.sweep.name
    check_output_dir(target, SWEEP_MARKERS)
    executor = make_executor(workers, dask_address)
    runs = len(plan.tasks())
    with progress_bar(quiet) as progress:
        task = progress.add_task(plan.sweep.name, total=None)

        def advance(state) -> None:
            progress.update(
                task,
                completed=state.days_done,
                total=state.days or None,
                description=f"{plan.sweep.name} {state.runs_done}/{state.runs} runs",
            )

        try:
            outcome = run_sweep(plan, target, executor, force=force, progress=advance)
        except SweepError as error:
            raise UserError(str(error)) from None
        except KeyboardInterrupt:
            progress.stop()
            err.print(
                f"interrupted: the runs finished so far are saved in {target}; run the same command again to resume",
                soft_wrap=True,
            )
            raise click.exceptions.Abort() from None
    if not quiet:
        _print_sweep(outcome.results, plan)
        out.print(
            f"{plan.sweep.name}: {len(plan.points)} point(s) × {plan.sweep.replications} "
            f"replication(s) = {runs} runs ({outcome.computed} computed, {outcome.reused} reused) in "
            f"{_clock(outcome.wall_seconds)}"
            + (f" on {outcome.executor} ({outcome.workers} worker(s))" if outcome.computed else ""),
            soft_wrap=True,
        )
    written = [target / "results.parquet"]
    if not no_report:
        from .report.sweep import build_sweep_report

        written.append(build_sweep_report(target))
    if not quiet:
        out.print("Wrote " + " and ".join(f"[bold]{path}[/]" for path in written), soft_wrap=True)


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"


def _print_sweep(results, plan, limit: int = 40) -> None:
    """Mean total cost per point and arm (the ranking figure), for sweeps small enough to read."""
    import polars as pl

    from .units import short_money

    if len(plan.points) > limit:
        return
    currency = plan.points[0].scenario.currency
    means = results.group_by(["point", "arm"], maintain_order=True).agg(pl.col("total_cost").mean())
    arms = list(dict.fromkeys(arm.name for point in plan.points for arm in point.scenario.arms))
    table = Table(
        title=f"{plan.sweep.name}: mean total cost over {plan.sweep.replications} replication(s)", header_style="bold"
    )
    for column in plan.columns:
        table.add_column(column.key, overflow="fold")
    for arm in arms:
        table.add_column(arm, justify="right", overflow="fold", min_width=6)
    cost = {(p, a): v for p, a, v in means.iter_rows()}
    for point in plan.points:
        cells = [str(point.value(column.key)) for column in plan.columns]
        cells += [short_money(cost[point.index, arm], currency) if (point.index, arm) in cost else "" for arm in arms]
        table.add_row(*cells)
    out.print(table)


def display_path(path: Path) -> str:
    """PATH relative to the working directory when it lies under it (what you would type), else in full."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def first_sentence(text: str) -> str:
    """The first sentence of a description, on one line.

    >>> first_sentence("Start here. 60 days of\\n a card issuer.")
    'Start here.'
    """
    flat = " ".join(text.split())
    end = flat.find(". ")
    return flat if end < 0 else flat[: end + 1]


def _print_summary(summary: dict) -> None:
    from .units import short_money

    currency = summary["currency"]
    table = Table(
        title=f"{summary['scenario']}: {summary['replications']} replication(s), {summary['horizon_days']:g} days",
        header_style="bold",
    )
    for column in ("rank", "arm", "total cost (95% CI)", "fraud loss", "friction"):
        table.add_column(column, justify="left" if column == "arm" else "right", no_wrap=True)

    def with_interval(entry: dict) -> str:
        text = short_money(entry["mean"], currency)
        if entry["ci_low"] is not None:
            text += f" ({short_money(entry['ci_low'], currency)}–{short_money(entry['ci_high'], currency)})"
        return text

    for arm in summary["ranking"]:
        entry = summary["arms"][arm]
        table.add_row(
            str(entry["rank"]),
            arm,
            with_interval(entry["total_cost"]),
            with_interval(entry["fraud_loss"]),
            short_money(entry["friction"]["mean"], currency),
        )
    out.print(table)
    for warning in summary.get("warnings", []):
        err.print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)
    if "ab" in summary:
        from .report.ab import finding

        out.print(finding(summary["ab"], currency), soft_wrap=True)


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv``; return the exit status."""
    return run_command(cli, argv, "fraudsim")


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())
