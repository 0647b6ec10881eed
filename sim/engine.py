"""One arm, one world: the processes of docs/concepts.md wired on a SimPy environment.

:meth:`Engine.step` is the list in ``docs/concepts.md`` ("Time and ticks"): at every tick
boundary it delivers what has arrived (card blocks, label events) to the world and the learner,
lets the learner retrain or deploy, scores and decides the tick's transactions, and then tells
the world what was decided (crews, card blocks, skimming, the label events to come, alerts).
Each stage is its own object: :class:`~sim.world.arrivals.Arrivals`,
:class:`~sim.detect.deployed.Deployed` (faults, monitoring, fallback around the learner),
:class:`~sim.detect.policy.Policy` and :class:`~sim.feedback.delivery.Delivery`.
Investigators are processes of their own (:mod:`sim.feedback.investigators`).

The warm-up (:func:`warm_up`) runs the same engine under the rules before t = 0, with the arms'
faults, monitors and target decline rate switched off, and collects the history.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import simpy

from .detect.deployed import Deployed
from .detect.faults import Faults
from .detect.policy import Decisions, Policy
from .feedback.delivery import Delivery
from .feedback.investigators import Alert
from .feedback.labels import Draws, LabelEvents, LabelModel
from .heap import release
from .learn.history import History
from .learn.learners import RulesLearner, from_arm
from .learn.protocol import Batch, Learner, ModelEvent, truth_events
from .results import ArmRecorder
from .rng import Streams, stable_key, window_sample
from .schema import Arm, Scenario
from .units import DAY
from .warmup import (
    Collector,
    arm_retention,
    feature_share,
    transactions_per_day,
    warm_up_scenario,
    warmup_feature_share,
    warmup_length,
    warmup_retention,
)
from .world.arrivals import Arrivals
from .world.state import World, build_world
from .world.traffic import Transactions


class Engine:
    """Runs one learner in one world from ``start`` to ``end``; a ``collector`` (the warm-up's)
    keeps the label events and truth the history needs."""

    def __init__(
        self,
        scenario: Scenario,
        streams: Streams,
        world: World,
        learner: Learner,
        recorder: ArmRecorder | None,
        start: float,
        end: float,
        progress: Callable[[float], None] | None = None,
        arm_name: str = "",
        collector: Collector | None = None,
    ):
        self.scenario = scenario
        self.world = world
        self.recorder = recorder
        self.end = end
        self.collector = collector
        self.model_events: list[ModelEvent] = []
        self.transactions = 0
        self.labels = LabelModel(scenario.labels, scenario.blocking)
        self.env = simpy.Environment(initial_time=start)
        self.arrivals = Arrivals(scenario, streams, world, self.labels, progress)
        self.faults = Faults(scenario.faults, arm_name, streams, scenario.tick)
        self.learner = Deployed(learner, self.faults, scenario.monitoring, scenario.rules, self.model_events.append)
        self.delivery = Delivery(self.env, scenario, world, recorder)
        self.desk = self.delivery.desk
        self.policy = Policy(scenario.policy, alerting=self.desk.active)
        self._truth: Batch | None = None  # this tick's truth, for a learner fed the truth at the next tick
        self.env.process(self._traffic())

    def run(self) -> None:
        self.env.run(until=self.end)

    def _traffic(self):
        while self.env.now < self.end:
            self.step(self.env.now)
            if (self.env.now + self.scenario.tick) // DAY != self.env.now // DAY:
                release()  # a day's freed arrays back to the system: peak memory, not speed
            yield self.env.timeout(self.scenario.tick)

    def at(self, time: float, action: Callable[[], None]) -> None:
        """Run ``action`` at ``time``, before that tick's step."""

        def waiter():
            yield self.env.timeout(time - self.env.now)
            action()

        self.env.process(waiter())

    def step(self, now: float) -> None:
        """One tick boundary, in the order of ``docs/concepts.md`` ("Time and ticks")."""
        self._deliver(now)  # 1. blocks and arrived labels
        self.model_events.extend(self.learner.at_boundary(now))  # 2. retrain or deploy
        tx, draws = self.arrivals.tick(now)  # 3. score and decide the tick's transactions
        if len(tx) == 0:
            return
        world = self.world
        X, velocity = world.features.compute(tx, world.population.merchant_category)
        self.faults.break_features(X, now)
        ids = world.store.upcoming_ids(len(tx))
        p = self.learner.predict_proba(Batch(X, now, tx.card, ids))
        decisions = self.policy.decide(p, tx.amount, draws.explore, now)
        approved = ~decisions.declined  # 4. the world learns what was decided
        world.features.record(tx, velocity, approved, world.population.merchant_category)
        self.arrivals.tell_crews(decisions.declined)
        world.blocks.notice(tx.t, tx.card, tx.is_fraud & approved, draws.notice, draws.notice_delay)
        world.crews.skim(tx, approved, draws.leak)
        events = self.labels.events(ids, tx.t, tx.is_fraud, decisions.declined, draws)
        world.store.append(X, tx.merchant, tx.card, now, _features_read(ids, world.store.keep_share, decisions, events))
        world.queue.push(events)
        if decisions.alerted.any():
            self.delivery.alert(_alerts(ids, tx, decisions.expected_loss, draws, np.flatnonzero(decisions.alerted)))
        self._keep_truth(X, ids, tx, decisions.declined, now)
        if self.recorder is not None:
            staleness, falling_back = now - self.learner.newest_fraud_at, self.learner.falling_back
            self.recorder.tick(now, tx, ids, X, p, decisions, staleness=staleness, falling_back=falling_back)
            self.recorder.labels_created(events, int(ids[0]), tx.is_fraud)
        self.transactions += len(tx)

    def _deliver(self, now: float) -> None:
        """Hand arrived label events (and last tick's truth) to the world and the learner."""
        if self._truth is not None:
            self.learner.learn(self._truth)
            self._truth = None
        due = self.delivery.deliver(now)
        if len(due) and self.learner.feed.labels:
            store = self.world.store
            self.learner.learn(Batch(store.features(due.tx_id), now, store.card(due.tx_id), due.tx_id, due))
        if len(due) and self.collector is not None:
            self.collector.labels(due)

    def _keep_truth(self, X: np.ndarray, ids: np.ndarray, tx: Transactions, declined: np.ndarray, now: float) -> None:
        """The truth of the tick's transactions, known at the next tick: to a learner fed the
        truth (of the approved ones only, if so), and to the warm-up's collector."""
        known_at = now + self.scenario.tick
        feed = self.learner.feed
        if feed.truth:
            known = ~declined if feed.approved_only else np.ones(len(tx), bool)
            truth = truth_events(ids[known], tx.is_fraud[known], tx.t[known], known_at)
            self._truth = Batch(X[known], known_at, tx.card[known], ids[known], truth)
        if self.collector is not None:
            self.collector.tick(X, ids, tx, declined, now, known_at)


def _features_read(ids: np.ndarray, share: float, decisions: Decisions, events: LabelEvents) -> np.ndarray | None:
    """Which of a tick's transactions' features a learner may read when their labels arrive: all
    (None) when ``share`` is 1; else those with a fraud label to come, those alerted (an
    investigator's verdict may say fraud) and a ``share`` of the rest by the stable hash a batch
    window keeps legitimate labels by (:class:`~sim.learn.learners.LabelWindow`)."""
    if share >= 1.0:
        return None
    keep = window_sample(ids, decisions.alerted, share)
    keep[events.tx_id[events.value == 1] - ids[0]] = True
    return keep


def _alerts(
    ids: np.ndarray, tx: Transactions, expected_loss: np.ndarray, draws: Draws, rows: np.ndarray
) -> list[Alert]:
    return [
        Alert(
            int(ids[i]),
            float(tx.t[i]),
            float(expected_loss[i]),
            int(tx.card[i]),
            bool(tx.is_fraud[i]),
            float(draws.review_time[i]),
            float(draws.verdict[i]),
        )
        for i in rows
    ]


def warm_up(
    scenario: Scenario, streams: Streams, progress: Callable[[float], None] | None = None
) -> tuple[World, History]:
    """Run the world under ``rules`` up to t = 0; return it and the history every arm starts from."""
    length = warmup_length(scenario)
    world = build_world(scenario, streams, -length, warmup_retention(scenario))
    world.store.keep_features(warmup_feature_share(scenario, in_history=False))  # raised at the history's start
    collector = Collector.for_scenario(scenario, world.store)
    rules = RulesLearner("rules", scenario.rules)
    engine = Engine(warm_up_scenario(scenario), streams, world, rules, None, -length, 0.0, progress, "", collector)
    engine.at(-scenario.history, collector.mark_history_start)
    engine.run()
    return world, collector.history(world)


def arm_learner(scenario: Scenario, arm: Arm, streams: Streams, labels_per_day: float) -> Learner:
    """The arm's learner, seeded by the arm's name (the same whatever arms run beside it)."""
    seed = int(streams.get("learner", stable_key(arm.name)).integers(2**31))
    return from_arm(arm, scenario.rules, labels_per_day, seed)


def run_arm(
    scenario: Scenario,
    arm: Arm,
    streams: Streams,
    world: World,
    history: History,
    recorder: ArmRecorder,
    progress: Callable[[float], None] | None = None,
    learner: Learner | None = None,
    copy_world: bool = True,
) -> Engine:
    """Run one arm from t = 0 to the horizon in its own copy of the warmed-up world (in
    ``world`` itself if not ``copy_world``).

    ``learner`` replaces the arm's own learner (tests use it to spy on learning).
    Alerts start from an empty queue at t = 0.
    """
    if copy_world:
        world = copy.deepcopy(world)
    world.store.retention_s = arm_retention(scenario)
    world.store.keep_features(feature_share(arm, scenario))
    if learner is None:
        learner = arm_learner(scenario, arm, streams, transactions_per_day(scenario))
    engine = Engine(scenario, streams, world, learner, recorder, 0.0, scenario.horizon, progress, arm.name)
    engine.learner.start(history)
    engine.run()
    world.crews.finish()
    recorder.crews(world.crews.rows(first_day=0), world.crews.tactic_names())
    # Labels still pending at the horizon go only to the ledger (of transactions from t = 0).
    pending = world.queue.drain(recorder.first_tx_id or 0) if recorder.ledger is not None else ()
    recorder.finish(pending, engine.desk.pending(), history)
    return engine
