"""How soon transactions get labelled: every fraud, and a stable-hash sample of honest ones
(``label_coverage.parquet``)."""

from __future__ import annotations

import numpy as np
import polars as pl

from .rng import COVERAGE_SALT, uniform_hash
from .units import DAY, HOUR

COVERAGE_AGES = (("1h", HOUR), ("1d", DAY), ("7d", 7 * DAY), ("30d", 30 * DAY), ("90d", 90 * DAY), ("120d", 120 * DAY))
COVERAGE_SAMPLE = 50_000  # honest transactions tracked for coverage, at most (a stable-hash sample)


class CoverageTracker:
    """How soon transactions get labelled: every fraud, and a sample of honest ones."""

    def __init__(self, honest_share: float):
        self.honest_share = honest_share
        self._ids = np.empty(0, np.int64)
        self._fraud = np.empty(0, bool)
        self._first_label = np.empty(0)  # age of the first label event of any value
        self._first_fraud_label = np.empty(0)  # age of the first event saying fraud
        self._t = np.empty(0)
        self._n = 0
        self._last: tuple[int, int, np.ndarray] = (0, 0, np.zeros(0, bool))

    def track(self, ids: np.ndarray, t: np.ndarray, is_fraud: np.ndarray) -> None:
        """Start tracking a tick's transactions (all fraud, a sample of the rest)."""
        keep = is_fraud | (uniform_hash(ids, COVERAGE_SALT) < self.honest_share)
        self._last = (int(ids[0]), self._n, keep)  # for :meth:`label_created`
        k = int(keep.sum())
        if self._n + k > len(self._ids):
            capacity = max(2 * len(self._ids), self._n + k, 1024)
            for name, fill in (
                ("_ids", 0),
                ("_fraud", False),
                ("_first_label", np.inf),
                ("_first_fraud_label", np.inf),
                ("_t", 0.0),
            ):
                old = getattr(self, name)
                grown = np.full(capacity, fill, old.dtype)
                grown[: self._n] = old[: self._n]
                setattr(self, name, grown)
        end = self._n + k
        self._ids[self._n : end], self._fraud[self._n : end], self._t[self._n : end] = (
            ids[keep],
            is_fraud[keep],
            t[keep],
        )
        self._n = end

    def label(self, tx_id: np.ndarray, value: np.ndarray, label_at: np.ndarray) -> None:
        if self._n == 0 or len(tx_id) == 0:
            return
        ids = self._ids[: self._n]
        slot = np.minimum(np.searchsorted(ids, tx_id), self._n - 1)
        found = ids[slot] == tx_id
        self._first_labels(slot[found], value[found], label_at[found])

    def label_created(self, tx_id: np.ndarray, value: np.ndarray, label_at: np.ndarray) -> None:
        """:meth:`label` for events of the transactions just tracked (found without a search)."""
        first_id, start, keep = self._last
        row = tx_id - first_id
        found = keep[row]
        self._first_labels(start + np.cumsum(keep)[row[found]] - 1, value[found], label_at[found])

    def _first_labels(self, slot: np.ndarray, value: np.ndarray, label_at: np.ndarray) -> None:
        age = label_at - self._t[slot]
        np.minimum.at(self._first_label, slot, age)
        np.minimum.at(self._first_fraud_label, slot[value == 1], age[value == 1])

    def table(self) -> pl.DataFrame:
        rows = []
        fraud = self._fraud[: self._n]
        for group, mask in (("fraud", fraud), ("honest", ~fraud)):
            for name, age in COVERAGE_AGES:
                total = int(mask.sum())
                any_label = float((self._first_label[: self._n][mask] <= age).mean()) if total else None
                fraud_label = float((self._first_fraud_label[: self._n][mask] <= age).mean()) if total else None
                rows.append(
                    {
                        "group": group,
                        "age": name,
                        "age_s": age,
                        "tracked": total,
                        "share_labelled": any_label,
                        "share_labelled_fraud": fraud_label,
                    }
                )
        return pl.DataFrame(
            rows,
            schema={
                "group": pl.String,
                "age": pl.String,
                "age_s": pl.Float64,
                "tracked": pl.Int64,
                "share_labelled": pl.Float64,
                "share_labelled_fraud": pl.Float64,
            },
        )
