"""Learners never learn a label before it arrives; batch retrains on schedule."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sim.engine import run_arm, warm_up
from sim.learn.learners import OnlineLearner, from_arm
from sim.learn.protocol import Batch
from sim.results import ArmRecorder
from sim.rng import LABEL_WINDOW_SALT, Streams, uniform_hash
from sim.scenario import validate

from .conftest import TINY


class Spy:
    """Wraps a learner and checks every call it gets."""

    def __init__(self, inner):
        self.inner = inner
        self.name, self.feed = inner.name, inner.feed
        self.calls = 0
        self.latest_now = -np.inf

    @property
    def newest_fraud_at(self):
        return self.inner.newest_fraud_at

    def start(self, history):
        self.inner.start(history)

    def predict_proba(self, batch):
        return self.inner.predict_proba(batch)

    def learn(self, batch):
        events, now = batch.labels, batch.now
        assert np.all(events.label_at <= now), "a label reached the learner before it arrived"
        assert len(batch) == len(events) and now >= self.latest_now
        self.latest_now = now
        self.calls += 1
        self.inner.learn(batch)

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
    spy = Spy(from_arm(arm, scenario.rules, 1000.0))
    run_arm(scenario, arm, streams, world, history, ArmRecorder(scenario, arm_name, 0), learner=spy)
    assert spy.calls > 0


def test_history_is_labelled_and_both_classes_present(warmed):
    _, _, _, history = warmed
    assert len(history.y) > 1000 and 0 < history.y.mean() < 0.5
    assert len(history.arrived) > 0 and history.arrived.label_at.max() <= 0


def test_the_history_does_not_depend_on_the_other_arms():
    """Every first model learns the history's eventual labels, whatever batch windows the arms
    have: a batch arm with a short window (or none at all) must not drop labels that arrived early."""
    base = {**TINY, "replications": 1, "warmup": "40d"}
    online = {"name": "online", "learner": "online"}
    short = {"name": "short", "learner": "batch", "every": "2d", "window": "2d"}
    histories = [
        warm_up(scenario, Streams(scenario.seed, 0))[1]
        for scenario in (validate({**base, "arms": arms}, "tiny") for arms in ([online], [online, short]))
    ]
    alone, with_batch = histories
    assert alone.y.sum() > 50  # the history's fraud, reports arriving within days included
    assert np.array_equal(alone.y, with_batch.y) and np.array_equal(alone.X, with_batch.X)


def test_a_capped_history_keeps_every_fraud_and_a_weighted_sample_of_the_rest(warmed):
    """Above ``history_rows`` the history subsamples legitimate rows by a stable hash and weighs
    each back; fraud rows are all kept, so the first models learn the same fraud rate."""
    scenario, _, _, full = warmed
    assert full.weight is None  # 7,000 rows, under the default cap: every row kept, unweighted
    capped_scenario = scenario.model_copy(update={"history_rows": 1000})
    capped = warm_up(capped_scenario, Streams(scenario.seed, 0))[1]
    fraud = full.labels.tx_id[full.y == 1]
    assert np.array_equal(np.sort(capped.labels.tx_id[capped.y == 1]), np.sort(fraud))
    keep = 1000 / (scenario.population.customers * scenario.population.tx_per_customer_day * 7)
    # Exactly the full history's rows that the rule keeps, with the same labels.
    chosen = (full.y == 1) | (uniform_hash(full.labels.tx_id, LABEL_WINDOW_SALT) < keep)
    assert np.array_equal(capped.labels.tx_id, full.labels.tx_id[chosen])
    assert np.array_equal(capped.y, full.y[chosen]) and np.array_equal(capped.X, full.X[chosen])
    legit = int((full.y == 0).sum())
    kept = int((capped.y == 0).sum())
    assert abs(kept - keep * legit) < 5 * np.sqrt(legit * keep * (1 - keep))  # binomial, five sigma
    assert np.allclose(capped.weight[capped.y == 0], 1 / keep) and (capped.weight[capped.y == 1] == 1).all()
    # At the weighted fit's optimum the weighted mean probability is the weighted fraud share.
    model = capped.first_model("logistic")
    p = model.predict_proba(capped.X)
    share = capped.frauds / capped.events
    assert np.average(p, weights=capped.weight) == pytest.approx(share, rel=0.01)


BATCH = {"name": "batch", "learner": "batch", "every": "2d", "window": "7d", "max_rows": 2000}


@pytest.mark.parametrize("arms", [[BATCH], []], ids=["batch-static-oracle", "static-oracle"])
def test_keeping_only_the_features_learners_read_changes_nothing(monkeypatch, arms):
    """The store keeps the features of the rows each learner may read (a batch window's share,
    none for static; the history's share from its start); a run that keeps every row's features
    gives the same bytes."""
    import sim.engine

    arms = [*arms, {"name": "static", "learner": "static"}, {"name": "oracle", "learner": "oracle"}]
    scenario = validate({**TINY, "replications": 1, "history_rows": 1000, "arms": arms}, "tiny")

    def run():
        streams = Streams(scenario.seed, 0)
        world, history = warm_up(scenario, streams)
        daily = []
        for arm in scenario.arms:
            recorder = ArmRecorder(scenario, arm.name, 0)
            run_arm(scenario, arm, streams, world, history, recorder)
            daily.append(recorder.daily())
        return world.store.keep_share, history, daily

    share, sparse_history, sparse = run()
    assert share < 0.5  # the warm-up kept a sample of the rows' features
    monkeypatch.setattr(sim.engine, "feature_share", lambda arm, scenario: 1.0)
    monkeypatch.setattr(sim.engine, "warmup_feature_share", lambda scenario, in_history: 1.0)
    share, dense_history, dense = run()
    assert share == 1.0
    assert np.array_equal(sparse_history.X, dense_history.X)
    assert np.array_equal(sparse_history.arrived_X, dense_history.arrived_X)
    for a, b in zip(sparse, dense, strict=True):
        assert a.equals(b)


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
        weights = learner.weights((rng.random(400) < steady).astype(np.int8), hour * 3600.0)
    assert np.all(np.abs(weights - 1) < 0.5)
    for hour in range(steady_hours, steady_hours + 24):  # a day when a fifth of arriving labels say fraud
        weights = learner.weights((rng.random(400) < 0.2).astype(np.int8), hour * 3600.0)
    w_pos, w_neg = learner.weights(np.array([1, 0], np.int8), (steady_hours + 24) * 3600.0)
    assert w_pos < 0.5 and w_neg > 1.0


LEARNER_ARMS = [
    {"name": "online-laplace", "learner": "online"},
    {"name": "online-logistic", "learner": "online", "model": "logistic"},
    {"name": "online-tree", "learner": "online", "model": "hoeffding_tree", "negative_share": 0.2},
    {"name": "online-forest", "learner": "online", "model": "forest", "trees": 3, "negative_share": 0.1},
    {"name": "batch-logistic", "learner": "batch", "every": "2d", "window": "7d"},
    {
        "name": "batch-gbm",
        "learner": "batch",
        "model": "gbm",
        "every": "3d",
        "window": "7d",
        "class_weight": "balanced",
    },
    {"name": "hybrid", "learner": "hybrid", "every": "3d", "window": "7d"},
    {"name": "split", "learner": "split", "every": "3d", "window": "7d", "feedback_window": "7d"},
    {"name": "static-gbm", "learner": "static", "model": "gbm"},
    {"name": "oracle", "learner": "oracle", "censored": True},
    {"name": "oracle-refit", "learner": "oracle", "model": "logistic"},
    {"name": "rules", "learner": "rules"},
]


@pytest.fixture(scope="module")
def contract_world():
    scenario = validate({**TINY, "replications": 1, "horizon": "4d", "arms": LEARNER_ARMS}, "contract")
    streams = Streams(scenario.seed, 0)
    world, history = warm_up(scenario, streams)
    return scenario, streams, world, history


@pytest.mark.slow
@pytest.mark.parametrize("arm_name", [arm["name"] for arm in LEARNER_ARMS])
def test_every_learner_passes_the_contract(contract_world, arm_name):
    """Seeded determinism, never a label before its arrival, and picklable (for process pools)."""
    import pickle

    from sim.engine import arm_learner, transactions_per_day

    scenario, streams, world, history = contract_world
    arm = scenario.arm(arm_name)
    tables = []
    for _ in range(2):
        spy = Spy(arm_learner(scenario, arm, streams, transactions_per_day(scenario)))  # seeded as the engine seeds it
        recorder = ArmRecorder(scenario, arm_name, 0)
        run_arm(scenario, arm, streams, world, history, recorder, learner=spy)
        tables.append(recorder.daily())
        pickle.loads(pickle.dumps(spy.inner))
    assert tables[0].equals(tables[1])
    if arm.learner in ("online", "batch", "hybrid", "split", "oracle"):
        assert spy.calls > 0


def test_hybrid_recalibrates_a_miscalibrated_model(contract_world):
    from sim.feedback.labels import LabelEvents
    from sim.learn.learners import HybridLearner

    scenario, _, _, history = contract_world
    learner = HybridLearner(scenario.arm("hybrid"), 1000.0)
    learner.start(history)
    X = history.X[:400]
    scores = learner.predict_proba(Batch(X))
    before = scores.mean()
    rng = np.random.default_rng(0)
    for hour in range(200):  # labels say fraud ten times less often than the model thinks, row by row
        y = (rng.random(400) < scores / 10).astype(np.int8)
        events = LabelEvents(
            np.arange(400) + hour * 400, np.full(400, 4, np.int8), y, np.full(400, hour * 3600.0), np.zeros(400)
        )
        learner.learn(Batch(X, hour * 3600.0, labels=events))
    after = learner.predict_proba(Batch(X)).mean()
    assert after < before / 3
    # logit(p / 10) ≈ logit(p) − ln 10 for small p: the true slope is near 1, so a recalibration that
    # follows the labels keeps the ranking (a slope above 0; its steps have not converged after 200 hours)
    assert learner._slope > 0


def test_split_learner_averages_a_feedback_and_a_delayed_model(contract_world):
    from sim.feedback.labels import SOURCE_CODE, LabelEvents
    from sim.learn.learners import SplitLearner, _Average

    scenario, _, _, history = contract_world
    learner = SplitLearner(scenario.arm("split"), 1000.0)
    learner.start(history)
    rng = np.random.default_rng(1)
    n = 600
    X = history.X[:n]
    source = np.where(np.arange(n) < 200, SOURCE_CODE["investigator"], SOURCE_CODE["maturity"]).astype(np.int8)
    y = np.where(np.arange(n) < 200, rng.random(n) < 0.4, rng.random(n) < 0.05).astype(np.int8)
    learner.learn(Batch(X, 3600.0, labels=LabelEvents(np.arange(n), source, y, np.full(n, 3600.0), np.zeros(n))))
    events = learner.at_boundary(scenario.arm("split").every)
    assert [e.kind for e in events] == ["retrain", "deploy"] and events[0].rows >= n  # plus the history's arrivals
    assert isinstance(learner._model, _Average) and learner._model.weight == 0.5
    # The feedback model (fraud-rich alerts) is shifted down to the delayed labels' base rate.
    assert learner._model.first.shift < -1.0


def test_a_retrain_without_enough_labels_of_a_class_keeps_the_serving_model(tiny_file, tmp_path, capsys):
    """Never deploy a model that could not learn: with `min_labels` above what any window holds,
    every retrain is skipped (with its reason), nothing is deployed, and the run says so."""
    import json

    import polars as pl

    from sim.cli import main

    out = tmp_path / "run"
    assert (
        main(
            [
                "run",
                str(tiny_file),
                "--out",
                str(out),
                "--no-report",
                "--workers",
                "1",
                "--set",
                'arms=[{name="batch",learner="batch",every="1d",window="3d",min_labels=100000}]',
            ]
        )
        == 0
    )
    events = pl.read_parquet(out / "model_events.parquet")
    assert set(events["kind"]) == {"skipped"}
    assert events["detail"].str.contains("min_labels").all()
    summary = json.loads((out / "summary.json").read_text())
    assert "skipped" in summary["warnings"][0]
    assert "retrain(s) skipped" in capsys.readouterr().err


def test_the_oracle_and_static_deploy_the_same_model_at_the_start(warmed):
    """docs/calibration.md measures static's ROC AUC fall against the oracle's as the oracle's
    lead once static's tactics are gone, because at t = 0 the two score alike: the oracle's
    Laplace belief starts at the weights of static's model."""
    scenario, _, _, history = warmed
    arms = [
        a
        for a in validate(
            {**TINY, "arms": [{"name": "o", "learner": "oracle"}, {"name": "s", "learner": "static"}]}, "t"
        ).arms
    ]
    oracle, static = (from_arm(arm, scenario.rules, 1000.0, seed=1) for arm in arms)
    for learner in (oracle, static):
        learner.start(history)
    batch = Batch(history.X[-2000:], now=0.0)
    np.testing.assert_allclose(oracle.predict_proba(batch), static.predict_proba(batch), rtol=1e-9, atol=1e-12)
    assert np.ptp(static.predict_proba(batch)) > 0.01  # a model, not a constant


def test_batch_rows_are_weighted_by_age_within_each_class():
    """The window's training weights halve every halflife of a transaction's age, and each class
    keeps its total weight (so the fraud rate the model learns, its calibration, is unchanged)."""
    from sim.feedback.labels import SOURCE_CODE, LabelEvents
    from sim.learn.learners import LabelWindow

    day = 86400.0
    tx_time = np.array([0.0, 14 * day, 28 * day, -90 * day, -76 * day, -62 * day])
    y = np.array([1, 1, 1, 0, 0, 0], np.int8)
    events = LabelEvents(np.arange(6), np.full(6, SOURCE_CODE["chargeback"], np.int8), y, np.full(6, 28 * day), tx_time)
    window = LabelWindow(keep_negative=1.0)
    window.add(np.zeros((6, 2), np.float32), events)
    _, y_out, plain, _ = window.select(28 * day, 60 * day)
    _, _, aged, _ = window.select(28 * day, 60 * day, halflife=14 * day)
    np.testing.assert_array_equal(plain, np.ones(6))
    for label in (0, 1):
        mine = y_out == label
        assert aged[mine].sum() == pytest.approx(plain[mine].sum())
        np.testing.assert_allclose(aged[mine] / aged[mine].max(), [0.25, 0.5, 1.0])  # oldest first


def test_staleness_is_the_age_of_the_newest_fraud_learnt_not_of_the_last_label(warmed):
    """A maturity label arriving today is about a transaction 90 days old: it must not make the
    model look fresh. Only a fraud label moves the model's newest fraud, to its transaction's time."""
    from sim.feedback.labels import SOURCE_CODE, LabelEvents

    scenario, _, _, history = warmed
    learner = OnlineLearner(scenario.arm("online"))
    learner.start(history)
    start = learner.newest_fraud_at
    fraud_times = history.labels.tx_time[history.y == 1]
    assert start == fraud_times.max() and start <= 0  # the history's newest fraud

    def arrive(tx_time: float, value: int, source: str, now: float) -> None:
        events = LabelEvents(
            np.array([10**9 + int(now)]),
            np.array([SOURCE_CODE[source]], np.int8),
            np.array([value], np.int8),
            np.array([now]),
            np.array([tx_time]),
        )
        X = history.X[:1]
        learner.learn(Batch(X, now, np.zeros(1, np.int32), events.tx_id, events))

    arrive(-80 * 86400.0, 0, "maturity", 10 * 86400.0)  # a legitimate label of an old transaction
    assert learner.newest_fraud_at == start
    arrive(8 * 86400.0, 1, "customer_report", 10 * 86400.0)  # fraud of two days ago, reported today
    assert learner.newest_fraud_at == 8 * 86400.0
    arrive(5 * 86400.0, 1, "chargeback", 11 * 86400.0)  # an older fraud, charged back later
    assert learner.newest_fraud_at == 8 * 86400.0
