"""Learners: the arms being compared (DESIGN §6).

Every learner starts from the same history and serves the deployed model's
probabilities; what differs is when and from what it learns:

- ``online`` learns each tick's arrived label events (river, ``learn_many``);
- ``batch`` retrains every ``every`` on the label events that arrived within
  ``window`` and deploys the new model ``deploy_lag`` later (scikit-learn);
- ``static`` never learns after the history;
- ``oracle`` learns the true label of every transaction at the next tick;
- ``rules`` applies the scenario's thresholds and never learns.

The engine calls :meth:`Learner.learn` only with events whose arrival time has
passed, and :meth:`Learner.at_boundary` at every tick boundary.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from ..detect.models import RiverLogistic, RulesModel, SklearnLogistic
from ..rng import uniform_hash
from ..schema import Arm, BatchArm, OnlineArm, OracleArm, Rules, RulesArm, StaticArm


@dataclass(frozen=True)
class ModelEvent:
    """Something that happened to a learner's model: a retrain or a deploy."""

    time: float
    kind: str
    rows: int = 0
    positives: int = 0


@dataclass(frozen=True)
class History:
    """What every arm starts from at t = 0.

    ``X``/``y``: the history's transactions with their eventual labels, and
    ``first_model`` fitted on them once for every arm. ``arrived_*``: the label
    events that arrived before t = 0 within the longest batch window, as a
    batch learner's buffer.
    """

    X: np.ndarray
    y: np.ndarray
    first_model: SklearnLogistic
    arrived_X: np.ndarray
    arrived_y: np.ndarray
    arrived_at: np.ndarray
    arrived_tx: np.ndarray


class Learner(Protocol):
    name: str
    feedback: Literal["labels", "truth", "truth_censored", "none"]
    newest_label_at: float

    def start(self, history: History) -> None:
        """Train the first model."""

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Fraud probabilities from the deployed model."""

    def learn(self, X: np.ndarray, y: np.ndarray, label_at: np.ndarray, tx_id: np.ndarray, now: float) -> None:
        """Take label events that have arrived by ``now``."""

    def at_boundary(self, now: float) -> list[ModelEvent]:
        """Retrain or deploy if the schedule says so."""


def fit_first_model(X: np.ndarray, y: np.ndarray) -> SklearnLogistic:
    """The model every arm starts from, fitted on the history."""
    return SklearnLogistic().fit(X, y)


LONG_RUN_HALFLIFE_S = 180 * 86400.0


class OnlineLearner:
    """river logistic regression, warm-started from the history, then one step per tick."""

    def __init__(self, arm: OnlineArm | OracleArm):
        self.name = arm.name
        self.arm = arm
        if isinstance(arm, OracleArm):
            self.feedback = "truth_censored" if arm.censored else "truth"
        else:
            self.feedback = "labels"
        self.model = RiverLogistic(arm.optimizer, arm.lr, getattr(arm, "scaling", True), arm.intercept_lr)
        self.newest_label_at = -np.inf
        self._shares = {"long": (1.0, 0.0), "recent": (1.0, 0.0)}  # decayed (events, fraud) for `prior`
        self._seen_at = 0.0

    def start(self, history: History) -> None:
        self.model.warm_start(history.first_model, len(history.y))
        self.newest_label_at = 0.0
        share = float(history.y.mean()) if len(history.y) else 0.0
        # The long run starts as the history; the recent share starts there too, but as one
        # pseudo-event, so arrivals take over within a few hours.
        self._shares = {"long": (float(len(history.y)), float(history.y.sum())), "recent": (1.0, share)}

    def predict_proba(self, X):
        return self.model.predict_proba(X)

    def learn(self, X, y, label_at, tx_id, now):
        if len(y):
            self.model.learn(X, y, self._weights(y, now))
            self.newest_label_at = max(self.newest_label_at, float(label_at.max()))

    def _weights(self, y: np.ndarray, now: float) -> np.ndarray | None:
        """Prior correction: weight events by long-run over recent fraud share of arrivals.

        Both shares are decayed averages (long run: half-life 180 days, starting from the
        history; recent: `reweight_window`). In steady state the weights are about 1; when
        fast fraud labels bunch up, fraud events are weighted down (and honest ones up).
        """
        if getattr(self.arm, "reweight", "none") != "prior":
            return None
        elapsed = now - self._seen_at
        for key, halflife in (("long", LONG_RUN_HALFLIFE_S), ("recent", self.arm.reweight_window)):
            decay = 0.5 ** (elapsed / halflife)
            total, fraud = self._shares[key]
            self._shares[key] = (total * decay + len(y), fraud * decay + float(y.sum()))
        self._seen_at = now
        long_run = self._shares["long"][1] / self._shares["long"][0]
        recent = self._shares["recent"][1] / self._shares["recent"][0]
        w_pos = float(np.clip(long_run / max(recent, 1e-12), 0.1, 10.0))
        w_neg = float(np.clip((1 - long_run) / max(1 - recent, 1e-12), 0.1, 10.0))
        return np.where(y == 1, w_pos, w_neg)

    def at_boundary(self, now):
        return []


class BatchLearner:
    """scikit-learn retrained on a schedule from a window of arrived label events.

    Negatives beyond what ``max_rows`` allows are subsampled by a stable hash of
    the transaction id and weighted by the inverse rate, which keeps the
    model's probabilities calibrated (the prior correction).
    """

    feedback = "labels"

    def __init__(self, arm: BatchArm, labels_per_day: float):
        self.name = arm.name
        self.arm = arm
        expected = max(labels_per_day * arm.window / 86400.0, 1.0)
        self.keep_negative = min(1.0, arm.max_rows / expected)
        self.model = SklearnLogistic()
        self._chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self._next_retrain = arm.every
        self._pending: list[tuple[float, SklearnLogistic, float]] = []
        self.newest_label_at = -np.inf

    def start(self, history: History) -> None:
        self.model = copy.deepcopy(history.first_model)
        self.newest_label_at = 0.0
        keep = history.arrived_at > -self.arm.window
        self._add(history.arrived_X[keep], history.arrived_y[keep], history.arrived_at[keep], history.arrived_tx[keep])

    def predict_proba(self, X):
        return self.model.predict_proba(X)

    def _add(self, X, y, label_at, tx_id):
        keep = (y == 1) | (uniform_hash(tx_id, 3) < self.keep_negative)
        if keep.any():
            self._chunks.append((X[keep], y[keep], label_at[keep], tx_id[keep]))

    def learn(self, X, y, label_at, tx_id, now):
        self._add(X, y, label_at, tx_id)

    def training_set(self, now: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """The window's events, one per transaction (its latest label), with weights."""
        start = now - self.arm.window
        self._chunks = [c for c in self._chunks if c[2].max() > start]
        if not self._chunks:
            return np.empty((0, 0)), np.empty(0), np.empty(0), -np.inf
        X, y, label_at, tx_id = (np.concatenate(parts) for parts in zip(*self._chunks, strict=True))
        inside = (label_at > start) & (label_at <= now)
        X, y, label_at, tx_id = X[inside], y[inside], label_at[inside], tx_id[inside]
        order = np.lexsort((label_at, tx_id))
        latest = order[np.r_[tx_id[order][1:] != tx_id[order][:-1], True]]
        y = y[latest]
        weight = np.where(y == 1, 1.0, 1.0 / self.keep_negative)
        newest = float(label_at.max()) if len(label_at) else -np.inf
        return X[latest], y, weight, newest

    def at_boundary(self, now):
        events: list[ModelEvent] = []
        if now >= self._next_retrain:
            X, y, weight, newest = self.training_set(now)
            model = SklearnLogistic().fit(X, y, weight) if len(y) else self.model
            self._pending.append((now + self.arm.deploy_lag, model, newest))
            self._next_retrain += self.arm.every
            events.append(ModelEvent(now, "retrain", len(y), int(y.sum())))
        while self._pending and self._pending[0][0] <= now:
            _, self.model, newest = self._pending.pop(0)
            self.newest_label_at = max(self.newest_label_at, newest)
            events.append(ModelEvent(now, "deploy"))
        return events


class StaticLearner:
    """The history's model, kept forever."""

    feedback = "none"

    def __init__(self, arm: StaticArm):
        self.name = arm.name
        self.model = SklearnLogistic()
        self.newest_label_at = -np.inf

    def start(self, history: History) -> None:
        self.model = copy.deepcopy(history.first_model)
        self.newest_label_at = 0.0

    def predict_proba(self, X):
        return self.model.predict_proba(X)

    def learn(self, X, y, label_at, tx_id, now):
        pass

    def at_boundary(self, now):
        return []


class RulesLearner:
    """The scenario's thresholds; the history's policy."""

    feedback = "none"

    def __init__(self, name: str, rules: Rules):
        self.name = name
        self.model = RulesModel(rules)
        self.newest_label_at = -np.inf

    def start(self, history: History) -> None:
        pass

    def predict_proba(self, X):
        return self.model.predict_proba(X)

    def learn(self, X, y, label_at, tx_id, now):
        pass

    def at_boundary(self, now):
        return []


def make_learner(arm: Arm, rules: Rules, labels_per_day: float) -> Learner:
    """The learner an arm describes."""
    match arm:
        case OnlineArm() | OracleArm():
            return OnlineLearner(arm)
        case BatchArm():
            return BatchLearner(arm, labels_per_day)
        case StaticArm():
            return StaticLearner(arm)
        case RulesArm():
            return RulesLearner(arm.name, rules)
    raise TypeError(f"unknown arm {arm!r}")
