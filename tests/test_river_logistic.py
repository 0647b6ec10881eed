"""River is the oracle of ``RiverLogistic``, fraudsim's own arithmetic for river's
``StandardScaler | LogisticRegression``: river, driven only through its public API (``learn_many``
on polars frames, ``learn_one``, ``predict_proba_many``, ``predict_proba_one``, constructor
parameters, and attributes named without an underscore: ``weights``, ``intercept``, the
optimizer's ``n_iterations``, ``m`` and ``v``, the scaler's ``counts``, ``means`` and ``vars``),
learns the same streams, and the two must agree bit for bit: every weight, the intercept, the
optimizer's steps and moments, the scaler's statistics, and every score (a row-major matrix's
scores within a rounding bound, see :func:`assert_same_scores`). Simulations, warm starts and
replays rely on it; ``sim/detect/river_logistic.py`` says which of river's operations that takes."""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
import pytest
from river import linear_model, optim, preprocessing

from sim.detect.models import SklearnModel
from sim.detect.river_logistic import RiverLogistic
from sim.schema.features import FEATURES


class WarmWeights(optim.base.Initializer):
    """River's weight initializer, giving each feature its warm-start weight when river first meets
    it (in the order of the frame's columns or the row's keys, the features' order)."""

    def __init__(self, weights: list[float]):
        self.weights = list(weights)
        self.calls = 0

    def __call__(self, shape: int = 1) -> float:
        self.calls += 1
        return self.weights[self.calls - 1]


class Oracle:
    """river's ``StandardScaler | LogisticRegression`` with ``model``'s options and state, through
    river's public API only."""

    def __init__(self, model: RiverLogistic, warm: bool = False):
        self.names = list(model.features)
        make = {"sgd": optim.SGD, "adam": optim.Adam}[model.optimizer]
        options = {}
        self.initializer = None
        if warm:  # the model's warm-started state (learn before scoring: river creates weights on first use)
            self.initializer = WarmWeights(model._weights)
            options = {"initializer": self.initializer, "intercept_init": model._intercept}
        self.regression = linear_model.LogisticRegression(
            optimizer=make(model.lr), intercept_lr=model.intercept_lr, **options
        )
        self.scaler = preprocessing.StandardScaler() if model.scaling else None
        if warm and self.scaler is not None:
            for name, count, mean, var in zip(self.names, model._counts, model._means, model._vars, strict=True):
                self.scaler.counts[name], self.scaler.means[name], self.scaler.vars[name] = count, mean, var
        self.pipeline = self.regression if self.scaler is None else self.scaler | self.regression

    def frame(self, X: np.ndarray) -> pl.DataFrame:
        return pl.from_numpy(np.asarray(X, np.float64), schema=self.names, orient="row")

    def learn(self, X: np.ndarray, y: np.ndarray, weight: np.ndarray | None) -> None:
        """One ``learn_many`` with every row weighted by the batch size, as docs/concepts.md says
        (an empty batch is skipped: river cannot take one)."""
        if len(y) == 0:
            return
        w = (np.ones(len(y)) if weight is None else weight.astype(np.float64)) * len(y)
        self.pipeline.learn_many(self.frame(X), pl.Series("y", y.astype(bool)), w=pl.Series("w", w))

    def learn_one(self, x: list[float], y: bool, w: float | None) -> None:
        self.pipeline.learn_one(dict(zip(self.names, x, strict=True)), y, **({} if w is None else {"w": w}))

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.pipeline.predict_proba_many(self.frame(X))["True"].to_numpy()

    def predict_proba_one(self, x: list[float]) -> float:
        return self.pipeline.predict_proba_one(dict(zip(self.names, x, strict=True))).get(True, 0.0)


def bits(values) -> np.ndarray:
    """Values as the bits of float64s: equal means bit for bit (the sign of zero included)."""
    return np.asarray(values, dtype=np.float64).view(np.int64)


def state(model: RiverLogistic | Oracle) -> dict[str, np.ndarray]:
    """Everything either keeps, feature by feature in the features' order."""
    if isinstance(model, RiverLogistic):
        found = {
            "weights": model._weights,
            "intercept": [model._intercept],
            "steps": [model._steps],
            "counts": model._counts,
            "means": model._means,
            "vars": model._vars,
        }
        if model.optimizer == "adam":
            found |= {"m": model._m, "v": model._v}
        if not model.scaling:
            del found["counts"], found["means"], found["vars"]
        return {key: bits(value) for key, value in found.items()}
    names, regression, scaler = model.names, model.regression, model.scaler
    weights = regression.weights
    found = {
        "weights": [weights[name] for name in names],
        "intercept": [regression.intercept],
        "steps": [regression.optimizer.n_iterations],
    }
    if scaler is not None:
        found |= {key: [getattr(scaler, key)[name] for name in names] for key in ("counts", "means", "vars")}
    if isinstance(regression.optimizer, optim.Adam):
        found |= {key: [getattr(regression.optimizer, key)[name] for name in names] for key in ("m", "v")}
    return {key: bits(value) for key, value in found.items()}


def assert_same(ours: RiverLogistic, river: Oracle) -> None:
    a, b = state(ours), state(river)
    assert a.keys() == b.keys()
    for key in a:
        assert np.array_equal(a[key], b[key]), f"{key} differs"


def assert_same_scores(ours: RiverLogistic, river: Oracle, X: np.ndarray) -> None:
    """Scores of a matrix: bit for bit when ``X`` is column-major, the layout river's frames hand
    to numpy. Row-major rows are summed in another order by BLAS (``X @ w``), so their log-odds
    differ by rounding only: each order is within (p+1)·ε/2·(Σ|wᵢxᵢ| + |b|) of the exact sum (p
    products and the intercept, ε = 2⁻⁵²), the probabilities by a quarter of twice that (σ' ≤ ¼),
    plus the roundings of exp and of the division in σ, at most 4 ulp of the probability. The
    bound is computed here from the scaled rows."""
    with np.errstate(over="ignore"):  # exp(−z) = inf where z < −709: σ is 0, as it should be
        expected = river.predict_proba(X)
        ours_f, ours_c = ours.predict_proba(np.asfortranarray(X)), ours.predict_proba(np.ascontiguousarray(X))
    assert np.array_equal(bits(ours_f), bits(expected))
    _, _, weights, intercept = ours._compile()
    scaled = ours._scale(np.asfortranarray(X, np.float64)) if ours.scaling else X
    terms = np.abs(scaled) @ np.abs(weights) + abs(intercept)
    bound = 0.25 * (len(weights) + 1) * np.finfo(np.float64).eps * terms + 4 * np.spacing(expected)
    assert np.all(np.abs(ours_c - expected) <= bound)


def _batches(seed: int, names: list[str], wide: bool = True, steps: int = 400):
    """Batches like the simulator's: scales from 0.1 to 1,000 (``wide``; else to 3), a one-hot-like
    column, a constant one (no variance: centred, not scaled), float32 rows or the column-major
    float64 the engine hands over, batches of one row, sample weights, empty batches."""
    rng = np.random.default_rng(seed)
    p = len(names)
    scale = rng.uniform(0.1, 1000 if wide else 3, p)
    shift = rng.normal(0, 50 if wide else 1, p)
    for step in range(steps):
        rows = [400, 1, 37, 0, 1570, 25, 3, 12, 60, 7][step % 10]
        X = rng.normal(size=(rows, p)) * scale + shift
        X[:, 1] = rng.random(rows) < 0.3
        X[:, 2] = 7.0
        y = (rng.random(rows) < 0.05 + 0.1 * (X[:, 0] > shift[0])).astype(np.int8)
        weight = np.where(y == 1, rng.uniform(0.1, 1, rows), rng.uniform(1, 3, rows)) if step % 3 == 2 else None
        X = X.astype(np.float32) if step % 2 else np.asfortranarray(X)
        yield X, y, weight


def _warm(models: list[RiverLogistic], seed: int) -> None:
    """Warm-start as a simulation does: the history's scikit-learn model."""
    rng = np.random.default_rng(seed)
    X_h = rng.normal(size=(2000, len(FEATURES))) * rng.uniform(0.5, 20, len(FEATURES))
    fitted = SklearnModel("logistic").fit(X_h, (X_h[:, 0] + rng.normal(size=2000) > 1.5).astype(np.int8))
    for model in models:
        model.warm_start(fitted, 2000)


CASES = list(itertools.product([True, False], ["sgd", "adam"], [False, True]))  # scaling, optimizer, warm
FIRST_STEPS = list(itertools.product([True, False], ["sgd", "adam"], [1, 20]))  # scaling, optimizer, rows


@pytest.mark.parametrize(("scaling", "optimizer", "warm"), CASES)
def test_learn_is_river_learn_many_bit_for_bit(scaling, optimizer, warm):
    names = list(FEATURES)
    rng = np.random.default_rng(11)
    X_test = rng.normal(size=(300, len(names))) * rng.uniform(0.5, 50 if scaling else 3, len(names))
    lr = 0.002 if scaling else 1e-4
    ours = RiverLogistic(names, optimizer=optimizer, lr=lr, scaling=scaling, intercept_lr=0.7 * lr)
    if warm:
        _warm([ours], 5)
    river = Oracle(ours, warm)
    seen_empty = seen_weighted = 0
    for X, y, weight in _batches(3, names, wide=scaling):
        before = state(ours)
        ours.learn(X, y, weight)
        river.learn(X, y, weight)
        assert_same(ours, river)
        assert_same_scores(ours, river, X_test)
        if len(y) == 0:
            seen_empty += 1
            assert all(np.array_equal(before[k], v) for k, v in state(ours).items())  # an empty batch changes nothing
        seen_weighted += weight is not None
    X, y, _ = next(_batches(4, names, wide=scaling))
    huge = np.full(len(y), 1e13)  # past river's gradient bound, 1e12: clipped
    ours.learn(X, y, huge)
    river.learn(X, y, huge)
    assert_same(ours, river)
    assert_same_scores(ours, river, X_test)
    assert seen_empty and seen_weighted and ours.n_learned > 0
    if warm:
        assert river.initializer.calls == len(names)  # river took every warm weight, once


@pytest.mark.parametrize(("scaling", "optimizer", "warm"), CASES)
def test_learn_one_is_river_learn_one_bit_for_bit(scaling, optimizer, warm):
    """Replay's exact mode: rows scored and labels learned one at a time, some with sample weights;
    a large learning rate on raw features drives log-odds past ±18 and ±30, where river's loss
    gradient and sigmoid take shortcuts."""
    names = list(FEATURES)
    rng = np.random.default_rng(7)
    p = len(names)
    scale = rng.uniform(0.1, 100 if scaling else 3, p)
    lr = 0.01 if scaling else 0.3
    ours = RiverLogistic(names, optimizer=optimizer, lr=lr, scaling=scaling, intercept_lr=0.7 * lr)
    if warm:
        _warm([ours], 6)
    river = Oracle(ours, warm)
    learned = 0
    margins = []
    for step in range(3000):
        x = (rng.normal(size=p) * scale).tolist()
        x[2] = 7.0  # no variance: river's transform_one gives 0
        if rng.random() < 0.5 and (learned or not warm):
            assert bits(ours.predict_proba_one(x)) == bits(river.predict_proba_one(x)), step
        else:
            y = bool(rng.random() < 0.2 + 0.3 * (x[0] > 0))
            w = float(rng.uniform(0.2, 5)) if step % 4 == 0 else None
            ours.learn_one(x, y, **({} if w is None else {"w": w}))
            river.learn_one(x, y, w)
            learned += 1
            assert_same(ours, river)
            margins.append(abs(ours._intercept) + abs(np.dot(ours._weights, x)))
    ours.learn_one(x, True, w=1e13)  # past river's gradient bound, 1e12: clipped
    river.learn_one(x, True, 1e13)
    assert_same(ours, river)
    assert_same_scores(ours, river, rng.normal(size=(200, p)) * scale)
    if not scaling:
        assert max(margins) > 30  # the shortcuts were taken


@pytest.mark.filterwarnings("ignore:overflow encountered in exp:RuntimeWarning")  # σ at |z| > 709, in both
@pytest.mark.parametrize(("scaling", "optimizer", "rows"), FIRST_STEPS)
def test_first_steps_of_many_models_bit_for_bit(scaling, optimizer, rows):
    """The first steps of 150 new models, on batches (``rows`` = 20: ``learn``) or rows (1:
    ``learn_one``) far apart: there a new squared gradient is all of Adam's second moment and the
    merged batches' squared distance most of the scaler's variance, so one ulp in either shows
    (``pow(x, 2)`` and ``x * x`` differ once in a thousand; river takes one in ``learn_many``,
    the other in ``learn_one``)."""
    names = list(FEATURES)
    rng = np.random.default_rng(13)
    p = len(names)
    for _ in range(150):
        ours = RiverLogistic(names, optimizer=optimizer, lr=0.05, scaling=scaling, intercept_lr=0.02)
        river = Oracle(ours)
        scale = rng.uniform(0.1, 10, p)
        for _ in range(3):
            X = (rng.normal(size=(rows, p)) + rng.normal(0, 5, p)) * scale
            y = rng.random(rows) < 0.5
            if rows == 1:
                ours.learn_one(X[0].tolist(), bool(y[0]))
                river.learn_one(X[0].tolist(), bool(y[0]), None)
            else:
                ours.learn(X, y)
                river.learn(X, y, None)
            assert_same(ours, river)


def test_the_comparison_sees_one_ulp():
    """The state comparison is exact: one ulp in one weight, or a learned row fewer, shows."""
    names = list(FEATURES)
    a, b, c = (RiverLogistic(names) for _ in range(3))
    X, y, _ = next(_batches(5, names))
    a.learn(X, y)
    b.learn(X, y)
    assert all(np.array_equal(state(a)[k], v) for k, v in state(b).items())
    b._weights[4] = float(np.nextafter(b._weights[4], np.inf))
    assert not np.array_equal(state(a)["weights"], state(b)["weights"])
    c.learn(X[1:], y[1:])
    assert not np.array_equal(state(a)["means"], state(c)["means"])


def test_learning_leaves_the_callers_rows_alone():
    names = list(FEATURES)
    X, y, _ = next(_batches(6, names))
    kept = X.copy()
    RiverLogistic(names).learn(X, y)
    assert np.array_equal(X, kept) and X.flags.f_contiguous


def test_an_unknown_optimizer_is_refused():
    with pytest.raises(ValueError, match="sgd, adam"):
        RiverLogistic(["a"], optimizer="adagrad")
