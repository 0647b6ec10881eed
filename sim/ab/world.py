"""An A/B test inside the simulation: two detectors in one world, and what the test sees.

A card's traffic goes to arm `b` when a stable hash of the card falls below `share_b`, else to
`a` (:func:`arm_b`). The :class:`ABLearner` scores each transaction with its card's arm and
hands each arm's learner its own cards' labels (or every label, when pooled). The
:class:`ABRecorder` takes the place of the arm recorder: at the end of each day it computes, per
arm, the per-transaction figures a fraud team could compute then — fraud loss from the fraud
labels that have arrived (friendly fraud included: the team cannot tell), friction from declines
not known to be fraud, review cost — and the same figures with the truth. B − A comes with an
interval clustered by card (:mod:`sim.ab.stats`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from ..detect.policy import decline_cost
from ..feedback.investigators import Review
from ..feedback.labels import LabelEvents
from ..learn.history import History
from ..learn.protocol import LABELS, Batch, Learner, ModelEvent
from ..results import Recorder
from ..rng import AB_SALT, uniform_hash
from ..schema import Scenario
from ..units import DAY
from . import stats

if TYPE_CHECKING:
    from ..detect.policy import Decisions
    from ..world.traffic import Transactions


def arm_b(cards: np.ndarray, share_b: float) -> np.ndarray:
    """True where a card belongs to arm b (a stable hash, the same in every run and variant).

    >>> round(float(arm_b(np.arange(100_000), 0.05).mean()), 2)
    0.05
    """
    return uniform_hash(cards, AB_SALT) < share_b


class ABLearner:
    """Two learners, one per arm of the test, each scoring its own cards' transactions and
    learning its own cards' labels (every label, when ``pooled``). ``is_b``: per card, whether
    it belongs to arm b (:func:`arm_b`)."""

    feed = LABELS

    def __init__(self, a: Learner, b: Learner, is_b: np.ndarray, pooled: bool):
        self.a, self.b = a, b
        self.is_b = is_b
        self.pooled = pooled
        self.name = f"{a.name}|{b.name}"

    @property
    def newest_fraud_at(self) -> float:
        return min(self.a.newest_fraud_at, self.b.newest_fraud_at)

    def start(self, history: History) -> None:
        for learner in (self.a, self.b):
            learner.start(history)

    def predict_proba(self, batch: Batch) -> np.ndarray:
        p = np.empty(len(batch))
        b = self.is_b[batch.card]
        for learner, mask in zip((self.a, self.b), (~b, b), strict=True):
            if mask.any():
                p[mask] = learner.predict_proba(batch.take(mask))
        return p

    def learn(self, batch: Batch) -> None:
        if self.pooled:
            for learner in (self.a, self.b):
                learner.learn(batch)
            return
        b = self.is_b[batch.card]
        for learner, mask in zip((self.a, self.b), (~b, b), strict=True):
            if mask.any():
                learner.learn(batch.take(mask))

    def at_boundary(self, now: float) -> list[ModelEvent]:
        return [event for learner in (self.a, self.b) for event in learner.at_boundary(now)]


@dataclass
class _Arm:
    """Per-card running sums of one arm."""

    n: np.ndarray  # transactions
    true_loss: np.ndarray
    known_loss: np.ndarray
    true_friction: np.ndarray
    seen_friction: np.ndarray  # declines not known to be fraud, costed as honest ones
    review: np.ndarray
    crew_attempts: float = 0.0

    @staticmethod
    def zeros(cards: int) -> _Arm:
        return _Arm(*(np.zeros(cards) for _ in range(6)))


class ABRecorder(Recorder):
    """The A/B test's data as the team would have it at the end of each day, and the truth.

    It records ticks, label deliveries and reviews; label events scheduled, maturity labels
    withdrawn and cards blocked do not change what the test measures, so it leaves them to the
    :class:`~sim.results.Recorder`'s defaults.
    """

    def __init__(self, scenario: Scenario, cards: int, variant: str, replication: int):
        self.scenario = scenario
        self.variant, self.replication = variant, replication
        self.cards = cards
        self.arms = (_Arm.zeros(cards), _Arm.zeros(cards))
        self.is_b = arm_b(np.arange(cards), scenario.ab.share_b)
        self.days = int(np.ceil(scenario.horizon / DAY))
        self.first_tx_id: int | None = None
        self._open_day = 0
        # Per transaction since t = 0: card, money at stake if it is fraud, decline cost, status.
        self._card = np.empty(0, np.int32)
        self._stake = np.empty(0)
        self._cost = np.empty(0)
        self._declined = np.empty(0, bool)
        self._known = np.empty(0, bool)  # a fraud label has arrived
        self._n = 0
        self.rows: list[dict] = []

    # ----------------------------------------------------------------- the engine's hooks

    def tick(
        self,
        now: float,
        tx: Transactions,
        ids: np.ndarray,
        X: np.ndarray,
        p: np.ndarray,
        decisions: Decisions,
        staleness: float = np.nan,
        falling_back: bool = False,
    ) -> None:
        self._close_days(int(now // DAY))
        if self.first_tx_id is None:
            self.first_tx_id = int(ids[0])
        policy = self.scenario.policy
        declined = decisions.declined
        stake = tx.amount + policy.fraud_fee
        cost = decline_cost(tx.amount, policy)
        self._append(tx.card, stake, cost, declined)
        b = self.is_b[tx.card]
        approved = ~declined
        for arm, mask in zip(self.arms, (~b, b), strict=True):
            card, fraud = tx.card[mask], tx.is_fraud[mask]
            arm.n += np.bincount(card, minlength=self.cards)
            arm.true_loss += np.bincount(card, stake[mask] * (fraud & approved[mask]), minlength=self.cards)
            arm.true_friction += np.bincount(card, cost[mask] * (~fraud & declined[mask]), minlength=self.cards)
            arm.seen_friction += np.bincount(card, cost[mask] * declined[mask], minlength=self.cards)
            arm.crew_attempts += float(np.count_nonzero(fraud))

    def labels(self, events: LabelEvents, delivered_at: float | None) -> None:
        """Delivered label events: a first fraud label makes a transaction's loss known."""
        if delivered_at is None or self.first_tx_id is None:
            return
        offset = events.tx_id - self.first_tx_id
        fraud = (events.value == 1) & (offset >= 0) & (offset < self._n)
        slot = np.unique(offset[fraud])
        slot = slot[~self._known[slot]]
        if len(slot) == 0:
            return
        self._known[slot] = True
        card, approved = self._card[slot], ~self._declined[slot]
        b = self.is_b[card]
        for arm, mask in zip(self.arms, (~b, b), strict=True):
            cards = card[mask]
            arm.known_loss += np.bincount(cards, self._stake[slot][mask] * approved[mask], minlength=self.cards)
            # A declined transaction now known to be fraud was not a false decline after all.
            arm.seen_friction -= np.bincount(cards, self._cost[slot][mask] * ~approved[mask], minlength=self.cards)

    def review(self, review: Review, now: float) -> None:
        if review.outcome == "reviewed":
            card = review.alert.card
            self.arms[int(self.is_b[card])].review[card] += self.scenario.policy.review_cost

    def finish(self) -> None:
        """Measure the days not measured yet (the last one)."""
        self._close_days(self.days)

    # ----------------------------------------------------------------- days

    def _append(self, card: np.ndarray, stake: np.ndarray, cost: np.ndarray, declined: np.ndarray) -> None:
        end = self._n + len(card)
        if end > len(self._card):
            capacity = max(2 * len(self._card), end, 1 << 14)
            for name in ("_card", "_stake", "_cost", "_declined", "_known"):
                old = getattr(self, name)
                grown = np.zeros(capacity, old.dtype)
                grown[: self._n] = old[: self._n]
                setattr(self, name, grown)
        self._card[self._n : end], self._stake[self._n : end], self._cost[self._n : end] = card, stake, cost
        self._declined[self._n : end] = declined
        self._n = end

    def _close_days(self, today: int) -> None:
        while self._open_day < min(today, self.days):
            self._measure(self._open_day)
            self._open_day += 1

    def _measure(self, day: int) -> None:
        a, b = self.arms
        share = b.crew_attempts / max(a.crew_attempts + b.crew_attempts, 1.0)
        for view in ("known", "eventual"):
            row: dict[str, object] = {
                "variant": self.variant,
                "replication": self.replication,
                "day": day,
                "view": view,
                "transactions_a": float(a.n.sum()),
                "transactions_b": float(b.n.sum()),
                "b_share_of_crew_attempts": share,
            }
            for figure in ("fraud_loss", "total_cost"):
                ratios = [stats.ratio(self._money(arm, view, figure), arm.n) for arm in (a, b)]
                d = stats.difference(ratios[1], ratios[0])
                row |= {
                    f"{figure}_a": ratios[0].estimate,
                    f"{figure}_b": ratios[1].estimate,
                    f"{figure}_diff": d.estimate,
                    f"{figure}_low": d.low,
                    f"{figure}_high": d.high,
                }
            self.rows.append(row)

    @staticmethod
    def _money(arm: _Arm, view: str, figure: str) -> np.ndarray:
        loss = arm.known_loss if view == "known" else arm.true_loss
        if figure == "fraud_loss":
            return loss
        friction = arm.seen_friction if view == "known" else arm.true_friction
        return loss + friction + arm.review

    # ----------------------------------------------------------------- results

    def table(self) -> pl.DataFrame:
        return pl.DataFrame(self.rows)

    def card_history(self) -> tuple[np.ndarray, np.ndarray]:
        """Per card of arm a over the test: true fraud loss and transactions (a plan's input)."""
        a = self.arms[0]
        keep = a.n > 0
        return a.true_loss[keep], a.n[keep]

    def known_share(self) -> float:
        """The share of arm a's fraud loss the labels had revealed at the end."""
        a = self.arms[0]
        total = float(a.true_loss.sum())
        return float(a.known_loss.sum()) / total if total > 0 else 1.0
