"""``fraudsim sweep``: a grid of points × arms × replications, resumable."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from ..console import UserError, dask_option, err, out, out_option, quiet_option, workers_option
from ..outputs import SWEEP_MARKERS, check_output_dir
from ..scenario import ScenarioError

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


@click.command(epilog=EXAMPLES_SWEEP)
@click.argument("file", type=click.Path(dir_okay=True))
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a key of the base scenario, before the grid (repeatable).",
)
@click.option(
    "-r", "--replications", type=click.IntRange(1, 10_000), help="Replications of every point (overrides the file)."
)
@workers_option("Local worker processes (or workers of --dask local)")
@dask_option
@click.option("--force", is_flag=True, help="Recompute every run, even those already saved.")
@out_option("reports/sweep-<sweep name>")
@click.option("--no-report", is_flag=True, help="Write results.parquet but not the HTML report.")
@quiet_option
def sweep(file, overrides, replications, workers, dask_address, force, out_dir, no_report, quiet) -> None:
    """Run a sweep FILE: every grid point × arm × replication; write results.parquet and a report."""
    from ..api import sweep as run_sweep
    from ..executors import ExecutorError
    from ..scenario import load_sweep
    from ..sweeps import SweepError

    try:
        name = load_sweep(file, overrides).name
    except ScenarioError as error:
        raise UserError(str(error)) from None
    target = Path(out_dir) if out_dir else Path("reports") / f"sweep-{name}"
    check_output_dir(target, SWEEP_MARKERS)
    try:
        result = run_sweep(
            file,
            overrides,
            replications=replications,
            workers=workers,
            dask=dask_address,
            out=target,
            force=force,
            progress=not quiet,
        )
    except (ScenarioError, SweepError, ExecutorError) as error:
        raise UserError(str(error)) from None
    except KeyboardInterrupt:
        err.print(
            f"interrupted: the runs finished so far are saved in {target}; run the same command again to resume",
            soft_wrap=True,
        )
        raise click.exceptions.Abort() from None
    plan, outcome = result.plan, result.outcome
    runs = outcome.runs
    if not quiet:
        print_sweep(outcome.results, plan)
        out.print(
            f"{plan.sweep.name}: {len(plan.points)} point(s) × {plan.sweep.replications} "
            f"replication(s) = {runs} runs ({outcome.computed} computed, {outcome.reused} reused) in "
            f"{clock(outcome.wall_seconds)}"
            + (f" on {outcome.executor} ({outcome.workers} worker(s))" if outcome.computed else ""),
            soft_wrap=True,
        )
    written = [target / "results.parquet"]
    if not no_report:
        written.append(result.save() / "index.html")
    if not quiet:
        out.print("Wrote " + " and ".join(f"[bold]{path}[/]" for path in written), soft_wrap=True)


def clock(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"


def print_sweep(results, plan, limit: int = 40) -> None:
    """Mean total cost per point and arm (the ranking figure), for sweeps small enough to read."""
    import polars as pl

    from ..units import short_money

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
