"""The warm-up: how long the world runs under the rules before t = 0, what it runs with, and
what it collects for the history every arm starts from (docs/concepts.md, "Warm-up")."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .detect.store import FeatureStore
from .feedback.labels import LabelEvents, LabelModel
from .learn.history import History
from .learn.learners import window_keep
from .learn.protocol import truth_events
from .rng import window_sample
from .schema import BATCH_LEARNERS, Arm, BatchArm, OracleArm, RulesArm, Scenario, SplitArm, StaticArm
from .schema.arms import BatchPlugin
from .schema.features import FEATURES
from .units import DAY
from .world.state import World
from .world.traffic import Transactions

FEATURES_SETTLE_S = 30 * DAY


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


def warm_up_scenario(scenario: Scenario) -> Scenario:
    """The scenario as the warm-up runs it: the expected-cost rule decides (no target decline
    rate), with no faults and no drift detectors: those belong to the arms."""
    return scenario.model_copy(
        update={
            "faults": [],
            "monitoring": scenario.monitoring.model_copy(update={"detectors": []}),
            "policy": scenario.policy.model_copy(update={"target_decline_rate": None}),
        }
    )


def transactions_per_day(scenario: Scenario) -> float:
    """Honest transactions a day (customers × their daily rate): every one is labelled in the end, so it
    also sizes the label buffers."""
    return scenario.population.customers * scenario.population.tx_per_customer_day


def history_keep(scenario: Scenario) -> float:
    """The share of the history's legitimate transactions kept for the first models, so that the
    history holds about ``history_rows`` rows (as a batch window keeps ``max_rows``)."""
    rows = transactions_per_day(scenario) * scenario.history / DAY
    return min(1.0, scenario.history_rows / max(rows, 1.0))


def longest_batch_window(scenario: Scenario) -> float:
    windows = [arm.window for arm in scenario.arms if isinstance(arm, BATCH_LEARNERS)]
    windows += [arm.feedback_window for arm in scenario.arms if hasattr(arm, "feedback_window")]
    return max(windows, default=0.0)


def warmup_retention(scenario: Scenario) -> float:
    """How long the warm-up's feature store keeps transactions: the longest label delay or the history."""
    return max(LabelModel(scenario.labels).longest_delay, scenario.history) + scenario.tick


def arm_retention(scenario: Scenario) -> float:
    """How long an arm's feature store keeps transactions: until their last label can arrive."""
    return LabelModel(scenario.labels).longest_delay + scenario.tick


def feature_share(arm: Arm, scenario: Scenario) -> float:
    """The share of legitimate transactions whose features an arm's learner may read when their
    labels arrive (fraud and alerted ones it may always read): a batch window's, none for a
    learner fed no labels, all for an online learner, a hybrid's recalibration, an A/B test's
    pair and a `label_error` monitor (docs/performance.md, "Scale")."""
    if scenario.ab is not None or any(d.signal == "label_error" for d in scenario.monitoring.detectors):
        return 1.0
    match arm:
        case StaticArm() | RulesArm() | OracleArm():
            return 0.0
        case BatchArm() | BatchPlugin() | SplitArm():
            return window_keep(arm, transactions_per_day(scenario))
    return 1.0


def warmup_feature_share(scenario: Scenario, in_history: bool) -> float:
    """The share of legitimate warm-up transactions whose features are kept: what every arm may
    read and, ``in_history`` (from the history's start), what the history keeps."""
    shares = [feature_share(arm, scenario) for arm in scenario.arms]
    return max([*shares, history_keep(scenario)] if in_history else shares)


@dataclass
class Collector:
    """What the warm-up keeps for the history: the label events arriving from ``since`` (with
    the features of those a batch window keeps, at ``window_keep``) and, from ``truth_since``,
    every transaction's truth for the oracles' windows,
    legitimate ones kept at ``truth_keep`` by a stable hash, as a window keeps them. The history
    keeps its legitimate transactions at ``history_keep`` by the same hash, each weighing back
    ``1 / history_keep``."""

    store: FeatureStore
    since: float
    truth_since: float = np.inf
    truth_keep: float = 1.0
    history_keep: float = 1.0
    window_keep: float = 0.0
    first_id: int | None = None  # the history's first transaction, once it has begun
    events: list[LabelEvents] = field(default_factory=list)  # the history's label events that may be its last
    fraud_ids: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))  # history's fraud-labelled so far
    parts: list[tuple[np.ndarray, LabelEvents]] = field(default_factory=list)  # those a window keeps
    truth: list[tuple[np.ndarray, LabelEvents, np.ndarray]] = field(default_factory=list)  # X, truth, declined

    @staticmethod
    def for_scenario(scenario: Scenario, store: FeatureStore) -> Collector:
        """Label events arriving from the history's start (its eventual labels) or the longest batch
        window's (with the features of those the thickest window keeps); the truth of the longest
        oracle window, kept as thinly as the thickest oracle window keeps it."""
        per_day = transactions_per_day(scenario)
        windows = [arm for arm in scenario.arms if isinstance(arm, BATCH_LEARNERS) and not isinstance(arm, OracleArm)]
        collector = Collector(
            store,
            since=-max(scenario.history, longest_batch_window(scenario)),
            history_keep=history_keep(scenario),
            window_keep=max([window_keep(arm, per_day) for arm in windows], default=0.0),
        )
        oracles = [arm for arm in scenario.arms if isinstance(arm, OracleArm)]
        if oracles:
            collector.truth_since = -max(arm.window for arm in oracles)
            collector.truth_keep = max(window_keep(arm, per_day) for arm in oracles)
        return collector

    def mark_history_start(self) -> None:
        """The history begins: its legitimate rows keep their features at its share from now."""
        self.first_id = self.store.next_id
        self.store.keep_features(max(self.store.keep_share, self.history_keep))

    def labels(self, due: LabelEvents) -> None:
        """Arrived label events: the history's, and those a batch window keeps, with their features
        (read from the store for those only)."""
        if self.first_id is not None:
            mine = due.take(due.tx_id >= self.first_id)
            self.fraud_ids = _sorted_union(self.fraud_ids, mine.tx_id[mine.value == 1])
            self.events.append(mine.take(self._may_be_kept(mine, self.fraud_ids)))
        keep = due.label_at >= self.since
        keep &= window_sample(due.tx_id, due.value == 1, self.window_keep)
        if keep.any():
            kept = due.take(keep)
            self.parts.append((self.store.features(kept.tx_id), kept))

    def _may_be_kept(self, events: LabelEvents, fraud_ids: np.ndarray) -> np.ndarray:
        """The history's events that can decide a kept row: every event of a transaction kept
        whatever its label (by the hash), and of the others, those from their first fraud label on
        (one of them is their last label when it says fraud, and only then are they kept). The
        rest never matter, so the history's memory follows the cap, not the history's length."""
        if self.history_keep >= 1.0:
            return np.ones(len(events), bool)
        kept = window_sample(events.tx_id, events.value == 1, self.history_keep)
        rest = np.flatnonzero(~kept)
        if len(rest) and len(fraud_ids):
            kept[rest] = _contains(fraud_ids, events.tx_id[rest])
        return kept

    def tick(
        self, X: np.ndarray, ids: np.ndarray, tx: Transactions, declined: np.ndarray, now: float, known_at: float
    ) -> None:
        if now >= self.truth_since:
            keep = window_sample(ids, tx.is_fraud, self.truth_keep)
            self.truth.append(
                (X[keep], truth_events(ids[keep], tx.is_fraud[keep], tx.t[keep], known_at), declined[keep])
            )

    def history(self, world: World) -> History:
        """The first model's training set and the batch buffers' starting contents."""
        arrived = LabelEvents.concat([events for _, events in self.parts])
        arrived_X = (
            np.concatenate([X for X, _ in self.parts]) if self.parts else np.zeros((0, len(FEATURES)), np.float32)
        )
        # Eventual labels of the history's transactions: arrived ones and those still in flight.
        first = self.store.next_id if self.first_id is None else self.first_id
        fraud_ids = _sorted_union(self.fraud_ids, world.queue.pending(first, lambda part: part.value == 1).tx_id)
        in_flight = world.queue.pending(first, lambda part: self._may_be_kept(part, fraud_ids))
        mine = LabelEvents.concat([*self.events, in_flight])
        order = np.lexsort((mine.label_at, mine.tx_id))
        latest = order[np.r_[mine.tx_id[order][1:] != mine.tx_id[order][:-1], True]] if len(order) else order
        final = mine.take(latest)
        weight = None
        if self.history_keep < 1.0:
            keep = window_sample(final.tx_id, final.value == 1, self.history_keep)
            final = final.take(keep)
            weight = np.where(final.value == 1, 1.0, 1.0 / self.history_keep)
        truth = LabelEvents.concat([events for _, events, _ in self.truth])
        truth_X = np.concatenate([X for X, _, _ in self.truth]) if self.truth else arrived_X[:0]
        truth_declined = np.concatenate([d for _, _, d in self.truth]) if self.truth else np.zeros(0, bool)
        return History(
            X=world.store.features(final.tx_id),
            y=final.value.astype(np.int8),
            weight=weight,
            arrived=arrived,
            arrived_X=arrived_X,
            truth=truth,
            truth_X=truth_X,
            truth_declined=truth_declined,
            labels=final,
            card=world.store.card(final.tx_id),
            merchant=world.store.merchant(final.tx_id),
        )


def _contains(sorted_ids: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Whether each of ``ids`` is in ``sorted_ids`` (sorted, not empty), by binary search."""
    at = np.minimum(np.searchsorted(sorted_ids, ids), len(sorted_ids) - 1)
    return sorted_ids[at] == ids


def _sorted_union(sorted_ids: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """``sorted_ids`` with ``ids`` added, still sorted and unique (inserted: no sort of the whole)."""
    new = np.unique(ids)
    if len(sorted_ids):
        new = new[~_contains(sorted_ids, new)]
    return np.insert(sorted_ids, np.searchsorted(sorted_ids, new), new) if len(new) else sorted_ids
