"""The learner contract, in the spirit of river's ``check_estimator``: checks any learner passes,
ours and a user's (``check_learner``), each a plain function that raises ``AssertionError``."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable

import numpy as np

from ..feedback.labels import SOURCE_CODE, LabelEvents
from .history import History
from .protocol import Batch, Learner, clone, params, scores_problem, truth_events

Build = Callable[[], Learner]


def contract_failures(build: Build, history: History, batch: Batch, later: float = 86400.0) -> list[str]:
    """What is wrong with the learners ``build`` returns (each call a new one with the same seed),
    one line per broken rule; empty when they keep the contract. ``batch`` is a labelled batch
    after the history, learnt, then ``at_boundary(later)``.

    The rules: scores are one probability in [0, 1] per row; neither scoring nor learning
    changes the batch or the history; an empty batch scores to nothing and teaches nothing; two
    learners built and taught alike score alike; a trained learner survives pickling; a clone
    has the same parameters and none of the learnt state, and shares nothing with the original.
    Each rule is checked on learners of its own, so one broken rule does not hide another.
    """
    try:
        build()
    except Exception as error:
        return [f"cannot be built: {_raised(error)}"]
    failures = []
    for rule, check in RULES.items():
        try:
            check(build, copy.deepcopy(history), copy.deepcopy(batch), later)  # a broken rule spoils no other
        except AssertionError as error:
            failures.append(f"{rule}: {_said(error)}")
        except Exception as error:
            failures.append(f"{rule}: {_raised(error)}")
    return failures


def check_learner(build: Build, history: History, batch: Batch, later: float = 86400.0) -> None:
    """:func:`contract_failures`, raised as one ``AssertionError`` listing them (for tests).

    >>> from sim.learn.checks import toy_history, toy_batch
    >>> from sim.learn.learners import from_arm
    >>> from sim.schema import OnlineArm, Rules
    >>> check_learner(lambda: from_arm(OnlineArm(name="online"), Rules(), 1000.0, seed=1), toy_history(), toy_batch())
    """
    failures = contract_failures(build, history, batch, later)
    assert not failures, "the learner breaks its contract:\n" + "\n".join(failures)


def _said(error: AssertionError) -> str:
    """An assertion's own words (numpy's comparisons put them after a line of their own)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    lines = [line for line in lines if line not in ("Arrays are not equal", "Not equal to tolerance")]
    return lines[0] if lines else "failed"


def _raised(error: Exception) -> str:
    text = " ".join(str(error).split())
    return f"raised {type(error).__name__}" + (f": {text[:200]}" if text else "")


def _scores(build: Build, history: History, batch: Batch, later: float) -> None:
    learner = build()
    learner.start(history)
    _probabilities(learner, batch)
    learner.learn(batch)
    learner.at_boundary(later)
    _probabilities(learner, batch)


def _empty_batch(build: Build, history: History, batch: Batch, later: float) -> None:
    learner = build()
    learner.start(history)
    untrained = np.asarray(learner.predict_proba(batch))  # whether they are probabilities is another rule's
    empty = batch.take(np.zeros(len(batch), bool))
    assert len(learner.predict_proba(empty)) == 0, "scores for an empty batch"
    learner.learn(empty)
    np.testing.assert_array_equal(learner.predict_proba(batch), untrained, "an empty batch changed the scores")


def _inputs_unchanged(build: Build, history: History, batch: Batch, later: float) -> None:
    before, history_X = copy.deepcopy(batch), history.X.copy()
    _trained(build, history, batch, later).predict_proba(batch)
    _unchanged(batch, before)
    np.testing.assert_array_equal(history.X, history_X, "the history was modified")


def _deterministic(build: Build, history: History, batch: Batch, later: float) -> None:
    first, second = (_trained(build, history, batch, later) for _ in range(2))
    np.testing.assert_array_equal(
        first.predict_proba(batch), second.predict_proba(batch), "not deterministic under a seed"
    )


def _pickles(build: Build, history: History, batch: Batch, later: float) -> None:
    learner = _trained(build, history, batch, later)
    again = pickle.loads(pickle.dumps(learner))
    np.testing.assert_array_equal(
        again.predict_proba(batch), learner.predict_proba(batch), "scores changed through pickling"
    )


def _clones(build: Build, history: History, batch: Batch, later: float) -> None:
    fresh = build()
    fresh.start(history)
    untrained = fresh.predict_proba(batch)
    first = _trained(build, history, batch, later)
    twin = clone(first)
    _same_parameters(twin, first)
    twin.start(history)
    np.testing.assert_array_equal(twin.predict_proba(batch), untrained, "a clone kept learnt state")
    first.learn(batch)  # teaching the original leaves the clone as it was
    np.testing.assert_array_equal(twin.predict_proba(batch), untrained, "a clone shares state with its original")


RULES: dict[str, Callable[[Build, History, Batch, float], None]] = {
    "scores": _scores,
    "empty batch": _empty_batch,
    "inputs": _inputs_unchanged,
    "determinism": _deterministic,
    "pickling": _pickles,
    "clone": _clones,
}


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
    problem = scores_problem(p, len(batch))
    assert problem is None, problem
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
