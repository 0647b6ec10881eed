"""Learners never learn a label before it arrives; batch retrains on schedule."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sim.engine import run_arm, warm_up
from sim.learn.learners import BatchLearner, OnlineLearner
from sim.results import ArmRecorder
from sim.rng import Streams
from sim.scenario import validate

from .conftest import TINY


class Spy:
    """Wraps a learner and checks every call it gets."""

    def __init__(self, inner):
        self.inner = inner
        self.name, self.feedback = inner.name, inner.feedback
        self.calls = 0
        self.latest_now = -np.inf

    @property
    def newest_label_at(self):
        return self.inner.newest_label_at

    def start(self, history):
        self.inner.start(history)

    def predict_proba(self, X):
        return self.inner.predict_proba(X)

    def learn(self, X, y, label_at, tx_id, now):
        assert np.all(label_at <= now), "a label reached the learner before it arrived"
        assert now >= self.latest_now
        self.latest_now = now
        self.calls += 1
        self.inner.learn(X, y, label_at, tx_id, now)

    def at_boundary(self, now):
        return self.inner.at_boundary(now)


@pytest.fixture(scope="module")
def warmed():
    scenario = validate({**TINY, "replications": 1}, "tiny")
    streams = Streams(scenario.seed, 0)
    world, history = warm_up(scenario, streams)
    return scenario, streams, world, history


@pytest.mark.parametrize("arm_name", ["online", "batch", "oracle"])
def test_no_label_before_its_arrival(warmed, arm_name):
    scenario, streams, world, history = warmed
    arm = scenario.arm(arm_name)
    inner = BatchLearner(arm, 1000.0) if arm.learner == "batch" else OnlineLearner(arm)
    spy = Spy(inner)
    run_arm(scenario, arm, streams, world, history, ArmRecorder(scenario, arm_name, 0), learner=spy)
    assert spy.calls > 0


def test_history_is_labelled_and_both_classes_present(warmed):
    _, _, _, history = warmed
    assert len(history.y) > 1000 and 0 < history.y.mean() < 0.5
    assert len(history.arrived_y) > 0 and history.arrived_at.max() <= 0


def test_batch_retrains_every_period_and_deploys_after_lag(warmed):
    scenario, streams, world, history = warmed
    arm = scenario.arm("batch").model_copy(update={"deploy_lag": 3600.0})
    engine = run_arm(scenario, arm, streams, world, history, ArmRecorder(scenario, "batch", 0))
    retrains = [e.time for e in engine.model_events if e.kind == "retrain"]
    deploys = [e.time for e in engine.model_events if e.kind == "deploy"]
    assert retrains == [2 * 86400.0, 4 * 86400.0]
    assert deploys == [t + 3600.0 for t in retrains]
    assert all(e.rows > 0 and e.positives > 0 for e in engine.model_events if e.kind == "retrain")


def test_warm_world_is_not_changed_by_an_arm(warmed):
    scenario, streams, world, history = warmed
    before = world.features.velocity.copy()
    run_arm(scenario, scenario.arm("rules"), streams, world, history, ArmRecorder(scenario, "rules", 0))
    np.testing.assert_array_equal(before, world.features.velocity)


def test_prior_reweighting_damps_a_burst_of_fraud_labels(warmed):
    scenario, _, _, history = warmed
    steady = 0.002  # a realistic share of fraud among arriving labels
    y = (np.random.default_rng(4).random(200_000) < steady).astype(np.int8)
    history = dataclasses.replace(history, y=y)
    arm = scenario.arm("online").model_copy(update={"reweight": "prior"})
    learner = OnlineLearner(arm)
    learner.start(history)
    rng = np.random.default_rng(0)
    steady_hours = 30 * 24
    for hour in range(1, steady_hours):  # a month at the usual fraud share: weights stay near 1
        weights = learner._weights((rng.random(400) < steady).astype(np.int8), hour * 3600.0)
    assert np.all(np.abs(weights - 1) < 0.5)
    for hour in range(steady_hours, steady_hours + 24):  # a day when a fifth of arriving labels say fraud
        weights = learner._weights((rng.random(400) < 0.2).astype(np.int8), hour * 3600.0)
    w_pos, w_neg = learner._weights(np.array([1, 0], np.int8), (steady_hours + 24) * 3600.0)
    assert w_pos < 0.5 and w_neg > 1.0
