"""The issuer's memory of scored transactions, kept until their last label can arrive.

Label events name a transaction by id; learners need the features it was
scored with, and the merchant-rate feature needs its merchant. Rows live in a
ring buffer sized by the pending-label window, not by the horizon.

Most rows are never read again: a batch window keeps a share of the legitimate labels, a
static model none, and the merchant and card are read only for fraud labels. So a store keeps
the features, merchant and card of only the rows it is told to (``keep`` at
:meth:`FeatureStore.append`), in a ring of their own, and for every row just where to find
them (4 bytes); the rest read as zeros, and must not be read (:func:`sim.warmup.feature_share`
says which rows each learner reads).

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
from collections import deque

import numpy as np

_WRAP = 1 << 31
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


class FeatureStore:
    """The features, merchant and card of the scored transactions still awaiting labels that
    may be read."""

    def __init__(self, n_features: int, retention_s: float, capacity: int = 1 << 14):
        self.retention_s = retention_s
        self.keep_share = 1.0  # the share of legitimate rows whose features are read: see keep_features
        # Each row's slot among the kept rows, modulo 2**31 (-1: not kept): see _slots.
        self._rows = _Segments({"slot": ((), np.int32)}, capacity)
        self._kept = _Segments(
            {"X": ((n_features,), np.float32), "merchant": ((), np.int32), "card": ((), np.int32)}, capacity
        )
        self._live_from = 0  # oldest id that may still get a label
        self._live_slot = 0  # the oldest live row's slot among the kept ones
        self._marks: deque[tuple[float, int, int]] = deque()  # (time, first id, first feature slot) appended then

    @property
    def next_id(self) -> int:
        return self._rows.next

    @property
    def live_from(self) -> int:
        """The oldest transaction id that may still get a label."""
        return self._live_from

    @property
    def kept_rows(self) -> int:
        """How many rows still awaiting labels keep their features, merchant and card."""
        return self._kept.next - self._live_slot

    def keep_features(self, share: float) -> None:
        """Say what share of the rows to come will keep their features (the engine picks them), and
        size the features' ring for it: a ring wraps at its capacity, so one sized for every row
        would touch memory for every row written (fraud and alerted rows come on top: KEPT_MARGIN)."""
        self.keep_share = share
        rows = self._rows.capacity
        self._kept.reserve(rows if share >= 1.0 else int(rows * min(share + KEPT_MARGIN, 1.0)) + 1024, self._live_slot)

    def upcoming_ids(self, n: int) -> np.ndarray:
        """The ids the next :meth:`append` of ``n`` rows will give."""
        return np.arange(self._rows.next, self._rows.next + n, dtype=np.int64)

    def fork(self) -> FeatureStore:
        """A copy: both share the rows so far, read-only, and write new rows apart."""
        copy = FeatureStore.__new__(FeatureStore)
        copy.__dict__.update(self.__dict__)
        copy._rows, copy._kept = self._rows.fork(), self._kept.fork()
        copy._marks = deque(self._marks)
        return copy

    def __deepcopy__(self, memo) -> FeatureStore:
        return self.fork()

    def append(
        self, X: np.ndarray, merchant: np.ndarray, card: np.ndarray, now: float, keep: np.ndarray | None = None
    ) -> np.ndarray:
        """Store a tick's rows, the features of those ``keep`` marks (all if None), and return
        their transaction ids."""
        n = len(X)
        first_id, first_slot = self._rows.next, self._kept.next
        self._marks.append((now, first_id, first_slot))
        if math.isfinite(self.retention_s):
            while len(self._marks) > 1 and self._marks[1][0] < now - self.retention_s:
                self._marks.popleft()
            _, self._live_from, self._live_slot = self._marks[0]
        if keep is None:
            slot = np.arange(first_slot, first_slot + n, dtype=np.int64)
            kept = {"X": X, "merchant": merchant, "card": card}
        else:
            slot = np.where(keep, first_slot + np.cumsum(keep) - 1, -1)
            kept = {"X": X[keep], "merchant": merchant[keep], "card": card[keep]}
        slot = np.where(slot >= 0, slot % _WRAP, -1).astype(np.int32)
        self._rows.append({"slot": slot}, n, self._live_from)
        self._kept.append(kept, len(kept["X"]), self._live_slot)
        return np.arange(first_id, first_id + n, dtype=np.int64)

    def _slots(self, ids: np.ndarray) -> np.ndarray:
        """Where rows ``ids`` are among the kept ones (-1: not kept). Stored modulo 2**31, they
        are whole again from the oldest live slot: no more than 2**31 rows are ever live."""
        self._check(ids)
        stored = self._rows.gather("slot", ids).astype(np.int64)
        return np.where(stored >= 0, self._live_slot + (stored - self._live_slot) % _WRAP, -1)

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
        if len(ids) and (int(ids.min()) < self._live_from or int(ids.max()) >= self._rows.next):
            raise IndexError("label event for a transaction outside the retention window")

    def features(self, ids: np.ndarray) -> np.ndarray:
        """The features transactions ``ids`` were scored with (zeros for those not kept)."""
        return self._gather("X", ids)

    def merchant(self, ids: np.ndarray) -> np.ndarray:
        return self._gather("merchant", ids)

    def card(self, ids: np.ndarray) -> np.ndarray:
        return self._gather("card", ids)
