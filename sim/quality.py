"""Model quality two ways: as the team's dashboard sees it, and as it really was.

At the end of each day, over the transactions scored in the trailing window:

- **known**: what a fraud team can compute. Each transaction carries its
  latest delivered label; an approved one with none yet counts as legitimate
  (the usual convention, which counts fraud not yet reported as honest); a
  declined one with none is left out (its truth is censored, so fraud the
  model stops is mostly invisible here);
- **eventual**: every transaction with its true label.

Recall and specificity are of the decisions taken (declined = flagged), so
"recall" is the share of fraud declined. Every fraud transaction is kept; a
stable-hash sample of honest ones, weighted by the inverse sampling rate,
keeps the cost bounded for large runs.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from . import metrics
from .rng import QUALITY_SALT, uniform_hash
from .units import DAY

HONEST_SAMPLE_PER_DAY = 3_000
VIEWS = ("known", "eventual")
SCHEMA = {
    "day": pl.Int32,
    "view": pl.String,
    "rows": pl.Int64,
    "fraud_rate": pl.Float64,
    "mean_score": pl.Float64,
    "roc_auc": pl.Float64,
    "log_loss": pl.Float64,
    "recall": pl.Float64,
    "specificity": pl.Float64,
    "ece": pl.Float64,
    "ece_amount": pl.Float64,
}


class QualityTracker:
    """Scores, truth and delivered labels of the trailing window's transactions."""

    _FIELDS = ("ids", "t", "p", "amount", "truth", "declined", "weight", "known")
    _TYPES = (np.int64, np.float64, np.float64, np.float64, np.int8, bool, np.float64, np.int8)

    def __init__(self, window_s: float, honest_per_day: float):
        self.window_s = window_s
        self.honest_share = min(1.0, HONEST_SAMPLE_PER_DAY / max(honest_per_day, 1.0))
        self._columns = {name: np.empty(1024, dtype) for name, dtype in zip(self._FIELDS, self._TYPES, strict=True)}
        self._n = 0  # rows in use at the front of each column
        self.rows: list[dict] = []

    def __getattr__(self, name: str) -> np.ndarray:
        """``ids``, ``t``, ``p``, ``amount``, ``truth``, ``declined``, ``weight``, ``known`` (latest
        delivered label, -1 for none): the rows in the window so far."""
        columns = self.__dict__.get("_columns")
        if columns is None or name not in columns:
            raise AttributeError(name)
        return columns[name][: self._n]

    def add(self, ids, t, p, amount, truth, declined) -> None:
        keep = truth | (uniform_hash(ids, QUALITY_SALT) < self.honest_share)
        rows = np.flatnonzero(keep)
        k, n = len(rows), self._n
        if n + k > len(self._columns["ids"]):
            capacity = max(2 * len(self._columns["ids"]), n + k)
            for name, column in self._columns.items():
                grown = np.empty(capacity, column.dtype)
                grown[:n] = column[:n]
                self._columns[name] = grown
        c = self._columns
        c["ids"][n : n + k], c["t"][n : n + k], c["p"][n : n + k] = ids[rows], t[rows], p[rows]
        c["amount"][n : n + k], c["truth"][n : n + k], c["declined"][n : n + k] = (
            amount[rows],
            truth[rows],
            declined[rows],
        )
        c["weight"][n : n + k] = np.where(truth, 1.0, 1.0 / self.honest_share)[rows]
        c["known"][n : n + k] = -1
        self._n = n + k

    def label(self, tx_id: np.ndarray, value: np.ndarray) -> None:
        """Label events delivered (in arrival order): the latest wins."""
        if self._n == 0 or len(tx_id) == 0:
            return
        ids = self.ids
        slot = np.minimum(np.searchsorted(ids, tx_id), len(ids) - 1)
        found = ids[slot] == tx_id
        self.known[slot[found]] = value[found]

    def close_day(self, day: int) -> None:
        """Measure the window that ends with ``day``, then forget what has left it."""
        end = (day + 1) * DAY
        inside = np.flatnonzero(self.t >= end - self.window_s)
        if len(inside) < self._n:
            for column in self._columns.values():
                column[: len(inside)] = column[inside]
            self._n = len(inside)
        for view in VIEWS:
            self.rows.append(self._measure(day, view))

    def _measure(self, day: int, view: str) -> dict:
        if view == "known":
            mask = (self.known >= 0) | ~self.declined
            y = np.maximum(self.known[mask], 0)
        else:
            mask = np.ones(len(self.ids), bool)
            y = self.truth
        row: dict[str, object] = {"day": day, "view": view, "rows": int(mask.sum())}
        if not mask.any():
            return row
        p, weight, flagged = self.p[mask], self.weight[mask], self.declined[mask].astype(float)
        row["fraud_rate"] = float(np.average(y, weights=weight))
        row["mean_score"] = float(np.average(p, weights=weight))
        row["roc_auc"] = metrics.roc_auc(y, p, weight)
        row["log_loss"] = metrics.log_loss(y, p, weight)
        row["recall"] = metrics.recall(y, flagged, 0.5, weight)
        row["specificity"] = metrics.specificity(y, flagged, 0.5, weight)
        row["ece"] = metrics.expected_calibration_error(y, p, 10, weight)
        row["ece_amount"] = metrics.expected_calibration_error(y, p, 10, weight * self.amount[mask])
        return {key: (None if isinstance(value, float) and np.isnan(value) else value) for key, value in row.items()}

    def table(self) -> pl.DataFrame:
        return pl.DataFrame(self.rows, schema=SCHEMA)


class DailyRanking:
    """Each day's average precision over all its scored transactions, and card precision@k: the
    fraudulent share of the ``k`` cards with the highest score that day (a card scores its highest
    transaction), a fraudulent card found on one day leaving later days — what investigators who
    review ``k`` cards a day would find (the Fraud Detection Handbook's measure; ``k=None``: not
    measured)."""

    def __init__(self, days: int, k: int | None):
        self.k = k
        self.average_precision = np.full(days, np.nan)
        self.card_precision = np.full(days, np.nan)
        self._parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._found = np.empty(0, np.int64)

    def add(self, card: np.ndarray, p: np.ndarray, fraud: np.ndarray) -> None:
        self._parts.append((card, p, fraud))

    def close_day(self, day: int) -> None:
        if not self._parts:
            return
        card, p, fraud = (np.concatenate(columns) for columns in zip(*self._parts, strict=True))
        self._parts = []
        y = fraud.astype(np.int8)
        if y.any():
            self.average_precision[day] = metrics.average_precision(y, p)
        if self.k is not None:
            keep = ~np.isin(card, self._found)
            cards, found = metrics.top_cards(card[keep], y[keep], p[keep], self.k)
            self.card_precision[day] = found.sum() / self.k
            self._found = np.union1d(self._found, cards[found])
