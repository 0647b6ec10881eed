"""The terminal: the two consoles, the user's errors, the options several commands take,
progress bars, and running a command.

Shared by every subcommand (``sim.cli`` and ``sim.replays.cli``), so none imports another.
"""

from __future__ import annotations

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from .outputs import OutputError, ReportError

err = Console(stderr=True, highlight=False)
out = Console(highlight=False)


class UserError(click.ClickException):
    """A problem with the user's input: printed without a traceback, exit status 2."""

    exit_code = 2

    def show(self, file=None) -> None:
        err.print(f"[bold red]error:[/] {escape(self.message)}", soft_wrap=True)


def printable(text: str) -> str:
    """``text`` without control characters (an ANSI escape in a file must not drive the terminal)."""
    import unicodedata

    return "".join(c if c in "\n\t" or not unicodedata.category(c).startswith("C") else "?" for c in text)


def not_empty(ctx: click.Context, param: click.Parameter, value):
    """Refuse an empty value (``--out ""`` would otherwise silently mean "the default")."""
    if value is not None and not str(value).strip():
        raise click.BadParameter("must not be empty; leave the option out for its default")
    return value


def out_option(default: str):
    """``-o/--out DIR``, the output directory; ``default`` says where it goes without the option."""
    return click.option(
        "-o",
        "--out",
        "out_dir",
        type=click.Path(file_okay=False),
        callback=not_empty,
        help=f"Output directory [default: {default}].",
    )


def workers_option(what: str):
    """``-w/--workers N``; ``what`` says what the workers run (the machine's cores by default)."""
    return click.option(
        "-w", "--workers", type=click.IntRange(1, 512), default=None, help=f"{what} [default: the machine's cores]."
    )


dask_option = click.option(
    "--dask",
    "dask_address",
    metavar="ADDRESS|local",
    callback=not_empty,
    help="Run on the Dask scheduler at ADDRESS (tcp://host:8786), or on a local Dask cluster.",
)
quiet_option = click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary table.")


def progress_bar(quiet: bool) -> Progress:
    """A rich progress bar with ETA (a no-op display when ``quiet``), shared by run, sweep and replay."""
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


def run_command(command: click.Command, argv: list[str] | None, prog_name: str) -> int:
    """Run a click ``command`` with ``argv`` in-process; return the exit status. Bad input is one
    line on stderr and status 2, never a traceback; a report that failed after the tables were
    written is status 1; Ctrl-C is 130."""
    try:
        command.main(args=argv, prog_name=prog_name, standalone_mode=False)
    except click.exceptions.Exit as done:
        return int(done.exit_code)
    except click.UsageError as error:  # click's own (unknown option, missing argument): one line too
        path = error.ctx.command_path if error.ctx else prog_name
        message = " ".join(error.format_message().split())
        UserError(f"{path}: {message} (see '{path} --help')").show()
        return UserError.exit_code
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except OutputError as error:
        UserError(str(error)).show()
        return UserError.exit_code
    except ReportError as error:  # not the user's input: exit 1, but the tables are safe and it says where
        err.print(f"[bold red]error:[/] {escape(str(error))}", soft_wrap=True)
        return 1
    except click.exceptions.Abort:
        err.print("aborted")
        return 130
    return 0
