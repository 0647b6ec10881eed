"""The ``fraudsim`` command: one module per subcommand; each parses arguments and calls
functions, nothing else (``replay`` lives with the replay, in ``sim.replays.cli``).

``main(argv) -> int`` is testable in-process. Bad input exits with status 2
and one message naming the file, the key and what is allowed.
"""

from __future__ import annotations

import sys

import click

from .. import __version__
from ..console import UserError, err, out, run_command
from .common import display_path, first_sentence
from .report import report
from .run import run
from .scenarios import scenarios
from .sweep import sweep
from .validate import validate

__all__ = ["UserError", "cli", "display_path", "entry", "err", "first_sentence", "main", "out"]


class _Commands(click.Group):
    """The command group; ``replay`` is loaded when first asked for (click's lazy subcommands), so
    ``sim.replays.cli``, which builds on this module, can be imported first."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), "replay"})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name == "replay" and name not in self.commands:
            from ..replays.cli import replay_command

            self.add_command(replay_command, name="replay")
        return super().get_command(ctx, name)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="fraudsim")
def cli() -> None:
    """Simulate card fraud under adaptive fraudsters and delayed labels, and compare learners.

    Start with `fraudsim run scenarios/quickstart.toml`, then open reports/quickstart/index.html.
    """


for command in (run, validate, scenarios, report, sweep):
    cli.add_command(command)


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv``; return the exit status."""
    return run_command(cli, argv, "fraudsim")


def _headless() -> None:
    """The command draws into files only: matplotlib's file backend, whatever the desktop has
    (from Python, and in Jupyter, the user's backend stays: figures are returned, not shown)."""
    import os

    os.environ.setdefault("MPLBACKEND", "Agg")


def entry() -> None:
    """Console-script entry point."""
    _headless()
    sys.exit(main())
