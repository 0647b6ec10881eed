"""Learners: the arms being compared (docs/concepts.md, "Learners").

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

Each follows :class:`sim.learn.protocol.Learner`; :func:`from_arm` builds the one an arm
describes. The engine calls ``learn`` only with events whose arrival time has passed (as its
``feed`` asks: labels or truth), and ``at_boundary`` at every tick boundary.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import numpy as np

from ..detect.laplace import LaplaceLogistic
from ..detect.models import RiverTree, RulesModel, SklearnModel, logit, sigmoid
from ..detect.river_logistic import RiverLogistic
from ..feedback.labels import SOURCE_CODE, LabelEvents
from ..rng import TREE_SAMPLE_SALT, uniform_hash, window_sample
from ..schema import Arm, BatchArm, HybridArm, OnlineArm, OracleArm, Rules, RulesArm, SplitArm, StaticArm
from ..schema.arms import BatchPlugin, OnlinePlugin
from ..schema.features import FEATURES
from .history import History
from .protocol import APPROVED_TRUTH, LABELS, NOTHING, TRUTH, Batch, Feed, Learner, ModelEvent

FEEDBACK_SOURCES = np.array([SOURCE_CODE["investigator"], SOURCE_CODE["decline_confirmation"]])
LONG_RUN_HALFLIFE_S = 180 * 86400.0
TREE_HISTORY_ROWS = 20_000


# --------------------------------------------------------------------------- online


class OnlineLearner:
    """A river model: logistic regression warm-started as the history's model, or a tree or
    forest that first learns a sample of the history; then it learns every arrived event.
    ``feed``: what it learns from (default: the truth if ``arm.truth``, else arrived labels)."""

    def __init__(self, arm: OnlineArm, seed: int = 0, features: Sequence[str] = FEATURES, feed: Feed | None = None):
        self.arm = arm
        self.seed = seed
        self.features = features
        self.feed = feed if feed is not None else (TRUTH if arm.truth else LABELS)
        self.name = arm.name
        if arm.model == "laplace":
            self._model = LaplaceLogistic(len(features), arm.halflife, arm.prior_precision)
        elif arm.model == "logistic":
            self._model = RiverLogistic(
                features, optimizer=arm.optimizer, lr=arm.lr, scaling=arm.scaling, intercept_lr=arm.intercept_lr
            )
        else:
            self._model = RiverTree(features, kind=arm.model, trees=arm.trees, seed=seed)
        self.newest_fraud_at = -np.inf
        self._shares = {"long": (1.0, 0.0), "recent": (1.0, 0.0)}  # decayed (events, fraud) for `prior`
        self._seen_at = 0.0

    @property
    def samples(self) -> bool:
        """Whether the model learns a sample of the legitimate events (river's trees) or all of them."""
        return not isinstance(self._model, RiverLogistic | LaplaceLogistic)

    def start(self, history: History) -> None:
        if isinstance(self._model, LaplaceLogistic):
            first = history.first_belief(self._model.prior_precision)
            self._model.mean, self._model.precision = first.mean.copy(), first.precision.copy()
            self._model.restart(0.0)
        elif isinstance(self._model, RiverLogistic):
            self._model.warm_start(history.first_model("logistic"), round(history.events))
        else:
            # A subsampled history's legitimate rows each stand for several: sample them more often.
            stands_for = 1.0 if history.weight is None else float(history.weight.max())
            keep = self.keeps(np.arange(len(history.y)), history.y, stands_for)
            index = np.flatnonzero(keep)[-TREE_HISTORY_ROWS:]
            self._model.learn(history.X[index], history.y[index])
        self.newest_fraud_at = history.newest_fraud_at()
        share = history.frauds / history.events if len(history.y) else 0.0
        # The long run starts as the history; the recent share starts there too, but as one
        # pseudo-event, so arrivals take over within a few hours.
        self._shares = {"long": (history.events, history.frauds), "recent": (1.0, share)}

    def predict_proba(self, batch: Batch) -> np.ndarray:
        if len(batch) == 0:
            return np.empty(0)
        p = self._model.predict_proba(batch.X)
        return self.unsample(p) if self.samples else p

    def unsample(self, p: np.ndarray) -> np.ndarray:
        """Trees saw only a share s of the legitimate events, which multiplies the fraud odds by
        1/s; multiply them back by s (river's forest overrides sample weights, so no weights)."""
        odds = self.arm.negative_share * p / np.maximum(1 - p, 1e-12)
        return odds / (1 + odds)

    def keeps(self, ids: np.ndarray, y: np.ndarray, stands_for: float = 1.0) -> np.ndarray:
        """Which events the model learns: trees learn every fraud event and a stable-hash share of the
        others (of rows that each stand for ``stands_for`` events, that many times the share)."""
        if not self.samples:
            return np.ones(len(y), bool)
        return (y == 1) | (uniform_hash(ids, TREE_SAMPLE_SALT) < self.arm.negative_share * stands_for)

    def learn(self, batch: Batch) -> None:
        events = batch.labels
        if len(events) == 0:
            return
        X, y = batch.X, events.value
        weights = self.weights(y, batch.now)
        if isinstance(self._model, LaplaceLogistic):
            self._model.learn(X, y, weights, batch.now)
        else:
            if self.samples:
                keep = self.keeps(events.tx_id, y)
                X, y = X[keep], y[keep]
                weights = None if weights is None else weights[keep]
            self._model.learn(X, y, weights)
        self.newest_fraud_at = max(self.newest_fraud_at, events.newest_fraud())

    def weights(self, y: np.ndarray, now: float) -> np.ndarray | None:
        """Prior correction: weight events by long-run over recent fraud share of arrivals.

        Both shares are decayed averages (long run: half-life 180 days, starting from the
        history; recent: `reweight_window`). In steady state the weights are about 1; when
        fast fraud labels bunch up, fraud events are weighted down (and honest ones up).
        Each call counts ``y`` as arrived at ``now``.
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

    def row_verbs(self) -> tuple[Callable[[list[float]], float], Callable[..., None]]:
        """The model's own one-row verbs, ``predict(x_row)`` and ``learn(x_row, y, w=...)`` (river's
        ``predict_proba_one`` and ``learn_one``), for the replay's exact mode; trees' scores
        before :meth:`unsample`. Not for the Laplace learner, which learns in batches."""
        return self._model.predict_proba_one, self._model.learn_one

    def at_boundary(self, now: float) -> list[ModelEvent]:
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
        keep = window_sample(events.tx_id, events.value == 1, self.keep_negative)
        if keep.any():
            self._chunks.append((X[keep], events.take(keep)))

    def select(
        self,
        now: float,
        window: float,
        sources: np.ndarray | None = None,
        exclude: bool = False,
        halflife: float | str = "none",
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """The latest event per transaction among those that arrived in (now − window, now]
        (optionally only from, or not from, ``sources``), with sample weights: subsampled
        negatives weighted back and, with a ``halflife``, each row by its transaction's age."""
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
        if halflife != "none" and len(y):
            weight = _by_age(weight, y, now - events.tx_time[latest], halflife)
        return X[latest], y, weight, events.newest_fraud()

    def forget_before(self, time: float) -> None:
        self._chunks = [chunk for chunk in self._chunks if chunk[1].label_at.max() > time]


def _by_age(weight: np.ndarray, y: np.ndarray, age: np.ndarray, halflife: float) -> np.ndarray:
    """``weight`` halved every ``halflife`` of ``age``, each class's total kept: recency shifts
    weight within a class, never between them (legitimate labels arrive at maturity, months after
    their transactions, fraud labels within days, so one decay across classes would change the
    fraud rate the model learns and with it its calibration).

    >>> _by_age(np.ones(4), np.array([1, 1, 0, 0]), np.array([0.0, 1.0, 0.0, 1.0]), 1.0).round(3).tolist()
    [1.333, 0.667, 1.333, 0.667]
    """
    decayed = weight * np.exp2(-np.maximum(age, 0.0) / halflife)
    for label in (0, 1):
        mine = y == label
        total = decayed[mine].sum()
        if total > 0:
            decayed[mine] *= weight[mine].sum() / total
    return decayed


def model_of(arm) -> object:
    """A batch arm's model: its ``model`` key, or what a registered learner's ``make`` returns."""
    return arm.make() if isinstance(arm, BatchPlugin) else arm.model


def window_keep(arm: BatchArm | HybridArm | SplitArm | OracleArm, labels_per_day: float) -> float:
    """The share of legitimate label events a batch arm's window keeps, so that it holds about
    ``max_rows`` rows."""
    return min(1.0, arm.max_rows / max(labels_per_day * arm.window / 86400.0, 1.0))


class BatchLearner:
    """A scikit-learn model retrained on a schedule from a window of arrived label events."""

    feed = LABELS

    def __init__(self, arm: BatchArm | HybridArm | SplitArm, labels_per_day: float, seed: int = 0):
        self.arm = arm
        self.labels_per_day = labels_per_day
        self.seed = seed
        self.name = arm.name
        self._window = LabelWindow(window_keep(arm, labels_per_day))
        self._model = SklearnModel(model_of(arm), seed=seed)
        self._next_retrain = arm.every
        self._pending: list[tuple[float, object, float]] = []
        self.newest_fraud_at = -np.inf

    def start(self, history: History) -> None:
        self._model = copy.deepcopy(history.first_model(model_of(self.arm), self.seed))
        self.newest_fraud_at = history.newest_fraud_at()
        X, events = self._first_window(history)
        keep = events.label_at > -self.arm.window
        self._window.add(X[keep], events.take(keep))

    def _first_window(self, history: History) -> tuple[np.ndarray, LabelEvents]:
        """What the window starts with: the label events that arrived before t = 0."""
        return history.arrived_X, history.arrived

    def predict_proba(self, batch: Batch) -> np.ndarray:
        if len(batch) == 0:
            return np.empty(0)
        return self._model.predict_proba(batch.X)

    def learn(self, batch: Batch) -> None:
        self._window.add(batch.X, batch.labels)

    def _fit(self, now: float) -> tuple[object, int, int, float]:
        """A new model from the window; returns it, its rows, positives and newest fraud's time."""
        X, y, weight, newest = self._window.select(now, self.arm.window, halflife=self.arm.halflife)
        self._window.forget_before(now - self.arm.window)
        model = (
            SklearnModel(model_of(self.arm), self.arm.class_weight, self.seed).fit(X, y, weight)
            if len(y)
            else self._model
        )
        return model, len(y), int(y.sum()), newest

    def _deploy(self, model) -> None:
        self._model = model

    def at_boundary(self, now: float) -> list[ModelEvent]:
        events: list[ModelEvent] = []
        if now >= self._next_retrain:
            model, rows, positives, newest = self._fit(now)
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
            self._deploy(model)
            self.newest_fraud_at = max(self.newest_fraud_at, newest)
            events.append(ModelEvent(now, "deploy"))
        return events


class OracleLearner(BatchLearner):
    """A batch model refitted every ``every`` on the true label of every transaction of the
    window, each known the tick after the transaction (``censored``: declined ones never)."""

    def __init__(self, arm: OracleArm, labels_per_day: float, seed: int = 0):
        super().__init__(arm, labels_per_day, seed)
        self.feed = APPROVED_TRUTH if arm.censored else TRUTH

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
        self._slope, self._offset = 1.0, 0.0

    def predict_proba(self, batch: Batch) -> np.ndarray:
        if len(batch) == 0:
            return np.empty(0)
        return sigmoid(self._slope * logit(self._model.predict_proba(batch.X)) + self._offset)

    def learn(self, batch: Batch) -> None:
        super().learn(batch)
        if len(batch) == 0:
            return
        z = logit(self._model.predict_proba(batch.X))
        error = sigmoid(self._slope * z + self._offset) - batch.labels.value
        self._slope -= self.arm.recalibration_lr * float(np.dot(error, z))
        self._offset -= self.arm.recalibration_lr * float(error.sum())

    def _deploy(self, model) -> None:
        super()._deploy(model)
        self._slope, self._offset = 1.0, 0.0


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
        return sigmoid(logit(self.model.predict_proba(X)) + self.shift)


class SplitLearner(BatchLearner):
    """Dal Pozzolo et al. (2017): a model of the investigators' recent feedback (verdicts and
    confirmed declines) and one of the delayed labels, their probabilities averaged.

    The feedback model learns from alerts only, where fraud is far more common than in the
    traffic it scores. The paper only ranks alerts; the expected-cost policy needs calibrated
    probabilities, so before averaging, the feedback model's log-odds are shifted by the
    difference between the two training sets' fraud rates (an approximate prior correction:
    alerts are not a random sample)."""

    def _fit(self, now: float):
        arm = self.arm
        Xd, yd, wd, newest_d = self._window.select(now, arm.window, FEEDBACK_SOURCES, True, arm.halflife)
        Xf, yf, wf, newest_f = self._window.select(now, arm.feedback_window, FEEDBACK_SOURCES)
        self._window.forget_before(now - max(arm.window, arm.feedback_window))
        delayed = SklearnModel(arm.model, arm.class_weight, self.seed).fit(Xd, yd, wd) if len(yd) else self._model
        newest = max(newest_d, newest_f)
        if len(np.unique(yf)) < 2:  # no usable feedback: the delayed model alone
            return delayed, len(yd), int(yd.sum()), newest
        feedback = SklearnModel(arm.model, arm.class_weight, self.seed).fit(Xf, yf, np.ones(len(yf)))
        rate_delayed = float(np.average(yd, weights=wd)) if len(yd) else float(yf.mean())
        shift = float(logit(np.array([rate_delayed]))[0] - logit(np.array([yf.mean()]))[0])
        averaged = _Average(_Shifted(feedback, shift), delayed, arm.feedback_weight)
        return averaged, len(yd) + len(yf), int(yd.sum() + yf.sum()), newest


# --------------------------------------------------------------------------- fixed


class StaticLearner:
    """The history's model, kept forever."""

    feed = NOTHING

    def __init__(self, arm: StaticArm, seed: int = 0):
        self.arm = arm
        self.seed = seed
        self.name = arm.name
        self._model = SklearnModel(arm.model, seed=seed)
        self.newest_fraud_at = -np.inf

    def start(self, history: History) -> None:
        self._model = copy.deepcopy(history.first_model(self.arm.model, self.seed))
        self.newest_fraud_at = history.newest_fraud_at()

    def predict_proba(self, batch: Batch) -> np.ndarray:
        if len(batch) == 0:
            return np.empty(0)
        return self._model.predict_proba(batch.X)

    def learn(self, batch: Batch) -> None:
        pass

    def at_boundary(self, now: float) -> list[ModelEvent]:
        return []


class RulesLearner:
    """The scenario's thresholds; the warm-up's policy and the fallback."""

    feed = NOTHING

    def __init__(self, name: str, rules: Rules):
        self.name = name
        self.rules = rules
        self._model = RulesModel(rules)
        self.newest_fraud_at = -np.inf

    def start(self, history: History) -> None:
        pass

    def predict_proba(self, batch: Batch) -> np.ndarray:
        return self._model.predict_proba(batch.X)

    def learn(self, batch: Batch) -> None:
        pass

    def at_boundary(self, now: float) -> list[ModelEvent]:
        return []


def from_arm(
    arm: Arm, rules: Rules, labels_per_day: float, seed: int = 0, features: Sequence[str] | None = None
) -> Learner:
    """The learner an arm describes; ``features`` names the feature columns (default: the
    simulator's ``FEATURES``; a replay passes the columns of the user's stream).

    >>> from sim.schema import Rules, StaticArm
    >>> from_arm(StaticArm(name="static"), Rules(), labels_per_day=1000.0).feed
    Feed(labels=False, truth=False, approved_only=False)
    """
    match arm:
        case OnlinePlugin():  # a registered learner's river model, learnt as the bundled trees are
            online = OnlineArm(name=arm.name, model=arm.make(), negative_share=arm.negative_share)
            return OnlineLearner(online, seed, FEATURES if features is None else features)
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
            feed = APPROVED_TRUTH if arm.censored else TRUTH
            return OnlineLearner(online, seed, FEATURES if features is None else features, feed)
        case OracleArm():
            return OracleLearner(arm, labels_per_day, seed)
        case HybridArm():
            return HybridLearner(arm, labels_per_day, seed)
        case SplitArm():
            return SplitLearner(arm, labels_per_day, seed)
        case BatchArm() | BatchPlugin():
            return BatchLearner(arm, labels_per_day, seed)
        case StaticArm():
            return StaticLearner(arm, seed)
        case RulesArm():
            return RulesLearner(arm.name, rules)
    raise TypeError(f"unknown arm {arm!r}")
