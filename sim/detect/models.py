"""Models that turn a feature matrix into fraud probabilities.

Each has ``predict_proba(X) -> p``. River models also ``learn(X, y, weight)``
from a batch of label events; scikit-learn models are ``fit`` on a whole
training set. Every model takes the names of its feature columns, so the same
classes serve simulations and replays of users' own data.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
from threadpoolctl import threadpool_limits

from ..schema import CATEGORIES, Rules
from ..schema.features import COLUMN, FEATURES, NUMERIC_FEATURES

if TYPE_CHECKING:
    import river.preprocessing


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-15, 1 - 1e-15)
    return np.log(p / (1 - p))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _scaler_learn_many(scaler: river.preprocessing.StandardScaler, columns: list[str], X: np.ndarray) -> None:
    """river's ``StandardScaler.learn_many`` (no window) on a numpy matrix, as river computes it
    once it has turned its frame into one."""
    new_means = np.nanmean(X, axis=0)
    new_vars = np.einsum("ij,ij->j", X, X) / len(X) - new_means**2 if scaler.with_std else []
    new_counts = np.sum(~np.isnan(X), axis=0)
    for k, col in enumerate(columns):
        old_mean, old_count = scaler.means[col], scaler.counts[col]
        a = old_count / (old_count + new_counts[k])
        b = new_counts[k] / (old_count + new_counts[k])
        scaler.means[col] = (a * old_mean + b * new_means[k]).item()
        if scaler.with_std:
            old_var = scaler.vars[col]
            scaler.vars[col] = (a * old_var + b * new_vars[k] + a * b * (old_mean - new_means[k]) ** 2).item()
        scaler.counts[col] += new_counts[k].item()


class RiverLogistic:
    """river's ``StandardScaler | LogisticRegression``, learning one batch per call.

    Scoring reads the model's weights into numpy once per update and applies
    the same arithmetic as river's ``predict_proba_many``; a test pins the two
    together.
    """

    def __init__(
        self,
        features: Sequence[str] = FEATURES,
        optimizer: str = "sgd",
        lr: float = 0.002,
        scaling: bool = True,
        intercept_lr: float | None = None,
    ):
        self.features = list(features)
        self.optimizer = optimizer
        self.lr = lr
        self.intercept_lr = lr if intercept_lr is None else intercept_lr
        self.scaling = scaling
        from river import linear_model, optim, preprocessing  # here: river.linear_model imports scipy.stats

        make = {"sgd": optim.SGD, "adam": optim.Adam}[optimizer]
        self._regression = linear_model.LogisticRegression(optimizer=make(lr), intercept_lr=self.intercept_lr)
        self._scaler = preprocessing.StandardScaler() if scaling else None
        self.pipeline = (self._scaler | self._regression) if scaling else self._regression
        self._compiled: tuple[np.ndarray, np.ndarray, np.ndarray, float] | None = None
        self.n_learned = 0

    def _frame(self, X: np.ndarray) -> pl.DataFrame:
        return pl.from_numpy(X, schema=self.features, orient="row")

    def learn(self, X: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None) -> None:
        """One river ``learn_many`` step on a batch: the scaler's statistics, then one gradient step
        whose gradient is the *sum* over the batch (river's mean, with every row weighted by the
        batch size). To first order that is one SGD step per row, so the learning rate is per
        event and a lone fraud label is not diluted by the hundreds of maturity labels beside it.

        The step is river's own arithmetic on numpy arrays, without the polars frames river's
        ``learn_many`` takes and converts back: the scaler's batch statistics as in
        ``StandardScaler.learn_many``, then the regression's ``_fit`` with its
        ``_eval_gradient_many``, on the column-major matrix river's frames give. The model ends in
        the state river's ``learn_many`` leaves, bit for bit (``tests/test_fast_learning.py``)."""
        if len(y) == 0:
            return
        X = np.asfortranarray(X, dtype=np.float64)  # the layout river's frames give: the same sums, bit for bit
        w = (np.ones(len(y)) if weight is None else weight.astype(np.float64)) * len(y)
        if self._scaler is not None:
            _scaler_learn_many(self._scaler, self.features, X)
            self._compiled = None
            X = self._scale(X)  # river's transform_many arithmetic
        regression, columns = self._regression, self.features
        regression._y_name = "y"  # what river's learn_many records of the target series
        saved = regression._enter_learn_mode(set(columns))
        try:
            regression._fit(
                x=columns, y=y.astype(bool), w=w, get_grad=functools.partial(regression._eval_gradient_many, X)
            )
        finally:
            regression._exit_learn_mode(saved)
        self._compiled = None
        self.n_learned += len(y)

    def _compile(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """The model as numpy arrays: scaler means and deviations, weights, intercept."""
        if self._compiled is None:
            columns = self.features
            if self._scaler is not None:
                means = np.array([self._scaler.means[c] for c in columns], dtype=np.float64)
                stds = np.array([self._scaler.vars[c] ** 0.5 for c in columns], dtype=np.float64)
            else:
                means, stds = np.zeros(len(columns)), np.zeros(len(columns))
            weights = self._regression._weights.to_numpy(columns)
            self._compiled = (means, stds, weights, float(self._regression.intercept))
        return self._compiled

    def _scale(self, X: np.ndarray) -> np.ndarray:
        means, stds, _, _ = self._compile()
        Xt = X - means
        np.divide(Xt, stds, where=stds > 0, out=Xt)
        return Xt

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        _, _, weights, intercept = self._compile()
        Xt = self._scale(X.astype(np.float64)) if self._scaler is not None else X.astype(np.float64)
        return _sigmoid(Xt @ weights + intercept)

    def predict_proba_river(self, X: np.ndarray) -> np.ndarray:
        """The same scores through river's own ``predict_proba_many`` (slow; for tests)."""
        return self.pipeline.predict_proba_many(self._frame(X.astype(np.float64)))["True"].to_numpy()

    def warm_start(self, fitted: SklearnModel, n_rows: int) -> None:
        """Become exactly a fitted scikit-learn logistic model (same scaling, weights and intercept)."""
        self._compiled = None
        if not fitted.fitted:
            self._regression.intercept = float(_logit(np.array([fitted.constant]))[0])
            return
        scaler, regression = fitted.estimator[0], fitted.estimator[-1]
        coef = regression.coef_[0]
        intercept = float(regression.intercept_[0]) - fitted.shift
        for i, name in enumerate(self.features):
            if self._scaler is not None:
                self._scaler.counts[name] = n_rows
                self._scaler.means[name] = float(scaler.mean_[i])
                self._scaler.vars[name] = float(scaler.var_[i])
                self._regression._weights[name] = float(coef[i])
            else:  # fold the scaling into the weights
                self._regression._weights[name] = float(coef[i] / scaler.scale_[i])
        if self._scaler is None:
            intercept -= float(np.dot(coef / scaler.scale_, scaler.mean_))
        self._regression.intercept = intercept


class RiverTree:
    """river's Hoeffding adaptive tree or adaptive random forest, learning and scoring row by row."""

    def __init__(self, features: Sequence[str] = FEATURES, kind: str = "hoeffding_tree", trees: int = 5, seed: int = 0):
        self.features = list(features)
        self.kind = kind
        # Imported here, not at the top: river's trees pull in scipy.stats, half a second at start-up.
        if kind == "forest":
            from river.forest import ARFClassifier

            self.model = ARFClassifier(n_models=trees, seed=seed)
        else:
            from river.tree import HoeffdingAdaptiveTreeClassifier

            self.model = HoeffdingAdaptiveTreeClassifier(seed=seed)
        self.n_learned = 0

    def _rows(self, X: np.ndarray):
        names = self.features
        return (dict(zip(names, row, strict=True)) for row in X.astype(np.float64).tolist())

    def learn(self, X: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None) -> None:
        weights = np.ones(len(y)) if weight is None else weight
        for row, label, w in zip(self._rows(X), y.tolist(), weights.tolist(), strict=True):
            self.model.learn_one(row, bool(label), w=w)
        self.n_learned += len(y)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return np.array([self.model.predict_proba_one(row).get(True, 0.0) for row in self._rows(X)], np.float64)


def _prior_shift(z: np.ndarray, y: np.ndarray, weight: np.ndarray, start: float) -> float:
    """The log-odds shift s with Σ w σ(z − s) = Σ w y: after fitting with fraud up-weighted, the
    probabilities are brought back to the true fraud rate (the prior correction; s = log of the
    weight for a well-specified model at its optimum). Newton steps from ``start``."""
    target = float(np.dot(weight, y))
    shift = start
    for _ in range(50):
        p = _sigmoid(z - shift)
        gap = float(np.dot(weight, p)) - target
        slope = float(np.dot(weight, p * (1 - p)))
        if slope <= 0 or abs(gap) < 1e-9 * max(target, 1.0):
            break
        shift += gap / slope
    return shift


class SklearnModel:
    """scikit-learn's standardised logistic regression or histogram gradient boosting, fitted
    with sample weights; with a class weight, the prior correction shifts the log-odds back."""

    def __init__(self, kind: str = "logistic", class_weight: float | str | None = None, seed: int = 0):
        self.kind = kind
        self.class_weight = class_weight
        # scikit-learn is imported by the first batch model, not at start-up (about 0.7 s).
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        if kind == "gbm":
            self.estimator = HistGradientBoostingClassifier(
                max_iter=150,
                learning_rate=0.1,
                max_leaf_nodes=31,
                l2_regularization=1.0,
                early_stopping=False,
                random_state=seed,
            )
        else:
            self.estimator = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))
        self.fitted = False
        self.n_features_in = 0
        self.constant = 0.5
        self.shift = 0.0  # log of the fraud weight applied while fitting (the prior correction)

    def fit(self, X: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None) -> SklearnModel:
        y = y.astype(int)
        self.n_features_in = X.shape[1]
        weight = np.ones(len(y)) if weight is None else weight.astype(np.float64)
        if len(np.unique(y)) < 2:  # one class only: predict its (weighted) rate
            self.constant = float(np.clip(np.average(y, weights=weight), 1e-6, 1 - 1e-6)) if len(y) else 0.5
            self.fitted = False
            return self
        factor = 1.0
        if self.class_weight == "balanced":
            factor = float(weight[y == 0].sum() / weight[y == 1].sum())
        elif self.class_weight is not None:
            factor = float(self.class_weight)
        self.shift = 0.0
        key = "logisticregression__sample_weight" if self.kind == "logistic" else "sample_weight"
        with threadpool_limits(1):  # one thread: deterministic and fair on a shared machine
            self.estimator.fit(X.astype(np.float64), y, **{key: np.where(y == 1, weight * factor, weight)})
        self.fitted = True
        if factor != 1.0:
            self.shift = _prior_shift(self._raw(X), y, weight, start=float(np.log(factor)))
        return self

    def raw_coefficients(self) -> tuple[np.ndarray, float]:
        """A fitted logistic model as weights on the unscaled columns and an intercept (prior
        correction included): ``σ(X @ coef + intercept)`` is :meth:`predict_proba`."""
        if not self.fitted:
            return np.zeros(self.n_features_in), float(_logit(np.array([self.constant]))[0])
        scaler, regression = self.estimator[0], self.estimator[-1]
        coef = regression.coef_[0] / scaler.scale_
        return coef, float(regression.intercept_[0] - np.dot(coef, scaler.mean_) - self.shift)

    def _raw(self, X: np.ndarray) -> np.ndarray:
        """The fitted log-odds, before the prior correction."""
        if self.kind == "logistic":  # scikit-learn's arithmetic without its per-call validation
            scaler, regression = self.estimator[0], self.estimator[-1]
            return ((X.astype(np.float64) - scaler.mean_) / scaler.scale_) @ regression.coef_[
                0
            ] + regression.intercept_[0]
        with threadpool_limits(1):
            return self.estimator.decision_function(X.astype(np.float64))

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        if not self.fitted:
            return np.full(len(X), self.constant)
        return _sigmoid(self._raw(X) - self.shift)

    def predict_proba_sklearn(self, X: np.ndarray) -> np.ndarray:
        """scikit-learn's own ``predict_proba`` (for tests)."""
        return self.estimator.predict_proba(X.astype(np.float64))[:, 1]


class RulesModel:
    """Hand-written thresholds: a fixed high probability when any rule fires."""

    def __init__(self, rules: Rules):
        self.rules = rules
        self._risky = np.array([len(NUMERIC_FEATURES) + CATEGORIES.index(c) for c in rules.risky_categories], int)

    def fires(self, X: np.ndarray) -> np.ndarray:
        rules = self.rules
        amount = np.expm1(X[:, COLUMN["log_amount"]].astype(np.float64))
        cnp = X[:, COLUMN["cnp"]] > 0.5
        risky = X[:, self._risky].sum(axis=1) > 0.5 if len(self._risky) else np.zeros(len(X), bool)
        return (
            (amount > rules.max_amount)
            | (cnp & (amount > rules.max_cnp_amount))
            | (risky & (amount > rules.max_risky_amount))
            | (X[:, COLUMN["attempts_1d"]] > rules.max_velocity)
        )

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return np.where(self.fires(X), self.rules.hit_score, self.rules.base_score)
