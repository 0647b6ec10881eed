"""One arm, one world: the processes of DESIGN §1 wired on a SimPy environment.

The traffic process wakes at every tick boundary and, in this order:

1. blocks the cards whose block is due (cardholders who noticed fraud), then
   hands the label events that arrived by now to the learner and to the
   features (so nothing is learnt before it arrives);
2. lets the learner retrain or deploy if its schedule says so;
3. draws the tick's honest transactions (from the day's batch) and the crews'
   attempts, computes point-in-time features, scores them with the deployed
   model and decides; approved transactions with a high expected loss raise
   alerts, which join the investigators' queue at their own time;
4. records the tick, updates the running aggregates, tells each crew its own
   decisions, and schedules the label events those transactions will produce.

Investigators are processes of their own (:mod:`sim.feedback.investigators`):
their verdicts become label events and block cards between ticks.

A warm-up under the ``rules`` policy runs before t = 0 so that the label
stream is in steady state when the arms start (see ``docs/concepts.md``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import simpy

from .detect.features import FeatureState
from .detect.models import RulesModel
from .detect.monitor import Monitor, signal_value
from .detect.policy import Decisions, decide
from .detect.river_logistic import RiverLogistic
from .detect.store import FeatureStore
from .feedback.blocking import CardBlocks
from .feedback.investigators import Alert, AlertDesk, Review
from .feedback.labels import SOURCE_CODE, Draws, LabelEvents, LabelModel, LabelQueue
from .learn.learners import (
    LABEL_WINDOW_SALT,
    TRUTH_SOURCE,
    History,
    Learner,
    ModelEvent,
    RulesLearner,
    make_learner,
    window_keep,
)
from .metrics import log_loss
from .results import ArmRecorder
from .rng import CLASSICS_KEY, GARBAGE_SCORES_KEY, Streams, stable_key, uniform_hash
from .schema import BATCH_LEARNERS, Arm, Fault, OracleArm, Scenario
from .schema.features import COLUMN, FEATURES
from .units import DAY
from .world.crews import Attempts, Crews, draw_skims
from .world.innovation import invent, wear_out
from .world.population import Population, build_population, with_movers
from .world.traffic import Transactions, draw_day

FEATURES_SETTLE_S = 30 * DAY


@dataclass
class World:
    """The state that carries over from the warm-up into every arm's world."""

    population: Population
    features: FeatureState
    crews: Crews
    store: FeatureStore
    queue: LabelQueue
    blocks: CardBlocks


@dataclass
class _Day:
    """The current day's honest traffic and its draws, consumed tick by tick."""

    day: int
    tx: Transactions
    draws: Draws
    cursor: int = 0


@dataclass
class _Collected:
    """Label events kept during the warm-up for the history (see :func:`warm_up`)."""

    since: float
    parts: list[tuple[np.ndarray, LabelEvents]] = field(default_factory=list)
    truth_since: float = np.inf  # and every transaction's truth from then on, for the oracles' windows
    truth_keep: float = 1.0  # share of legitimate transactions kept (by a stable hash, as a window keeps them)
    truth: list[tuple[np.ndarray, LabelEvents, np.ndarray]] = field(default_factory=list)  # X, truth, declined


class Engine:
    """Runs one learner in one world from ``start`` to ``end``."""

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
        warming_up: bool = False,
    ):
        self.scenario = scenario
        self.arm_name = arm_name
        self.warming_up = warming_up  # the warm-up: the rules decide, with no faults, drift alarms or threshold
        self.streams = streams
        self.world = world
        self.learner = learner
        self.by_card = getattr(learner, "by_card", False)
        self.recorder = recorder
        self.start, self.end = start, end
        self.progress = progress
        self.labels = LabelModel(scenario.labels, scenario.blocking)
        self.model_events: list[ModelEvent] = []
        self.transactions = 0
        self.collected: _Collected | None = None
        self._day: _Day | None = None
        self._crew_label_rng: dict[int, tuple[int, np.random.Generator]] = {}
        self._truth: tuple[np.ndarray, LabelEvents] | None = None
        self._planned: Attempts | None = None  # this tick's crew attempts
        self._position = np.empty(0, np.intp)
        self.faults = [] if warming_up else [f for f in scenario.faults if f.arms is None or arm_name in f.arms]
        self.monitor = Monitor(
            scenario.monitoring.model_copy(update={"detectors": []}) if warming_up else scenario.monitoring
        )
        self.fallback = RulesModel(scenario.rules)
        self._signals: dict[str, float] = {}
        self._threshold: float | None = None  # target decline rate: today's score threshold
        self._today_scores: list[np.ndarray] = []
        self._threshold_day: int | None = None
        self.env = simpy.Environment(initial_time=start)
        self.desk = AlertDesk(self.env, scenario.labels.investigators, self._reviewed)
        self.env.process(self._traffic())

    # ----------------------------------------------------------------- processes

    def run(self) -> None:
        self.env.run(until=self.end)

    def _traffic(self):
        tick = self.scenario.tick
        while self.env.now < self.end:
            self.step(self.env.now)
            yield self.env.timeout(tick)

    def at(self, time: float, action: Callable[[], None]) -> None:
        """Run ``action`` at ``time``, before that tick's step."""

        def waiter():
            yield self.env.timeout(time - self.env.now)
            action()

        self.env.process(waiter())

    # ----------------------------------------------------------------- one tick

    def step(self, now: float) -> None:
        self._deliver(now)
        self.model_events.extend(self.learner.at_boundary(now))
        tx, draws = self._attempts(now)
        if len(tx) == 0:
            return
        world = self.world
        X, velocity = world.features.compute(tx, world.population.merchant_category)
        self._break_features(X, now)
        p = self._score(X, tx.card, now)
        decisions = self._decide(tx, p, draws, now)

        ids = world.store.append(X, tx.merchant, tx.card, now)
        world.features.record(tx, velocity, ~decisions.declined, world.population.merchant_category)
        self._tell_crews(decisions.declined)
        world.blocks.notice(tx.t, tx.card, tx.is_fraud & ~decisions.declined, draws.notice, draws.notice_delay)
        world.crews.skim(tx, ~decisions.declined, draws.leak)
        events = self.labels.events(ids, tx.t, tx.is_fraud, decisions.declined, draws)
        world.queue.push(events)
        if self.desk.active and decisions.alerted.any():
            self.desk.submit(
                [
                    Alert(
                        int(ids[i]),
                        float(tx.t[i]),
                        float(decisions.expected_loss[i]),
                        int(tx.card[i]),
                        bool(tx.is_fraud[i]),
                        float(draws.review_time[i]),
                        float(draws.verdict[i]),
                    )
                    for i in np.flatnonzero(decisions.alerted)
                ]
            )
        if self.learner.feedback.startswith("truth"):
            known = ~decisions.declined if self.learner.feedback == "truth_censored" else np.ones(len(tx), bool)
            self._truth = (X[known], self._truth_events(ids, tx, now, known))
        collected = self.collected
        if collected is not None and now >= collected.truth_since:
            keep = tx.is_fraud | (uniform_hash(ids, LABEL_WINDOW_SALT) < collected.truth_keep)
            collected.truth.append((X[keep], self._truth_events(ids, tx, now, keep), decisions.declined[keep]))
        if self.recorder is not None:
            self.recorder.tick(
                now,
                tx,
                ids,
                p,
                decisions,
                staleness=now - self.learner.newest_label_at,
                falling_back=self.monitor.falling_back,
            )
            self.recorder.labels_created(events, int(ids[0]), tx.is_fraud)
        self.transactions += len(tx)

    def _truth_events(self, ids: np.ndarray, tx: Transactions, now: float, rows: np.ndarray) -> LabelEvents:
        """The true labels of the tick's transactions at ``rows``, known at the next tick."""
        n = int(np.count_nonzero(rows))
        return LabelEvents(
            ids[rows],
            np.full(n, TRUTH_SOURCE, np.int8),
            tx.is_fraud[rows].astype(np.int8),
            np.full(n, now + self.scenario.tick),
            tx.t[rows],
        )

    def _break_features(self, X: np.ndarray, now: float) -> None:
        """Injected feature faults: a missing feature reads 0; a constant one reads its value."""
        for fault in self._active_faults(now):
            if fault.kind == "feature_missing":
                X[:, COLUMN[fault.feature]] = 0.0
            elif fault.kind == "feature_constant":
                X[:, COLUMN[fault.feature]] = fault.value

    def _active_faults(self, now: float) -> list[Fault]:
        return [f for f in self.faults if f.start <= now and (f.end is None or now < f.end)]

    def _score(self, X: np.ndarray, cards: np.ndarray, now: float) -> np.ndarray:
        """The deployed model's scores (garbage while such a fault is active); the monitor
        watches them, and while it says the model is broken the rules score instead. A learner
        that scores ``by_card`` (an A/B test's two arms) is given the transactions' cards."""
        p = self.learner.predict_proba(X, cards) if self.by_card else self.learner.predict_proba(X)
        if any(f.kind == "garbage_scores" for f in self._active_faults(now)):
            p = self.streams.get("learner", GARBAGE_SCORES_KEY, int(now // self.scenario.tick)).random(len(X))
        if self.monitor.active:
            values = {
                w.config.signal: signal_value(w.config.signal, X, p)
                for w in self.monitor.watches
                if w.config.signal != "label_error"
            }
            values.update(self._signals)
            self._signals = {}
            was = len(self.monitor.events)
            self.monitor.observe(now, values)
            for time, kind, detail in self.monitor.events[was:]:
                self.model_events.append(ModelEvent(time, kind, detail=detail))
            if self.monitor.falling_back:
                return self.fallback.predict_proba(X)
        return p

    def _decide(self, tx: Transactions, p: np.ndarray, draws: Draws, now: float) -> Decisions:
        """The expected-cost rule (or a daily score threshold for a target decline rate),
        exploration of would-be declines, and alerts."""
        policy = self.scenario.policy
        if policy.target_decline_rate is None or self.warming_up:
            would_decline = decide(p, tx.amount, policy)
        else:
            would_decline = self._matched_friction(p, now)
        explored = would_decline & (draws.explore < policy.exploration)
        declined = would_decline & ~explored
        propensity = np.where(would_decline, np.where(explored, policy.exploration, 1 - policy.exploration), 1.0)
        expected_loss = p * tx.amount
        alerted = ~declined & (expected_loss >= policy.alert_threshold) & self.desk.active
        return Decisions(declined, explored, propensity, alerted, expected_loss)

    def _matched_friction(self, p: np.ndarray, now: float) -> np.ndarray:
        """Decline the top `target_decline_rate` share: each day's threshold is the previous
        day's score quantile (the first tick's own quantile on the first day)."""
        day = int(np.floor(now / DAY))
        if day != self._threshold_day:
            if self._today_scores:
                scores = np.concatenate(self._today_scores)
                self._threshold = float(np.quantile(scores, 1 - self.scenario.policy.target_decline_rate))
            self._today_scores, self._threshold_day = [], day
        self._today_scores.append(p)
        threshold = self._threshold
        if threshold is None:
            threshold = float(np.quantile(p, 1 - self.scenario.policy.target_decline_rate))
        return p > threshold

    def _deliver(self, now: float) -> None:
        """Hand arrived label events to the features and the learner; block reported cards."""
        world = self.world
        world.features.advance(now)
        if self._truth is not None:
            X, truth = self._truth
            self.learner.learn(self._learning_layout(X), truth, now)
            self._truth = None
        noticed = world.blocks.pop_due(now)
        blocked = world.crews.block(noticed) if len(noticed) else 0
        due = world.queue.pop_due(now)
        if len(due) == 0:
            if blocked and self.recorder is not None:
                self.recorder.blocked(now, blocked)
            return
        fraud = np.flatnonzero(due.value == 1)
        if len(fraud):
            fraud_ids = due.tx_id[fraud]
            world.features.learn_labels(
                fraud_ids,
                world.store.merchant(fraud_ids),
                due.value[fraud],
                due.label_at[fraud],
                oldest_id=world.store.live_from,
            )
            blocking = world.blocks.blocks_on(due.source[fraud])
            if blocking.any():
                blocked += world.crews.block(world.store.card(fraud_ids[blocking]))
        label_error = any(w.config.signal == "label_error" for w in self.monitor.watches)
        if self.learner.feedback == "labels" or label_error or self.collected is not None:
            X = world.store.features(due.tx_id)
            if label_error:
                self._signals["label_error"] = log_loss(due.value, self.learner.predict_proba(X))
            if self.learner.feedback == "labels":
                self.learner.learn(self._learning_layout(X), due, now)
            if self.collected is not None:
                keep = due.label_at >= self.collected.since
                if keep.any():
                    self.collected.parts.append((X[keep], due.take(keep)))
        if self.recorder is not None:
            self.recorder.labels(due, now)
            self.recorder.blocked(now, blocked)

    def _learning_layout(self, X: np.ndarray) -> np.ndarray:
        """River's logistic learner learns from a column-major matrix (the layout river's frames
        give, whose sums it reproduces): given the columns contiguous, that costs no copy."""
        if isinstance(getattr(self.learner, "model", None), RiverLogistic):
            return np.asfortranarray(X)
        return X

    def _reviewed(self, review: Review) -> None:
        """An investigator's verdict (or a dropped alert), at its own time between ticks."""
        now = self.env.now
        if review.outcome == "reviewed":
            alert = review.alert
            self.world.queue.push(
                LabelEvents(
                    np.array([alert.tx_id], np.int64),
                    np.array([SOURCE_CODE["investigator"]], np.int8),
                    np.array([review.verdict], np.int8),
                    np.array([now]),
                    np.array([alert.t]),
                )
            )
            if review.verdict == 1:  # a fraud label before maturity: the transaction won't mature as legitimate
                due = alert.t + self.scenario.labels.maturity.window
                waiting = self.world.queue.withdraw_maturity(alert.tx_id, due)
                if waiting and alert.is_fraud and self.recorder is not None:
                    self.recorder.maturity_withdrawn(alert.t)
                if self.scenario.blocking.investigator:
                    blocked = self.world.crews.block(np.array([alert.card]))
                    if self.recorder is not None:
                        self.recorder.blocked(now, blocked)
        if self.recorder is not None:
            self.recorder.review(review, now)

    # ----------------------------------------------------------------- traffic

    def _attempts(self, now: float) -> tuple[Transactions, Draws]:
        """The tick's honest transactions and crew attempts, in time order, with their draws."""
        honest, honest_draws = self._honest(now)
        self._planned = planned = self.world.crews.plan(now, self.scenario.tick, self.world.population)
        if planned is None:
            return honest, honest_draws
        draws = [honest_draws] + [
            self.labels.draw(self._crew_rng(crew.crew_id, now), count)
            for crew, count in zip(planned.crews, planned.counts, strict=True)
        ]
        tx = Transactions.concat([honest, planned.tx])
        order = np.argsort(tx.t, kind="stable")
        self._position = np.empty(len(order), np.intp)  # where each attempt went in time order
        self._position[order] = np.arange(len(order))
        return tx.take(order), Draws.concat(draws).take(order)

    def _honest(self, now: float) -> tuple[Transactions, Draws]:
        day = int(np.floor(now / DAY))
        if self._day is None or self._day.day != day:
            population, config = self.world.population, self.scenario.population
            tx = draw_day(population, config, day, self.streams.get("traffic", day))
            draws = self.labels.draw(self.streams.get("honest_labels", day), len(tx))
            self._day = _Day(day, tx, draws, int(np.searchsorted(tx.t, now)))
            if self.progress is not None:
                self.progress(now)
        current = self._day
        stop = int(np.searchsorted(current.tx.t, now + self.scenario.tick))
        window = slice(current.cursor, stop)
        current.cursor = stop
        return current.tx.take(window), current.draws.take(window)

    def _crew_rng(self, crew_id: int, now: float) -> np.random.Generator:
        day = int(np.floor(now / DAY))
        cached = self._crew_label_rng.get(crew_id)
        if cached is None or cached[0] != day:
            cached = (day, self.streams.get("crew_labels", crew_id, day))
            self._crew_label_rng[crew_id] = cached
        return cached[1]

    def _tell_crews(self, declined: np.ndarray) -> None:
        """Each crew learns the decisions on its own attempts (in its plan's order), and nothing else."""
        planned = self._planned
        if planned is None:
            return
        crew_rows = self._position[len(declined) - len(planned.tx) :]
        for crew, rows in planned.by_crew():
            crew.observe(planned.plan.take(rows), declined[crew_rows[rows]])


# --------------------------------------------------------------------------- warm-up and arms


def longest_batch_window(scenario: Scenario) -> float:
    windows = [arm.window for arm in scenario.arms if isinstance(arm, BATCH_LEARNERS)]
    windows += [arm.feedback_window for arm in scenario.arms if hasattr(arm, "feedback_window")]
    return max(windows, default=0.0)


def warmup_length(scenario: Scenario) -> float:
    """How long the world runs under ``rules`` before t = 0.

    ``auto``: long enough that every label source is in steady state over the
    history — the longest label delay plus the history, plus a month for the
    features' decayed counts to settle. It depends on the world alone, never on
    the arms, so an arm's world is the same whatever arms run beside it.
    """
    if scenario.warmup != "auto":
        return float(scenario.warmup)
    delay = LabelModel(scenario.labels).longest_delay
    return float(np.ceil((delay + scenario.history + FEATURES_SETTLE_S) / DAY) * DAY)


def transactions_per_day(scenario: Scenario) -> float:
    """Honest transactions a day (customers × their daily rate): every one is labelled in the end, so it
    also sizes the label buffers."""
    return scenario.population.customers * scenario.population.tx_per_customer_day


def _expected_rows(scenario: Scenario, retention: float) -> int:
    """Room for the transactions of one retention window, with a margin (the store still grows)."""
    return int(1.2 * transactions_per_day(scenario) * (retention + DAY) / DAY) + 1024


def warm_up(
    scenario: Scenario, streams: Streams, progress: Callable[[float], None] | None = None
) -> tuple[World, History]:
    """Run the world under ``rules`` up to t = 0; return it and the history every arm starts from."""
    length = warmup_length(scenario)
    population = with_movers(
        build_population(scenario.population, streams.get("population")),
        scenario.population,
        -length,
        streams.get("drift"),
    )
    retention = max(LabelModel(scenario.labels).longest_delay, scenario.history) + scenario.tick
    world = World(
        population=population,
        features=FeatureState(population.customers, population.merchants, scenario.population),
        crews=Crews(
            wear_out(scenario.innovation, scenario.crews, -length, streams.get("innovation", CLASSICS_KEY)),
            scenario.compromises,
            population,
            streams,
            invent(scenario.innovation, -length, scenario.horizon, population, streams.get("innovation")),
            draw_skims(
                scenario.skimming,
                -length,
                scenario.horizon,
                population,
                [crew.name for crew in scenario.crews],
                streams.get("skimming"),
            ),
        ),
        store=FeatureStore(len(FEATURES), retention, _expected_rows(scenario, retention)),
        queue=LabelQueue(),
        blocks=CardBlocks(scenario.blocking),
    )
    engine = Engine(
        scenario, streams, world, RulesLearner("warm-up", scenario.rules), None, -length, 0.0, progress, warming_up=True
    )
    # Label events arriving from the history's start (its eventual labels) or the longest batch window's
    # (collecting them changes nothing in the world).
    engine.collected = _Collected(since=-max(scenario.history, longest_batch_window(scenario)))
    oracles = [arm for arm in scenario.arms if isinstance(arm, OracleArm)]
    if oracles:  # the truth of the longest oracle window, kept as thinly as the thickest window keeps it
        engine.collected.truth_since = -max(arm.window for arm in oracles)
        engine.collected.truth_keep = max(window_keep(arm, transactions_per_day(scenario)) for arm in oracles)
    history_start: dict[str, int] = {}

    def mark_history_start() -> None:  # the first transaction id of the history
        history_start["id"] = world.store.next_id

    engine.at(-scenario.history, mark_history_start)
    engine.run()
    return world, _history(world, engine.collected, history_start.get("id", 0))


def _history(world: World, collected: _Collected, first_id: int) -> History:
    """The first model's training set and the batch buffers' starting contents."""
    arrived = LabelEvents.concat([events for _, events in collected.parts])
    arrived_X = (
        np.concatenate([X for X, _ in collected.parts]) if collected.parts else np.zeros((0, len(FEATURES)), np.float32)
    )
    # Eventual labels of the history's transactions: arrived ones and those still in flight.
    mine = LabelEvents.concat([arrived.take(arrived.tx_id >= first_id), world.queue.pending(first_id)])
    order = np.lexsort((mine.label_at, mine.tx_id))
    latest = order[np.r_[mine.tx_id[order][1:] != mine.tx_id[order][:-1], True]] if len(order) else order
    final = mine.take(latest)
    truth = LabelEvents.concat([events for _, events, _ in collected.truth])
    truth_X = np.concatenate([X for X, _, _ in collected.truth]) if collected.truth else arrived_X[:0]
    truth_declined = np.concatenate([d for _, _, d in collected.truth]) if collected.truth else np.zeros(0, bool)
    return History(
        X=world.store.features(final.tx_id),
        y=final.value.astype(np.int8),
        arrived=arrived,
        arrived_X=arrived_X,
        truth=truth,
        truth_X=truth_X,
        truth_declined=truth_declined,
    )


def arm_retention(scenario: Scenario) -> float:
    """How long an arm's feature store keeps transactions: until their last label can arrive."""
    return LabelModel(scenario.labels).longest_delay + scenario.tick


def arm_learner(scenario: Scenario, arm: Arm, streams: Streams, labels_per_day: float) -> Learner:
    """The arm's learner, seeded by the arm's name (the same whatever arms run beside it)."""
    seed = int(streams.get("learner", stable_key(arm.name)).integers(2**31))
    return make_learner(arm, scenario.rules, labels_per_day, seed)


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
    if learner is None:
        learner = arm_learner(scenario, arm, streams, transactions_per_day(scenario))
    learner.start(history)
    engine = Engine(scenario, streams, world, learner, recorder, 0.0, scenario.horizon, progress, arm.name)
    engine.run()
    world.crews.finish()
    recorder.crews(world.crews.rows(first_day=0), world.crews.tactic_names())
    # Labels still pending at the horizon go only to the ledger (of transactions from t = 0).
    pending = world.queue.drain(recorder.first_tx_id or 0) if recorder.ledger is not None else LabelEvents.empty()
    recorder.finish(pending, engine.desk.pending())
    return engine
