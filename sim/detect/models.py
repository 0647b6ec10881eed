"""Models that turn a feature matrix into fraud probabilities.

Each has ``predict_proba(X) -> p``. River's trees also ``learn(X, y, weight)``
from a batch of label events; scikit-learn models are ``fit`` on a whole
training set. Every model takes the names of its feature columns, so the same
classes serve simulations and replays of users' own data. River's logistic
learner, as fraudsim's own arithmetic, is in :mod:`sim.detect.river_logistic`.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence

import numpy as np
from threadpoolctl import threadpool_limits

from ..schema import CATEGORIES, Rules
from ..schema.features import COLUMN, FEATURES, NUMERIC_FEATURES


def logit(p: np.ndarray) -> np.ndarray:
    """Log-odds, with p clipped away from 0 and 1."""
    p = np.clip(p, 1e-15, 1 - 1e-15)
    return np.log(p / (1 - p))


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function (log-odds to probability)."""
    return 1.0 / (1.0 + np.exp(-z))


def river_model(kind: object, trees: int = 5, seed: int = 0):
    """A new, unfitted river classifier: a bundled one by name (``hoeffding_tree``, ``forest``),
    or a clone of a user's (with its ``seed`` set to ``seed`` when it takes one)."""
    if not isinstance(kind, str):
        takes_seed = "seed" in inspect.signature(type(kind)).parameters
        return kind.clone(new_params={"seed": seed} if takes_seed else None)
    # Imported here, not at the top: river's trees pull in scipy.stats, half a second at start-up.
    if kind == "forest":
        from river.forest import ARFClassifier

        return ARFClassifier(n_models=trees, seed=seed)
    from river.tree import HoeffdingAdaptiveTreeClassifier

    return HoeffdingAdaptiveTreeClassifier(seed=seed)


class RiverTree:
    """A river classifier learning and scoring row by row: river's Hoeffding adaptive tree or
    adaptive random forest, or a user's model (``kind`` a river classifier, cloned)."""

    def __init__(
        self, features: Sequence[str] = FEATURES, kind: object = "hoeffding_tree", trees: int = 5, seed: int = 0
    ):
        self.features = list(features)
        self.kind = kind
        self.model = river_model(kind, trees, seed)
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

    def predict_proba_one(self, x_row: list[float]) -> float:
        """river's own ``predict_proba_one`` on one row given as a list."""
        return self.model.predict_proba_one(dict(zip(self.features, x_row, strict=True))).get(True, 0.0)

    def learn_one(self, x_row: list[float], y: bool, **w: float) -> None:
        """river's own ``learn_one`` on one row given as a list (``w``: its weight, if any)."""
        self.model.learn_one(dict(zip(self.features, x_row, strict=True)), y, **w)


def _prior_shift(z: np.ndarray, y: np.ndarray, weight: np.ndarray, start: float) -> float:
    """The log-odds shift s with Σ w σ(z − s) = Σ w y: after fitting with fraud up-weighted, the
    probabilities are brought back to the true fraud rate (the prior correction; s = log of the
    weight for a well-specified model at its optimum). Newton steps from ``start``."""
    target = float(np.dot(weight, y))
    shift = start
    for _ in range(50):
        p = sigmoid(z - shift)
        gap = float(np.dot(weight, p)) - target
        slope = float(np.dot(weight, p * (1 - p)))
        if slope <= 0 or abs(gap) < 1e-9 * max(target, 1.0):
            break
        shift += gap / slope
    return shift


class SklearnModel:
    """scikit-learn's standardised logistic regression or histogram gradient boosting, or a
    user's classifier (``kind`` a scikit-learn estimator, cloned, its ``random_state`` set to
    ``seed``), fitted with sample weights; with a class weight, the prior correction shifts the
    log-odds back. A user's model whose ``fit`` takes no ``sample_weight`` is fitted unweighted,
    and the prior correction brings its mean probability to the weighted fraud rate."""

    def __init__(self, kind: object = "logistic", class_weight: float | str | None = None, seed: int = 0):
        self.kind = kind
        self.class_weight = class_weight
        # scikit-learn is imported by the first batch model, not at start-up (about 0.7 s).
        from sklearn.base import clone
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        if not isinstance(kind, str):
            self.estimator = clone(kind)
            seeds = [key for key in self.estimator.get_params() if key.split("__")[-1] == "random_state"]
            self.estimator.set_params(**dict.fromkeys(seeds, seed))
        elif kind == "gbm":
            self.estimator = HistGradientBoostingClassifier(
                max_iter=150,
                learning_rate=0.1,
                max_leaf_nodes=31,
                l2_regularization=1.0,
                early_stopping=False,
                random_state=seed,
            )
        else:
            # The scaler scales the float64 copy it is given in place: a history of a million rows
            # would otherwise hold two copies (336 MB each) at once.
            self.estimator = make_pipeline(StandardScaler(copy=False), LogisticRegression(C=1.0, max_iter=1000))
        self.fitted = False
        self.n_features_in = 0
        self.constant = 0.5
        self.shift = 0.0  # log of the fraud weight applied while fitting (the prior correction)
        self.bins: QuantileBins | None = None  # the bundled gradient boosting's bins, once fitted

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
        weighted = self._takes_weights()
        options = {}
        sample_weight = np.where(y == 1, weight * factor, weight)
        # Unit weights are left out: scikit-learn fits the same model without them, and a user's
        # gradient boosting takes its faster, unweighted binning.
        if weighted and not np.all(sample_weight == 1.0):
            key = "logisticregression__sample_weight" if self.kind == "logistic" else "sample_weight"
            options[key] = sample_weight
        if self.kind == "gbm":
            self.bins = QuantileBins().fit(X, sample_weight)
        with threadpool_limits(1):  # one thread: deterministic and fair on a shared machine
            self.estimator.fit(self._inputs(X), y, **options)
        self.fitted = True
        if factor != 1.0 or not weighted:
            self.shift = _prior_shift(self._raw(X), y, weight, start=float(np.log(factor)) if weighted else 0.0)
        return self

    def _takes_weights(self) -> bool:
        if isinstance(self.kind, str):
            return True
        from sklearn.utils.validation import has_fit_parameter

        return has_fit_parameter(self.estimator, "sample_weight")

    def raw_coefficients(self) -> tuple[np.ndarray, float]:
        """A fitted logistic model as weights on the unscaled columns and an intercept (prior
        correction included): ``σ(X @ coef + intercept)`` is :meth:`predict_proba`."""
        if not self.fitted:
            return np.zeros(self.n_features_in), float(logit(np.array([self.constant]))[0])
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
        # No threadpool_limits here: entering it costs about 2 ms, more than scoring a tick; a run's
        # processes hold one thread already (run_replication), and a row's score does not depend on it.
        if self.kind == "gbm":
            return self.estimator.decision_function(self._inputs(X))
        p = self.estimator.predict_proba(X.astype(np.float64))
        return logit(p[:, list(self.estimator.classes_).index(1)])

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        if not self.fitted:
            return np.full(len(X), self.constant)
        return sigmoid(self._raw(X) - self.shift)

    def predict_proba_sklearn(self, X: np.ndarray) -> np.ndarray:
        """scikit-learn's own ``predict_proba`` (for tests)."""
        return self.estimator.predict_proba(self._inputs(X))[:, 1]

    def _inputs(self, X: np.ndarray) -> np.ndarray:
        """What the estimator sees: the bundled gradient boosting its bin numbers, others the features."""
        return self.bins.transform(X) if self.bins is not None else X.astype(np.float64)


class QuantileBins:
    """Each feature cut at its weighted quantiles into at most ``max_bins`` bins, and a row's
    values replaced by their bin numbers (missing values stay missing), for the bundled gradient
    boosting. Histogram gradient boosting bins its features itself, at these same edges (its
    weighted "averaged inverted CDF"), but scikit-learn finds weighted quantiles one at a time
    (about 250 sorts per column, three times the rest of a fit); given at most ``max_bins``
    distinct values it takes their midpoints, and its trees split the bin numbers where they
    would have split the values. Unlike scikit-learn, every row counts (it bins a sample of
    200,000), and among tied values the edges may differ by rounding.

    >>> bins = QuantileBins(max_bins=4).fit(np.arange(8.0)[:, None], np.ones(8))
    >>> bins.edges[0].tolist(), bins.transform(np.array([[0.0], [1.5], [2.0], [7.0], [np.nan]]))[:, 0].tolist()
    ([1.5, 3.5, 5.5], [0.0, 0.0, 1.0, 3.0, nan])
    """

    def __init__(self, max_bins: int = 255):
        self.max_bins = max_bins
        self.edges: list[np.ndarray] = []

    def fit(self, X: np.ndarray, weight: np.ndarray) -> QuantileBins:
        """A value goes to bin i when ``edges[i - 1] < value <= edges[i]``. With at most
        ``max_bins`` distinct values the edges are their midpoints; else, for each quantile
        q = 1/max_bins, 2/max_bins, ..., the first value whose weighted cumulative share reaches q,
        or the midpoint of it and the next when the share is q exactly."""
        ranks = np.linspace(0, 100, num=self.max_bins + 1)[1:-1] / 100  # as scikit-learn computes them
        self.edges = []
        for column in np.asarray(X, np.float64).T:
            present = ~np.isnan(column)
            order = np.argsort(column[present], kind="stable")
            values, weights = column[present][order], weight[present][order]
            first = np.ones(len(values), bool)  # sorted already: no second sort for the distinct values
            first[1:] = values[1:] != values[:-1]
            distinct = values[first]
            if len(distinct) <= self.max_bins:
                edges = (distinct[:-1] + distinct[1:]) / 2
            else:
                cumulative = np.cumsum(weights)
                target = ranks * cumulative[-1]
                at = np.minimum(np.searchsorted(cumulative, target, side="left"), len(values) - 1)
                exact = cumulative[at] - target <= np.finfo(np.float64).eps
                following = values[np.minimum(at + 1, len(values) - 1)]
                edges = np.unique(np.where(exact, (values[at] + following) / 2, values[at]))
            self.edges.append(edges)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        codes = np.empty(X.shape, np.float64)
        for j, edges in enumerate(self.edges):
            column = X[:, j]
            codes[:, j] = np.where(np.isnan(column), np.nan, np.searchsorted(edges, column, side="left"))
        return codes


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
