"""Learners: the arms being compared (DESIGN §6).

Every learner starts from the same history and serves the deployed model's
probabilities; what differs is when and from what it learns:

- ``online`` learns each tick's arrived label events (the Laplace learner, or river's models);
- ``batch`` retrains every ``every`` on the label events that arrived within
  ``window`` and deploys the new model ``deploy_lag`` later (scikit-learn);
- ``hybrid`` is a batch model recalibrated online from arriving labels;
- ``split`` averages a model of investigators' feedback and one of delayed labels;
- ``static`` never learns after the history;
- ``oracle`` learns the true label of every transaction at the next tick (the online Laplace
  learner, or a scikit-learn refit every ``every``);
- ``rules`` applies the scenario's thresholds and never learns.

The engine calls :meth:`Learner.learn` only with events whose arrival time has
passed, and :meth:`Learner.at_boundary` at every tick boundary.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np

from ..detect.laplace import LaplaceLogistic
from ..detect.models import RiverTree, RulesModel, SklearnModel, _logit, _sigmoid
from ..detect.river_logistic import RiverLogistic
from ..feedback.labels import SOURCE_CODE, LabelEvents
from ..rng import uniform_hash
from ..schema import Arm, BatchArm, HybridArm, OnlineArm, OracleArm, Rules, RulesArm, SplitArm, StaticArm
from ..schema.features import FEATURES

FEEDBACK_SOURCES = np.array([SOURCE_CODE["investigator"], SOURCE_CODE["decline_confirmation"]])
LONG_RUN_HALFLIFE_S = 180 * 86400.0
LABEL_WINDOW_SALT = 3  # the stable hash that picks which legitimate rows a label window keeps
TRUTH_SOURCE = -1  # the source code of the truth fed to oracles (no label source delivers it)
TREE_HISTORY_ROWS = 20_000


@dataclass(frozen=True)
class ModelEvent:
    """Something that happened to a learner's model: a retrain, a deploy, a drift alarm, a fallback."""

    time: float
    kind: str
    rows: int = 0
    positives: int = 0
    detail: str = ""


@dataclass(frozen=True)
class History:
    """What every arm starts from at t = 0.

    ``X``/``y``: the history's transactions with their eventual labels; the
    first model of each kind is fitted on them once and shared by every arm.
    ``arrived``/``arrived_X``: the label events that arrived before t = 0
    within the longest batch window, as a batch learner's starting buffer.
    ``truth``/``truth_X``/``truth_declined``: the true label of every transaction of
    the longest oracle window (legitimate ones thinned as the windows thin them), as
    an oracle's starting buffer.
    """

    X: np.ndarray
    y: np.ndarray
    arrived: LabelEvents
    arrived_X: np.ndarray
    truth: LabelEvents = field(default_factory=LabelEvents.empty)  # every transaction's truth, for oracles
    truth_X: np.ndarray = field(default_factory=lambda: np.zeros((0, len(FEATURES)), np.float32))
    truth_declined: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    _models: dict[str, SklearnModel] = field(default_factory=dict, compare=False, repr=False)
    _beliefs: dict[float, LaplaceLogistic] = field(default_factory=dict, compare=False, repr=False)

    def first_model(self, kind: str = "logistic") -> SklearnModel:
        if kind not in self._models:
            self._models[kind] = SklearnModel(kind).fit(self.X, self.y)
        return self._models[kind]

    def first_belief(self, prior_precision: float) -> LaplaceLogistic:
        """The first logistic model as a Laplace belief: its weights, and the precision the
        history gives them (computed once, shared by every arm; copy before learning)."""
        if prior_precision not in self._beliefs:
            belief = LaplaceLogistic(self.X.shape[1], prior_precision=prior_precision)
            coef, intercept = self.first_model("logistic").raw_coefficients()
            belief.warm_start(self.X, self.y, coef, intercept)
            self._beliefs[prior_precision] = belief
        return self._beliefs[prior_precision]


class Learner(Protocol):
    name: str
    feedback: Literal["labels", "truth", "truth_censored", "none"]
    newest_label_at: float

    def start(self, history: History) -> None:
        """Train the first model."""

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Fraud probabilities from the deployed model."""

    def learn(self, X: np.ndarray, events: LabelEvents, now: float) -> None:
        """Take label events that have arrived by ``now`` (``X``: their transactions' features)."""

    def at_boundary(self, now: float) -> list[ModelEvent]:
        """Retrain or deploy if the schedule says so."""


# --------------------------------------------------------------------------- online


class OnlineLearner:
    """A river model: logistic regression warm-started as the history's model, or a tree or
    forest that first learns a sample of the history; then it learns every arrived event."""

    def __init__(self, arm: OnlineArm, seed: int = 0, features: Sequence[str] = FEATURES):
        self.name = arm.name
        self.arm = arm
        self.feedback = "truth" if arm.truth else "labels"
        if arm.model == "laplace":
            self.model = LaplaceLogistic(len(features), arm.halflife, arm.prior_precision)
        elif arm.model == "logistic":
            self.model = RiverLogistic(
                features, optimizer=arm.optimizer, lr=arm.lr, scaling=arm.scaling, intercept_lr=arm.intercept_lr
            )
        else:
            self.model = RiverTree(features, kind=arm.model, trees=arm.trees, seed=seed)
        self.newest_label_at = -np.inf
        self._shares = {"long": (1.0, 0.0), "recent": (1.0, 0.0)}  # decayed (events, fraud) for `prior`
        self._seen_at = 0.0

    def start(self, history: History) -> None:
        if isinstance(self.model, LaplaceLogistic):
            first = history.first_belief(self.model.prior_precision)
            self.model.mean, self.model.precision = first.mean.copy(), first.precision.copy()
            self.model.restart(0.0)
        elif isinstance(self.model, RiverLogistic):
            self.model.warm_start(history.first_model("logistic"), len(history.y))
        else:
            keep = self._keep(np.arange(len(history.y)), history.y)
            index = np.flatnonzero(keep)[-TREE_HISTORY_ROWS:]
            self.model.learn(history.X[index], history.y[index])
        self.newest_label_at = 0.0
        share = float(history.y.mean()) if len(history.y) else 0.0
        # The long run starts as the history; the recent share starts there too, but as one
        # pseudo-event, so arrivals take over within a few hours.
        self._shares = {"long": (float(len(history.y)), float(history.y.sum())), "recent": (1.0, share)}

    def predict_proba(self, X):
        p = self.model.predict_proba(X)
        if isinstance(self.model, RiverLogistic | LaplaceLogistic):
            return p
        # Trees saw only a share s of the legitimate events, which multiplies the fraud odds by
        # 1/s; multiply them back by s (river's forest overrides sample weights, so no weights).
        odds = self.arm.negative_share * p / np.maximum(1 - p, 1e-12)
        return odds / (1 + odds)

    def _keep(self, ids: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Trees learn every fraud event and a stable-hash share of the others."""
        if isinstance(self.model, RiverLogistic | LaplaceLogistic):
            return np.ones(len(y), bool)
        return (y == 1) | (uniform_hash(ids, 5) < self.arm.negative_share)

    def learn(self, X, events, now):
        if len(events) == 0:
            return
        y = events.value
        weights = self._weights(y, now)
        if isinstance(self.model, LaplaceLogistic):
            self.model.learn(X, y, weights, now)
        else:
            if not isinstance(self.model, RiverLogistic):
                keep = self._keep(events.tx_id, y)
                X, y = X[keep], y[keep]
                weights = None if weights is None else weights[keep]
            self.model.learn(X, y, weights)
        self.newest_label_at = max(self.newest_label_at, float(events.label_at.max()))

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


# --------------------------------------------------------------------------- batch


class LabelWindow:
    """Arrived label events with their features, kept for a batch learner's window.

    Negatives beyond what ``max_rows`` allows are subsampled by a stable hash of
    the transaction id and weighted by the inverse rate, which keeps a model's
    probabilities calibrated.
    """

    def __init__(self, keep_negative: float):
        self.keep_negative = keep_negative
        self._chunks: list[tuple[np.ndarray, LabelEvents]] = []

    def add(self, X: np.ndarray, events: LabelEvents) -> None:
        keep = (events.value == 1) | (uniform_hash(events.tx_id, LABEL_WINDOW_SALT) < self.keep_negative)
        if keep.any():
            self._chunks.append((X[keep], events.take(keep)))

    def select(
        self, now: float, window: float, sources: np.ndarray | None = None, exclude: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """The latest event per transaction among those that arrived in (now − window, now]
        (optionally only from, or not from, ``sources``), with sample weights."""
        start = now - window
        if not self._chunks:
            return np.empty((0, 0), np.float32), np.empty(0, np.int8), np.empty(0), -np.inf
        X = np.concatenate([chunk[0] for chunk in self._chunks])
        events = LabelEvents.concat([chunk[1] for chunk in self._chunks])
        inside = (events.label_at > start) & (events.label_at <= now)
        if sources is not None:
            inside &= np.isin(events.source, sources) != exclude
        X, events = X[inside], events.take(inside)
        order = np.lexsort((events.label_at, events.tx_id))
        latest = order[np.r_[events.tx_id[order][1:] != events.tx_id[order][:-1], True]] if len(order) else order
        y = events.value[latest]
        weight = np.where(y == 1, 1.0, 1.0 / self.keep_negative)
        newest = float(events.label_at.max()) if len(events) else -np.inf
        return X[latest], y, weight, newest

    def forget_before(self, time: float) -> None:
        self._chunks = [chunk for chunk in self._chunks if chunk[1].label_at.max() > time]


def window_keep(arm: BatchArm | HybridArm | SplitArm | OracleArm, labels_per_day: float) -> float:
    """The share of legitimate label events a batch arm's window keeps, so that it holds about
    ``max_rows`` rows."""
    return min(1.0, arm.max_rows / max(labels_per_day * arm.window / 86400.0, 1.0))


class BatchLearner:
    """A scikit-learn model retrained on a schedule from a window of arrived label events."""

    feedback = "labels"

    def __init__(self, arm: BatchArm | HybridArm | SplitArm, labels_per_day: float, seed: int = 0):
        self.name = arm.name
        self.arm = arm
        self.seed = seed
        self.window = LabelWindow(window_keep(arm, labels_per_day))
        self.model: SklearnModel = SklearnModel(arm.model)
        self._next_retrain = arm.every
        self._pending: list[tuple[float, object, float]] = []
        self.newest_label_at = -np.inf

    def start(self, history: History) -> None:
        self.model = copy.deepcopy(history.first_model(self.arm.model))
        self.newest_label_at = 0.0
        X, events = self._first_window(history)
        keep = events.label_at > -self.arm.window
        self.window.add(X[keep], events.take(keep))

    def _first_window(self, history: History) -> tuple[np.ndarray, LabelEvents]:
        """What the window starts with: the label events that arrived before t = 0."""
        return history.arrived_X, history.arrived

    def predict_proba(self, X):
        return self.model.predict_proba(X)

    def learn(self, X, events, now):
        self.window.add(X, events)

    def fit(self, now: float) -> tuple[object, int, int, float]:
        """A new model from the window; returns it, its rows, positives and newest label time."""
        X, y, weight, newest = self.window.select(now, self.arm.window)
        self.window.forget_before(now - self.arm.window)
        model = (
            SklearnModel(self.arm.model, self.arm.class_weight, self.seed).fit(X, y, weight) if len(y) else self.model
        )
        return model, len(y), int(y.sum()), newest

    def deploy(self, model) -> None:
        self.model = model

    def at_boundary(self, now):
        events: list[ModelEvent] = []
        if now >= self._next_retrain:
            model, rows, positives, newest = self.fit(now)
            self._next_retrain += self.arm.every
            short = min(positives, rows - positives) < self.arm.min_labels
            if short:  # a model that could not learn is never deployed: the one serving stays
                events.append(
                    ModelEvent(
                        now,
                        "skipped",
                        rows,
                        positives,
                        f"{positives} fraud and {rows - positives} legitimate labels (a retrain "
                        f"needs {self.arm.min_labels} of each: min_labels)",
                    )
                )
            else:
                self._pending.append((now + self.arm.deploy_lag, model, newest))
                events.append(ModelEvent(now, "retrain", rows, positives))
        while self._pending and self._pending[0][0] <= now:
            _, model, newest = self._pending.pop(0)
            self.deploy(model)
            self.newest_label_at = max(self.newest_label_at, newest)
            events.append(ModelEvent(now, "deploy"))
        return events


class OracleLearner(BatchLearner):
    """A batch model refitted every ``every`` on the true label of every transaction of the
    window, each known the tick after the transaction (``censored``: declined ones never)."""

    def __init__(self, arm: OracleArm, labels_per_day: float, seed: int = 0):
        super().__init__(arm, labels_per_day, seed)
        self.feedback = "truth_censored" if arm.censored else "truth"

    def _first_window(self, history: History) -> tuple[np.ndarray, LabelEvents]:
        """The history's truth (of approved transactions only, when ``censored``)."""
        if not self.arm.censored:
            return history.truth_X, history.truth
        known = ~history.truth_declined
        return history.truth_X[known], history.truth.take(known)


class HybridLearner(BatchLearner):
    """A batch model whose log-odds are recalibrated online (Platt scaling) from arriving labels:
    p = σ(a · logit(p_batch) + b), with a and b learning per event and reset at each deploy."""

    def __init__(self, arm: HybridArm, labels_per_day: float, seed: int = 0):
        super().__init__(arm, labels_per_day, seed)
        self.slope, self.offset = 1.0, 0.0

    def predict_proba(self, X):
        return _sigmoid(self.slope * _logit(self.model.predict_proba(X)) + self.offset)

    def learn(self, X, events, now):
        super().learn(X, events, now)
        z = _logit(self.model.predict_proba(X))
        error = _sigmoid(self.slope * z + self.offset) - events.value
        self.slope -= self.arm.recalibration_lr * float(np.dot(error, z))
        self.offset -= self.arm.recalibration_lr * float(error.sum())

    def deploy(self, model) -> None:
        super().deploy(model)
        self.slope, self.offset = 1.0, 0.0


class _Average:
    """Two models' probabilities averaged with a weight on the first."""

    def __init__(self, first, second, weight: float):
        self.first, self.second, self.weight = first, second, weight

    def predict_proba(self, X):
        return self.weight * self.first.predict_proba(X) + (1 - self.weight) * self.second.predict_proba(X)


class _Shifted:
    """A model's log-odds shifted by a constant."""

    def __init__(self, model, shift: float):
        self.model, self.shift = model, shift

    def predict_proba(self, X):
        return _sigmoid(_logit(self.model.predict_proba(X)) + self.shift)


class SplitLearner(BatchLearner):
    """Dal Pozzolo et al. (2017): a model of the investigators' recent feedback (verdicts and
    confirmed declines) and one of the delayed labels, their probabilities averaged.

    The feedback model learns from alerts only, where fraud is far more common than in the
    traffic it scores. The paper only ranks alerts; the expected-cost policy needs calibrated
    probabilities, so before averaging, the feedback model's log-odds are shifted by the
    difference between the two training sets' fraud rates (an approximate prior correction:
    alerts are not a random sample)."""

    def fit(self, now: float):
        arm = self.arm
        Xd, yd, wd, newest_d = self.window.select(now, arm.window, FEEDBACK_SOURCES, exclude=True)
        Xf, yf, wf, newest_f = self.window.select(now, arm.feedback_window, FEEDBACK_SOURCES)
        self.window.forget_before(now - max(arm.window, arm.feedback_window))
        delayed = SklearnModel(arm.model, arm.class_weight, self.seed).fit(Xd, yd, wd) if len(yd) else self.model
        newest = max(newest_d, newest_f)
        if len(np.unique(yf)) < 2:  # no usable feedback: the delayed model alone
            return delayed, len(yd), int(yd.sum()), newest
        feedback = SklearnModel(arm.model, arm.class_weight, self.seed).fit(Xf, yf, np.ones(len(yf)))
        rate_delayed = float(np.average(yd, weights=wd)) if len(yd) else float(yf.mean())
        shift = float(_logit(np.array([rate_delayed]))[0] - _logit(np.array([yf.mean()]))[0])
        averaged = _Average(_Shifted(feedback, shift), delayed, arm.feedback_weight)
        return averaged, len(yd) + len(yf), int(yd.sum() + yf.sum()), newest


# --------------------------------------------------------------------------- fixed


class StaticLearner:
    """The history's model, kept forever."""

    feedback = "none"

    def __init__(self, arm: StaticArm):
        self.name = arm.name
        self.arm = arm
        self.model = SklearnModel(arm.model)
        self.newest_label_at = -np.inf

    def start(self, history: History) -> None:
        self.model = copy.deepcopy(history.first_model(self.arm.model))
        self.newest_label_at = 0.0

    def predict_proba(self, X):
        return self.model.predict_proba(X)

    def learn(self, X, events, now):
        pass

    def at_boundary(self, now):
        return []


class RulesLearner:
    """The scenario's thresholds; the warm-up's policy and the fallback."""

    feedback = "none"

    def __init__(self, name: str, rules: Rules):
        self.name = name
        self.model = RulesModel(rules)
        self.newest_label_at = -np.inf

    def start(self, history: History) -> None:
        pass

    def predict_proba(self, X):
        return self.model.predict_proba(X)

    def learn(self, X, events, now):
        pass

    def at_boundary(self, now):
        return []


def make_learner(
    arm: Arm, rules: Rules, labels_per_day: float, seed: int = 0, features: Sequence[str] | None = None
) -> Learner:
    """The learner an arm describes; ``features`` names the feature columns (default: the
    simulator's ``FEATURES``; a replay passes the columns of the user's stream)."""
    match arm:
        case OnlineArm():
            return OnlineLearner(arm, seed, FEATURES if features is None else features)
        case OracleArm(model="laplace"):
            online = OnlineArm(
                name=arm.name,
                model="laplace",
                halflife=f"{arm.halflife!r}s",
                prior_precision=arm.prior_precision,
                truth=True,
            )
            learner = OnlineLearner(online, seed, FEATURES if features is None else features)
            learner.feedback = "truth_censored" if arm.censored else "truth"
            return learner
        case OracleArm():
            return OracleLearner(arm, labels_per_day, seed)
        case HybridArm():
            return HybridLearner(arm, labels_per_day, seed)
        case SplitArm():
            return SplitLearner(arm, labels_per_day, seed)
        case BatchArm():
            return BatchLearner(arm, labels_per_day, seed)
        case StaticArm():
            return StaticLearner(arm)
        case RulesArm():
            return RulesLearner(arm.name, rules)
    raise TypeError(f"unknown arm {arm!r}")
