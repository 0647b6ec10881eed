"""Point-in-time features: what the issuer knew about a transaction when it was scored.

Card velocity counts the card's earlier attempts with a one-day exponential
decay, exactly, even within a tick. A card's amount habit and a merchant's
fraud rate are taken as of the start of the tick; the fraud rate is built only
from label events that have arrived (docs/concepts.md, "Features"). The
features stored with a transaction are exactly those it was scored with
(float32).

Besides the category's one-hot columns, second-degree interactions let a linear
model describe a tactic ("gift cards, online, at night, €200–400"): the channel,
the night and the log amount, each times the category.
"""

from __future__ import annotations

import numpy as np

from ..schema import CATEGORIES
from ..schema import Population as PopulationConfig
from ..schema.features import FEATURES, NUMERIC_FEATURES
from ..units import DAY
from ..world.traffic import Transactions

NIGHT_HOURS = (0, 6)  # local hours [start, end) that count as night

VELOCITY_DECAY_S = DAY
MERCHANT_HALFLIFE_S = 30 * DAY
HABIT_PRIOR_COUNT = 3.0
HABIT_MAX_COUNT = 50.0  # a card's habit remembers about its last 50 approved purchases
MERCHANT_PRIOR_TRANSACTIONS = 200.0
MERCHANT_PRIOR_RATE = 0.002
CATEGORY_PRIOR_COUNT = 100.0


# Per-card state, one row of 8 float64 per card (5 used): a tick's gathers touch one cache line per card.
_VELOCITY, _VELOCITY_AT, _HABIT_N, _HABIT_MEAN, _HABIT_M2 = range(5)


def _card_column(index: int, doc: str) -> property:
    return property(lambda self: self._cards[:, index], doc=doc)


class FeatureState:
    """Running aggregates per card and merchant, updated as transactions and labels arrive."""

    velocity = _card_column(_VELOCITY, "decayed count of the card's attempts, as of ``velocity_at``")
    velocity_at = _card_column(_VELOCITY_AT, "time of the card's last attempt")
    habit_n = _card_column(_HABIT_N, "approved purchases in the card's amount habit (capped)")
    habit_mean = _card_column(_HABIT_MEAN, "mean log amount of the card's approved purchases")
    habit_m2 = _card_column(_HABIT_M2, "sum of squared deviations of those log amounts")

    def __init__(self, customers: int, merchants: int, config: PopulationConfig):
        self._cards = np.zeros((customers, 8))
        self.merchant_transactions = np.zeros(merchants)  # decayed
        self.merchant_frauds = np.zeros(merchants)  # fraud-labelled transactions, decayed
        self._decayed_at: float | None = None
        self.category_n = np.full(len(CATEGORIES), CATEGORY_PRIOR_COUNT)  # approved amounts per category
        self.category_sum = np.full(len(CATEGORIES), CATEGORY_PRIOR_COUNT * float(np.log(config.amount_median)))
        self.prior_mean = float(np.log(config.amount_median))
        self.prior_var = float(config.amount_sigma**2 + config.amount_spread**2)
        self._order: tuple[Transactions, np.ndarray] | None = None  # the last batch's attempts by card
        self._fraud_labelled: set[int] = set()  # transactions already counted in the fraud features
        self._pruned_on: int | None = None

    # ----------------------------------------------------------------- reading

    def compute(self, tx: Transactions, merchant_category: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The feature matrix (n × len(FEATURES), float32) of a tick's attempts, in time
        order, and the exact card velocity (for :meth:`record`)."""
        n = len(tx)
        X = np.empty((n, len(FEATURES)), np.float32)
        if n == 0:
            return X, np.zeros(0)
        card, merchant, amount, t = tx.card, tx.merchant, tx.amount, tx.t
        state = self._cards[card]
        log_amount = np.log1p(amount)
        seconds = t % DAY
        angle = 2 * np.pi * seconds / DAY
        night = (seconds >= NIGHT_HOURS[0] * 3600.0) & (seconds < NIGHT_HOURS[1] * 3600.0)
        X[:, 0] = log_amount
        X[:, 1] = np.sin(angle)
        X[:, 2] = np.cos(angle)
        X[:, 3] = night
        X[:, 4] = tx.cnp
        X[:, 5] = tx.cnp * log_amount
        velocity = self._velocity(tx, state)
        X[:, 6] = velocity
        n_card = state[:, _HABIT_N]
        weight = n_card + HABIT_PRIOR_COUNT
        mean = (n_card * state[:, _HABIT_MEAN] + HABIT_PRIOR_COUNT * self.prior_mean) / weight
        var = (state[:, _HABIT_M2] + HABIT_PRIOR_COUNT * self.prior_var) / weight
        log_raw = np.log(amount)
        X[:, 7] = (log_raw - mean) / np.sqrt(var)
        category = merchant_category[merchant]
        X[:, 8] = log_raw - (self.category_sum / self.category_n)[category]
        frauds = self.merchant_frauds[merchant] + MERCHANT_PRIOR_TRANSACTIONS * MERCHANT_PRIOR_RATE
        X[:, 9] = np.log(frauds / (self.merchant_transactions[merchant] + MERCHANT_PRIOR_TRANSACTIONS))
        X[:, len(NUMERIC_FEATURES) :] = 0.0
        rows, blocks = np.arange(n), len(CATEGORIES)
        start = len(NUMERIC_FEATURES) + category
        X[rows, start] = 1.0
        X[rows, start + blocks] = tx.cnp
        X[rows, start + 2 * blocks] = night
        X[rows, start + 3 * blocks] = log_amount
        return X, velocity

    def _by_card(self, tx: Transactions) -> np.ndarray:
        """The attempts ordered by card, then time (kept for :meth:`record` of the same batch)."""
        if self._order is not None and self._order[0] is tx:
            return self._order[1]
        t = tx.t
        if len(t) < 2 or bool((t[1:] >= t[:-1]).all()):  # in time order: a stable sort by card is enough
            order = np.argsort(tx.card, kind="stable")
        else:
            order = np.lexsort((t, tx.card))
        self._order = (tx, order)
        return order

    def _velocity(self, tx: Transactions, state: np.ndarray) -> np.ndarray:
        """Decayed count of the card's earlier attempts, at each attempt's own time (``state``:
        the cards' rows, in ``tx`` order)."""
        order = self._by_card(tx)
        card, t = tx.card[order], tx.t[order]
        carried = state[order, _VELOCITY] * np.exp(-(t - state[order, _VELOCITY_AT]) / VELOCITY_DECAY_S)
        first = _starts(card)
        if first.all():  # each card once: nothing earlier in the tick (the sum below would add 0.0)
            within = 0.0
        else:
            t0 = t.min()
            grow = np.exp((t - t0) / VELOCITY_DECAY_S)
            before = np.cumsum(grow) - grow
            group = np.cumsum(first) - 1
            within = (before - before[first][group]) / grow
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
        order = self._by_card(tx)
        self._order = None
        by_card = tx.card[order]
        last = order[_ends(by_card)]
        self._cards[tx.card[last], _VELOCITY] = velocity[last] + 1.0
        self._cards[tx.card[last], _VELOCITY_AT] = tx.t[last]
        rows = np.flatnonzero(approved)
        if len(rows) == 0:
            return
        category = merchant_category[tx.merchant[rows]]
        value = np.log(tx.amount[rows])
        self.category_n += np.bincount(category, minlength=len(CATEGORIES))
        self.category_sum += np.bincount(category, value, minlength=len(CATEGORIES))
        # Approved attempts grouped by card (groups in card order, as np.unique would number them).
        mine = order[approved[order]]
        card = tx.card[mine]
        first = _starts(card)
        cards = card[first]
        inverse = np.empty(len(rows), np.intp)
        inverse[np.cumsum(approved)[mine] - 1] = np.cumsum(first) - 1
        n_b = np.bincount(inverse).astype(float)
        mean_b = np.bincount(inverse, value) / n_b
        m2_b = np.bincount(inverse, (value - mean_b[inverse]) ** 2)
        state = self._cards[cards]
        n_all, mean_a = state[:, _HABIT_N], state[:, _HABIT_MEAN]
        n_a = np.minimum(n_all, HABIT_MAX_COUNT)  # older purchases weigh less once the cap is reached
        m2_a = state[:, _HABIT_M2] * np.divide(n_a, n_all, out=np.ones_like(n_a), where=n_all > 0)
        n = n_a + n_b
        delta = mean_b - mean_a
        state[:, _HABIT_MEAN] = mean_a + delta * n_b / n
        state[:, _HABIT_M2] = m2_a + m2_b + delta**2 * n_a * n_b / n
        state[:, _HABIT_N] = n
        self._cards[cards] = state

    def learn_labels(
        self, tx_id: np.ndarray, merchant: np.ndarray, value: np.ndarray, label_at: np.ndarray, oldest_id: int = 0
    ) -> None:
        """Arrived fraud labels raise their merchant's fraud rate (fraud-labelled transactions per
        transaction seen there: transactions are counted at once, so the rate does not wait for
        maturity labels). A transaction counts once, however many fraud labels it gets (a verdict,
        then a report). ``oldest_id``: no label can arrive for an earlier transaction any more."""
        fraud = np.flatnonzero(value == 1)  # few: fraud labels only
        if len(fraud) == 0:
            return
        counted = self._fraud_labelled
        day = int(label_at[fraud[0]] // DAY)
        if day != self._pruned_on:  # once a day: forget transactions too old to get a label
            self._fraud_labelled = counted = {i for i in counted if i >= oldest_id}
            self._pruned_on = day
        for tx, m in zip(tx_id[fraud].tolist(), merchant[fraud].tolist(), strict=True):
            if tx in counted:
                continue
            counted.add(tx)
            self.merchant_frauds[m] += 1.0


def _starts(sorted_values: np.ndarray) -> np.ndarray:
    """True where a run of equal values begins."""
    first = np.empty(len(sorted_values), bool)
    first[:1] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=first[1:])
    return first


def _ends(sorted_values: np.ndarray) -> np.ndarray:
    """True where a run of equal values ends."""
    last = np.empty(len(sorted_values), bool)
    last[-1:] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=last[:-1])
    return last
