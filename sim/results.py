"""The columnar record of a run: daily sums always, the full ledger on request.

The engine hands each tick's arrays to an :class:`ArmRecorder`; it never
formats output. Daily sums are added per tick (a tick never spans two days).
With a ledger, transactions and label events stream to Parquet part files in
row groups, so memory does not grow with the horizon.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from .detect.policy import decline_cost
from .feedback.labels import SOURCES, LabelEvents
from .schema import Scenario
from .units import DAY
from .world.traffic import Transactions

# Daily sums, in order; docs/outputs.md documents each.
DAILY_SUMS = (
    "transactions",
    "fraud_attempts",
    "fraud_approved",
    "declines",
    "legit_declined",
    "fraud_amount_attempted",
    "fraud_amount_approved",
    "fraud_loss",
    "friction",
    "review_cost",
    "total_cost",
    "predicted_fraud",
    "labels_arrived",
    "fraud_labels_arrived",
)
_COL = {name: i for i, name in enumerate(DAILY_SUMS)}
COUNT_COLUMNS = {"transactions", "fraud_attempts", "fraud_approved", "declines", "legit_declined",
                 "labels_arrived", "fraud_labels_arrived"}  # fmt: skip

ROW_GROUP = 500_000


class ParquetStream:
    """Append column batches; write a Parquet file in row groups as they fill."""

    def __init__(self, path: Path, schema: pa.Schema):
        self.path = path
        self.schema = schema
        self._batches: list[pa.RecordBatch] = []
        self._rows = 0
        self._writer: pq.ParquetWriter | None = None

    def append(self, columns: dict[str, np.ndarray | pa.Array]) -> None:
        batch = pa.RecordBatch.from_pydict(columns, schema=self.schema)
        if batch.num_rows == 0:
            return
        self._batches.append(batch)
        self._rows += batch.num_rows
        if self._rows >= ROW_GROUP:
            self._flush()

    def _flush(self) -> None:
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, self.schema)
        if self._batches:
            self._writer.write_table(pa.Table.from_batches(self._batches, self.schema), row_group_size=ROW_GROUP)
        self._batches, self._rows = [], 0

    def close(self) -> None:
        self._flush()
        if self._writer is not None:
            self._writer.close()


TRANSACTION_SCHEMA = pa.schema([
    ("tx_id", pa.int64()), ("arm", pa.string()), ("replication", pa.int32()), ("t", pa.float64()),
    ("customer", pa.int32()), ("merchant", pa.int32()), ("amount", pa.float64()), ("cnp", pa.bool_()),
    ("is_fraud", pa.bool_()), ("crew", pa.int32()), ("score", pa.float64()), ("decision", pa.string()),
])  # fmt: skip
LABEL_SCHEMA = pa.schema([
    ("tx_id", pa.int64()), ("arm", pa.string()), ("replication", pa.int32()), ("source", pa.string()),
    ("value", pa.int8()), ("label_at", pa.float64()), ("delivered_at", pa.float64()),
])  # fmt: skip


class ArmRecorder:
    """Everything recorded about one arm in one replication."""

    def __init__(self, scenario: Scenario, arm: str, replication: int, ledger_dir: Path | None = None):
        self.scenario = scenario
        self.first_tx_id: int | None = None  # the ledger covers transactions from t = 0
        self.arm = arm
        self.replication = replication
        self.days = int(np.ceil(scenario.horizon / DAY))
        self.sums = np.zeros((self.days, len(DAILY_SUMS)))
        self.transactions_part: Path | None = None
        self.labels_part: Path | None = None
        self._tx_stream: ParquetStream | None = None
        self._label_stream: ParquetStream | None = None
        if ledger_dir is not None:
            stem = f"r{replication:04d}-{arm}"
            self.transactions_part = ledger_dir / f"transactions-{stem}.parquet"
            self.labels_part = ledger_dir / f"labels-{stem}.parquet"
            self._tx_stream = ParquetStream(self.transactions_part, TRANSACTION_SCHEMA)
            self._label_stream = ParquetStream(self.labels_part, LABEL_SCHEMA)

    def tick(self, now: float, tx: Transactions, ids: np.ndarray, p: np.ndarray, declined: np.ndarray) -> None:
        policy = self.scenario.policy
        fraud = tx.is_fraud
        approved = ~declined
        approved_fraud = fraud & approved
        row = self.sums[int(now // DAY)]
        fraud_amount_approved = float(tx.amount[approved_fraud].sum())
        fraud_loss = fraud_amount_approved + policy.fraud_fee * int(approved_fraud.sum())
        friction = float(decline_cost(tx.amount[declined & ~fraud], policy).sum())
        row[_COL["transactions"]] += len(tx)
        row[_COL["fraud_attempts"]] += int(fraud.sum())
        row[_COL["fraud_approved"]] += int(approved_fraud.sum())
        row[_COL["declines"]] += int(declined.sum())
        row[_COL["legit_declined"]] += int((declined & ~fraud).sum())
        row[_COL["fraud_amount_attempted"]] += float(tx.amount[fraud].sum())
        row[_COL["fraud_amount_approved"]] += fraud_amount_approved
        row[_COL["fraud_loss"]] += fraud_loss
        row[_COL["friction"]] += friction
        row[_COL["total_cost"]] += fraud_loss + friction
        row[_COL["predicted_fraud"]] += float(np.dot(p[approved], tx.amount[approved]))
        if self.first_tx_id is None:
            self.first_tx_id = int(ids[0])
        if self._tx_stream is not None:
            n = len(tx)
            self._tx_stream.append({
                "tx_id": ids, "arm": pa.array([self.arm] * n, pa.string()),
                "replication": np.full(n, self.replication, np.int32), "t": tx.t, "customer": tx.card,
                "merchant": tx.merchant, "amount": tx.amount, "cnp": tx.cnp, "is_fraud": fraud,
                "crew": tx.crew, "score": p, "decision": np.where(declined, "decline", "approve"),
            })  # fmt: skip

    def labels(self, events: LabelEvents, delivered_at: float | None) -> None:
        """Label events handed to the learner at ``delivered_at`` (None: still pending at the end)."""
        if delivered_at is not None and 0 <= delivered_at < self.scenario.horizon:
            row = self.sums[int(delivered_at // DAY)]
            row[_COL["labels_arrived"]] += len(events)
            row[_COL["fraud_labels_arrived"]] += int(events.value.sum())
        if self._label_stream is not None and self.first_tx_id is not None:
            events = events.take(events.tx_id >= self.first_tx_id)
            n = len(events)
            delivered = np.full(n, np.nan if delivered_at is None else delivered_at)
            self._label_stream.append({
                "tx_id": events.tx_id, "arm": pa.array([self.arm] * n, pa.string()),
                "replication": np.full(n, self.replication, np.int32),
                "source": np.asarray(SOURCES)[events.source], "value": events.value, "label_at": events.label_at,
                "delivered_at": pa.array(delivered, pa.float64(), mask=np.isnan(delivered)),
            })  # fmt: skip

    def finish_labels(self, pending: LabelEvents) -> None:
        """Record the events still pending at the horizon and close the ledger."""
        self.labels(pending, None)
        for stream in (self._tx_stream, self._label_stream):
            if stream is not None:
                stream.close()

    def daily(self) -> pl.DataFrame:
        """One row per day of the horizon."""
        columns: dict[str, object] = {
            "arm": [self.arm] * self.days,
            "replication": np.full(self.days, self.replication, np.int32),
            "day": np.arange(self.days, dtype=np.int32),
        }
        for name, i in _COL.items():
            values = self.sums[:, i]
            columns[name] = values.astype(np.int64) if name in COUNT_COLUMNS else values
        return pl.DataFrame(columns)
