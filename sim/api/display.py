"""How results show themselves: one screen of text in a terminal, a small escaped HTML block in
Jupyter (the findings, then a table with each arm in its report colour)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..report.pages import render


class Shown:
    """``_repr_html_`` and ``__repr__`` for a result that gives :meth:`_table` (title, subtitle,
    head, rows) and :meth:`_notes` (the findings to show)."""

    def _table(self) -> tuple[str, str, list[str], list[Row]]:
        raise NotImplementedError

    def _notes(self) -> list[str]:
        return [str(finding) for finding in getattr(self, "findings", [])]

    def _repr_html_(self) -> str:
        title, subtitle, head, rows = self._table()
        return html(title, subtitle, self._notes(), head, rows)

    def __repr__(self) -> str:
        title, subtitle, head, rows = self._table()
        return text(title, subtitle, self._notes(), head, rows)


@dataclass(frozen=True)
class Row:
    """A table row: the arm (or learner) named in its report colour, then its cells."""

    name: str
    color: str
    cells: Sequence[str]


def html(title: str, subtitle: str, findings: Sequence[str], head: Sequence[str], rows: Sequence[Row]) -> str:
    """The notebook block (``_repr_html_``), every value escaped by the template."""
    return render(
        "notebook.html.j2", title=title, subtitle=subtitle, findings=list(findings), head=list(head), rows=list(rows)
    )


def text(title: str, subtitle: str, findings: Sequence[str], head: Sequence[str], rows: Sequence[Row]) -> str:
    """The terminal form (``__repr__``): a title, a fixed-width table and the first findings,
    short enough for one screen.

    >>> print(text("quickstart", "1 replication", ["online won."], ["arm", "cost"], [Row("online", "#000", ["€5"])]))
    quickstart: 1 replication
      arm     cost
      online  €5
    - online won.
    """
    table = [list(head)] + [[row.name, *row.cells] for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(head))]
    lines = [f"{title}: {subtitle}"]
    lines += ["  " + "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in table]
    shown = list(findings[:4])
    lines += [f"- {finding}" for finding in shown]
    if len(findings) > len(shown):
        lines.append(f"  ({len(findings) - len(shown)} more findings: .findings)")
    return "\n".join(lines)
