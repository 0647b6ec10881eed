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


class ProgressLines:
    """Progress for a log rather than a terminal (standard error redirected): a line whenever the
    task's description changes (a sweep's finished run) or its completion passes another tenth,
    with the time elapsed and an estimate of the time left. Takes the calls :class:`Progress`
    takes from run, sweep and replay."""

    STEP = 0.1

    def __init__(self, console: Console, clock=None):
        import time

        self.console, self.clock = console, clock or time.monotonic
        self.tasks: dict[int, dict] = {}

    def __enter__(self) -> ProgressLines:
        return self

    def __exit__(self, *exc) -> None:
        pass

    def add_task(self, description: str, total: float | None = None) -> int:
        task = len(self.tasks)
        self.tasks[task] = {"description": description, "total": total, "done": 0.0, "step": 0, "start": self.clock()}
        return task

    def update(self, task: int, *, completed: float, total: float | None = None, description: str | None = None):
        state = self.tasks[task]
        changed = description is not None and description != state["description"]
        state.update(done=completed, total=total or state["total"], description=description or state["description"])
        if not state["total"]:
            return
        share = min(state["done"] / state["total"], 1.0)
        step = int(share / self.STEP + 1e-9)
        if changed or step > state["step"]:
            state["step"] = max(step, state["step"])
            elapsed = self.clock() - state["start"]
            left = f", about {_clock(elapsed * (1 - share) / share)} left" if 0 < share < 1 else ""
            self.console.print(
                f"{escape(state['description'])}: {share:.0%} after {_clock(elapsed)}{left}", soft_wrap=True
            )


def _clock(seconds: float) -> str:
    """``seconds`` as h:mm:ss or m:ss.

    >>> _clock(59.6), _clock(3725)
    ('1:00', '1:02:05')
    """
    minutes, second = divmod(round(seconds), 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours}:{minute:02d}:{second:02d}" if hours else f"{minute}:{second:02d}"


def progress_bar(quiet: bool) -> Progress | ProgressLines:
    """A rich progress bar with ETA (a no-op display when ``quiet``), shared by run, sweep and
    replay; lines of progress instead when standard error goes to a file or a pipe."""
    if not quiet and not err.is_terminal and not err.is_jupyter:
        return ProgressLines(err)
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
