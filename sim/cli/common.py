"""What the subcommands share: loading a scenario the user named, and how paths and
descriptions are shown."""

from __future__ import annotations

from pathlib import Path

from ..console import UserError
from ..scenario import ScenarioError, load_scenario

SET_HELP = "Override a scenario key, e.g. --set horizon=30d or --set arms.online.lr=0.1 (repeatable)."


def load(path: str, overrides: tuple[str, ...], extra: dict[str, object] | None = None):
    sets = list(overrides) + [f"{key}={value}" for key, value in (extra or {}).items() if value is not None]
    try:
        return load_scenario(path, sets)
    except ScenarioError as error:
        raise UserError(str(error)) from None


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
