"""Models that turn a feature matrix into fraud probabilities.

Each has ``predict_proba(X) -> p``. River models also ``learn(X, y)`` from a
mini-batch; scikit-learn models are ``fit`` on a whole training set.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from river import linear_model, optim, preprocessing
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ..schema import CATEGORIES, Rules
from .features import COLUMN, FEATURES, NUMERIC_FEATURES


def _frame(X: np.ndarray) -> pl.DataFrame:
    return pl.from_numpy(X, schema=list(FEATURES), orient="row")


class RiverLogistic:
    """river's ``StandardScaler | LogisticRegression``, learning one mini-batch per call.

    Scoring reads the model's weights into numpy once per update and applies
    the same arithmetic as river's ``predict_proba_many``; a test pins the two
    together.
    """

    def __init__(self, optimizer: str = "sgd", lr: float = 0.002, scaling: bool = True, intercept_lr: float | None = None):
        self.optimizer = optimizer
        self.lr = lr
        self.intercept_lr = lr if intercept_lr is None else intercept_lr
        self.scaling = scaling
        make = {"sgd": optim.SGD, "adam": optim.Adam}[optimizer]
        self._regression = linear_model.LogisticRegression(optimizer=make(lr), intercept_lr=self.intercept_lr)
        self._scaler = preprocessing.StandardScaler() if scaling else None
        self.pipeline = (self._scaler | self._regression) if scaling else self._regression
        self._compiled: tuple[np.ndarray, np.ndarray, np.ndarray, float] | None = None
        self.n_learned = 0

    def learn(self, X: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None) -> None:
        """One river ``learn_many`` step on a batch: the scaler's statistics, then one gradient step
        whose gradient is the *sum* over the batch (river's mean, with every row weighted by the
        batch size). To first order that is one SGD step per row, so the learning rate is per
        event and a lone fraud label is not diluted by the hundreds of maturity labels beside it."""
        if len(y) == 0:
            return
        X = X.astype(np.float64)
        target = pl.Series("y", y.astype(bool))
        w = pl.Series("w", (np.ones(len(y)) if weight is None else weight.astype(np.float64)) * len(y))
        if self._scaler is not None:
            self._scaler.learn_many(_frame(X))
            self._compiled = None
            X = self._scale(X)  # river's transform_many arithmetic, without its frame round trip
        self._regression.learn_many(_frame(X), target, w=w)
        self._compiled = None
        self.n_learned += len(y)

    def _scale(self, X: np.ndarray) -> np.ndarray:
        means, stds, _, _ = self._compile()
        Xt = X - means
        np.divide(Xt, stds, where=stds > 0, out=Xt)
        return Xt

    def _compile(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """The model as numpy arrays: scaler means and deviations, weights, intercept."""
        if self._compiled is None:
            columns = list(FEATURES)
            if self._scaler is not None:
                means = np.array([self._scaler.means[c] for c in columns], dtype=np.float64)
                stds = np.array([self._scaler.vars[c] ** 0.5 for c in columns], dtype=np.float64)
            else:
                means, stds = np.zeros(len(columns)), np.zeros(len(columns))
            weights = self._regression._weights.to_numpy(columns)
            self._compiled = (means, stds, weights, float(self._regression.intercept))
        return self._compiled

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        _, _, weights, intercept = self._compile()
        Xt = self._scale(X.astype(np.float64)) if self._scaler is not None else X.astype(np.float64)
        return 1.0 / (1.0 + np.exp(-(Xt @ weights + intercept)))

    def predict_proba_river(self, X: np.ndarray) -> np.ndarray:
        """The same scores through river's own ``predict_proba_many`` (slow; for tests)."""
        return self.pipeline.predict_proba_many(_frame(X.astype(np.float64)))["True"].to_numpy()

    def warm_start(self, fitted: SklearnLogistic, n_rows: int) -> None:
        """Become exactly the fitted scikit-learn model (same scaling, weights and intercept)."""
        if not fitted.fitted:
            self._regression.intercept = float(np.log(fitted.constant / (1 - fitted.constant)))
            self._compiled = None
            return
        scaler, regression = fitted.pipeline[0], fitted.pipeline[-1]
        for i, name in enumerate(FEATURES):
            if self._scaler is not None:
                self._scaler.counts[name] = n_rows
                self._scaler.means[name] = float(scaler.mean_[i])
                self._scaler.vars[name] = float(scaler.var_[i])
                self._regression._weights[name] = float(regression.coef_[0, i])
            else:  # fold the scaling into the weights
                scale = float(scaler.scale_[i])
                self._regression._weights[name] = float(regression.coef_[0, i]) / scale
        intercept = float(regression.intercept_[0])
        if self._scaler is None:
            intercept -= float(np.dot(regression.coef_[0] / scaler.scale_, scaler.mean_))
        self._regression.intercept = intercept
        self._compiled = None


class SklearnLogistic:
    """scikit-learn's standardised logistic regression, fitted with sample weights."""

    def __init__(self) -> None:
        self.pipeline = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))
        self.fitted = False
        self.constant = 0.5

    def fit(self, X: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None) -> SklearnLogistic:
        y = y.astype(int)
        if len(np.unique(y)) < 2:  # one class only: predict its weighted rate
            self.constant = float(np.clip(y.mean(), 1e-6, 1 - 1e-6)) if len(y) else 0.5
            self.fitted = False
            return self
        self.pipeline.fit(X.astype(np.float64), y, logisticregression__sample_weight=weight)
        self.fitted = True
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """scikit-learn's arithmetic (scale, dot, logistic) without its per-call validation."""
        if not self.fitted:
            return np.full(len(X), self.constant)
        scaler, regression = self.pipeline[0], self.pipeline[-1]
        Xt = (X.astype(np.float64) - scaler.mean_) / scaler.scale_
        return 1.0 / (1.0 + np.exp(-(Xt @ regression.coef_[0] + regression.intercept_[0])))


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
