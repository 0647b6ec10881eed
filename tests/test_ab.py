"""A/B tests inside the simulation: the split, the routing, the bias decomposition, what crews
do with a weaker arm, coverage of the truth, and what the report says."""

from __future__ import annotations

import copy
import json
import re

import numpy as np
import polars as pl
import pytest
from scipy import stats

from sim.ab.world import ABLearner, arm_b
from sim.cli import main
from sim.experiment import run_replication
from sim.feedback.labels import LabelEvents
from sim.learn.protocol import Batch
from sim.scenario import validate
from sim.summary import Summary
from sim.sweeps import run_point

from .conftest import ROOT, TINY, write_scenario
from .test_outputs import check_columns, documented_tables

# A small world with plenty of fraud, and fast, complete fraud labels (customer reports within
# hours), so that the test's known labels are close to the truth by the read-out.
AB_WORLD = copy.deepcopy(TINY) | {
    "horizon": "14d",
    "replications": 1,
    "population": {"customers": 4000, "merchants": 400},
    "labels": {
        "customer_report": {"share": 1.0, "delay": {"dist": "exponential", "mean": "1h"}},
        "chargeback": {"share": 0.0, "window": "15d"},
        "maturity": {"window": "10d"},
    },
    "arms": [{"name": "online", "learner": "online"}, {"name": "rules", "learner": "rules"}],
}


def _scenario(crew: dict, ab: dict, **changes) -> object:
    return validate(AB_WORLD | {"crews": [crew], "ab": ab} | changes, "test")


def _final(run, variant: str = "test", view: str = "known") -> dict:
    rows = run.ab.daily.filter((pl.col("variant") == variant) & (pl.col("view") == view))
    return rows.filter(pl.col("day") == rows["day"].max()).row(0, named=True)


def test_cards_split_stably_at_the_share():
    """The split is a fixed hash: the same in every call, and B's share of 200,000 cards is
    Binomial(200000, 0.05) / 200000 within 5 standard deviations of 0.05."""
    cards = np.arange(200_000)
    b = arm_b(cards, 0.05)
    assert np.array_equal(b, arm_b(cards, 0.05))
    assert abs(b.mean() - 0.05) < 5 * np.sqrt(0.05 * 0.95 / len(cards))
    assert np.all(arm_b(cards, 0.2)[b])  # a larger share keeps every card of the smaller


class _Spy:
    def __init__(self, name: str, score: float):
        self.name, self.score, self.newest_fraud_at = name, score, 0.0
        self.learned: list[np.ndarray] = []

    def predict_proba(self, batch):
        return np.full(len(batch), self.score)

    def learn(self, batch):
        self.learned.append(batch.labels.tx_id.copy())


def test_the_ab_learner_scores_and_teaches_each_arm_its_own_cards():
    is_b = np.array([False, True, False, True])
    cards_of_tx = np.array([0, 1, 2, 3, 1, 0])  # tx id -> card
    a, b = _Spy("a", 0.1), _Spy("b", 0.9)
    learner = ABLearner(a, b, is_b, pooled=False)
    p = learner.predict_proba(Batch(np.zeros((4, 3)), card=np.array([0, 1, 3, 2])))
    assert p.tolist() == [0.1, 0.9, 0.9, 0.1]
    events = LabelEvents(
        np.arange(6, dtype=np.int64), np.zeros(6, np.int8), np.zeros(6, np.int8), np.zeros(6), np.zeros(6)
    )
    labelled = Batch(np.zeros((6, 3)), 0.0, cards_of_tx, events.tx_id, events)
    learner.learn(labelled)
    assert a.learned[0].tolist() == [0, 2, 5] and b.learned[0].tolist() == [1, 3, 4]
    pooled = ABLearner(a, b, is_b, pooled=True)
    pooled.learn(labelled)
    assert a.learned[1].tolist() == b.learned[1].tolist() == list(range(6))


def test_the_bias_sources_add_up_to_the_bias(tmp_path):
    """Per replication the parts telescope to read-out − truth, so their means add up exactly."""
    data = AB_WORLD | {
        "replications": 2,
        "horizon": "6d",
        "crews": TINY["crews"],
        "ab": {"a": "online", "b": "rules", "share_b": 0.3},
    }
    out = tmp_path / "run"
    assert (
        main(
            [
                "run",
                str(write_scenario(tmp_path / "ab.toml", data)),
                "--out",
                str(out),
                "--quiet",
                "--workers",
                "1",
                "--no-report",
            ]
        )
        == 0
    )
    ab = json.loads((out / "summary.json").read_text())["ab"]
    for figure in ("fraud_loss", "total_cost"):
        sources = ab[figure]["bias_sources"]
        assert set(sources) == {"label_delay", "own_labels", "crews", "other"}
        assert sum(s["mean"] for s in sources.values()) == pytest.approx(ab[figure]["bias"]["mean"], abs=1e-5)
        assert ab[figure]["bias"]["mean"] == pytest.approx(
            ab[figure]["estimate"]["mean"] - ab[figure]["truth"]["mean"], abs=1e-5
        )
    check_columns(out / "ab_daily.parquet", documented_tables()["ab_daily.parquet"])
    documented = re.search(r"^\| `ab` \| (.*)$", (ROOT / "docs" / "outputs.md").read_text(), re.M).group(1)
    for key in [*ab, *ab["fraud_loss"], *ab["plan"]]:
        assert f"`{key}`" in documented, key
    daily = pl.read_parquet(out / "ab_daily.parquet")
    assert set(daily["variant"].unique()) == {"test", "pooled", "static"}
    assert daily.height == 3 * 2 * 6 * 2  # variants × replications × days × views


@pytest.mark.slow
def test_card_testers_concentrate_on_the_weaker_arms_cards():
    """Card testers cash out only cards whose tests pass, so with the rules on 5 % of cards the
    crews' share of attempts on those cards rises above 5 %. Without it, B's share of attempts
    is B's share of stolen cards: about 0.05 with a relative spread near 20 % per run (some 30
    of 600 stolen cards land in B, and attempts per card vary), about 12 % over three runs; so
    1.5 × 0.05 is more than 4 standard deviations above it. Crews frozen to their tactic mix in
    the same worlds stay lower."""
    ab = {"a": "online", "b": "rules", "share_b": 0.05, "decompose": False}
    slow_reports = {"labels": TINY["labels"]}  # cards stay usable for days, as in life
    testers = _scenario(
        {"name": "testers", "strategy": "card_testing", "count": 4, "cards_per_day": 10}, ab, **slow_reports
    )
    static = _scenario({"name": "testers", "strategy": "static", "count": 4, "cards_per_day": 10}, ab, **slow_reports)
    tested = [_final(run_replication(testers, r))["b_share_of_crew_attempts"] for r in range(3)]
    fixed = [_final(run_replication(static, r))["b_share_of_crew_attempts"] for r in range(3)]
    assert np.mean(tested) > 1.5 * 0.05
    assert np.mean(tested) > np.mean(fixed)


@pytest.mark.slow
def test_with_static_crews_and_pooled_labels_the_interval_covers_the_truth():
    """Twenty replications: the test's 95 % interval (clustered by card, from the labels known at
    the read-out) should cover the replication's truth (each detector alone in its own world)
    about 95 % of the time: at least 15 of 20 fails with probability 0.3 % under Binomial(20,
    0.95). And the intervals are not merely wide: Σ z² over the 20 runs, z = (estimate − truth) /
    standard error, stays above χ²₂₀'s 0.1 % quantile."""
    ab = {"a": "online", "b": "rules", "share_b": 0.3, "labels": "pooled", "decompose": False}
    scenario = _scenario({"name": "static", "strategy": "static", "count": 4, "cards_per_day": 10}, ab)
    covered, z2 = 0, 0.0
    for r in range(20):
        run = run_replication(scenario, r)
        final, truth = _final(run), run.ab.truth["test"]["fraud_loss"]
        covered += final["fraud_loss_low"] <= truth <= final["fraud_loss_high"]
        se = (final["fraud_loss_high"] - final["fraud_loss_low"]) / (2 * stats.norm.ppf(0.975))
        z2 += ((final["fraud_loss_diff"] - truth) / se) ** 2
    assert covered >= 15
    assert z2 > stats.chi2.ppf(0.001, 20)


@pytest.fixture(scope="module")
def ab_run(tmp_path_factory):
    """A short run with an A/B test, and its report."""
    data = AB_WORLD | {
        "replications": 2,
        "horizon": "5d",
        "crews": [{"name": "testers", "strategy": "card_testing", "count": 2, "cards_per_day": 8}],
        "ab": {"a": "online", "b": "rules", "share_b": 0.05, "decompose": False},
    }
    folder = tmp_path_factory.mktemp("ab")
    out = folder / "run"
    assert (
        main(["run", str(write_scenario(folder / "ab.toml", data)), "--out", str(out), "--quiet", "--workers", "1"])
        == 0
    )
    return out


def test_the_report_states_the_test_its_bias_and_its_plan(ab_run):
    out = ab_run
    ab = json.loads((out / "summary.json").read_text())["ab"]
    bias = ab["fraud_loss"]["bias"]
    assert bias["ci_low"] is not None and bias["ci_low"] <= bias["mean"] <= bias["ci_high"]
    page = (out / "index.html").read_text()
    assert "A/B test: the estimate against the truth" in page
    assert "so the test is off by" in page and "Do crews find the weaker arm?" not in page  # titles live in PNGs
    assert "would plan for" in page and f"{ab['plan']['transactions_needed']:,} transactions" in page
    for name in ("ab_estimate.png", "ab_bias.png", "ab_crews.png"):
        assert (out / name).stat().st_size > 10_000


def test_the_ab_sections_escape_their_words_exactly_once(ab_run, tmp_path, monkeypatch):
    """The A/B sections' captions and finding read back from the page exactly as written (the
    captions' apostrophes not escaped twice), and markup in a caption stays text."""
    import shutil

    from sim.report import ab as ab_report
    from sim.report.html import build_report

    from .pages import MARKUP, assert_escaped_once

    out = shutil.copytree(ab_run, tmp_path / "run")
    monkeypatch.setattr(ab_report, "sources_caption", lambda ab, currency: MARKUP)
    page = build_report(out).read_text(encoding="utf-8")
    summary = Summary.from_json(json.loads((out / "summary.json").read_text()))
    ab, currency = summary.ab, summary.currency
    words = [
        ab_report.estimate_caption(ab, currency) + " " + ab_report.plan_text(ab, currency),
        ab_report.crews_caption(ab),
        ab_report.finding(ab, currency).text,
    ]
    finding = ab_report.finding(ab, currency)
    assert (finding.arm, finding.baseline, finding.value) == (ab.b, ab.a, ab.fraud_loss.bias)
    assert (finding.facts["estimate"], finding.facts["truth"]) == (
        ab.fraud_loss.estimate.mean,
        ab.fraud_loss.truth.mean,
    )
    assert all("'" in text for text in words[:2])  # so that escaping them twice would show
    parsed = assert_escaped_once(page, MARKUP, *words)
    assert MARKUP in parsed.by_tag["figcaption"] and words[0] in parsed.by_tag["figcaption"]


@pytest.mark.parametrize(
    "ab, message",
    [
        ({"a": "online", "b": "nope"}, "ab: b = 'nope' is not an arm"),
        ({"a": "online", "b": "online"}, "must be different arms"),
        ({"a": "online", "b": "oracle"}, "is an oracle"),
        ({"a": "online", "b": "static", "policy": {"target_decline_rate": 0.02}}, "target_decline_rate"),
    ],
)
def test_bad_ab_sections_are_clear_errors(tmp_path, capsys, ab, message):
    policy = ab.pop("policy", None)
    data = copy.deepcopy(TINY) | {"ab": ab} | ({"policy": policy} if policy else {})
    assert main(["validate", str(write_scenario(tmp_path / "bad.toml", data))]) == 2
    assert message in capsys.readouterr().err


def test_a_sweep_point_carries_the_tests_read_out():
    scenario = _scenario(
        {"name": "static", "count": 2, "cards_per_day": 5},
        {"a": "online", "b": "rules", "share_b": 0.3, "decompose": False},
        horizon="3d",
    )
    rows = run_point(scenario, 0).rows
    columns = ["ab_estimate", "ab_low", "ab_high", "ab_eventual", "ab_truth", "ab_b_share_of_crew_attempts"]
    assert rows.columns[-len(columns) :] == columns
    assert rows.select(columns).n_unique() == 1  # the same on every arm's row
    row = rows.row(0, named=True)
    assert row["ab_low"] <= row["ab_estimate"] <= row["ab_high"] and 0 <= row["ab_b_share_of_crew_attempts"] <= 1
