"""Label events: which truths reach the issuer, when, and the queue they wait in.

Every transaction's aftermath is drawn up front — which source would report it,
each source's delay, an investigator's review time and error, the policy's
exploration coin — whether or not any of it will ever be used, so the same
transaction in two arms has the same fate (DESIGN §7). The decision then
selects what happens: a declined transaction is censored unless the
cardholder confirms it; an approved one is reported, charged back, disputed
by a friendly fraudster, or matures as legitimate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..columns import Columns
from ..schema import Labels as LabelsConfig
from ..units import DAY
from .delays import build_delay

SOURCES = ("investigator", "customer_report", "chargeback", "decline_confirmation", "maturity")
SOURCE_CODE = {name: code for code, name in enumerate(SOURCES)}


@dataclass
class LabelEvents(Columns):
    """Label events as columns: which transaction, from where, what, and when it arrives."""

    tx_id: np.ndarray  # int64
    source: np.ndarray  # int8, index into SOURCES
    value: np.ndarray  # int8: 1 fraud, 0 legitimate
    label_at: np.ndarray  # float64 arrival time in seconds
    tx_time: np.ndarray  # float64 time of the transaction labelled

    @classmethod
    def concat(cls, parts: list[LabelEvents]) -> LabelEvents:
        parts = [p for p in parts if len(p)]
        return super().concat(parts) if parts else cls.empty()

    @staticmethod
    def empty() -> LabelEvents:
        return LabelEvents(np.empty(0, np.int64), np.empty(0, np.int8), np.empty(0, np.int8), np.empty(0), np.empty(0))

    def sorted(self) -> LabelEvents:
        """In arrival order; ties by transaction, then source."""
        return self.take(np.lexsort((self.source, self.tx_id, self.label_at)))


@dataclass
class Draws(Columns):
    """A batch of transactions' aftermath randomness, drawn whether used or not."""

    fate: np.ndarray  # uniform: which source reports an approved fraud (or none)
    report_delay: np.ndarray
    chargeback_delay: np.ndarray
    friendly: np.ndarray  # uniform: does an honest cardholder dispute it
    confirm: np.ndarray  # uniform: is a decline confirmed
    confirm_delay: np.ndarray
    review_time: np.ndarray  # an investigator's review, if alerted
    verdict: np.ndarray  # uniform: does the investigator err
    explore: np.ndarray  # uniform: the policy's exploration coin
    leak: np.ndarray  # uniform: does a skimmed card leak


class LabelModel:
    """Turns transactions, decisions and their draws into label events."""

    def __init__(self, config: LabelsConfig):
        self.config = config
        self.report_delay = build_delay(config.customer_report.delay)
        self.chargeback_delay = build_delay(config.chargeback.delay)
        self.confirm_delay = build_delay(config.decline_confirmation.delay)
        self.review_time = build_delay(config.investigators.review_time)

    @property
    def longest_delay(self) -> float:
        """No label arrives later than this after its transaction (investigator verdicts aside,
        which come within the queue's wait)."""
        return max(self.config.chargeback.window, self.config.maturity.window)

    def draw(self, rng: np.random.Generator, n: int) -> Draws:
        return Draws(
            fate=rng.random(n),
            report_delay=self.report_delay.sample(rng, n),
            chargeback_delay=self.chargeback_delay.sample(rng, n),
            friendly=rng.random(n),
            confirm=rng.random(n),
            confirm_delay=np.minimum(self.confirm_delay.sample(rng, n), self.longest_delay),
            review_time=self.review_time.sample(rng, n),
            verdict=rng.random(n),
            explore=rng.random(n),
            leak=rng.random(n),
        )

    def events(
        self, tx_id: np.ndarray, t: np.ndarray, is_fraud: np.ndarray, declined: np.ndarray, draws: Draws
    ) -> LabelEvents:
        """The label events these transactions will produce, in no particular order
        (investigators' verdicts come later, from the alert desk)."""
        config = self.config
        window = config.chargeback.window
        approved = ~declined
        approved_fraud = is_fraud & approved
        report_share = config.customer_report.share
        reported = approved_fraud & (draws.fate < report_share) & (draws.report_delay <= window)
        charged = (
            approved_fraud
            & (draws.fate >= report_share)
            & (draws.fate < report_share + config.chargeback.share)
            & (draws.chargeback_delay <= window)
        )
        friendly = approved & ~is_fraud & (draws.friendly < config.friendly_fraud) & (draws.chargeback_delay <= window)
        confirmed = declined & (draws.confirm < config.decline_confirmation.share)
        fraud_delay = np.where(reported, draws.report_delay, np.where(charged | friendly, draws.chargeback_delay, np.inf))
        # Approved transactions mature as legitimate unless a fraud label came first.
        matures = approved & (fraud_delay > config.maturity.window)
        parts = [
            _events(tx_id, t, reported, draws.report_delay, "customer_report", 1),
            _events(tx_id, t, charged | friendly, draws.chargeback_delay, "chargeback", 1),
            _events(tx_id, t, confirmed, draws.confirm_delay, "decline_confirmation", is_fraud),
            _events(tx_id, t, matures, np.full(len(t), config.maturity.window), "maturity", 0),
        ]
        return LabelEvents.concat(parts)


def _events(tx_id, t, mask, delay, source: str, value) -> LabelEvents:
    index = np.flatnonzero(mask)
    values = np.broadcast_to(np.asarray(value, np.int8), mask.shape)[index]
    return LabelEvents(
        tx_id=tx_id[index].astype(np.int64),
        source=np.full(len(index), SOURCE_CODE[source], np.int8),
        value=values.astype(np.int8),
        label_at=t[index] + delay[index],
        tx_time=t[index],
    )


class LabelQueue:
    """Label events waiting for their arrival time.

    Events are bucketed by arrival day, so each tick touches only today's few
    events: memory and work are bounded by the pending window, not the horizon.

    >>> q = LabelQueue()
    >>> q.push(LabelEvents(np.array([1, 2]), np.array([2, 2], np.int8), np.array([1, 1], np.int8),
    ...                    np.array([100.0, 90000.0]), np.zeros(2)))
    >>> [int(x) for x in q.pop_due(100.0).tx_id], len(q)
    ([1], 1)
    """

    def __init__(self) -> None:
        self._day: int | None = None
        self._today: list[LabelEvents] = []  # arriving on the current day
        self._later: list[LabelEvents] = []  # pushed today, arriving on a later day
        self._by_day: dict[int, list[LabelEvents]] = {}
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def push(self, events: LabelEvents) -> None:
        if len(events) == 0:
            return
        self._size += len(events)
        if self._day is None:
            self._later.append(events)
            return
        today = events.label_at < (self._day + 1) * DAY
        if today.all():
            self._today.append(events)
        elif not today.any():
            self._later.append(events)
        else:
            self._today.append(events.take(today))
            self._later.append(events.take(~today))

    def _roll(self, day: int) -> None:
        """Move to ``day``: file what was pushed by arrival day, bring out the day's bucket."""
        pending = LabelEvents.concat(self._later + self._today)
        self._later, self._today = [], []
        if len(pending):
            days = np.floor(pending.label_at / DAY).astype(np.int64)
            np.maximum(days, day, out=days)  # anything overdue arrives today
            order = np.argsort(days, kind="stable")
            days, pending = days[order], pending.take(order)
            starts = np.flatnonzero(np.r_[True, days[1:] != days[:-1]])
            for start, end in zip(starts, np.r_[starts[1:], len(days)], strict=True):
                self._by_day.setdefault(int(days[start]), []).append(pending.take(slice(start, end)))
        for old in [d for d in self._by_day if d < day]:
            self._today.extend(self._by_day.pop(old))
        self._today.extend(self._by_day.pop(day, []))
        self._day = day

    def pop_due(self, now: float) -> LabelEvents:
        """Remove and return every event with ``label_at <= now``, in arrival order."""
        day = int(np.floor(now / DAY))
        if day != self._day:
            self._roll(day)
        today = LabelEvents.concat(self._today)
        if len(today) == 0:
            self._today = []
            return today
        due = today.label_at <= now
        self._today = [today.take(~due)] if not due.all() else []
        out = today.take(due).sorted()
        self._size -= len(out)
        return out

    def drain(self) -> LabelEvents:
        """Remove and return every pending event, in arrival order."""
        everything = LabelEvents.concat(self._today + self._later + [e for v in self._by_day.values() for e in v])
        self._today, self._later, self._by_day, self._size = [], [], {}, 0
        return everything.sorted()
