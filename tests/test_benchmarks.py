"""The benchmarks' tables reach the docs whole: a generated block is replaced, the rest of the page kept."""

from __future__ import annotations

import sys

import pytest

from .conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

from docblock import fill  # noqa: E402


def test_a_block_is_replaced_and_the_rest_of_the_page_kept(tmp_path):
    page = tmp_path / "page.md"
    block_b = "<!-- b:begin -->\nB\n<!-- b:end -->\n"
    page.write_text("intro\n<!-- a:begin -->\nold\n<!-- a:end -->\nmiddle\n" + block_b)
    fill(page, "a", "new\nrows\n")
    assert page.read_text() == "intro\n<!-- a:begin -->\nnew\nrows\n<!-- a:end -->\nmiddle\n" + block_b


def test_a_page_without_the_block_is_refused_by_name(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("no block here\n")
    with pytest.raises(SystemExit, match="page.md: no <!-- bench:begin -->"):
        fill(page, "bench", "rows")
    assert page.read_text() == "no block here\n"


@pytest.mark.parametrize("name", ["bench", "scale"])
def test_the_performance_page_has_the_blocks_the_benchmarks_fill(name):
    page = (ROOT / "docs" / "performance.md").read_text(encoding="utf-8")
    assert page.count(f"<!-- {name}:begin -->") == 1 and page.count(f"<!-- {name}:end -->") == 1


def test_the_online_learners_cost_is_its_arms_time_per_transaction_over_statics():
    from run import _learner_cost

    phases = [
        {"phase": "warm-up", "learner": "", "transactions": 10, "cpu_s": 99.0},
        {"phase": "online", "learner": "online", "transactions": 2_000_000, "cpu_s": 10.0},
        {"phase": "static", "learner": "static", "transactions": 1_000_000, "cpu_s": 3.0},
    ]
    # 5 µs against 3 µs a transaction: 2 CPU s per million, 40 % of the online arm's 5
    assert "2.00 CPU s per million transactions, 40% of the online arm's time" in _learner_cost(phases)[1]
    assert _learner_cost(phases[:2]) == []
