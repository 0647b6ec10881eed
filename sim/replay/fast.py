"""Batch-mode speed: :meth:`RiverLogistic.learn` without its data-frame round trips.

``RiverLogistic.learn`` hands river one polars frame per call (the scaler's ``learn_many``, then
the regression's), and river converts each through narwhals back to numpy: about 0.6 ms per
call, which is most of a batch-mode replay. :func:`frame_free` swaps in a ``learn`` doing the
same river arithmetic on numpy arrays — the scaler's batch statistics as in river's
``StandardScaler.learn_many``, then the regression's own ``_fit`` with its
``_eval_gradient_many`` — so the model ends in the same state; ``tests/test_replay.py`` pins the
two together.
"""

from __future__ import annotations

import functools
import types

import numpy as np

from ..detect.models import RiverLogistic


def _scaler_learn_many(scaler, columns: list[str], X: np.ndarray) -> None:
    """river's ``StandardScaler.learn_many`` (no window), on a numpy matrix."""
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


def _learn(model: RiverLogistic, X: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None) -> None:
    """What ``RiverLogistic.learn`` does, on numpy arrays."""
    if len(y) == 0:
        return
    X = np.asfortranarray(X, dtype=np.float64)  # the layout river's frames give: the same sums, bit for bit
    w = (np.ones(len(y)) if weight is None else weight.astype(np.float64)) * len(y)
    if model._scaler is not None:
        _scaler_learn_many(model._scaler, model.features, X)
        model._compiled = None
        X = model._scale(X)
    regression, columns = model._regression, model.features
    saved = regression._enter_learn_mode(set(columns))
    try:
        regression._fit(x=columns, y=y.astype(bool), w=w, get_grad=functools.partial(regression._eval_gradient_many, X))
    finally:
        regression._exit_learn_mode(saved)
    model._compiled = None
    model.n_learned += len(y)


def frame_free(model: object) -> object:
    """Give a :class:`RiverLogistic` (without a scaler window) the numpy ``learn``; other models
    are returned unchanged."""
    if isinstance(model, RiverLogistic) and (model._scaler is None or model._scaler.window_size is None):
        model.learn = types.MethodType(_learn, model)
    return model
