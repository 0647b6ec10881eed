"""Findings are numbers first: a Finding's words follow its own numbers, whatever they are."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.report.findings import Finding
from sim.report.narrative import difference_finding
from sim.summary import Difference, Interval

# A relative difference r = mean(arm − baseline) / mean(baseline) is above −1 (costs are positive).
relative = st.floats(-0.9, 5.0, allow_nan=False)


@st.composite
def intervals(draw) -> Interval:
    low, mean, high = sorted(draw(st.lists(relative, min_size=3, max_size=3)))
    return Interval(mean, low, high)


def test_an_unknown_kind_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="unknown kind of finding 'nope'; known: ab, calibration"):
        Finding("nope")


@pytest.mark.parametrize(
    ("value", "clear"),
    [
        (Interval(0.1, 0.02, 0.2), True),
        (Interval(-0.1, -0.2, -0.02), True),
        (Interval(0.1, -0.02, 0.2), False),
        (Interval(0.0, 0.0, 0.2), False),  # a bound on zero does not leave it out
        (Interval(0.1, None, None), None),  # one replication: no interval
        (None, None),
    ],
)
def test_clear_means_the_interval_leaves_out_zero(value, clear):
    assert Finding("difference", "a", "b", "total_cost", value, {"horizon_days": 9, "fraud_loss": value}).clear is clear


@given(intervals(), intervals())
def test_a_difference_is_said_as_its_numbers_say(cost: Interval, loss: Interval):
    """ "No clear difference" exactly when the interval crosses zero; otherwise "less than" for a
    costlier arm and "more than" for a cheaper one, with the share r / (1 + r) and its bounds."""
    entry = Difference("arm", "base", cost, cost, loss, loss)
    finding = difference_finding(SimpleNamespace(horizon_days=30.0), entry)
    assert (finding.value, finding.facts["fraud_loss"]) == (cost, loss)
    by_cost, by_loss = finding.text.removeprefix("Over 30 days, ").split("; by fraud loss, ")
    for said, value, verb in ((by_cost, cost, "cost"), (by_loss, loss, "lost")):
        if value.ci_low <= 0 <= value.ci_high:
            assert said.startswith("no clear difference") and f"{value.ci_low:+.0%} to {value.ci_high:+.0%}" in said
            continue
        more = "more" if value.mean < 0 else "less"
        share = abs(value.mean / (1 + value.mean))
        assert said.startswith(f"base {verb} {share:.0%} {more} than arm (95% CI ")
        low, high = (float(x) / 100 for x in re.findall(r"(\d+)%", said)[-2:])
        bounds = sorted(abs(x / (1 + x)) for x in (value.ci_low, value.ci_high))
        assert low == pytest.approx(bounds[0], abs=0.005) and high == pytest.approx(bounds[1], abs=0.005)
        assert low <= share + 0.005 and share <= high + 0.005  # the share sits in its own interval


def test_a_sweep_edge_says_where_it_is_clear_and_nowhere_else():
    """On an ordered key the edge "disappears" at the first point whose interval reaches zero,
    and the points further on that are clear again are named."""
    points = [
        {"at": "1 hour", "value": Interval(-0.3, -0.35, -0.25)},
        {"at": "1 day", "value": Interval(-0.1, -0.2, 0.01)},
        {"at": "7 days", "value": Interval(-0.1, -0.15, -0.05)},
        {"at": "30 days", "value": Interval(0.2, 0.1, 0.3)},
    ]
    facts = {"key": "the delay", "ordered": True, "panel": "", "points": points}
    text = Finding("sweep_edge", "online", "static", "total_cost", facts=facts).text
    assert text.startswith("By total cost: online's edge over static disappears once the delay reaches 1 day: -30%")
    assert "(a smaller edge shows again at 7 days)" in text
    assert text.endswith("; further on, static is clearly cheaper: +20% (95% CI +10% to +30%) at 30 days.")
    unordered = Finding("sweep_edge", "online", "static", "fraud_loss", facts=facts | {"ordered": False}).text
    assert unordered == (
        "By fraud loss: Online lost less to fraud than static: -30% (95% CI -35% to -25%) at 1 hour; -10% "
        "(95% CI -15% to -5%) at 7 days; and static lost less to fraud than online: +20% (95% CI +10% to +30%) at "
        "30 days; and no clear difference between online and static at 1 day."
    )


def test_a_finding_is_json_with_its_words():
    value = Interval(0.2, 0.1, 0.3)
    finding = Finding(
        "fresh_labels",
        "oracle",
        "static",
        "total_cost",
        value,
        {
            "horizon_days": 90.0,
            "recovered": {"online": Interval(0.5, 0.2, 0.8)},
            "fraud_loss": Interval(0.3, 0.1, 0.5),
            "recovered_fraud_loss": {},
        },
    )
    data = json.loads(json.dumps(finding.to_json()))
    assert data["value"] == {"mean": 0.2, "ci_low": 0.1, "ci_high": 0.3} and data["clear"] is True
    assert data["facts"]["recovered"]["online"] == {"mean": 0.5, "ci_low": 0.2, "ci_high": 0.8}
    assert data["text"] == str(finding) and "Of that saving, online recovered 50% (95% CI 20% to 80%)." in data["text"]


def test_a_replay_ranking_says_clearly_best_only_when_its_numbers_do():
    from sim.report.replay import ranking_findings

    gap = {"learner": "batch", "gap": 0.02, "low": 0.01, "high": 0.03, "clear": True}
    ranks = {"roc_auc": {"best": "online", "value": 0.91234, "clearly_best": True, "others": [gap]}}
    (finding,) = ranking_findings({"currency": "EUR", "rankings": ranks}).values()
    assert (finding.arm, finding.measure, finding.value.mean) == ("online", "roc_auc", 0.91234)
    assert finding.text.startswith("Over the whole replay online ranks fraud best (ROC AUC 0.912); every other")
    close = gap | {"low": -0.01, "clear": False}
    ranks = {"log_loss": {"best": "online", "value": 0.0123, "clearly_best": False, "others": [close]}}
    (finding,) = ranking_findings({"currency": "EUR", "rankings": ranks}).values()
    assert finding.text == (
        "online has the best log loss (0.0123), but not clearly: batch is within reach (batch's gap 0.0200, "
        "95 % interval -0.0100 to 0.0300 by a block bootstrap over days)."
    )
