"""Scoring shortcuts agree with the libraries they stand in for."""

from __future__ import annotations

import numpy as np
import pytest

from sim.detect.features import FEATURES
from sim.detect.models import RiverLogistic, RulesModel, SklearnLogistic
from sim.detect.policy import decide
from sim.schema import Policy, Rules


def _data(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, len(FEATURES))).astype(np.float32)
    X[:, -1] = 0.0  # a constant column: zero variance
    y = (X[:, 0] + rng.normal(size=n) > 2).astype(np.int8)
    return X, y


@pytest.mark.parametrize("scaling", [True, False])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_river_scores_equal_rivers_own(scaling, optimizer):
    X, y = _data()
    model = RiverLogistic(optimizer, 0.05, scaling)
    for chunk in range(0, 3000, 500):
        model.learn(X[chunk : chunk + 500], y[chunk : chunk + 500])
        np.testing.assert_allclose(model.predict_proba(X[:200]), model.predict_proba_river(X[:200]), rtol=0, atol=1e-12)


@pytest.mark.parametrize("scaling", [True, False])
def test_warm_start_reproduces_sklearn(scaling):
    X, y = _data()
    fitted = SklearnLogistic().fit(X, y)
    model = RiverLogistic("sgd", 0.05, scaling)
    model.warm_start(fitted, len(y))
    expected = fitted.pipeline.predict_proba(X.astype(np.float64))[:, 1]
    np.testing.assert_allclose(model.predict_proba_river(X), expected, atol=1e-9)
    np.testing.assert_allclose(model.predict_proba(X), expected, atol=1e-9)


def test_sklearn_shortcut_equals_sklearn():
    X, y = _data()
    weight = np.where(y == 1, 1.0, 3.0)
    fitted = SklearnLogistic().fit(X, y, weight)
    np.testing.assert_allclose(fitted.predict_proba(X), fitted.pipeline.predict_proba(X.astype(np.float64))[:, 1],
                               atol=1e-12)  # fmt: skip


def test_single_class_predicts_its_rate():
    X, _ = _data(100)
    fitted = SklearnLogistic().fit(X, np.zeros(100, np.int8))
    assert not fitted.fitted and np.all(fitted.predict_proba(X) < 1e-5)


def test_rules_fire_on_their_thresholds():
    rules = Rules(max_amount=1000, max_cnp_amount=500, risky_categories=["gift_cards"], max_risky_amount=100,
                  max_velocity=5)  # fmt: skip
    X = np.zeros((5, len(FEATURES)), np.float32)
    amounts = [1200, 600, 150, 50, 50]
    X[:, FEATURES.index("log_amount")] = np.log1p(amounts)
    X[1, FEATURES.index("cnp")] = 1
    X[2, FEATURES.index("category_gift_cards")] = 1
    X[3, FEATURES.index("attempts_1d")] = 6
    assert RulesModel(rules).fires(X).tolist() == [True, True, True, True, False]


def test_policy_threshold_is_the_expected_cost_break_even():
    policy = Policy(fraud_fee=25, decline_fixed=30, decline_rate=0.3)
    amount = np.full(2, 100.0)
    break_even = 60.0 / (125.0 + 60.0)  # p × 125 = (1 − p) × 60
    assert decide(np.array([break_even - 1e-9, break_even + 1e-9]), amount, policy).tolist() == [False, True]
