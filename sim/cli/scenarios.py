"""``fraudsim scenarios``: the scenarios of a directory, one line each."""

from __future__ import annotations

import textwrap
from pathlib import Path

import click
from rich.markup import escape

from ..console import UserError, out, printable
from ..scenario import ScenarioError
from .common import display_path, first_sentence


@click.command()
@click.argument("directory", type=click.Path(file_okay=False), default="scenarios")
def scenarios(directory) -> None:
    """List the scenarios in DIRECTORY (default: scenarios/) with one line each."""
    from ..scenario import read_toml

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
