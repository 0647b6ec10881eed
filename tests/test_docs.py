"""The repository stands alone: its code and docs cite only files a reader of it can open."""

from __future__ import annotations

import re

from .conftest import ROOT

# Names of documents outside the repository (the design notes it grew from).
OUTSIDE = re.compile(r"\b(?:DESIGN|DOMAIN|STYLE|ARMS-RACE)(?:\.md)?\s*§|\.\./shared\b|\bDESIGN\.md\b|\bDOMAIN\.md\b")
TEXTS = ("sim/**/*.py", "tests/**/*.py", "benchmarks/**/*.py", "docs/**/*.md", "scenarios/**/*.toml", "*.md")


def test_nothing_cites_a_document_outside_the_repository():
    cited = []
    for pattern in TEXTS:
        for path in ROOT.glob(pattern):
            if ".venv" in path.parts or path == ROOT / "tests" / "test_docs.py":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if OUTSIDE.search(line):
                    cited.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not cited, "\n".join(cited)


def test_the_facts_cited_by_section_exist():
    """``domain-facts §n`` names a numbered section of docs/domain-facts.md."""
    facts = (ROOT / "docs" / "domain-facts.md").read_text(encoding="utf-8")
    sections = set(re.findall(r"^## (\d+) ", facts, flags=re.M))
    cited = set()
    for pattern in TEXTS:
        for path in ROOT.glob(pattern):
            if ".venv" not in path.parts:
                for group in re.findall(
                    r"domain-facts §(\d+(?:[–-]\d+)?(?:, §\d+)*)", path.read_text(encoding="utf-8")
                ):
                    cited |= set(re.findall(r"\d+", group))
    assert cited and cited <= sections, cited - sections
