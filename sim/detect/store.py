"""The issuer's memory of scored transactions, kept until their last label can arrive.

Label events name a transaction by id; learners need the features it was
scored with, and the merchant-rate feature needs its merchant. Rows live in a
ring buffer sized by the pending-label window, not by the horizon.

>>> store = FeatureStore(n_features=2, retention_s=10.0)
>>> ids = store.append(np.ones((3, 2), np.float32), np.array([5, 6, 7]), np.array([1, 2, 3]), now=0.0)
>>> [int(i) for i in ids], [int(m) for m in store.merchant(ids[1:])]
([0, 1, 2], [6, 7])
"""

from __future__ import annotations

import math

import numpy as np


class FeatureStore:
    """Features, merchant and card of every scored transaction still awaiting labels."""

    def __init__(self, n_features: int, retention_s: float, capacity: int = 1 << 14):
        self.retention_s = retention_s
        self._X = np.zeros((capacity, n_features), np.float32)
        self._merchant = np.zeros(capacity, np.int32)
        self._card = np.zeros(capacity, np.int32)
        self._next = 0  # id of the next transaction
        self._live_from = 0  # oldest id that may still get a label
        self._marks: list[tuple[float, int]] = []  # (time, first id appended then)

    @property
    def next_id(self) -> int:
        return self._next

    def append(self, X: np.ndarray, merchant: np.ndarray, card: np.ndarray, now: float) -> np.ndarray:
        """Store a tick's rows and return their transaction ids."""
        n = len(X)
        self._marks.append((now, self._next))
        if math.isfinite(self.retention_s):
            while len(self._marks) > 1 and self._marks[1][0] < now - self.retention_s:
                self._marks.pop(0)
            self._live_from = self._marks[0][1]
        if self._next + n - self._live_from > len(self._card):
            self._grow(self._next + n - self._live_from)
        ids = np.arange(self._next, self._next + n, dtype=np.int64)
        slots = ids % len(self._card)
        self._X[slots] = X
        self._merchant[slots] = merchant
        self._card[slots] = card
        self._next += n
        return ids

    def _grow(self, needed: int) -> None:
        capacity = len(self._card)
        while capacity < needed:
            capacity *= 2
        live = np.arange(self._live_from, self._next, dtype=np.int64)
        old = live % len(self._card)
        new = live % capacity
        for name in ("_X", "_merchant", "_card"):
            array = getattr(self, name)
            grown = np.zeros((capacity, *array.shape[1:]), array.dtype)
            grown[new] = array[old]
            setattr(self, name, grown)

    def _slots(self, ids: np.ndarray) -> np.ndarray:
        if len(ids) and (ids.min() < self._live_from or ids.max() >= self._next):
            raise IndexError("label event for a transaction outside the retention window")
        return ids % len(self._card)

    def features(self, ids: np.ndarray) -> np.ndarray:
        return self._X[self._slots(ids)]

    def merchant(self, ids: np.ndarray) -> np.ndarray:
        return self._merchant[self._slots(ids)]

    def card(self, ids: np.ndarray) -> np.ndarray:
        return self._card[self._slots(ids)]
