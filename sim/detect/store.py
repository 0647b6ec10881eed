"""The issuer's memory of scored transactions, kept until their last label can arrive.

Label events name a transaction by id; learners need the features it was
scored with, and the merchant-rate feature needs its merchant. Rows live in a
ring buffer sized by the pending-label window, not by the horizon.

Copying a store (every arm starts from a copy of the warmed-up world) is
copy-on-write: the rows written so far become a read-only segment shared by
the original and the copy, and each writes its new rows into a ring of its
own. A segment is dropped once all its rows have left the retention window.

>>> store = FeatureStore(n_features=2, retention_s=10.0)
>>> ids = store.append(np.ones((3, 2), np.float32), np.array([5, 6, 7]), np.array([1, 2, 3]), now=0.0)
>>> [int(i) for i in ids], [int(m) for m in store.merchant(ids[1:])]
([0, 1, 2], [6, 7])
>>> copy = store.fork()
>>> _ = copy.append(np.zeros((1, 2), np.float32), np.array([8]), np.array([4]), now=1.0)
>>> [int(m) for m in copy.merchant(np.array([2, 3]))], store.next_id
([7, 8], 3)
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np


class _Ring:
    """Rows of consecutive ids in arrays used as a ring: id ``i`` lives in slot ``i % capacity``."""

    def __init__(self, n_features: int, capacity: int):
        self.X = np.zeros((capacity, n_features), np.float32)  # untouched pages cost no memory
        self.merchant = np.zeros(capacity, np.int32)
        self.card = np.zeros(capacity, np.int32)

    @property
    def capacity(self) -> int:
        return len(self.card)

    def grown(self, capacity: int, first: int, end: int) -> _Ring:
        """A larger ring holding this one's rows ``first`` to ``end``."""
        ring = _Ring(self.X.shape[1], capacity)
        live = np.arange(first, end, dtype=np.int64)
        old, new = live % self.capacity, live % capacity
        ring.X[new], ring.merchant[new], ring.card[new] = self.X[old], self.merchant[old], self.card[old]
        return ring


class FeatureStore:
    """Features, merchant and card of every scored transaction still awaiting labels."""

    def __init__(self, n_features: int, retention_s: float, capacity: int = 1 << 14):
        self.retention_s = retention_s
        self._n_features = n_features
        self._capacity = capacity
        self._ring: _Ring | None = None  # where new rows go (allocated on first use)
        self._ring_from = 0  # first id held by the ring
        self._frozen: list[tuple[int, int, _Ring]] = []  # read-only (first id, end id, ring), oldest first
        self._next = 0  # id of the next transaction
        self._live_from = 0  # oldest id that may still get a label
        self._marks: deque[tuple[float, int]] = deque()  # (time, first id appended then)

    @property
    def next_id(self) -> int:
        return self._next

    @property
    def live_from(self) -> int:
        """The oldest transaction id that may still get a label."""
        return self._live_from

    def fork(self) -> FeatureStore:
        """A copy: both share the rows so far, read-only, and write new rows apart."""
        if self._ring is not None:
            self._capacity = max(self._capacity, self._ring.capacity)
            if self._next > self._ring_from:
                self._frozen.append((self._ring_from, self._next, self._ring))
        self._ring, self._ring_from = None, self._next
        copy = FeatureStore.__new__(FeatureStore)
        copy.__dict__.update(self.__dict__)
        copy._frozen = list(self._frozen)
        copy._marks = deque(self._marks)
        return copy

    def __deepcopy__(self, memo) -> FeatureStore:
        return self.fork()

    def append(self, X: np.ndarray, merchant: np.ndarray, card: np.ndarray, now: float) -> np.ndarray:
        """Store a tick's rows and return their transaction ids."""
        n = len(X)
        self._marks.append((now, self._next))
        if math.isfinite(self.retention_s):
            while len(self._marks) > 1 and self._marks[1][0] < now - self.retention_s:
                self._marks.popleft()
            self._live_from = self._marks[0][1]
            while self._frozen and self._frozen[0][1] <= self._live_from:
                self._frozen.pop(0)
        first = max(self._live_from, self._ring_from)
        if self._ring is None:
            self._ring = _Ring(self._n_features, self._capacity)
        if self._next + n - first > self._ring.capacity:
            capacity = self._ring.capacity
            while capacity < self._next + n - first:
                capacity *= 2
            self._ring = self._ring.grown(capacity, first, self._next)
        start = self._next % self._ring.capacity
        if start + n <= self._ring.capacity:  # one contiguous block: plain slice copies
            self._ring.X[start : start + n] = X
            self._ring.merchant[start : start + n] = merchant
            self._ring.card[start : start + n] = card
        else:
            slots = np.arange(self._next, self._next + n, dtype=np.int64) % self._ring.capacity
            self._ring.X[slots], self._ring.merchant[slots], self._ring.card[slots] = X, merchant, card
        ids = np.arange(self._next, self._next + n, dtype=np.int64)
        self._next += n
        return ids

    def _gather(self, name: str, ids: np.ndarray) -> np.ndarray:
        if len(ids) == 0:
            ring = self._ring or _Ring(self._n_features, 1)
            return getattr(ring, name)[:0]
        low, high = int(ids.min()), int(ids.max())
        if low < self._live_from or high >= self._next:
            raise IndexError("label event for a transaction outside the retention window")
        if low >= self._ring_from:
            ring = self._ring
            return getattr(ring, name)[ids % ring.capacity]
        parts = list(self._frozen)
        if self._ring is not None:
            parts.append((self._ring_from, self._next, self._ring))
        for first, end, ring in parts:
            if first <= low and high < end:
                return getattr(ring, name)[ids % ring.capacity]
        source = getattr(parts[0][2], name)
        out = np.empty((len(ids), *source.shape[1:]), source.dtype)
        for first, end, ring in parts:
            inside = (ids >= first) & (ids < end)
            if inside.any():
                out[inside] = getattr(ring, name)[ids[inside] % ring.capacity]
        return out

    def features(self, ids: np.ndarray) -> np.ndarray:
        return self._gather("X", ids)

    def merchant(self, ids: np.ndarray) -> np.ndarray:
        return self._gather("merchant", ids)

    def card(self, ids: np.ndarray) -> np.ndarray:
        return self._gather("card", ids)
