"""The issuer's memory of scored transactions, kept until their last label can arrive.

Label events name a transaction by id; learners need the features it was
scored with, and the merchant-rate feature needs its merchant. Rows live in a
ring buffer sized by the pending-label window, not by the horizon.

Most rows are never read again: a batch window keeps a share of the legitimate labels, a
static model none, and the merchant and card are read only for fraud labels. So a store keeps
the features, merchant and card of only the rows it is told to (``keep`` at
:meth:`FeatureStore.append`), in a ring of their own, and for every row one bit saying whether it
did (with, for every 64 rows, where the first of them went: 2 bits a row in all); the rest read
as zeros, and must not be read (:func:`sim.warmup.feature_share` says which rows each learner
reads).

Copying a store (every arm starts from a copy of the warmed-up world) is
copy-on-write: the rows written so far become read-only segments shared by
the original and the copy, and each writes its new rows into rings of its
own. A segment is dropped once all its rows have left the retention window.

>>> store = FeatureStore(n_features=2, retention_s=10.0)
>>> ids = store.append(np.ones((3, 2), np.float32), np.array([5, 6, 7]), np.array([1, 2, 3]), now=0.0)
>>> [int(i) for i in ids], [int(m) for m in store.merchant(ids[1:])]
([0, 1, 2], [6, 7])
>>> copy = store.fork()
>>> _ = copy.append(np.full((2, 2), 2, np.float32), np.array([8, 9]), np.array([4, 5]), 1.0, np.array([False, True]))
>>> rows = np.array([2, 3, 4])
>>> [int(m) for m in copy.merchant(rows)], store.next_id, copy.features(rows)[:, 0].tolist()
([7, 0, 9], 3, [1.0, 0.0, 2.0])
"""

from __future__ import annotations

import math

import numpy as np

KEPT_MARGIN = 0.02  # rows kept whatever the share (fraud, alerted): about one per cent


class _Ring:
    """Columns of consecutive sequence numbers in arrays used as a ring: number ``i`` lives in
    slot ``i % capacity``."""

    def __init__(self, shapes: dict[str, tuple[tuple[int, ...], type]], capacity: int):
        self.shapes = shapes
        # Untouched pages cost no memory.
        self.columns = {name: np.zeros((capacity, *shape), dtype) for name, (shape, dtype) in shapes.items()}
        self.capacity = capacity

    def grown(self, capacity: int, first: int, end: int) -> _Ring:
        """A larger ring holding this one's numbers ``first`` to ``end``."""
        ring = _Ring(self.shapes, capacity)
        live = np.arange(first, end, dtype=np.int64)
        old, new = live % self.capacity, live % capacity
        for name, column in self.columns.items():
            ring.columns[name][new] = column[old]
        return ring


class _Segments:
    """Rows numbered 0, 1, 2, … : a ring for new rows and read-only rings shared with copies."""

    def __init__(self, shapes: dict[str, tuple[tuple[int, ...], type]], capacity: int):
        self.shapes = shapes
        self.capacity = capacity
        self.ring: _Ring | None = None  # where new rows go (allocated on first use)
        self.ring_from = 0  # first number held by the ring
        self.frozen: list[tuple[int, int, _Ring]] = []  # read-only (first, end, ring), oldest first
        self.next = 0

    def fork(self) -> _Segments:
        """A copy: both share the rows so far, read-only, and write new rows apart."""
        if self.ring is not None:
            self.capacity = max(self.capacity, self.ring.capacity)
            if self.next > self.ring_from:
                self.frozen.append((self.ring_from, self.next, self.ring))
        self.ring, self.ring_from = None, self.next
        copy = _Segments.__new__(_Segments)
        copy.__dict__.update(self.__dict__)
        copy.frozen = list(self.frozen)
        return copy

    def reserve(self, capacity: int, live_from: int) -> None:
        """Size the ring for ``capacity`` rows from now (grown at once if it holds fewer: a ring
        doubled as it fills would be touched, hence cost memory, past what is needed)."""
        if self.ring is not None and self.ring.capacity < capacity:
            self.ring = self.ring.grown(capacity, max(live_from, self.ring_from), self.next)
        self.capacity = capacity

    def append(self, columns: dict[str, np.ndarray], n: int, live_from: int) -> None:
        """Rows ``next`` to ``next + n``; rows before ``live_from`` may be overwritten."""
        while self.frozen and self.frozen[0][1] <= live_from:
            self.frozen.pop(0)
        if n == 0:
            return
        first = max(live_from, self.ring_from)
        if self.ring is None:
            self.ring = _Ring(self.shapes, self.capacity)
        if self.next + n - first > self.ring.capacity:
            capacity = self.ring.capacity
            while capacity < self.next + n - first:
                capacity *= 2
            self.ring = self.ring.grown(capacity, first, self.next)
        start = self.next % self.ring.capacity
        if start + n <= self.ring.capacity:  # one contiguous block: plain slice copies
            for name, values in columns.items():
                self.ring.columns[name][start : start + n] = values
        else:
            slots = np.arange(self.next, self.next + n, dtype=np.int64) % self.ring.capacity
            for name, values in columns.items():
                self.ring.columns[name][slots] = values
        self.next += n

    def gather(self, name: str, numbers: np.ndarray) -> np.ndarray:
        """Column ``name`` of rows ``numbers`` (all still live)."""
        if len(numbers) == 0:
            shape, dtype = self.shapes[name]
            return np.zeros((0, *shape), dtype)
        low, high = int(numbers.min()), int(numbers.max())
        if low >= self.ring_from:
            ring = self.ring
            return ring.columns[name][numbers % ring.capacity]
        parts = list(self.frozen)
        if self.ring is not None:
            parts.append((self.ring_from, self.next, self.ring))
        for first, end, ring in parts:
            if first <= low and high < end:
                return ring.columns[name][numbers % ring.capacity]
        shape, dtype = self.shapes[name]
        out = np.empty((len(numbers), *shape), dtype)
        for first, end, ring in parts:
            inside = (numbers >= first) & (numbers < end)
            if inside.any():
                out[inside] = ring.columns[name][numbers[inside] % ring.capacity]
        return out


class _Marks:
    """Where each append began: its time, first id, first kept slot and first bitmap word, in
    arrays (oldest first, from ``first``), so a read finds each id's append with one search."""

    NAMES = ("time", "id", "slot", "word")

    def __init__(self) -> None:
        self.columns = {name: np.zeros(64, np.float64 if name == "time" else np.int64) for name in self.NAMES}
        self.first = self.end = 0

    def copy(self) -> _Marks:
        copy = _Marks.__new__(_Marks)
        copy.columns = {name: column[self.first : self.end].copy() for name, column in self.columns.items()}
        copy.first, copy.end = 0, self.end - self.first
        return copy

    def append(self, *values: float) -> None:
        """Add an append's time, first id, first kept slot and first word."""
        if self.end == len(self.columns["time"]):
            live = self.copy()
            for name, column in live.columns.items():
                self.columns[name] = np.zeros(max(64, 2 * len(column)), column.dtype)
                self.columns[name][: len(column)] = column
            self.first, self.end = 0, live.end
        for name, value in zip(self.NAMES, values, strict=True):
            self.columns[name][self.end] = value
        self.end += 1

    def drop_before(self, time: float) -> tuple[int, int, int]:
        """Forget the appends older than ``time`` (keeping the last of them, which rows after it
        may still need) and return the oldest kept one's first id, slot and word."""
        times = self.columns["time"][self.first : self.end]
        self.first += max(int(np.searchsorted(times, time, side="left")) - 1, 0)
        return tuple(int(self.columns[name][self.first]) for name in ("id", "slot", "word"))

    def find(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each id: its append's first id and first word."""
        starts = self.columns["id"][self.first : self.end]
        at = self.first + np.searchsorted(starts, ids, side="right") - 1  # the last append starting at or before it
        return self.columns["id"][at], self.columns["word"][at]


class FeatureStore:
    """The features, merchant and card of the scored transactions still awaiting labels that
    may be read."""

    def __init__(self, n_features: int, retention_s: float, capacity: int = 1 << 14):
        self.retention_s = retention_s
        self.keep_share = 1.0  # the share of legitimate rows whose features are read: see keep_features
        self._capacity = capacity  # rows in one retention window
        # Which rows are kept, a bit each in 64-row words (an append starts a word), and the kept
        # slot of each word's first row: where a kept row is costs a rank, not 4 bytes a row.
        self._words = _Segments({"word": ((2,), np.int64)}, capacity // 64 + 1024)  # bits, and the base slot
        self._kept = _Segments(
            {"X": ((n_features,), np.float32), "merchant": ((), np.int32), "card": ((), np.int32)}, capacity
        )
        self._next_id = 0
        self._live_from = 0  # oldest id that may still get a label
        self._live_slot = 0  # the oldest live row's slot among the kept ones
        self._live_word = 0  # the oldest live row's bitmap word
        self._marks = _Marks()

    @property
    def next_id(self) -> int:
        return self._next_id

    @property
    def live_from(self) -> int:
        """The oldest transaction id that may still get a label."""
        return self._live_from

    @property
    def kept_rows(self) -> int:
        """How many rows still awaiting labels keep their features, merchant and card."""
        return self._kept.next - self._live_slot

    @property
    def index_bytes(self) -> int:
        """Bytes saying which live rows are kept and where (16 per 64-row word)."""
        return (self._words.next - self._live_word) * 16

    def keep_features(self, share: float) -> None:
        """Say what share of the rows to come will keep their features (the engine picks them), and
        size the features' ring for it: a ring wraps at its capacity, so one sized for every row
        would touch memory for every row written (fraud and alerted rows come on top: KEPT_MARGIN)."""
        self.keep_share = share
        rows = self._capacity
        self._kept.reserve(rows if share >= 1.0 else int(rows * min(share + KEPT_MARGIN, 1.0)) + 1024, self._live_slot)

    def upcoming_ids(self, n: int) -> np.ndarray:
        """The ids the next :meth:`append` of ``n`` rows will give."""
        return np.arange(self._next_id, self._next_id + n, dtype=np.int64)

    def fork(self) -> FeatureStore:
        """A copy: both share the rows so far, read-only, and write new rows apart."""
        copy = FeatureStore.__new__(FeatureStore)
        copy.__dict__.update(self.__dict__)
        copy._words, copy._kept = self._words.fork(), self._kept.fork()
        copy._marks = self._marks.copy()
        return copy

    def __deepcopy__(self, memo) -> FeatureStore:
        return self.fork()

    def append(
        self, X: np.ndarray, merchant: np.ndarray, card: np.ndarray, now: float, keep: np.ndarray | None = None
    ) -> np.ndarray:
        """Store a tick's rows, the features of those ``keep`` marks (all if None), and return
        their transaction ids."""
        n = len(X)
        first_id, first_slot, first_word = self._next_id, self._kept.next, self._words.next
        self._marks.append(now, first_id, first_slot, first_word)
        if math.isfinite(self.retention_s):
            self._live_from, self._live_slot, self._live_word = self._marks.drop_before(now - self.retention_s)
        if keep is None:
            keep = np.ones(n, bool)
            kept = {"X": X, "merchant": merchant, "card": card}
        else:
            kept = {"X": X[keep], "merchant": merchant[keep], "card": card[keep]}
        words = -(-n // 64)
        padded = np.zeros(words * 64, bool)
        padded[:n] = keep
        bits = np.packbits(padded, bitorder="little").view("<u8")
        base = first_slot + np.concatenate(([0], np.cumsum(np.bitwise_count(bits[:-1]), dtype=np.int64)))
        self._words.append({"word": np.stack([bits.view(np.int64), base[:words]], axis=1)}, words, self._live_word)
        self._kept.append(kept, len(kept["X"]), self._live_slot)
        self._next_id += n
        return np.arange(first_id, first_id + n, dtype=np.int64)

    def _slots(self, ids: np.ndarray) -> np.ndarray:
        """Where rows ``ids`` are among the kept ones (-1: not kept): the kept slot of their
        word's first row, plus the kept rows before them in the word."""
        self._check(ids)
        first_id, first_word = self._marks.find(ids)
        offset = ids - first_id
        word = self._words.gather("word", first_word + offset // 64)
        # The row's bit on top, the rows after it shifted out: the top bit says whether it is kept,
        # and the bits set, itself included, are the kept rows of the word up to it.
        upto = word[:, 0].view(np.uint64) << (63 - (offset & 63)).astype(np.uint64)
        return np.where(upto >> np.uint64(63), word[:, 1] + np.bitwise_count(upto) - 1, -1)

    def _gather(self, name: str, ids: np.ndarray) -> np.ndarray:
        slot = self._slots(ids)
        kept = slot >= 0
        if kept.all():
            return self._kept.gather(name, slot)
        shape, dtype = self._kept.shapes[name]
        out = np.zeros((len(ids), *shape), dtype)
        out[kept] = self._kept.gather(name, slot[kept])
        return out

    def _check(self, ids: np.ndarray) -> None:
        if len(ids) and (int(ids.min()) < self._live_from or int(ids.max()) >= self._next_id):
            raise IndexError("label event for a transaction outside the retention window")

    def features(self, ids: np.ndarray) -> np.ndarray:
        """The features transactions ``ids`` were scored with (zeros for those not kept)."""
        return self._gather("X", ids)

    def merchant(self, ids: np.ndarray) -> np.ndarray:
        return self._gather("merchant", ids)

    def card(self, ids: np.ndarray) -> np.ndarray:
        return self._gather("card", ids)
