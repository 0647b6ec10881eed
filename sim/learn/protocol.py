"""The learner protocol: what the engine, the replay and the A/B test ask of a detector.

Two verbs over one batch type, in river's shape: ``predict_proba(batch)`` scores a
:class:`Batch` of transactions, ``learn(batch)`` learns a batch that carries its label events.
Around them, ``start(history)`` trains the first model and ``at_boundary(now)`` retrains or
deploys on schedule. A learner's constructor parameters are public attributes of the same name
(so :func:`clone` can rebuild it unfitted); what it learns is private. ``feed`` declares what
the engine hands it: arrived label events, or every transaction's truth the tick after.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..feedback.labels import LabelEvents
from .history import History

TRUTH_SOURCE = -1  # the source code of the truth fed to oracles (no label source delivers it)


@dataclass(frozen=True)
class Feed:
    """What a learner learns from: arrived label events, and/or the truth of every transaction
    (of the approved ones only, when ``approved_only``) at the next tick."""

    labels: bool = False
    truth: bool = False
    approved_only: bool = False


LABELS = Feed(labels=True)
TRUTH = Feed(truth=True)
APPROVED_TRUTH = Feed(truth=True, approved_only=True)
NOTHING = Feed()


@dataclass(frozen=True)
class Batch:
    """Transactions as a learner sees them: their features ``X`` at time ``now``, their cards
    and ids when known and, to learn from, their label events (one per row, in row order).

    >>> batch = Batch(np.zeros((2, 3), np.float32), now=60.0, card=np.array([4, 9]))
    >>> len(batch), len(batch.take(np.array([False, True])))
    (2, 1)
    """

    X: np.ndarray
    now: float = 0.0
    card: np.ndarray | None = None
    tx_id: np.ndarray | None = None
    labels: LabelEvents | None = None

    def __len__(self) -> int:
        return len(self.X)

    def take(self, rows: np.ndarray) -> Batch:
        """The rows at ``rows`` (a mask or indices)."""

        def pick(column):
            return None if column is None else column[rows]

        labels = None if self.labels is None else self.labels.take(rows)
        return Batch(self.X[rows], self.now, pick(self.card), pick(self.tx_id), labels)


@dataclass(frozen=True)
class ModelEvent:
    """Something that happened to a learner's model: a retrain, a deploy, a drift alarm, a fallback."""

    time: float
    kind: str
    rows: int = 0
    positives: int = 0
    detail: str = ""


class Learner(Protocol):
    name: str
    feed: Feed
    newest_fraud_at: float  # when the newest fraud the deployed model learnt from happened (for staleness)

    def start(self, history: History) -> None:
        """Train the first model."""

    def predict_proba(self, batch: Batch) -> np.ndarray:
        """Fraud probabilities from the deployed model; ``batch`` is not modified."""

    def learn(self, batch: Batch) -> None:
        """Take label events (``batch.labels``) that have arrived by ``batch.now``."""

    def at_boundary(self, now: float) -> list[ModelEvent]:
        """Retrain or deploy if the schedule says so."""


class ModelFailure(Exception):
    """A learner broke its contract during a run (an exception, or scores that are not one
    probability per row): its arm stops there; the other arms go on."""

    def __init__(self, arm: str, time: float, problem: str):
        super().__init__(arm, time, problem)  # its args rebuild it (pickling, SimPy's re-raise)
        self.arm, self.time, self.problem = arm, time, problem

    def __str__(self) -> str:
        day, seconds = divmod(max(self.time, 0.0), 86400.0)
        clock = f"{int(seconds // 3600):02d}:{int(seconds % 3600 // 60):02d}"
        return f"arm {self.arm!r} stopped on day {int(day)} at {clock}: {self.problem}"


def scores_problem(p: object, rows: int) -> str | None:
    """What is wrong with ``p`` as the scores of ``rows`` rows, or None: one probability in
    [0, 1] per row.

    >>> scores_problem(np.array([0.1, np.nan]), 2)
    '1 of 2 scores is not a probability in [0, 1] (nan)'
    """
    p = np.asarray(p)
    if p.shape != (rows,):
        return f"scores of shape {p.shape} for {rows} rows; expected ({rows},)"
    try:
        bad = ~((p >= 0) & (p <= 1))
    except TypeError:
        return f"scores of type {p.dtype}; expected numbers"
    if bad.any():
        count, first = int(bad.sum()), p[bad][0]
        shown = repr(float(first)) if np.issubdtype(p.dtype, np.number) else repr(first)
        return f"{count} of {rows} scores {'is' if count == 1 else 'are'} not a probability in [0, 1] ({shown})"
    return None


def params(learner: object) -> dict[str, object]:
    """A learner's constructor parameters, read from its public attributes of the same name."""
    signature = inspect.signature(type(learner).__init__)
    return {name: getattr(learner, name) for name in list(signature.parameters)[1:]}


def clone(learner: Learner) -> Learner:
    """A new, unfitted learner with the same parameters (learners among them cloned too), as
    river's and scikit-learn's ``clone``."""
    kwargs = {
        name: clone(value) if hasattr(value, "predict_proba") and hasattr(value, "feed") else value
        for name, value in params(learner).items()
    }
    return type(learner)(**kwargs)


def truth_events(tx_id: np.ndarray, is_fraud: np.ndarray, t: np.ndarray, known_at: float) -> LabelEvents:
    """The true labels of transactions, as label events known at ``known_at`` (an oracle's feed)."""
    n = len(tx_id)
    return LabelEvents(tx_id, np.full(n, TRUTH_SOURCE, np.int8), is_fraud.astype(np.int8), np.full(n, known_at), t)
