"""``RiverLogistic.learn`` does river's ``learn_many`` arithmetic on numpy arrays; the model it
leaves (weights, intercept, optimizer, scaler statistics) and its scores must be river's own, bit
for bit: the simulation's outputs, warm starts and predictions rely on river's state."""

from __future__ import annotations

import io
import pickle

import numpy as np
import polars as pl
import pytest

from sim.detect.models import RiverLogistic, SklearnModel
from sim.schema.features import FEATURES


def _river_learn(model: RiverLogistic, X: np.ndarray, y: np.ndarray, weight: np.ndarray | None) -> None:
    """The reference: river's own ``learn_many`` on polars frames (the pipeline's: the scaler's
    ``learn_many`` and ``transform_many``, then the regression's), with ``RiverLogistic``'s
    convention of a summed gradient (every row weighted by the batch size) and empty batches skipped."""
    if len(y) == 0:
        return
    frame = pl.from_numpy(np.asarray(X, np.float64), schema=model.features, orient="row")
    w = (np.ones(len(y)) if weight is None else weight.astype(np.float64)) * len(y)
    model.pipeline.learn_many(frame, pl.Series("y", y.astype(bool)), w=pl.Series("w", w))
    model._compiled = None
    model.n_learned += len(y)


def _pickled(obj: object) -> bytes:
    """``obj`` pickled without the memo, so the bytes are its values and types alone (the
    numpy path's dictionary keys are the model's own column-name strings, river's are the
    frame's: equal strings, different objects)."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=4)
    pickler.fast = True
    pickler.dump(obj)
    return buffer.getvalue()


def _state(model: RiverLogistic) -> dict:
    """Everything river keeps, as plain values with their types."""
    regression = model._regression

    def plain(d):
        return [(k, type(v).__name__, v) for k, v in dict(d).items()] if d is not None else None

    optimizer = regression.optimizer
    state = {
        "weights": plain(regression._weights),
        "intercept": (type(regression.intercept).__name__, regression.intercept),
        "y_name": regression._y_name,
        "iterations": optimizer.n_iterations,
        "m": plain(getattr(optimizer, "m", None)),
        "v": plain(getattr(optimizer, "v", None)),
        "n_learned": model.n_learned,
    }
    if model._scaler is not None:
        state |= {
            "means": plain(model._scaler.means),
            "vars": plain(model._scaler.vars),
            "counts": plain(model._scaler.counts),
        }
    return state


def _batches(seed: int, names: list[str], wide: bool = True):
    """Batches like the simulator's: scales from 0.1 to 1,000 (``wide``; else to 3), one-hot columns, a constant column,
    float32 rows or the column-major float64 the engine hands over; one batch of one row, two with
    sample weights, one empty."""
    rng = np.random.default_rng(seed)
    p = len(names)
    scale = rng.uniform(0.1, 1000 if wide else 3, p)
    shift = rng.normal(0, 50 if wide else 1, p)
    sizes = [400, 1, 37, 0, 1570, 250, 0, 3, 800, 120]
    for step, rows in enumerate(sizes):
        X = rng.normal(size=(rows, p)) * scale + shift
        X[:, 1] = rng.random(rows) < 0.3  # one-hot-like
        X[:, 2] = 7.0  # constant: zero variance, left unscaled
        y = (rng.random(rows) < 0.05).astype(np.int8)
        weight = np.where(y == 1, rng.uniform(0.1, 1), rng.uniform(1, 3)) if step in (2, 5) else None
        X = X.astype(np.float32) if step % 2 else np.asfortranarray(X)
        yield X, y, weight


@pytest.mark.parametrize("scaling", [True, False])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("warm", [False, True])
def test_numpy_learn_is_river_learn_many_bit_for_bit(scaling, optimizer, warm):
    names = list(FEATURES)
    rng = np.random.default_rng(11)
    X_test = rng.normal(size=(300, len(names))) * rng.uniform(0.5, 50 if scaling else 3, len(names))
    models = [RiverLogistic(names, optimizer=optimizer, lr=0.002, scaling=scaling) for _ in range(2)]
    if warm:  # as the simulation starts: the history's scikit-learn model
        X_h = rng.normal(size=(2000, len(names)))
        fitted = SklearnModel("logistic").fit(X_h, (X_h[:, 0] + rng.normal(size=2000) > 1.5).astype(np.int8))
        for m in models:
            m.warm_start(fitted, 2000)
    fast, river = models
    seen_empty = seen_weighted = 0
    for X, y, weight in _batches(3, names, wide=scaling):
        before = _pickled(fast.pipeline)
        fast.learn(X, y, weight)
        _river_learn(river, X, y, weight)
        assert _state(fast) == _state(river)
        assert _pickled(fast.pipeline) == _pickled(river.pipeline)  # every attribute, bit for bit
        assert np.array_equal(fast.predict_proba(X_test), river.predict_proba(X_test))
        assert np.array_equal(fast.predict_proba_river(X_test), river.predict_proba_river(X_test))
        if len(y) == 0:
            seen_empty += 1
            assert _pickled(fast.pipeline) == before  # an empty batch changes nothing
        seen_weighted += weight is not None
    assert seen_empty and seen_weighted
    assert fast.n_learned == river.n_learned > 0


def test_the_comparison_sees_one_ulp():
    """The state comparison is exact: one ulp in one weight, or a learned row fewer, shows."""
    names = list(FEATURES)
    a, b = (RiverLogistic(names) for _ in range(2))
    X, y, _ = next(_batches(5, names))
    a.learn(X, y)
    b.learn(X, y)
    assert _state(a) == _state(b)
    name = names[4]
    b._regression._weights[name] = np.nextafter(b._regression._weights[name], np.inf)
    assert _state(a) != _state(b)
    c = RiverLogistic(names)
    c.learn(X[1:], y[1:])
    assert _state(a) != _state(c)


def test_learning_leaves_the_callers_rows_alone():
    names = list(FEATURES)
    X, y, _ = next(_batches(6, names))
    kept = X.copy()
    RiverLogistic(names).learn(X, y)
    assert np.array_equal(X, kept) and X.flags.f_contiguous
