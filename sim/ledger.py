"""The full ledger (``--ledger``): every transaction, label event and alert, streamed to Parquet,
and each arm's stream as a dataset (:mod:`sim.export`).

Rows are appended per tick and written in row groups as they fill, so memory
does not grow with the horizon. Numbers are written plainly, text dictionary-encoded
(:func:`sim.outputs.parquet_writer`). Each arm and replication writes its own part
files; the run merges the tables at the end and moves the streams into ``streams/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .export import write_stream
from .heap import release
from .outputs import parquet_writer
from .schema.features import FEATURES

if TYPE_CHECKING:
    from .learn.history import History

ROW_GROUP = 500_000

TRANSACTION_SCHEMA = pa.schema(
    [
        ("tx_id", pa.int64()),
        ("arm", pa.string()),
        ("replication", pa.int32()),
        ("t", pa.float64()),
        ("customer", pa.int32()),
        ("merchant", pa.int32()),
        ("amount", pa.float64()),
        ("cnp", pa.bool_()),
        ("is_fraud", pa.bool_()),
        ("crew", pa.int32()),
        ("tactic", pa.int16()),
        ("stolen_card", pa.int64()),
        ("score", pa.float64()),
        ("decision", pa.string()),
        ("explored", pa.bool_()),
        ("propensity", pa.float64()),
        ("alerted", pa.bool_()),
    ]
)
LABEL_SCHEMA = pa.schema(
    [
        ("tx_id", pa.int64()),
        ("arm", pa.string()),
        ("replication", pa.int32()),
        ("source", pa.string()),
        ("value", pa.int8()),
        ("label_at", pa.float64()),
        ("delivered_at", pa.float64()),
    ]
)
ALERT_SCHEMA = pa.schema(
    [
        ("tx_id", pa.int64()),
        ("arm", pa.string()),
        ("replication", pa.int32()),
        ("alerted_at", pa.float64()),
        ("expected_loss", pa.float64()),
        ("is_fraud", pa.bool_()),
        ("outcome", pa.string()),
        ("review_started_at", pa.float64()),
        ("review_done_at", pa.float64()),
        ("verdict", pa.int8()),
    ]
)


def nullable(values: np.ndarray) -> pa.Array:
    """Floats with NaN written as null."""
    values = np.asarray(values, np.float64)
    return pa.array(values, pa.float64(), mask=np.isnan(values))


class PartWriter:
    """Append column batches; write them in groups of ROW_GROUP rows as they fill: a Parquet
    file, or (``arrow``) an Arrow IPC file, each batch as it comes (nothing held), for a part
    that is read back once and removed (no encoding: several times faster to write and read)."""

    def __init__(self, path: Path, schema: pa.Schema, arrow: bool = False):
        self.path = path
        self.schema = schema
        self.arrow = arrow
        self._batches: list[pa.RecordBatch] = []
        self._rows = 0
        self._writer: pq.ParquetWriter | pa.ipc.RecordBatchFileWriter | None = None

    def append(self, columns: dict[str, np.ndarray | pa.Array]) -> None:
        batch = pa.RecordBatch.from_pydict(columns, schema=self.schema)
        if batch.num_rows == 0:
            return
        if self.arrow:
            if self._writer is None:
                self._writer = pa.ipc.new_file(self.path, self.schema)
            self._writer.write_batch(batch)
            return
        self._batches.append(batch)
        self._rows += batch.num_rows
        if self._rows >= ROW_GROUP:
            self._flush(whole_groups=True)

    def _flush(self, whole_groups: bool = False) -> None:
        """Write what is buffered (``whole_groups``: only whole groups, keeping the rest), so
        every group but the last has ROW_GROUP rows however the rows were appended."""
        if self._writer is None and self.arrow:
            self._writer = pa.ipc.new_file(self.path, self.schema)
        elif self._writer is None:
            self._writer = parquet_writer(self.path, self.schema)
        table = pa.Table.from_batches(self._batches, self.schema)
        written = table.num_rows - table.num_rows % ROW_GROUP if whole_groups else table.num_rows
        if written:
            self._writer.write_table(table.slice(0, written), row_group_size=ROW_GROUP)
        rest = table.slice(written)
        self._batches, self._rows = rest.to_batches(), rest.num_rows

    def close(self) -> None:
        self._flush()
        if self._writer is not None:
            self._writer.close()


FEATURE_SCHEMA = pa.schema([("tx_id", pa.int64()), *((name, pa.float32()) for name in FEATURES)])


class Ledger:
    """The part files of one arm in one replication: the three tables, and the arm's stream
    (:mod:`sim.export`), built when the ledger closes from the transactions, the features they
    were scored with (a part of its own, removed then) and the labels."""

    NAMES = ("transactions", "labels", "alerts")  # the tables, merged over arms and replications
    SCHEMAS: ClassVar[dict[str, pa.Schema]] = {
        "transactions": TRANSACTION_SCHEMA,
        "labels": LABEL_SCHEMA,
        "alerts": ALERT_SCHEMA,
        "features": FEATURE_SCHEMA,
    }

    def __init__(self, directory: Path, arm: str, replication: int):
        stem = f"r{replication:04d}-{arm}"
        self.arm, self.replication = arm, replication
        self.paths = {name: directory / f"{name}-{stem}.parquet" for name in (*self.NAMES, "stream")}
        self.paths["features"] = directory / f"features-{stem}.arrow"
        self.writers = {
            name: PartWriter(self.paths[name], schema, arrow=name == "features")
            for name, schema in self.SCHEMAS.items()
        }

    def _keys(self, n: int) -> dict[str, object]:
        return {"arm": pa.array([self.arm] * n, pa.string()), "replication": np.full(n, self.replication, np.int32)}

    def append(self, name: str, columns: dict[str, object]) -> None:
        n = len(next(iter(columns.values())))
        if n:
            self.writers[name].append({**columns, **self._keys(n)} if name in self.NAMES else columns)

    def close(self, history: History) -> None:
        """Close the part files and write the stream, beginning with ``history``."""
        for writer in self.writers.values():
            writer.close()
        release()  # the drained label queue, before the stream's buffers
        parts = self.paths
        write_stream(
            parts["transactions"],
            parts["features"],
            parts["labels"],
            history,
            parts["stream"],
            self.arm,
            self.replication,
        )
        parts["features"].unlink(missing_ok=True)
