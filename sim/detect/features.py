"""Point-in-time features: what the issuer knew about a transaction when it was scored.

Card velocity counts the card's earlier attempts with a one-day exponential
decay, exactly, even within a tick. A card's amount habit, a merchant's fraud
rate and the card's fraud labels are taken as of the start of the tick; the
last two are built only from label events that have arrived (DESIGN §4). The features
stored with a transaction are exactly those it was scored with (float32).
"""

from __future__ import annotations

import numpy as np

from ..schema import CATEGORIES, Population as PopulationConfig
from ..units import DAY
from ..world.traffic import Transactions

NUMERIC_FEATURES = (
    "log_amount",
    "hour_sin",
    "hour_cos",
    "cnp",
    "cnp_log_amount",
    "attempts_1d",
    "amount_vs_habit",
    "amount_vs_category",
    "merchant_fraud_rate",
    "card_fraud_labels",
)
FEATURES = NUMERIC_FEATURES + tuple(f"category_{c}" for c in CATEGORIES)
COLUMN = {name: i for i, name in enumerate(FEATURES)}

VELOCITY_DECAY_S = DAY
CARD_LABEL_DECAY_S = 30 * DAY
MERCHANT_HALFLIFE_S = 30 * DAY
HABIT_PRIOR_COUNT = 3.0
HABIT_MAX_COUNT = 50.0  # a card's habit remembers about its last 50 approved purchases
MERCHANT_PRIOR_TRANSACTIONS = 200.0
MERCHANT_PRIOR_RATE = 0.002
CATEGORY_PRIOR_COUNT = 100.0


class FeatureState:
    """Running aggregates per card and merchant, updated as transactions and labels arrive."""

    def __init__(self, customers: int, merchants: int, config: PopulationConfig):
        self.velocity = np.zeros(customers)
        self.velocity_at = np.zeros(customers)
        self.habit_n = np.zeros(customers)
        self.habit_mean = np.zeros(customers)
        self.habit_m2 = np.zeros(customers)
        self.merchant_transactions = np.zeros(merchants)  # decayed
        self.merchant_frauds = np.zeros(merchants)  # fraud labels arrived, decayed
        self._decayed_at: float | None = None
        self.category_n = np.full(len(CATEGORIES), CATEGORY_PRIOR_COUNT)  # approved amounts per category
        self.category_sum = np.full(len(CATEGORIES), CATEGORY_PRIOR_COUNT * float(np.log(config.amount_median)))
        self.card_frauds = np.zeros(customers)  # decayed count of arrived fraud labels
        self.card_frauds_at = np.zeros(customers)
        self.prior_mean = float(np.log(config.amount_median))
        self.prior_var = float(config.amount_sigma**2 + config.amount_spread**2)

    # ----------------------------------------------------------------- reading

    def compute(self, tx: Transactions, merchant_category: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The feature matrix (n × len(FEATURES), float32) of a tick's attempts, in time
        order, and the exact card velocity (for :meth:`record`)."""
        n = len(tx)
        X = np.zeros((n, len(FEATURES)), np.float32)
        if n == 0:
            return X, np.zeros(0)
        log_amount = np.log1p(tx.amount)
        angle = 2 * np.pi * (tx.t % DAY) / DAY
        X[:, 0] = log_amount
        X[:, 1] = np.sin(angle)
        X[:, 2] = np.cos(angle)
        X[:, 3] = tx.cnp
        X[:, 4] = tx.cnp * log_amount
        velocity = self._velocity(tx)
        X[:, 5] = velocity
        n_card = self.habit_n[tx.card]
        weight = n_card + HABIT_PRIOR_COUNT
        mean = (n_card * self.habit_mean[tx.card] + HABIT_PRIOR_COUNT * self.prior_mean) / weight
        var = (self.habit_m2[tx.card] + HABIT_PRIOR_COUNT * self.prior_var) / weight
        X[:, 6] = (np.log(tx.amount) - mean) / np.sqrt(var)
        category = merchant_category[tx.merchant]
        X[:, 7] = np.log(tx.amount) - self.category_sum[category] / self.category_n[category]
        frauds = self.merchant_frauds[tx.merchant] + MERCHANT_PRIOR_TRANSACTIONS * MERCHANT_PRIOR_RATE
        X[:, 8] = np.log(frauds / (self.merchant_transactions[tx.merchant] + MERCHANT_PRIOR_TRANSACTIONS))
        X[:, 9] = self.card_frauds[tx.card] * np.exp(-(tx.t - self.card_frauds_at[tx.card]) / CARD_LABEL_DECAY_S)
        X[np.arange(n), len(NUMERIC_FEATURES) + category] = 1.0
        return X, velocity

    def _velocity(self, tx: Transactions) -> np.ndarray:
        """Decayed count of the card's earlier attempts, at each attempt's own time."""
        order = np.lexsort((tx.t, tx.card))
        card, t = tx.card[order], tx.t[order]
        t0 = t.min()
        grow = np.exp((t - t0) / VELOCITY_DECAY_S)
        before = np.cumsum(grow) - grow
        first = np.r_[True, card[1:] != card[:-1]]
        group = np.cumsum(first) - 1
        within = (before - before[first][group]) / grow
        carried = self.velocity[card] * np.exp(-(t - self.velocity_at[card]) / VELOCITY_DECAY_S)
        value = np.empty(len(tx))
        value[order] = carried + within
        return value

    # ----------------------------------------------------------------- updating

    def advance(self, now: float) -> None:
        """Decay the merchants' counts to ``now`` (called at each tick boundary)."""
        if self._decayed_at is not None and now > self._decayed_at:
            factor = 0.5 ** ((now - self._decayed_at) / MERCHANT_HALFLIFE_S)
            self.merchant_transactions *= factor
            self.merchant_frauds *= factor
        self._decayed_at = now

    def record(
        self, tx: Transactions, velocity: np.ndarray, approved: np.ndarray, merchant_category: np.ndarray
    ) -> None:
        """Fold a scored tick into the aggregates: every attempt counts toward velocity,
        approved ones toward the card's and the category's amount habits."""
        if len(tx) == 0:
            return
        self.merchant_transactions += np.bincount(tx.merchant, minlength=len(self.merchant_transactions))
        order = np.lexsort((tx.t, tx.card))
        last = order[np.r_[tx.card[order][1:] != tx.card[order][:-1], True]]
        self.velocity[tx.card[last]] = velocity[last] + 1.0
        self.velocity_at[tx.card[last]] = tx.t[last]
        card = tx.card[approved]
        if len(card) == 0:
            return
        category = merchant_category[tx.merchant[approved]]
        self.category_n += np.bincount(category, minlength=len(CATEGORIES))
        self.category_sum += np.bincount(category, np.log(tx.amount[approved]), minlength=len(CATEGORIES))
        value = np.log(tx.amount[approved])
        cards, inverse = np.unique(card, return_inverse=True)
        n_b = np.bincount(inverse).astype(float)
        mean_b = np.bincount(inverse, value) / n_b
        m2_b = np.bincount(inverse, (value - mean_b[inverse]) ** 2)
        n_all, mean_a = self.habit_n[cards], self.habit_mean[cards]
        n_a = np.minimum(n_all, HABIT_MAX_COUNT)  # older purchases weigh less once the cap is reached
        m2_a = self.habit_m2[cards] * np.divide(n_a, n_all, out=np.ones_like(n_a), where=n_all > 0)
        n = n_a + n_b
        delta = mean_b - mean_a
        self.habit_mean[cards] = mean_a + delta * n_b / n
        self.habit_m2[cards] = m2_a + m2_b + delta**2 * n_a * n_b / n
        self.habit_n[cards] = n

    def learn_labels(self, merchant: np.ndarray, card: np.ndarray, value: np.ndarray, label_at: np.ndarray) -> None:
        """Arrived fraud labels raise their merchant's fraud rate (fraud labels per transaction
        seen there: transactions are counted at once, so the rate does not wait for maturity
        labels) and their card's decayed count of fraud labels (events in arrival order)."""
        fraud = value == 1
        np.add.at(self.merchant_frauds, merchant[fraud], 1.0)
        for c, at in zip(card[fraud], label_at[fraud], strict=True):  # few: fraud labels only
            self.card_frauds[c] = self.card_frauds[c] * np.exp(-(at - self.card_frauds_at[c]) / CARD_LABEL_DECAY_S) + 1
            self.card_frauds_at[c] = at
