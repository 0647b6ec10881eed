"""Findings in words are computed from the numbers: they appear when the numbers say so, and only then."""

from __future__ import annotations

import polars as pl
import pytest

from sim.report.narrative import (
    IDLE_APPROVAL,
    class_mix_caption,
    difference_finding,
    differences_caption,
    idle_detectors_finding,
    quality_caption,
    stopped_finding,
    tactic_shift,
)
from sim.summary import ArmSummary, Counts, Difference, Interval


def _arms(approved: dict[str, tuple[str, int, int]]) -> dict[str, ArmSummary]:
    money = Interval(0.0, None, None)
    return {
        arm: ArmSummary(learner, money, money, money, money, Counts(10_000.0, tried, ok, 0.0, 0.0), rank)
        for rank, (arm, (learner, ok, tried)) in enumerate(approved.items(), start=1)
    }


def test_models_that_decline_no_fraud_are_called_idle():
    arms = _arms({"online": ("online", 996, 1000), "static": ("static", 993, 1000), "rules": ("rules", 500, 1000)})
    finding = idle_detectors_finding(arms)
    assert finding.facts["approved"] == {"static": 0.993, "online": 0.996}  # least approved first, no rules
    assert finding.text.startswith(
        "The models declined almost no fraud: they approved static 99.3%, online 99.6% of fraud attempts."
    )
    assert "rules" not in finding.text  # hand-written rules are not a model that learns


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


# --------------------------------------------------------------------------- captions against their numbers


def _daily(label_fraud: int, labels: int, fraud: int, transactions: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "arm": ["online"],
            "fraud_labels_arrived": [label_fraud],
            "labels_arrived": [labels],
            "fraud_attempts": [fraud],
            "transactions": [transactions],
        }
    )


def test_the_class_mix_caption_says_the_mix_was_the_same_when_it_was():
    same = class_mix_caption(_daily(10, 1000, 10, 1000))
    assert "a ratio of 1.00" in same and "about the mix they scored" in same and "more fraud" not in same
    skewed = class_mix_caption(_daily(30, 1000, 10, 1000))
    assert "a ratio of 3.00" in skewed and "saw more fraud than they scored" in skewed


def _quality(rows: list[tuple[str, str, float, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        [{"arm": a, "day": d, "view": v, "roc_auc": auc, "recall": r} for d in range(3) for a, v, auc, r in rows]
    )


def test_the_quality_caption_averages_the_learners_not_the_rules():
    quality = _quality([("online", "eventual", 0.9, 0.6), ("online", "known", 0.8, 0.5)])
    rules = quality.with_columns(arm=pl.lit("rules"), roc_auc=pl.lit(0.5), recall=pl.lit(0.1))
    caption = quality_caption(pl.concat([quality, rules]), rules=("rules",))
    assert "ROC AUC was 0.900 in truth and 0.800 as seen" in caption and "but the rules" in caption
    alone = quality_caption(rules, rules=("rules",))  # nothing else to average: the rules themselves
    assert "ROC AUC was 0.500" in alone and "but the rules" not in alone


def test_the_recall_caption_follows_which_recall_is_higher():
    lower = quality_caption(_quality([("online", "eventual", 0.9, 0.6), ("online", "known", 0.8, 0.2)]))
    assert "recall (share of fraud declined) was 60% in truth and 20% as seen: the fraud a model stops" in lower
    higher = quality_caption(_quality([("online", "eventual", 0.9, 0.4), ("online", "known", 0.8, 0.7)]))
    assert "40% in truth and 70% as seen: the team sees more of its fraud stopped than was" in higher
    assert "rarely hears" not in higher


def test_a_tactic_shift_of_one_day_is_one_day():
    days = range(20)
    # Over 7-day means: a two-day rush onto tactic a, then 30 % of attempts for good; the mean
    # passes a tenth of its final rise on day 9 and half of it on day 10.
    mix = [0.0] * 9 + [1.0, 1.0] + [0.3] * 9
    crews = pl.DataFrame(
        {
            "arm": ["static"] * 20,
            "day": list(days),
            "attempts": [100] * 20,
            "tactic_a": mix,
            "tactic_b": [1 - m for m in mix],
        }
    )
    shift = tactic_shift(crews)
    assert (shift.arm, shift.facts["tactic"], shift.facts["began_day"], shift.facts["half_days"]) == (
        "static",
        "a",
        9,
        1,
    )
    # The last seven 7-day means (days 13–19) still hold the rush: (2.9 + 3.2 + 3.5 + 2.8 + 3 × 2.1) / 49.
    assert shift.facts["start"] == 0.0 and shift.facts["end"] == pytest.approx(18.7 / 49)
    assert "half done 1 day later" in shift.text


def test_the_differences_caption_says_which_arms_are_clearly_costlier_by_each_measure():
    def entry(arm: str, cost: tuple[float, float], loss: tuple[float, float]) -> Difference:
        def money(low: float, high: float) -> Interval:
            return Interval((low + high) / 2, low, high)

        return Difference(arm, "oracle", money(*cost), money(0, 0), money(*loss), money(0, 0))

    caption = differences_caption(
        "oracle", [entry("online", (-5.0, 9.0), (2.0, 8.0)), entry("static", (3.0, 9.0), (-4.0, 1.0))], 90
    )
    assert "By total cost, clearly more than oracle: static; no clear difference from oracle: online." in caption
    assert "By fraud loss, clearly more than oracle: online; no clear difference from oracle: static." in caption


def test_a_finding_says_the_difference_by_fraud_loss_too_even_against_the_ranking():
    """oracle is cheaper in total (r = +0.2: it cost 0.2 / 1.2 = 17 % less) but lost more to fraud
    (r = −0.2: 0.2 / 0.8 = 25 % more)."""
    from types import SimpleNamespace

    def share(mean: float, low: float, high: float) -> Interval:
        return Interval(mean, low, high)

    d = Difference(
        "online", "oracle", share(1, 0.5, 2), share(0.2, 0.1, 0.3), share(-1, -2, -0.5), share(-0.2, -0.3, -0.1)
    )
    finding = difference_finding(SimpleNamespace(horizon_days=90.0), d)
    assert (finding.arm, finding.baseline, finding.value, finding.clear) == (
        "online",
        "oracle",
        d.total_cost_relative,
        True,
    )
    assert finding.facts["fraud_loss"] == d.fraud_loss_relative
    assert finding.text == (
        "Over 90 days, oracle cost 17% less than online (95% CI 9% to 23%); "
        "by fraud loss, oracle lost 25% more than online (95% CI 11% to 43%)."
    )


def test_what_stopped_fraud_is_split_and_an_idle_model_is_named():
    """online's declines stop 60 % of the fraud value; static's 2 % (under 5 %: it did little);
    the rules' 1 % is not called a model; cards blocked and crews giving up per replication."""
    from types import SimpleNamespace

    def day(arm, rep, d, attempted, approved, blocked):
        return {
            "arm": arm,
            "replication": rep,
            "day": d,
            "fraud_amount_attempted": attempted,
            "fraud_amount_approved": approved,
            "cards_blocked": blocked,
        }

    daily = pl.DataFrame(
        [
            day(a, r, d, 100.0, 100.0 * (1 - share), blocks)
            for a, share, blocks in (("online", 0.6, 2), ("static", 0.02, 5), ("rules", 0.01, 7))
            for r in (0, 1)
            for d in range(10)
        ]
    )
    crews = pl.DataFrame(
        {
            "arm": ["online"] * 4,
            "replication": [0, 0, 1, 1],
            "day": [3, 9, 9, 9],  # replication 0: crew 0 stopped on day 3; replication 1: none stopped
            "crew": [0, 1, 0, 1],
            "attempts": [5, 5, 5, 5],
        }
    )
    learners = {"online": "online", "static": "static", "rules": "rules"}
    summary = SimpleNamespace(
        ranking=("online", "static", "rules"), arms={a: SimpleNamespace(learner=kind) for a, kind in learners.items()}
    )
    finding = stopped_finding(daily, crews, summary)
    arms = finding.facts["arms"]
    assert list(arms) == ["online", "static", "rules"]  # in the ranking's order
    assert [arms[a]["declined"] for a in arms] == pytest.approx([0.6, 0.02, 0.01])
    assert [arms[a]["cards_blocked"] for a in arms] == [20, 50, 70]  # ten days of blocks, mean of two replications
    assert arms["online"]["crews_gave_up"] == 0.5 and arms["static"]["crews_gave_up"] is None
    assert finding.facts["did_little"] == ["static"]  # rules are not a model
    text = finding.text
    assert "online 60%, 20 cards, 0.5 crews; static 2%, 50 cards; rules 1%, 70 cards." in text
    assert "The model of static did little" in text and "rules did little" not in text
