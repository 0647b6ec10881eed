"""Scoring shortcuts agree with the libraries they stand in for."""

from __future__ import annotations

import numpy as np
import pytest

from sim.detect.models import RiverTree, RulesModel, SklearnModel
from sim.detect.policy import decide
from sim.detect.river_logistic import RiverLogistic
from sim.schema import Policy, Rules
from sim.schema.features import FEATURES


def _data(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, len(FEATURES))).astype(np.float32)
    X[:, -1] = 0.0  # a constant column: zero variance
    y = (X[:, 0] + rng.normal(size=n) > 2).astype(np.int8)
    return X, y


@pytest.mark.parametrize("scaling", [True, False])
def test_warm_start_reproduces_sklearn(scaling):
    X, y = _data()
    fitted = SklearnModel().fit(X, y)
    model = RiverLogistic(FEATURES, "sgd", 0.05, scaling)
    model.warm_start(fitted, len(y))
    expected = fitted.predict_proba_sklearn(X)
    np.testing.assert_allclose(model.predict_proba(X), expected, atol=1e-9)
    np.testing.assert_allclose([model.predict_proba_one(x) for x in X[:500].tolist()], expected[:500], atol=1e-9)


@pytest.mark.parametrize("kind", ["logistic", "gbm"])
def test_sklearn_shortcut_equals_sklearn(kind):
    X, y = _data()
    weight = np.where(y == 1, 1.0, 3.0)
    fitted = SklearnModel(kind).fit(X, y, weight)
    np.testing.assert_allclose(fitted.predict_proba(X), fitted.predict_proba_sklearn(X), atol=1e-12)


def test_gradient_boosting_on_bin_numbers_is_scikit_learns_own():
    """The bundled gradient boosting bins its features itself (QuantileBins), at the edges
    scikit-learn would use: fitted with unequal weights, it scores as scikit-learn's own model
    fitted on the raw features, on the rows it learnt from and on new ones. (Were its edges
    other than scikit-learn's, other rows would fall in other bins and the trees would differ.)"""
    from sklearn.base import clone

    X, y = _data(4000, seed=5)
    X[:, 1] = np.round(X[:, 1], 1)  # a column with ties and fewer than 255 distinct values
    weight = np.random.default_rng(6).choice([1.0, 2.5, 7.0], size=len(y))
    ours = SklearnModel("gbm", seed=3).fit(X, y, weight)
    own = clone(ours.estimator).fit(X.astype(np.float64), y, sample_weight=weight)
    new, _ = _data(2000, seed=7)
    for rows in (X, new):
        np.testing.assert_allclose(
            ours.predict_proba(rows), own.predict_proba(rows.astype(np.float64))[:, 1], atol=1e-12
        )


@pytest.mark.parametrize("kind", ["logistic", "gbm"])
def test_class_weight_with_prior_correction_stays_calibrated(kind):
    """Up-weighting fraud ×20, then the prior correction (a log-odds shift, about log 20 for a
    well-specified logistic model) brings the mean probability back to the fraud rate."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(20_000, len(FEATURES))).astype(np.float32)
    y = (rng.random(20_000) < 1 / (1 + np.exp(-(X[:, 0] - 4)))).astype(np.int8)
    plain = SklearnModel(kind).fit(X, y)
    weighted = SklearnModel(kind, class_weight=20.0).fit(X, y)
    if kind == "logistic":
        assert weighted.shift == pytest.approx(np.log(20.0), rel=0.15)
    rate = y.mean()
    assert weighted.predict_proba(X).mean() == pytest.approx(rate, rel=1e-6)
    assert abs(plain.predict_proba(X).mean() - rate) < 0.35 * rate
    assert weighted.predict_proba_sklearn(X).mean() > 3 * rate  # what the shift corrects


def test_river_trees_learn_and_score_rows():
    X, y = _data(2000)
    for kind in ("hoeffding_tree", "forest"):
        model = RiverTree(FEATURES, kind, trees=3, seed=1)
        model.learn(X, y)
        p = model.predict_proba(X[:100])
        assert p.shape == (100,) and np.all((p >= 0) & (p <= 1))
        again = RiverTree(FEATURES, kind, trees=3, seed=1)
        again.learn(X, y)
        np.testing.assert_array_equal(p, again.predict_proba(X[:100]))


def test_single_class_predicts_its_rate():
    X, _ = _data(100)
    fitted = SklearnModel().fit(X, np.zeros(100, np.int8))
    assert not fitted.fitted and np.all(fitted.predict_proba(X) < 1e-5)


def test_rules_fire_on_their_thresholds():
    rules = Rules(
        max_amount=1000, max_cnp_amount=500, risky_categories=["gift_cards"], max_risky_amount=100, max_velocity=5
    )
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
