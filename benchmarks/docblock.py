"""Fill a generated block of a Markdown page: the text between ``<!-- NAME:begin -->`` and
``<!-- NAME:end -->``, so a benchmark's table in the docs is what its last run printed."""

from __future__ import annotations

import re
from pathlib import Path


def fill(page: Path, name: str, text: str) -> None:
    """Replace the block ``name`` of ``page`` with ``text``; exits naming the page when it has none."""
    docs = page.read_text(encoding="utf-8")
    pattern = re.compile(rf"(<!-- {name}:begin -->\n).*?(<!-- {name}:end -->)", re.S)
    if not pattern.search(docs):
        raise SystemExit(f"{page}: no <!-- {name}:begin --> … <!-- {name}:end --> block to fill")
    page.write_text(pattern.sub(lambda m: m.group(1) + text.rstrip("\n") + "\n" + m.group(2), docs), encoding="utf-8")
