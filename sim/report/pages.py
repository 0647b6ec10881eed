"""The HTML pages, from the Jinja2 templates shipped in ``sim/report/templates/``.

One environment, autoescaped: Python hands the templates plain data (strings, numbers, lists and
the small records below) and the template engine escapes every value exactly once, so no page
escapes anything by hand. ``base.html.j2`` holds what every page shares (head, style, heading);
``macros.html.j2`` the repeated blocks (findings, a figure with its caption, a table).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import cache

import jinja2


@dataclass(frozen=True)
class FigureBlock:
    """A figure: its title above, the PNG inline, its caption beneath."""

    title: str
    caption: str
    png: bytes

    @property
    def source(self) -> str:
        """The PNG as a ``data:`` URL, so that the page opens offline."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@dataclass(frozen=True)
class PageSection:
    """A report section with an anchor: its figure, or the note saying why it is left out."""

    title: str
    anchor: str
    figure: FigureBlock | None = None
    note: str = ""


@dataclass(frozen=True)
class Cell:
    """A table cell: its text, and an optional line in small type beneath (an interval)."""

    text: str
    beneath: str = ""


@dataclass(frozen=True)
class Table:
    head: list[str]
    rows: list[list[Cell]]


@cache
def environment() -> jinja2.Environment:
    """The templates' environment: escaping on for every template, an unknown name an error."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("sim.report", "templates"),
        autoescape=jinja2.select_autoescape(("html", "html.j2"), default_for_string=True, default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(template: str, **context) -> str:
    """The page ``template`` (a file in ``templates/``) filled with ``context``.

    >>> page = render("sweep.html.j2", name="a&b", description="<b>", findings=[], size="1 point", figures=[])
    >>> "<h1>fraudsim sweep: a&amp;b</h1>" in page and '<p class="lede">&lt;b&gt;</p>' in page
    True
    """
    return environment().get_template(template).render(**context)


__all__ = ["Cell", "FigureBlock", "PageSection", "Table", "render"]
