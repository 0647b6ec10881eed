"""``fraudsim validate``: check a scenario or a sweep without running it."""

from __future__ import annotations

import click

from ..console import UserError, out
from .common import SET_HELP, display_path, load


@click.command()
@click.argument("file", type=click.Path(dir_okay=True))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
def validate(file, overrides) -> None:
    """Check a scenario FILE (or a sweep file: every point of its grid) without running it."""
    from ..memory import estimate, gigabytes
    from ..scenario import ScenarioError, is_sweep, read_toml

    try:
        sweep_file = is_sweep(read_toml(file))
    except ScenarioError as error:
        raise UserError(str(error)) from None
    if sweep_file:
        _sweep(file, overrides)
        return
    scenario = load(file, overrides)
    arms = ", ".join(f"{a.name} ({a.learner})" for a in scenario.arms)
    out.print(
        f"[green]ok[/] {file}: scenario [bold]{scenario.name}[/], {_length(scenario)}; arms: {arms}"
        + (
            f"; A/B test: {scenario.ab.b} on {scenario.ab.share_b:.0%} of cards against {scenario.ab.a}"
            if scenario.ab
            else ""
        )
        + f"; about {gigabytes(estimate(scenario).total)} of memory per replication",
        soft_wrap=True,
    )


def _length(scenario) -> str:
    from ..engine import warmup_length
    from ..units import format_duration

    return (
        f"horizon {format_duration(scenario.horizon)}, warm-up {format_duration(warmup_length(scenario))}, "
        f"{scenario.replications} replication(s)"
    )


def _sweep(file, overrides) -> None:
    """Check every point of a sweep file's grid, as ``fraudsim sweep`` does before it runs."""
    from ..memory import estimate, gigabytes
    from ..scenario import ScenarioError, load_sweep
    from ..sweeps import plan_sweep

    try:
        plan = plan_sweep(load_sweep(file, overrides))
    except ScenarioError as error:
        raise UserError(str(error)) from None
    first = plan.points[0].scenario
    arms = ", ".join(f"{a.name} ({a.learner})" for a in first.arms)
    keys = ", ".join(column.key for column in plan.columns)
    memory = max(estimate(point.scenario).total for point in plan.points)
    out.print(
        f"[green]ok[/] {file}: sweep [bold]{plan.sweep.name}[/], {len(plan.points)} point(s) of {keys} on "
        f"{display_path(plan.sweep.base_file)}, each {_length(first)}; arms: {arms}; "
        f"about {gigabytes(memory)} of memory per replication at the largest point",
        soft_wrap=True,
    )
