"""The deployed model as the policy gets it: a learner's scores, garbled by injected faults,
watched by the monitor and replaced by the rules while the monitor says the model is broken."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np

from ..learn.protocol import TRUTH_SOURCE, Batch, Feed, Learner, ModelEvent, ModelFailure, scores_problem
from ..metrics import log_loss
from ..schema import Monitoring, Rules
from .faults import Faults
from .models import RulesModel
from .monitor import Monitor, signal_value

T = TypeVar("T")


class Deployed:
    """Wraps a learner with its arm's faults and monitoring.

    The monitor's signals are computed from the learner's own scores (the garbled ones while a
    garbage-scores fault is active) and, for ``label_error``, from the arriving label events;
    its alarms, fallbacks and recoveries go to ``on_event``.
    """

    def __init__(
        self,
        learner: Learner,
        faults: Faults,
        monitoring: Monitoring,
        rules: Rules,
        on_event: Callable[[ModelEvent], None],
    ):
        self.learner = learner
        self.faults = faults
        self.monitoring = monitoring
        self.rules = rules
        self.on_event = on_event
        self.name = learner.name
        self._monitor = Monitor(monitoring)
        self._fallback = RulesModel(rules)
        self._label_error = any(w.config.signal == "label_error" for w in self._monitor.watches)
        self._signals: dict[str, float] = {}  # measured between ticks, fed to the monitor at the next one
        inner = learner.feed
        self.feed = Feed(inner.labels or self._label_error, inner.truth, inner.approved_only)

    @property
    def newest_fraud_at(self) -> float:
        return self.learner.newest_fraud_at

    @property
    def falling_back(self) -> bool:
        return self._monitor.falling_back

    def _guarded(self, verb: str, now: float, call: Callable[[], T]) -> T:
        """``call()``, a learner's failure raised as the arm's :class:`ModelFailure`."""
        try:
            return call()
        except Exception as error:
            raise ModelFailure(self.name, now, f"{verb} raised {type(error).__name__}: {error}") from error

    def start(self, history) -> None:
        self._guarded("start (training on the history)", 0.0, lambda: self.learner.start(history))

    def at_boundary(self, now: float) -> list[ModelEvent]:
        return self._guarded("at_boundary (retraining)", now, lambda: self.learner.at_boundary(now))

    def predict_proba(self, batch: Batch) -> np.ndarray:
        p = self._guarded("predict_proba", batch.now, lambda: self.learner.predict_proba(batch))
        problem = scores_problem(p, len(batch))
        if problem is not None:
            raise ModelFailure(self.name, batch.now, problem)
        p = self.faults.scores(p, batch.now)
        monitor = self._monitor
        if not monitor.active:
            return p
        values = {
            w.config.signal: signal_value(w.config.signal, batch.X, p)
            for w in monitor.watches
            if w.config.signal != "label_error"
        }
        values.update(self._signals)
        self._signals = {}
        was = len(monitor.events)
        monitor.observe(batch.now, values)
        for time, kind, detail in monitor.events[was:]:
            self.on_event(ModelEvent(time, kind, detail=detail))
        if monitor.falling_back:
            return self._fallback.predict_proba(batch.X)
        return p

    def learn(self, batch: Batch) -> None:
        if len(batch) == 0:  # nothing to measure, nothing to learn
            return
        truth = batch.labels.source[0] == TRUTH_SOURCE  # an oracle's feed, not arriving labels
        if self._label_error and not truth:
            self._signals["label_error"] = log_loss(batch.labels.value, self.learner.predict_proba(batch))
        inner = self.learner.feed
        if inner.truth if truth else inner.labels:
            self._guarded("learn", batch.now, lambda: self.learner.learn(batch))
