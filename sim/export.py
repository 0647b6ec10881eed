"""One arm's stream as a dataset (``--ledger``: ``streams/ARM-rN.parquet``, docs/outputs.md).

Every transaction the arm scored, one row each, in the interchange shape of fraud benchmarks:
its time, its truth, when its first label arrived (null if none did by the horizon), its amount,
card and merchant, the arm's score and decision, and the features it was scored with. Before
them, the history the arms' first models were fitted on, with the labels they learnt. The
file's Parquet metadata names which column plays which part and how long the history is, so
``fraudsim replay FILE`` needs no options and its static learner scores as the arm's did
(docs/replay.md). Built from the arm's ledger parts when the arm finishes, row group by row
group: memory does not grow with the horizon.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .outputs import parquet_writer
from .schema.features import COLUMN, FEATURES
from .units import DAY

if TYPE_CHECKING:
    from .learn.history import History

ROLES_KEY = b"fraudsim.replay"  # the Parquet metadata key of a stream's column roles (JSON)

STREAM_COLUMNS = [
    ("tx_id", pa.int64()),
    ("time", pa.float64()),
    ("label", pa.int8()),
    ("label_time", pa.float64()),
    ("label_delay", pa.float64()),
    ("first_label", pa.int8()),
    ("amount", pa.float64()),
    ("card", pa.int32()),
    ("merchant", pa.int32()),
    ("score", pa.float64()),
    ("declined", pa.bool_()),
    *((name, pa.float32()) for name in FEATURES),
]


def stream_name(arm: str, replication: int) -> str:
    """The stream's file name in the run directory's ``streams/``."""
    return f"{arm}-r{replication}.parquet"


def roles(arm: str, replication: int, history_s: float) -> dict[str, object]:
    """Which column plays which part in a replay (what ``fraudsim replay`` would otherwise be
    told), and ``history_s``: the span of the history's rows, counted, as replay's ``--history``
    counts, from the start of the first one's day."""
    return {
        "time": "time",
        "label": "label",
        "delay_column": "label_delay",
        "amount": "amount",
        "card": "card",
        "features": list(FEATURES),
        "history_s": history_s,
        "arm": arm,
        "replication": replication,
    }


def history_rows(history: History, schema: pa.Schema) -> pa.Table:
    """The rows the first models were fitted on: each labelled with what they learnt, its
    transaction's last label event, known to them at t = 0 (``label_delay`` ends there at the
    latest) even when it arrived later (``label_time``)."""
    events, n = history.labels, len(history.labels)
    columns = {
        "tx_id": events.tx_id,
        "time": events.tx_time,
        "label": history.y,
        "label_time": events.label_at,
        "label_delay": np.minimum(events.label_at, 0.0) - events.tx_time,
        "first_label": history.y,
        "amount": np.expm1(history.X[:, COLUMN["log_amount"]].astype(np.float64)),
        "card": history.card,
        "merchant": history.merchant,
        "score": pa.nulls(n, pa.float64()),
        "declined": pa.nulls(n, pa.bool_()),
        **{name: history.X[:, k] for k, name in enumerate(FEATURES)},
    }
    return pa.Table.from_pydict(columns, schema=schema)


def first_labels(labels: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each labelled transaction's id (ascending), and when its first label event that arrived by
    the horizon came and what it said (ties in the ledger's order)."""
    file = pq.ParquetFile(labels) if labels.exists() else None
    ids, times, values = [], [], []
    for group in range(file.num_row_groups if file else 0):  # most are still pending: a group at a time
        table = file.read_row_group(group, columns=["tx_id", "value", "label_at", "delivered_at"])
        table = table.filter(table["delivered_at"].is_valid())
        ids.append(table["tx_id"].to_numpy())
        times.append(table["label_at"].to_numpy())
        values.append(table["value"].to_numpy())
    if not ids or sum(map(len, ids)) == 0:
        return np.empty(0, np.int64), np.empty(0), np.empty(0, np.int8)
    # One column at a time, each part dropped once joined: the horizon's labels can be millions.
    tx_id, ids = np.concatenate(ids), None
    label_at, times = np.concatenate(times), None
    order = np.lexsort((label_at, tx_id))
    tx_id = tx_id[order]
    first = np.ones(len(tx_id), bool)
    first[1:] = tx_id[1:] != tx_id[:-1]
    keep = order[first]
    value, values = np.concatenate(values), None
    return tx_id[first], label_at[keep], value[keep]


def write_stream(
    transactions: Path, features: Path, labels: Path, history: History, target: Path, arm: str, replication: int
) -> None:
    """The ``history``'s rows, then the arm's ledger parts (transactions and features, written
    tick by tick in the same rows) joined with their first labels, into ``target``."""
    start = float(np.floor(history.labels.tx_time.min() / DAY) * DAY) if len(history.labels) else 0.0
    metadata = {ROLES_KEY: json.dumps(roles(arm, replication, -start)).encode()}
    schema = pa.schema(STREAM_COLUMNS, metadata=metadata)
    labelled, label_at, label = first_labels(labels)
    with parquet_writer(target, schema) as writer:
        if len(history.labels):
            writer.write_table(history_rows(history, schema))
        if not transactions.exists():
            return
        for tx, X in _scored(transactions, features):
            ids = tx["tx_id"].to_numpy()
            at = np.searchsorted(labelled, ids)
            known = at < len(labelled)
            known[known] = labelled[at[known]] == ids[known]
            label_time, first_label = np.full(len(ids), np.nan), np.zeros(len(ids), np.int8)
            label_time[known], first_label[known] = label_at[at[known]], label[at[known]]
            t = tx["t"].to_numpy()
            columns = {
                "tx_id": ids,
                "time": t,
                "label": tx["is_fraud"].to_numpy(zero_copy_only=False).astype(np.int8),
                "label_time": pa.array(label_time, pa.float64(), mask=~known),
                "label_delay": np.where(known, label_time - t, np.inf),
                "first_label": pa.array(first_label, pa.int8(), mask=~known),
                "amount": tx["amount"],
                "card": tx["customer"],
                "merchant": tx["merchant"],
                "score": tx["score"],
                "declined": pc.equal(tx["decision"], "decline"),
                **{name: X[name] for name in FEATURES},
            }
            writer.write_table(pa.Table.from_pydict(columns, schema=schema))


def _scored(transactions: Path, features: Path) -> Iterator[tuple[pa.Table, pa.Table]]:
    """The arm's scored transactions a row group at a time, each with the features it was scored
    with (the same rows: the features part holds them in the same order, a tick's batch at a time)."""
    scored = pq.ParquetFile(transactions)
    with pa.OSFile(str(features)) as source:  # read, not mapped: mapped pages would count as the process's memory
        with_features = pa.ipc.open_file(source)
        batches, held, next_batch = [], 0, 0
        for group in range(scored.num_row_groups):
            tx = scored.read_row_group(group)
            while held < tx.num_rows and next_batch < with_features.num_record_batches:
                batch = with_features.get_batch(next_batch)
                batches.append(batch)
                held, next_batch = held + batch.num_rows, next_batch + 1
            table = pa.Table.from_batches(batches, with_features.schema)
            X, rest = table.slice(0, tx.num_rows).combine_chunks(), table.slice(tx.num_rows)
            batches, held = rest.to_batches(), rest.num_rows
            if not np.array_equal(tx["tx_id"].to_numpy(), X["tx_id"].to_numpy()):
                raise RuntimeError(f"{features}: row group {group} is not the transactions' (a bug)")
            yield tx, X
