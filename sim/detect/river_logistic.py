"""River's online logistic learner as fraudsim's own arithmetic.

``RiverLogistic`` is river's ``preprocessing.StandardScaler | linear_model.LogisticRegression``
(river 0.26.1) with an SGD or Adam optimizer, written here so that no river upgrade can break it:
river's update formulas, in river's order of operations, on numpy arrays and Python floats. It
learns as river's two methods do:

- :meth:`RiverLogistic.learn`, one ``learn_many`` step on a batch (a simulation's tick, replay's
  batch mode): the batch's statistics merged into the scaler's, then one gradient step whose
  gradient is the *sum* over the batch (river's mean, every row weighted by the batch size);
- :meth:`RiverLogistic.learn_one`, one ``learn_one`` step on a row (replay's exact mode): Welford's
  update of the scaler, then one step on the row.

River is the oracle: ``tests/test_river_logistic.py`` runs river's public API on the same streams
and holds the state and scores to river's bit for bit. Bit for bit takes river's operations, not
only its formulas. Where river raises a float to a power (``d ** 2``, ``v ** 0.5``: the C
library's ``pow``) so does this module, element by element; where river squares an array or
takes a product (``np.square``, its vectors' ``g * g``) so does this module. ``pow(x, 2)`` and
``x * x`` differ in the last bit about once in a thousand, as do ``pow(v, 0.5)`` and ``sqrt(v)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..schema.features import FEATURES
from .models import logit, sigmoid

if TYPE_CHECKING:
    from .models import SklearnModel

OPTIMIZERS = ("sgd", "adam")
BETA_1, BETA_2, EPS = 0.9, 0.999, 1e-8  # river's optim.Adam() defaults
CLIP_GRADIENT = 1e12  # river's LogisticRegression(clip_gradient=1e12): the loss gradient's bound


def _powers(values: np.ndarray, exponent: float) -> np.ndarray:
    """``v ** exponent`` element by element with the C library's ``pow``, as river computes it on
    one float at a time (numpy's array power takes ``x * x`` or ``sqrt`` instead)."""
    return np.array([v**exponent for v in values.tolist()], dtype=np.float64)


class RiverLogistic:
    """River's ``StandardScaler | LogisticRegression``: online logistic regression on standardised
    features (``scaling``), its weights stepped by SGD or Adam at rate ``lr`` and its intercept at
    ``intercept_lr`` (default ``lr``); river's defaults otherwise (no L2, gradients clipped at 1e12).

    >>> model = RiverLogistic(["amount", "night"], lr=0.1)
    >>> model.learn(np.array([[10.0, 0.0], [250.0, 1.0]]), np.array([0, 1]))
    >>> model.predict_proba(np.array([[250.0, 1.0]])).round(3).tolist()
    [0.55]
    """

    def __init__(
        self,
        features: Sequence[str] = FEATURES,
        optimizer: str = "sgd",
        lr: float = 0.002,
        scaling: bool = True,
        intercept_lr: float | None = None,
    ):
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer {optimizer!r}: allowed are {', '.join(OPTIMIZERS)}")
        self.features = list(features)
        self.optimizer = optimizer
        self.lr = lr
        self.intercept_lr = lr if intercept_lr is None else intercept_lr
        self.scaling = scaling
        p = len(self.features)
        # Learned state, one Python number per feature as river keeps it: the scaler's counts,
        # means, variances (and standard deviations, v ** 0.5), the weights and intercept, the
        # optimizer's steps taken and Adam's moments.
        self._counts = [0] * p
        self._means = [0.0] * p
        self._vars = [0.0] * p
        self._stds = [0.0] * p
        self._weights = [0.0] * p
        self._intercept = 0.0
        self._steps = 0
        self._m = [0.0] * p
        self._v = [0.0] * p
        self._compiled: tuple[np.ndarray, np.ndarray, np.ndarray, float] | None = None
        self.n_learned = 0

    # ----------------------------------------------------------------------- batches

    def learn(self, X: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None) -> None:
        """One river ``learn_many`` step on a batch: the scaler's statistics, then one gradient step
        whose gradient is the *sum* over the batch (river's mean, with every row weighted by the
        batch size). To first order that is one SGD step per row, so the learning rate is per
        event and a lone fraud label is not diluted by the hundreds of maturity labels beside it."""
        if len(y) == 0:
            return
        X = np.asfortranarray(X, dtype=np.float64)  # the layout river's frames give: the same sums, bit for bit
        w = (np.ones(len(y)) if weight is None else weight.astype(np.float64)) * len(y)
        if self.scaling:
            self._merge_batch(X)
            X = self._scale(X)
        weights = np.array(self._weights, dtype=np.float64)
        # river's Log loss gradient with respect to the log-odds, for labels ±1: −y / (exp(y z) + 1)
        sign = np.where(y.astype(bool), 1.0, -1.0)
        loss_gradient = -sign / (np.exp((X @ weights + self._intercept) * sign) + 1.0)
        loss_gradient *= w
        loss_gradient = np.clip(loss_gradient, -CLIP_GRADIENT, CLIP_GRADIENT)
        gradient = np.einsum("ij,i->j", X, loss_gradient) / len(X)
        self._intercept = float(self._intercept - self.intercept_lr * loss_gradient.mean())
        if self.optimizer == "sgd":
            weights -= self.lr * gradient
        else:  # river's Adam on a dict of gradients: each gradient squared by pow
            lr = self._adam_rate()
            m = BETA_1 * np.array(self._m) + (1 - BETA_1) * gradient
            v = BETA_2 * np.array(self._v) + (1 - BETA_2) * _powers(gradient, 2)
            weights -= lr * m / (_powers(v, 0.5) + EPS)
            self._m, self._v = m.tolist(), v.tolist()
        self._weights = weights.tolist()
        self._steps += 1
        self._compiled = None
        self.n_learned += len(y)

    def _merge_batch(self, X: np.ndarray) -> None:
        """river's ``StandardScaler.learn_many``: the batch's means and variances merged into the
        running ones, weighted by the counts."""
        new_means = np.nanmean(X, axis=0)
        new_vars = np.einsum("ij,ij->j", X, X) / len(X) - new_means**2
        new_counts = np.sum(~np.isnan(X), axis=0)
        old_counts = np.array(self._counts, dtype=new_counts.dtype)
        old_means, old_vars = np.array(self._means), np.array(self._vars)
        a = old_counts / (old_counts + new_counts)
        b = new_counts / (old_counts + new_counts)
        self._means = (a * old_means + b * new_means).tolist()
        self._vars = (a * old_vars + b * new_vars + a * b * _powers(old_means - new_means, 2)).tolist()
        self._counts = (old_counts + new_counts).tolist()
        self._stds = [v**0.5 for v in self._vars]
        self._compiled = None

    def _adam_rate(self) -> float:
        """Adam's step size with both bias corrections, as river computes it."""
        t = self._steps + 1
        lr = self.lr * (1 - BETA_2**t) ** 0.5
        return lr / (1 - BETA_1**t)

    def _compile(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """The model as numpy arrays: scaler means and deviations, weights, intercept."""
        if self._compiled is None:
            self._compiled = (
                np.array(self._means, dtype=np.float64),
                np.array(self._stds, dtype=np.float64),
                np.array(self._weights, dtype=np.float64),
                self._intercept,
            )
        return self._compiled

    def _scale(self, X: np.ndarray) -> np.ndarray:
        """river's ``StandardScaler.transform_many``: a column without variance is only centred."""
        means, stds, _, _ = self._compile()
        Xt = X - means
        np.divide(Xt, stds, where=stds > 0, out=Xt)
        return Xt

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Fraud probabilities, as river's ``predict_proba_many``."""
        _, _, weights, intercept = self._compile()
        Xt = self._scale(X.astype(np.float64)) if self.scaling else X.astype(np.float64)
        return sigmoid(Xt @ weights + intercept)

    # ----------------------------------------------------------------------- rows

    def learn_one(self, x: Sequence[float], y: bool, w: float = 1.0) -> None:
        """One river ``learn_one`` step on one row ``x`` (the features' values in order)."""
        if self.scaling:
            counts, means, variances, stds = self._counts, self._means, self._vars, self._stds
            scaled = []
            for i, xi in enumerate(x):
                count = counts[i] + 1
                old_mean = means[i]
                mean = old_mean + (xi - old_mean) / count
                var = variances[i] + ((xi - old_mean) * (xi - mean) - variances[i]) / count
                std = var**0.5
                counts[i], means[i], variances[i], stds[i] = count, mean, var, std
                scaled.append((xi - mean) / std if var else 0.0)
            x = scaled
        weights = self._weights
        z = 0.0
        for wi, xi in zip(weights, x, strict=True):
            z += wi * xi
        z += self._intercept
        # river's Log.gradient for a label y = ±1 at log-odds z: −y / (exp(y z) + 1), with its
        # shortcuts beyond |y z| = 18
        margin = z if y else -z
        if margin > 18.0:
            loss_gradient = math.exp(-margin) * (-1.0 if y else 1.0)
        elif margin < -18.0:
            loss_gradient = -1.0 if y else 1.0
        else:
            loss_gradient = (-1.0 if y else 1.0) / (math.exp(margin) + 1.0)
        loss_gradient *= w
        loss_gradient = float(max(min(loss_gradient, CLIP_GRADIENT), -CLIP_GRADIENT))
        self._intercept -= self.intercept_lr * loss_gradient
        if self.optimizer == "sgd":
            lr = self.lr
            self._weights = [wi - lr * (xi * loss_gradient) for wi, xi in zip(weights, x, strict=True)]
        else:  # river's Adam on its vectors: each gradient squared by a product
            lr = self._adam_rate()
            gradient = [xi * loss_gradient for xi in x]
            self._m = m = [BETA_1 * mi + (1 - BETA_1) * gi for mi, gi in zip(self._m, gradient, strict=True)]
            self._v = v = [BETA_2 * vi + (1 - BETA_2) * (gi * gi) for vi, gi in zip(self._v, gradient, strict=True)]
            self._weights = [wi - lr * mi / (vi**0.5 + EPS) for wi, mi, vi in zip(weights, m, v, strict=True)]
        self._steps += 1
        self._compiled = None
        self.n_learned += 1

    def predict_proba_one(self, x: Sequence[float]) -> float:
        """The fraud probability of one row, as river's ``predict_proba_one``."""
        if self.scaling:
            x = [(xi - mean) / std if std else 0.0 for xi, mean, std in zip(x, self._means, self._stds, strict=True)]
        z = 0.0
        for wi, xi in zip(self._weights, x, strict=True):
            z += wi * xi
        z += self._intercept
        if z < -30:
            return 0.0
        if z > 30:
            return 1.0
        return 1 / (1 + math.exp(-z))

    # ----------------------------------------------------------------------- warm start

    def warm_start(self, fitted: SklearnModel, n_rows: int) -> None:
        """Become exactly a fitted scikit-learn logistic model (same scaling, weights and intercept)."""
        self._compiled = None
        if not fitted.fitted:
            self._intercept = float(logit(np.array([fitted.constant]))[0])
            return
        scaler, regression = fitted.estimator[0], fitted.estimator[-1]
        coef = regression.coef_[0]
        intercept = float(regression.intercept_[0]) - fitted.shift
        if self.scaling:
            p = len(self.features)
            self._counts = [n_rows] * p
            self._means = [float(m) for m in scaler.mean_]
            self._vars = [float(v) for v in scaler.var_]
            self._stds = [v**0.5 for v in self._vars]
            self._weights = [float(c) for c in coef]
        else:  # fold the scaling into the weights
            self._weights = [float(c) for c in coef / scaler.scale_]
            intercept -= float(np.dot(coef / scaler.scale_, scaler.mean_))
        self._intercept = intercept
