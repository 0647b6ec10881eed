"""Label events: which truths reach the issuer, when, and the queue they wait in.

Every transaction's aftermath is drawn up front — which source would report it,
each source's delay, an investigator's review time and error, the policy's
exploration coin — whether or not any of it will ever be used, so the same
transaction in two arms has the same fate (docs/concepts.md, "Replications, common
random numbers and money"). The decision then
selects what happens: a declined transaction is censored unless the
cardholder confirms it; an approved one is reported, charged back, disputed
by a friendly fraudster, or matures as legitimate.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from ..columns import Columns, stable_order
from ..schema import Blocking as BlockingConfig
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

    def newest_fraud(self) -> float:
        """When the newest fraud transaction among these events happened (-inf if none is fraud):
        how fresh what a model learns from them is, whatever the delay that brought them."""
        fraud = self.value == 1
        return float(self.tx_time[fraud].max()) if fraud.any() else -np.inf

    def sorted(self) -> LabelEvents:
        """In arrival order; ties by transaction, then source."""
        at = self.label_at
        if len(at) < 2 or bool((at[1:] > at[:-1]).all()):  # already in order, without ties
            return self
        order = np.argsort(at)  # arrival times rarely tie: then this is the order
        at = at[order]
        if (at[1:] == at[:-1]).any() or at[-1] != at[-1]:
            order = np.lexsort((self.source, self.tx_id, self.label_at))
        return self.take(order)


class Draws:
    """A batch of transactions' aftermath randomness, drawn whether used or not.

    One row of ``values`` per kind of draw (so a batch is taken or joined in one operation),
    one column per transaction; each row is also an attribute of the same name.
    """

    NAMES = (
        "fate",  # uniform: which source reports an approved fraud (or none)
        "report_delay",
        "chargeback_delay",
        "friendly",  # uniform: does an honest cardholder dispute it
        "confirm",  # uniform: is a decline confirmed
        "confirm_delay",
        "review_time",  # an investigator's review, if alerted
        "verdict",  # uniform: does the investigator err
        "explore",  # uniform: the policy's exploration coin
        "leak",  # uniform: does a skimmed card leak
        "notice",  # uniform: does the cardholder notice an approved fraud (and have the card blocked)
        "notice_delay",
    )

    def __init__(self, values: np.ndarray):
        self.values = values  # (len(NAMES), n)

    def __len__(self) -> int:
        return self.values.shape[1]

    def take(self, index: np.ndarray | slice) -> Draws:
        return Draws(self.values[:, index])

    @staticmethod
    def concat(parts: list[Draws]) -> Draws:
        return parts[0] if len(parts) == 1 else Draws(np.concatenate([part.values for part in parts], axis=1))


for _row, _name in enumerate(Draws.NAMES):
    setattr(Draws, _name, property(lambda self, row=_row: self.values[row]))


class LabelModel:
    """Turns transactions, decisions and their draws into label events."""

    def __init__(self, config: LabelsConfig, blocking: BlockingConfig | None = None):
        self.config = config
        self.notice_delay = build_delay((blocking or BlockingConfig()).cardholder.delay)
        self.report_delay = build_delay(config.customer_report.delay)
        self.chargeback_delay = build_delay(config.chargeback.delay)
        self.confirm_delay = build_delay(config.decline_confirmation.delay)
        self.review_time = build_delay(config.investigators.review_time)
        self._longest_delay = max(config.chargeback.window, config.maturity.window)

    @property
    def longest_delay(self) -> float:
        """No label arrives later than this after its transaction (investigator verdicts aside,
        which come within the queue's wait)."""
        return self._longest_delay

    def draw(self, rng: np.random.Generator, n: int) -> Draws:
        values = np.empty((len(Draws.NAMES), n))
        values[0] = rng.random(n)  # fate
        values[1] = self.report_delay.sample(rng, n)
        values[2] = self.chargeback_delay.sample(rng, n)
        values[3] = rng.random(n)  # friendly
        values[4] = rng.random(n)  # confirm
        values[5] = np.minimum(self.confirm_delay.sample(rng, n), self.longest_delay)
        values[6] = self.review_time.sample(rng, n)
        values[7] = rng.random(n)  # verdict
        values[8] = rng.random(n)  # explore
        values[9] = rng.random(n)  # leak
        values[10] = rng.random(n)  # notice
        values[11] = self.notice_delay.sample(rng, n)
        return Draws(values)

    def events(
        self, tx_id: np.ndarray, t: np.ndarray, is_fraud: np.ndarray, declined: np.ndarray, draws: Draws
    ) -> LabelEvents:
        """The label events these transactions will produce, in no particular order
        (investigators' verdicts come later, from the alert desk)."""
        config = self.config
        window = config.chargeback.window
        approved = ~declined
        parts = []
        matures = approved
        if config.friendly_fraud > 0 or is_fraud.any():  # most ticks: honest traffic only
            approved_fraud = is_fraud & approved
            report_share = config.customer_report.share
            reported = approved_fraud & (draws.fate < report_share) & (draws.report_delay <= window)
            charged = (
                approved_fraud
                & (draws.fate >= report_share)
                & (draws.fate < report_share + config.chargeback.share)
                & (draws.chargeback_delay <= window)
            )
            friendly = (
                approved & ~is_fraud & (draws.friendly < config.friendly_fraud) & (draws.chargeback_delay <= window)
            )
            fraud_delay = np.where(
                reported, draws.report_delay, np.where(charged | friendly, draws.chargeback_delay, np.inf)
            )
            # Approved transactions mature as legitimate unless a fraud label came first.
            matures = approved & (fraud_delay > config.maturity.window)
            parts += [
                _events(tx_id, t, reported, draws.report_delay, "customer_report", 1),
                _events(tx_id, t, charged | friendly, draws.chargeback_delay, "chargeback", 1),
            ]
        if config.decline_confirmation.share > 0:
            confirmed = declined & (draws.confirm < config.decline_confirmation.share)
            parts.append(_events(tx_id, t, confirmed, draws.confirm_delay, "decline_confirmation", is_fraud))
        parts.append(_events(tx_id, t, matures, config.maturity.window, "maturity", 0))
        return LabelEvents.concat(parts)


def _events(tx_id, t, mask, delay, source: str, value) -> LabelEvents:
    """Events of the transactions in ``mask``, arriving ``delay`` (an array, or one number) after them."""
    index = np.flatnonzero(mask)
    if len(index) == 0:
        return LabelEvents.empty()
    values = value[index].astype(np.int8) if isinstance(value, np.ndarray) else np.full(len(index), value, np.int8)
    when = t[index]
    return LabelEvents(
        tx_id=tx_id[index].astype(np.int64, copy=False),
        source=np.full(len(index), SOURCE_CODE[source], np.int8),
        value=values,
        label_at=when + (delay[index] if isinstance(delay, np.ndarray) else delay),
        tx_time=when,
    )


def _bits(offsets: np.ndarray, span: int) -> np.ndarray:
    """``span`` bits, packed, set at ``offsets``."""
    present = np.zeros(span, bool)
    present[offsets] = True
    return np.packbits(present)


@dataclass(frozen=True)
class _Maturing:
    """One push's maturity labels, compactly: each arrives exactly ``window`` after its
    transaction and says legitimate, so which transactions (a bit each over the push's run of
    ids, which approved transactions fill almost densely) and their times are all it needs —
    about 8 bytes a label against an event's 26 (they are most of the queue: one per approved
    transaction, for the whole maturity window)."""

    first_id: int
    bits: np.ndarray  # uint8, packed: bit k says whether transaction first_id + k matures here
    span: int  # ids first_id .. first_id + span - 1
    tx_time: np.ndarray  # float64, in id order
    low: float  # earliest and latest arrival
    high: float

    @staticmethod
    def of(events: LabelEvents, window: float) -> _Maturing | None:
        """The chunk of ``events``, or None when their ids are not strictly increasing (the times
        are kept in id order) or too sparse for a bit each to be the smaller."""
        ids = events.tx_id
        if len(ids) > 1 and not bool((np.diff(ids) > 0).all()):
            return None
        first, span = int(ids[0]), int(ids[-1] - ids[0]) + 1
        if span > 8 * len(ids) + 512:
            return None
        at = events.tx_time + window
        return _Maturing(first, _bits(ids - first, span), span, events.tx_time, float(at.min()), float(at.max()))

    def __len__(self) -> int:
        return len(self.tx_time)

    def ids(self) -> np.ndarray:
        return self.first_id + np.flatnonzero(np.unpackbits(self.bits, count=self.span)).astype(np.int64)

    def holds(self, tx_id: int) -> bool:
        k = tx_id - self.first_id
        return 0 <= k < self.span and bool(self.bits[k >> 3] & (0x80 >> (k & 7)))

    def take(self, rows: np.ndarray, window: float) -> _Maturing:
        at = self.tx_time[rows] + window
        low, high = (float(at.min()), float(at.max())) if len(at) else (np.inf, -np.inf)
        bits = _bits(self.ids()[rows] - self.first_id, self.span)
        return _Maturing(self.first_id, bits, self.span, self.tx_time[rows], low, high)

    def events(self, window: float) -> LabelEvents:
        n = len(self.tx_time)
        return LabelEvents(
            self.ids(),
            np.full(n, SOURCE_CODE["maturity"], np.int8),
            np.zeros(n, np.int8),
            self.tx_time + window,
            self.tx_time,
        )


class LabelQueue:
    """Label events waiting for their arrival time.

    Events are bucketed by arrival day, each bucket sorted by arrival time, so
    a tick takes the due events off the front of today's bucket: memory and
    work are bounded by the pending window, not the horizon. Copies share the
    (never modified) event arrays.

    >>> q = LabelQueue()
    >>> q.push(LabelEvents(np.array([1, 2]), np.array([2, 2], np.int8), np.array([1, 1], np.int8),
    ...                    np.array([100.0, 90000.0]), np.zeros(2)))
    >>> [int(x) for x in q.pop_due(100.0).tx_id], len(q)
    ([1], 1)
    """

    def __init__(self, maturity_window: float | None = None) -> None:
        # Maturity labels pushed at t + maturity_window in time order wait compactly (_Maturing),
        # apart from the rest; None: every event waits as it is.
        self._window = maturity_window
        self._empty()

    def _empty(self) -> None:
        self._maturing: list[_Maturing] = []  # in arrival order, from index _first on
        self._first = 0
        self._withdrawn = np.zeros(0, np.int64)  # tx ids (sorted) whose waiting maturity label will be dropped
        self._day: int | None = None
        self._today = LabelEvents.empty()  # arriving on the current day, by arrival time
        self._cursor = 0  # events of ``_today`` before it have been popped
        self._extra: list[LabelEvents] = []  # pushed today, arriving today
        self._later: list[LabelEvents] = []  # pushed today, arriving on a later day
        self._by_day: dict[int, list[LabelEvents]] = {}  # each part sorted by arrival time
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def __deepcopy__(self, memo) -> LabelQueue:
        copy = LabelQueue.__new__(LabelQueue)
        copy.__dict__.update(self.__dict__)
        copy._extra, copy._later = list(self._extra), list(self._later)
        copy._by_day = {day: list(parts) for day, parts in self._by_day.items()}
        copy._maturing, copy._first = self._maturing[self._first :], 0
        return copy

    def withdraw_maturity(self, tx_id: int, due: float) -> bool:
        """A fraud label (an investigator's verdict) came before transaction ``tx_id`` matured: its
        maturity label (due at ``due``) is dropped and never arrives. Returns whether one was waiting
        (none is when a report or a chargeback was already scheduled first)."""
        day = int(np.floor(due / DAY))
        parts = [*self._later, *self._extra, *(p for d in (day - 1, day, day + 1) for p in self._by_day.get(d, ()))]
        if self._day is not None and day - 1 <= self._day <= day + 1:
            parts.append(self._today.take(slice(self._cursor, None)))
        maturity = SOURCE_CODE["maturity"]
        waiting = any(((part.tx_id == tx_id) & (part.source == maturity)).any() for part in parts)
        if not waiting and self._window is not None:
            at = bisect.bisect_left(self._maturing, due, lo=self._first, key=lambda chunk: chunk.high)
            waiting = any(
                chunk.low <= due <= chunk.high and chunk.holds(tx_id)
                for chunk in self._maturing[at : at + 2]  # a chunk may start where the one before ends
            )
        if not waiting:
            return False
        self._withdrawn = np.union1d(self._withdrawn, [tx_id])  # replaced, never changed in place: copies share it
        return True

    def _without_withdrawn(self, events: LabelEvents, forget: bool) -> LabelEvents:
        """``events`` without withdrawn maturity labels (``forget``: they are gone for good)."""
        if len(self._withdrawn) == 0 or len(events) == 0:
            return events
        hit = (events.source == SOURCE_CODE["maturity"]) & np.isin(events.tx_id, self._withdrawn)
        if not hit.any():
            return events
        if forget:
            self._withdrawn = np.setdiff1d(self._withdrawn, events.tx_id[hit])
        return events.take(~hit)

    def push(self, events: LabelEvents) -> None:
        if len(events) == 0:
            return
        self._size += len(events)
        events = self._keep_maturing(events)
        if len(events) == 0:
            return
        if self._day is None:
            self._later.append(events)
            return
        today = events.label_at < (self._day + 1) * DAY
        if not today.any():
            self._later.append(events)
        elif today.all():
            self._extra.append(events)
        else:
            self._extra.append(events.take(today))
            self._later.append(events.take(~today))

    def _keep_maturing(self, events: LabelEvents) -> LabelEvents:
        """File the maturity labels among ``events`` compactly when they can be (each exactly
        one window after its transaction, none before those already filed); return the rest."""
        if self._window is None:
            return events
        matures = (events.source == SOURCE_CODE["maturity"]) & (events.label_at == events.tx_time + self._window)
        if not matures.any():
            return events
        chunk = _Maturing.of(events.take(matures), self._window)
        if chunk is None or (len(self._maturing) > self._first and chunk.low < self._maturing[-1].high):
            return events
        self._maturing.append(chunk)
        return events.take(~matures)

    def _pop_maturing(self, now: float) -> LabelEvents:
        """The compactly filed maturity labels due by ``now`` (they are filed in arrival order)."""
        parts = []
        while self._first < len(self._maturing) and self._maturing[self._first].low <= now:
            chunk = self._maturing[self._first]
            if chunk.high <= now:
                parts.append(chunk.events(self._window))
                self._first += 1
                continue
            due = chunk.tx_time + self._window <= now
            parts.append(chunk.take(np.flatnonzero(due), self._window).events(self._window))
            self._maturing[self._first] = chunk.take(np.flatnonzero(~due), self._window)
            break
        if self._first > 1024 and 2 * self._first > len(self._maturing):  # forget the popped chunks
            del self._maturing[: self._first]
            self._first = 0
        return LabelEvents.concat(parts)

    def _roll(self, day: int) -> None:
        """Move to ``day``: file what was pushed by arrival day, bring out the day's bucket."""
        pending = LabelEvents.concat([*self._later, *self._extra, self._today.take(slice(self._cursor, None))])
        self._later, self._extra = [], []
        if len(pending):
            pending = pending.take(stable_order(pending.label_at))
            # Arrival days are sorted too; anything overdue arrives today.
            edges = np.searchsorted(pending.label_at, (np.arange(1, 1 + _days_spanned(pending, day)) + day) * DAY)
            starts = np.r_[0, edges]
            ends = np.r_[edges, len(pending)]
            for offset, (start, end) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
                if end > start:
                    self._by_day.setdefault(day + offset, []).append(pending.take(slice(start, end)))
        parts = [part for old in sorted(d for d in self._by_day if d <= day) for part in self._by_day.pop(old)]
        today = LabelEvents.concat(parts)
        if len(parts) > 1:  # sorted runs: a stable sort merges them
            today = today.take(np.argsort(today.label_at, kind="stable"))
        self._today, self._cursor, self._day = today, 0, day

    def pop_due(self, now: float) -> LabelEvents:
        """Remove and return every event with ``label_at <= now``, in arrival order."""
        day = int(np.floor(now / DAY))
        if day != self._day:
            self._roll(day)
        end = self._cursor + int(np.searchsorted(self._today.label_at[self._cursor :], now, side="right"))
        due = self._today.take(slice(self._cursor, end))
        self._cursor = end
        if self._extra:
            extra = LabelEvents.concat(self._extra)
            arrived = extra.label_at <= now
            self._extra = [extra.take(~arrived)] if not arrived.all() else []
            due = LabelEvents.concat([due, extra.take(arrived)])
        if len(self._maturing) > self._first:
            due = LabelEvents.concat([due, self._pop_maturing(now)])
        self._size -= len(due)
        return self._without_withdrawn(due.sorted(), forget=True)

    def _loose(self) -> list[LabelEvents]:
        """The pending events not filed compactly, in parts."""
        return [
            self._today.take(slice(self._cursor, None)),
            *self._extra,
            *self._later,
            *(e for v in self._by_day.values() for e in v),
        ]

    def pending(self, from_tx_id: int = 0, where: Callable[[LabelEvents], np.ndarray] | None = None) -> LabelEvents:
        """The pending events of transactions from ``from_tx_id`` on (and, given ``where``, those
        it marks), in arrival order (left in the queue)."""
        parts = self._loose()

        def chosen(part: LabelEvents) -> LabelEvents:
            if from_tx_id > 0:
                part = part.take(part.tx_id >= from_tx_id)
            return part if where is None else part.take(where(part))

        # Maturity labels filed compactly are chosen one push at a time, never all at full size.
        parts = [chosen(part) for part in parts]
        parts += [chosen(chunk.events(self._window)) for chunk in self._maturing[self._first :]]
        return self._without_withdrawn(LabelEvents.concat(parts).sorted(), forget=False)

    def drain(self, from_tx_id: int = 0) -> Iterator[LabelEvents]:
        """Remove every pending event; return those of transactions from ``from_tx_id`` on, in
        arrival order, a day of arrivals at a time (never all at full size: at a large issuer's
        horizon, most of the queue is a maturity window of approved transactions)."""
        parts = self._loose()
        if from_tx_id > 0:
            parts = [part.take(part.tx_id >= from_tx_id) for part in parts]
        loose = LabelEvents.concat(parts)
        maturing, withdrawn = self._maturing[self._first :], self._withdrawn
        self._empty()
        return self._by_arrival_day(loose, maturing, self._window, from_tx_id, withdrawn)

    @staticmethod
    def _by_arrival_day(
        loose: LabelEvents, maturing: list[_Maturing], window: float | None, from_tx_id: int, withdrawn: np.ndarray
    ) -> Iterator[LabelEvents]:
        """``loose`` events and the ``maturing`` chunks' (those of transactions from
        ``from_tx_id`` on, without the ``withdrawn``), a day of arrivals at a time: each day's
        events in the order ``pending`` gives them (so the days' concatenation is its order)."""

        def day_of(at: np.ndarray) -> np.ndarray:
            return np.floor(at / DAY)

        loose = loose.take(np.argsort(day_of(loose.label_at), kind="stable"))
        loose_day = day_of(loose.label_at)
        maturing = [chunk for chunk in maturing if len(chunk)]
        first_day = day_of(np.array([chunk.low for chunk in maturing]))
        last_day = day_of(np.array([chunk.high for chunk in maturing]))
        days = np.r_[loose_day, first_day, last_day]
        if len(days) == 0:
            return
        maturity = SOURCE_CODE["maturity"]
        for day in range(int(days.min()), int(days.max()) + 1):
            parts = [loose.take(slice(*np.searchsorted(loose_day, [day, day + 1])))]
            # Chunks are filed in arrival order, each ending where the next begins at the latest.
            for k in range(int(np.searchsorted(last_day, day)), len(maturing)):
                if first_day[k] > day:
                    break
                events = maturing[k].events(window)
                parts.append(events.take(day_of(events.label_at) == day))
            events = LabelEvents.concat(parts)
            if from_tx_id > 0:
                events = events.take(events.tx_id >= from_tx_id)
            if len(withdrawn) and len(events):
                events = events.take(~((events.source == maturity) & np.isin(events.tx_id, withdrawn)))
            if len(events):
                yield events.sorted()


def _days_spanned(events: LabelEvents, day: int) -> int:
    """How many days after ``day`` the last of ``events`` (sorted by arrival) arrives."""
    return max(int(np.floor(events.label_at[-1] / DAY)) - day, 0)
