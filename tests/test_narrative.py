"""Findings in words are computed from the numbers: they appear when the numbers say so, and only then."""

from __future__ import annotations

import pytest

from sim.report.narrative import IDLE_APPROVAL, idle_detectors_finding
from sim.summary import ArmSummary, Counts, Interval


def _arms(approved: dict[str, tuple[str, int, int]]) -> dict[str, ArmSummary]:
    money = Interval(0.0, None, None)
    return {
        arm: ArmSummary(learner, money, money, money, money, Counts(10_000.0, tried, ok, 0.0, 0.0), rank)
        for rank, (arm, (learner, ok, tried)) in enumerate(approved.items(), start=1)
    }


def test_models_that_decline_no_fraud_are_called_idle():
    arms = _arms({"online": ("online", 996, 1000), "static": ("static", 993, 1000), "rules": ("rules", 500, 1000)})
    finding = idle_detectors_finding(arms)
    assert finding is not None and finding.startswith(
        "The models declined almost no fraud: they approved static 99.3%, online 99.6% of fraud attempts."
    )
    assert "rules" not in finding  # hand-written rules are not a model that learns


def test_one_model_that_declines_is_enough_to_say_nothing():
    below = int(IDLE_APPROVAL * 1000) - 1
    assert idle_detectors_finding(_arms({"online": ("online", 996, 1000), "batch": ("batch", below, 1000)})) is None
    assert idle_detectors_finding(_arms({"rules": ("rules", 1000, 1000)})) is None
    assert idle_detectors_finding(_arms({"online": ("online", 0, 0)})) is None


DEGENERATE = {
    "no fraud": {"crews": []},
    "no labels within the horizon": {
        "warmup": "7d",
        "labels": {
            "chargeback": {"share": 0.5, "delay": {"dist": "fixed", "value": "300d"}, "window": "400d"},
            "customer_report": {"share": 0.0},
            "maturity": {"window": "400d"},
            "investigators": {"count": 0},
        },
    },
    "one arm": {"arms": [{"name": "static", "learner": "static"}]},
}


@pytest.mark.parametrize("world", list(DEGENERATE), ids=list(DEGENERATE))
def test_degenerate_worlds_run_to_a_report_that_says_what_is_undefined(tmp_path, world):
    """A fraud-free world is a teaching baseline; a world whose labels all arrive after the horizon
    has metrics over one class: each runs to a whole report, and no caption prints None or nan."""
    import copy
    import html
    import re

    from sim.cli import main

    from .conftest import TINY, write_scenario

    data = {**copy.deepcopy(TINY), "horizon": "3d", "replications": 1, **DEGENERATE[world]}
    path = write_scenario(tmp_path / "world.toml", data)
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--quiet", "--workers", "1"]) == 0
    page = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    text = html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S)))
    for word in ("None", "nan", "NaN", "inf"):
        assert not re.search(rf"\b{word}\b", text), (word, text[:2000])
    if world == "no fraud":
        assert "No fraud occurred in this run" in text
    if world == "no labels within the horizon":
        assert "undefined as seen" in text
