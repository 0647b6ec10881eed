"""The learner contract, in the spirit of river's ``check_estimator``: checks any learner passes,
ours and a user's (``check_learner``), each a plain function that raises ``AssertionError``."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable

import numpy as np

from ..feedback.labels import SOURCE_CODE, LabelEvents
from .history import History
from .protocol import Batch, Learner, clone, params, truth_events

Build = Callable[[], Learner]


def check_learner(build: Build, history: History, batch: Batch, later: float = 86400.0) -> None:
    """Check the learners ``build`` returns (each call a new one with the same seed) against the
    contract: ``batch`` is a labelled batch after the history, learnt, then ``at_boundary(later)``.

    Scores are one probability in [0, 1] per row; neither scoring nor learning changes the batch
    or the history; an empty batch scores to nothing and teaches nothing; two learners built and
    taught alike score alike; a clone has the same parameters and none of the learnt state, and
    shares nothing with the original; a trained learner survives pickling.

    >>> from sim.learn.checks import toy_history, toy_batch
    >>> from sim.learn.learners import from_arm
    >>> from sim.schema import OnlineArm, Rules
    >>> check_learner(lambda: from_arm(OnlineArm(name="online"), Rules(), 1000.0, seed=1), toy_history(), toy_batch())
    """
    before, history_X = copy.deepcopy(batch), history.X.copy()
    fresh = build()
    fresh.start(history)
    untrained = _probabilities(fresh, batch)
    empty = batch.take(np.zeros(len(batch), bool))
    assert len(fresh.predict_proba(empty)) == 0, "scores for an empty batch"
    fresh.learn(empty)
    np.testing.assert_array_equal(fresh.predict_proba(batch), untrained, "an empty batch changed the scores")

    first, second = (_trained(build, history, batch, later) for _ in range(2))
    scores = _probabilities(first, batch)
    np.testing.assert_array_equal(scores, second.predict_proba(batch), "not deterministic under a seed")
    _unchanged(batch, before)
    np.testing.assert_array_equal(history.X, history_X, "the history was modified")

    again = pickle.loads(pickle.dumps(first))
    np.testing.assert_array_equal(again.predict_proba(batch), scores, "scores changed through pickling")

    twin = clone(first)
    _same_parameters(twin, first)
    twin.start(history)
    np.testing.assert_array_equal(twin.predict_proba(batch), untrained, "a clone kept learnt state")
    first.learn(batch)  # teaching the original leaves the clone as it was
    np.testing.assert_array_equal(twin.predict_proba(batch), untrained, "a clone shares state with its original")


def _same_parameters(twin: object, original: object) -> None:
    assert type(twin) is type(original), "a clone of another type"
    for (name, mine), theirs in zip(params(twin).items(), params(original).values(), strict=True):
        if hasattr(mine, "predict_proba") and hasattr(mine, "feed"):
            assert mine is not theirs, f"a clone shares its learner {name!r}"
            _same_parameters(mine, theirs)
        else:
            assert repr(mine) == repr(theirs), f"a clone's {name!r} differs"


def _probabilities(learner: Learner, batch: Batch) -> np.ndarray:
    p = np.asarray(learner.predict_proba(batch))
    assert p.shape == (len(batch),), f"{p.shape} scores for {len(batch)} rows"
    assert np.all((p >= 0) & (p <= 1)), "a probability outside [0, 1]"
    return p


def _trained(build: Build, history: History, batch: Batch, later: float) -> Learner:
    learner = build()
    learner.start(history)
    learner.learn(batch)
    learner.at_boundary(later)
    return learner


def _unchanged(batch: Batch, before: Batch) -> None:
    np.testing.assert_array_equal(batch.X, before.X, "the batch's features were modified")
    for a, b in zip(batch.labels.columns(), before.labels.columns(), strict=True):
        np.testing.assert_array_equal(a, b, "the batch's labels were modified")
    if batch.card is not None:
        np.testing.assert_array_equal(batch.card, before.card, "the batch's cards were modified")


# --------------------------------------------------------------------------- toy data


def toy_history(rows: int = 2000, seed: int = 0) -> History:
    """A history of made-up transactions whose fraud follows a logistic model of the features."""
    from ..schema.features import FEATURES

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, len(FEATURES))).astype(np.float32)
    y = (rng.random(rows) < 1 / (1 + np.exp(3.0 - 1.5 * X[:, 0]))).astype(np.int8)
    ids = np.arange(rows, dtype=np.int64)
    at = np.linspace(-20 * 86400.0, -1.0, rows)
    events = LabelEvents(ids, np.full(rows, SOURCE_CODE["maturity"], np.int8), y, at, at - 3600.0)
    truth = truth_events(ids, y, at - 3600.0, known_at=-1.0)
    return History(X, y, events, X, truth, X, np.zeros(rows, bool))


def toy_batch(rows: int = 500, seed: int = 1, cards: int = 100) -> Batch:
    """A labelled batch after the toy history, arrived within its first hour."""
    from ..schema.features import FEATURES

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, len(FEATURES))).astype(np.float32)
    y = (rng.random(rows) < 1 / (1 + np.exp(3.0 - 1.5 * X[:, 0]))).astype(np.int8)
    ids = np.arange(10**6, 10**6 + rows, dtype=np.int64)
    at = np.linspace(1.0, 3600.0, rows)
    investigator, maturity = SOURCE_CODE["investigator"], SOURCE_CODE["maturity"]
    sources = np.where(np.arange(rows) % 5 == 0, investigator, maturity).astype(np.int8)
    events = LabelEvents(ids, sources, y, at, at - 60.0)
    return Batch(X, 3600.0, rng.integers(0, cards, rows), ids, events)
