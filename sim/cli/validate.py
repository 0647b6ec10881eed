"""``fraudsim validate``: check a scenario without running it."""

from __future__ import annotations

import click

from ..console import out
from .common import SET_HELP, load


@click.command()
@click.argument("file", type=click.Path(dir_okay=True))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
def validate(file, overrides) -> None:
    """Check a scenario FILE without running it."""
    from ..engine import warmup_length
    from ..memory import estimate, gigabytes
    from ..units import format_duration

    scenario = load(file, overrides)
    arms = ", ".join(f"{a.name} ({a.learner})" for a in scenario.arms)
    out.print(
        f"[green]ok[/] {file}: scenario [bold]{scenario.name}[/], horizon {format_duration(scenario.horizon)}, "
        f"warm-up {format_duration(warmup_length(scenario))}, {scenario.replications} replication(s); arms: {arms}"
        + (
            f"; A/B test: {scenario.ab.b} on {scenario.ab.share_b:.0%} of cards against {scenario.ab.a}"
            if scenario.ab
            else ""
        )
        + f"; about {gigabytes(estimate(scenario).total)} of memory per replication",
        soft_wrap=True,
    )
