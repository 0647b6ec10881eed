"""Online Bayesian logistic regression: a Laplace approximation updated by one Newton step per
batch of labels, with forgetting.

The model keeps a Gaussian belief over the weights — a mean and a full precision matrix.
Each batch of label events moves the mean by one Newton step of the log posterior (the
batch's log likelihood plus the current belief as the prior) and adds the batch's curvature
to the precision (assumed-density filtering; Spiegelhalter & Lauritzen 1990; Chapelle & Li
2011 use the diagonal form for online click models). Between batches the precision decays
with a half-life toward a weak floor, so old evidence fades and the model can follow drift.

Why this and not stochastic gradient steps: the step each weight takes is set by how much the
model knows about it. A column the history barely saw (a new tactic's category × channel ×
night) has little precision, so its first fraud labels move it far; a well-known column
moves little. Newton steps are invariant to the scale of a column, so no online scaler is
needed, and none can blow up on a rare 0/1 column. docs/concepts.md ("The online
learner") has the measurements that chose it.

>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(4000, 2)); y = (rng.random(4000) < 1 / (1 + np.exp(-(2 * X[:, 0] - 3)))).astype(int)
>>> model = LaplaceLogistic(2, halflife_s=np.inf)
>>> for start in range(0, 4000, 200):
...     model.learn(X[start:start + 200], y[start:start + 200], now=float(start))
>>> bool(np.allclose(model.mean, [2.0, 0.0, -3.0], atol=0.25))  # the weights, then the intercept
True
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit as _sigmoid  # overflow-free: a new column's early weights can be large

NEWTON_STEPS = 4  # per batch, at most: from a warm start, one or two reach the mode


class LaplaceLogistic:
    """A Gaussian belief over logistic weights (last entry: the intercept), learning one batch per call."""

    def __init__(self, n_features: int, halflife_s: float = 14 * 86400.0, prior_precision: float = 1.0):
        self.n_features = n_features
        self.halflife_s = halflife_s
        self.prior_precision = prior_precision
        self.mean = np.zeros(n_features + 1)
        self.precision = prior_precision * np.eye(n_features + 1)
        self.n_learned = 0
        self._at: float | None = None

    @staticmethod
    def _augment(X: np.ndarray) -> np.ndarray:
        return np.hstack([np.asarray(X, np.float64), np.ones((len(X), 1))])

    def warm_start(
        self,
        X: np.ndarray,
        y: np.ndarray,
        coef: np.ndarray,
        intercept: float,
        weight: np.ndarray | None = None,
        now: float = 0.0,
    ) -> None:
        """Start as a fitted model (weights on the raw columns), with the precision its training
        set gives it: the curvature of the log likelihood there, plus the prior."""
        self.mean = np.r_[np.asarray(coef, np.float64), intercept]
        Z = self._augment(X)
        p = _sigmoid(Z @ self.mean)
        w = p * (1 - p) * (1.0 if weight is None else weight)
        self.precision = (Z * w[:, None]).T @ Z + self.prior_precision * np.eye(len(self.mean))
        self._at = now

    def restart(self, now: float) -> None:
        """Count time (for forgetting) from ``now``."""
        self._at = now

    def _forget(self, now: float) -> None:
        if self._at is not None and now > self._at and np.isfinite(self.halflife_s):
            keep = 0.5 ** ((now - self._at) / self.halflife_s)
            self.precision *= keep
            self.precision[np.diag_indices_from(self.precision)] += (1 - keep) * self.prior_precision
        self._at = now if self._at is None else max(self._at, now)

    def learn(self, X: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None, now: float = 0.0) -> None:
        """Forget up to ``now``, then find the mode of the belief times the batch's likelihood
        (a few Newton steps) and take the curvature there as the new precision."""
        self._forget(now)
        if len(y) == 0:
            return
        Z = self._augment(X)
        y = np.asarray(y, np.float64)
        w = np.ones(len(y)) if weight is None else np.asarray(weight, np.float64)
        prior_mean, prior = self.mean, self.precision
        mean = prior_mean
        for _ in range(NEWTON_STEPS):
            p = _sigmoid(Z @ mean)
            gradient = Z.T @ (w * (p - y)) + prior @ (mean - prior_mean)
            hessian = prior + (Z * (w * p * (1 - p))[:, None]).T @ Z
            step = np.linalg.solve(hessian, gradient)
            mean = mean - step
            if float(np.abs(step).max()) < 1e-6:
                break
        p = _sigmoid(Z @ mean)
        self.mean, self.precision = mean, prior + (Z * (w * p * (1 - p))[:, None]).T @ Z
        self.n_learned += len(y)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, np.float64)
        return _sigmoid(X @ self.mean[:-1] + self.mean[-1])
