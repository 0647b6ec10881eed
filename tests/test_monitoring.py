"""Monitoring: drift detectors notice a broken model, the rules take over, the model returns."""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl
import pytest

from sim.cli import main
from sim.detect.monitor import Monitor
from sim.schema import Monitoring
from sim.units import DAY, HOUR

from .conftest import write_scenario


def _monitor(**changes) -> Monitor:
    config = {"detectors": [{"signal": "score", "method": "page_hinkley"}], "recover_after": "1d", **changes}
    return Monitor(Monitoring.model_validate(config))


@pytest.mark.parametrize("method", ["page_hinkley", "adwin", "kswin"])
def test_a_jump_raises_an_alarm_and_stationary_noise_does_not(method):
    rng = np.random.default_rng(1)
    monitor = _monitor(detectors=[{"signal": "score", "method": method}])
    hours = 24 * 10
    for hour in range(hours):  # ten days of stationary noise, with a night-time bump in spread
        spread = 0.0004 if 8 <= hour % 24 <= 20 else 0.0009
        monitor.observe(hour * HOUR, {"score": 0.002 + spread * rng.standard_normal()})
    assert not monitor.events
    for hour in range(hours, hours + 48):  # the model starts returning garbage
        monitor.observe(hour * HOUR, {"score": 0.5 + 0.02 * rng.standard_normal()})
    kinds = [kind for _, kind, _ in monitor.events]
    assert kinds[:2] == ["drift", "fallback"] and monitor.falling_back
    assert monitor.events[0][0] - hours * HOUR <= 12 * HOUR


def test_recovery_needs_a_whole_healthy_window():
    rng = np.random.default_rng(2)
    monitor = _monitor()
    clock = iter(range(10_000))

    def feed(hours, level):
        for _ in range(hours):
            monitor.observe(next(clock) * HOUR, {"score": level + 0.0004 * rng.standard_normal()})

    feed(72, 0.002)
    feed(12, 0.4)
    assert monitor.falling_back
    feed(20, 0.002)  # healthy again, but for less than `recover_after`
    assert monitor.falling_back
    feed(10, 0.002)
    assert not monitor.falling_back and monitor.events[-1][1] == "recover"


def _world(**changes) -> dict:
    world = {
        "name": "fault",
        "seed": 5,
        "horizon": "16d",
        "history": "7d",
        "warmup": "14d",
        "tick": "1h",
        "population": {"customers": 3000, "merchants": 300},
        "labels": {"maturity": {"window": "10d"}, "chargeback": {"window": "10d"}},
        "crews": [{"name": "c", "count": 2, "cards_per_day": 1.0}],
        "monitoring": {"recover_after": "1d", "detectors": [{"signal": "score"}, {"signal": "feature:log_amount"}]},
        "faults": [
            {"kind": "garbage_scores", "start": "5d", "end": "8d", "arms": ["online"]},
            {"kind": "feature_missing", "feature": "log_amount", "start": "4d", "end": "7d", "arms": ["static"]},
        ],
        "arms": [
            {"name": "online", "learner": "online"},
            {"name": "static", "learner": "static"},
            {"name": "untouched", "learner": "static"},
        ],
    }
    world.update(changes)
    return world


@pytest.mark.slow
def test_fault_injection_triggers_fallback_and_recovery(tmp_path):
    path = write_scenario(tmp_path / "fault.toml", _world())
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--quiet", "--no-report", "--workers", "1"]) == 0
    events = pl.read_parquet(out / "model_events.parquet")
    for arm, start, end in (("online", 5 * DAY, 8 * DAY), ("static", 4 * DAY, 7 * DAY)):
        mine = events.filter(pl.col("arm") == arm)
        fallback = mine.filter(pl.col("kind") == "fallback")["time"].to_list()
        recover = mine.filter(pl.col("kind") == "recover")["time"].to_list()
        assert fallback and start <= fallback[0] <= start + DAY, (arm, fallback)
        # Back after about `recover_after` of healthy signals (one tick in ten may be off-band).
        assert recover and end + 0.8 * DAY <= recover[0] <= end + 3 * DAY, (arm, recover)
    daily = pl.read_parquet(out / "daily.parquet")
    online = daily.filter(pl.col("arm") == "online").sort("day")["fallback_transactions"].to_numpy()
    assert online[6:8].min() > 0 and online[:5].sum() == 0 and online[12:].sum() == 0
    assert events.filter((pl.col("arm") == "untouched") & (pl.col("kind") == "fallback")).height == 0
    # Garbage scores decline almost everything until the fallback: it must have cut that short.
    declines = daily.filter(pl.col("arm") == "online").sort("day")["declines"].to_numpy()
    transactions = daily.filter(pl.col("arm") == "online").sort("day")["transactions"].to_numpy()
    assert declines[6] / transactions[6] < 0.05


@pytest.mark.slow
def test_target_decline_rate_matches_friction(tmp_path):
    world = _world(
        monitoring={},
        faults=[],
        horizon="8d",
        policy={"target_decline_rate": 0.01},
        arms=[{"name": "online", "learner": "online"}, {"name": "static", "learner": "static"}],
        # The configured tactics stay: worn out, they would die during this world's first days
        # (a 14-day warm-up against 12-day lifetimes), fraud would fall day after day, and
        # yesterday's quantile would decline less than the target today (0.83-0.86 % at this seed).
        innovation={"classics": "stay"},
    )
    path = write_scenario(tmp_path / "matched.toml", world)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--quiet", "--no-report", "--workers", "1"]) == 0
    daily = pl.read_parquet(out / "daily.parquet").filter(pl.col("day") >= 1)
    share = daily["declines"].sum() / daily["transactions"].sum()
    # Each day's threshold is yesterday's quantile: the share is the target up to day-to-day variation.
    assert share == pytest.approx(0.01, rel=0.15)


def test_the_label_error_signal_measures_the_learner_s_own_scores_on_arriving_labels():
    """The deployed wrapper measures the label error on arriving labels with the learner's own
    scores (not the garbled ones of a garbage-scores fault), never on an oracle's truth, and
    passes a batch on only if the learner's feed asks for it."""
    from sim.detect.deployed import Deployed
    from sim.detect.faults import Faults
    from sim.learn.checks import toy_batch
    from sim.learn.protocol import NOTHING, TRUTH, TRUTH_SOURCE, Batch
    from sim.rng import Streams
    from sim.schema import Fault, Rules

    class Constant:
        name, newest_fraud_at = "constant", 0.0

        def __init__(self, feed):
            self.feed, self.learnt = feed, 0

        def predict_proba(self, batch):
            return np.full(len(batch), 0.25)

        def learn(self, batch):
            self.learnt += 1

    garbage = Faults([Fault(kind="garbage_scores", start=0)], "constant", Streams(1, 0), HOUR)
    monitoring = Monitoring.model_validate({"detectors": [{"signal": "label_error", "method": "page_hinkley"}]})
    batch = toy_batch()
    for feed in (NOTHING, TRUTH):
        learner = Constant(feed)
        deployed = Deployed(learner, garbage, monitoring, Rules(), lambda event: None)
        assert deployed.feed.labels and deployed.feed.truth == feed.truth
        deployed.learn(batch)
        y = batch.labels.value
        expected = -np.mean(y * np.log(0.25) + (1 - y) * np.log(0.75))
        assert deployed._signals["label_error"] == pytest.approx(expected)
        assert learner.learnt == 0  # labels are not this learner's feed
        deployed._signals.clear()
        truth = dataclasses.replace(batch.labels, source=np.full(len(batch), TRUTH_SOURCE, np.int8))
        deployed.learn(Batch(batch.X, batch.now, batch.card, batch.tx_id, truth))
        assert "label_error" not in deployed._signals and learner.learnt == (1 if feed.truth else 0)
