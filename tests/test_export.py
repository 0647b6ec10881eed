"""The simulated stream as a dataset: ``streams/`` of a run with a ledger, read back by replay."""

from __future__ import annotations

import json
import re

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import sim
from sim import export, ledger
from sim.cli import main
from sim.engine import warm_up
from sim.export import ROLES_KEY
from sim.replays.options import prepare
from sim.replays.stream import read_stream
from sim.rng import Streams
from sim.schema import CATEGORIES
from sim.schema.features import FEATURES

from .conftest import ROOT


@pytest.fixture(scope="module")
def stream(tiny_run):
    return tiny_run / "streams" / "static-r0.parquet"


def test_every_arm_and_replication_has_its_stream(tiny_run):
    names = sorted(p.name for p in (tiny_run / "streams").iterdir())
    tx = pl.read_parquet(tiny_run / "transactions.parquet")
    expected = sorted(f"{a}-r{r}.parquet" for a, r in tx.select("arm", "replication").unique().iter_rows())
    assert names == expected


def test_a_stream_is_the_arms_transactions_with_their_first_arrived_label(tiny_run, stream):
    rows = pl.read_parquet(stream).filter(pl.col("time") >= 0)
    tx = pl.read_parquet(tiny_run / "transactions.parquet").filter(arm="static", replication=0)
    assert rows["tx_id"].to_list() == tx["tx_id"].to_list()
    assert rows["time"].to_list() == tx["t"].to_list()
    assert rows["label"].to_list() == tx["is_fraud"].cast(pl.Int8).to_list()
    assert rows["amount"].to_list() == tx["amount"].to_list()
    assert rows["card"].to_list() == tx["customer"].to_list()
    assert rows["score"].to_list() == tx["score"].to_list()
    assert rows["declined"].to_list() == (tx["decision"] == "decline").to_list()
    labels = (
        pl.read_parquet(tiny_run / "labels.parquet")
        .filter(arm="static", replication=0)
        .filter(pl.col("delivered_at").is_not_null())
        .sort("tx_id", "label_at", maintain_order=True)
        .group_by("tx_id", maintain_order=True)
        .first()
    )
    joined = rows.join(labels, on="tx_id", how="left")
    assert joined["label_time"].to_list() == joined["label_at"].to_list()
    assert joined["first_label"].to_list() == joined["value"].to_list()
    assert 0 < rows["label_time"].null_count() < len(rows)  # some labels were still to come
    never = rows["label_time"].is_null()
    assert np.isinf(rows.filter(never)["label_delay"].to_numpy()).all()
    delay = rows.filter(~never).select(pl.col("label_delay") - (pl.col("label_time") - pl.col("time")))
    assert (delay.to_series().abs() < 1e-6).all() and (rows.filter(~never)["label_delay"] >= 0).all()


def test_a_stream_begins_with_the_history_the_first_models_learnt(tiny_file, stream):
    scenario = sim.load(tiny_file)
    _, history = warm_up(scenario, Streams(scenario.seed, 0))
    rows = pl.read_parquet(stream).filter(pl.col("time") < 0)
    assert rows["tx_id"].to_list() == history.labels.tx_id.tolist()
    np.testing.assert_array_equal(rows.select(FEATURES).to_numpy(), history.X)
    np.testing.assert_array_equal(rows["label"].to_numpy(), history.y)
    assert rows["time"].min() >= -scenario.history and rows["score"].null_count() == len(rows)
    arrival = rows["time"] + rows["label_delay"]
    assert (arrival <= 0).all() and (rows["label_delay"] >= 0).all()  # known to the first models at t = 0
    assert (rows["label_time"] > 0).any()  # though some arrived later
    assert json.loads(pq.read_schema(stream).metadata[ROLES_KEY])["history_s"] == scenario.history


def test_replay_of_a_stream_scores_as_the_static_arm_did(stream, tmp_path):
    """The export round trip: replay's static learner, fitted on the stream's history, gives the
    scores the simulation recorded: every one equal in float32, most bit for bit in float64 (a
    matrix product over other blocks of rows can round the last bit differently)."""
    out = tmp_path / "replay"
    assert main(["replay", str(stream), "--learner", "static", "--out", str(out), "--quiet", "--no-report"]) == 0
    replayed = pl.read_parquet(out / "predictions.parquet")["score"].to_numpy()
    recorded = pl.read_parquet(stream).filter(pl.col("time") >= 0)["score"].to_numpy()
    np.testing.assert_array_equal(replayed.astype(np.float32), recorded.astype(np.float32))
    np.testing.assert_allclose(replayed, recorded, rtol=1e-12, atol=0)
    assert np.mean(replayed == recorded) > 0.9


def test_replay_reads_a_stream_with_no_options(stream):
    spec = prepare(stream=stream).spec
    replayed = read_stream(stream, spec)
    rows = pl.read_parquet(stream)
    assert replayed.features == FEATURES
    np.testing.assert_array_equal(replayed.X, rows.select(FEATURES).to_numpy().astype(np.float64))
    np.testing.assert_array_equal(replayed.delay, rows["label_delay"].to_numpy())
    np.testing.assert_array_equal(replayed.label, rows["label"].to_numpy())
    np.testing.assert_array_equal(replayed.amount, rows["amount"].to_numpy())


def test_fraudsim_replay_of_a_stream_needs_only_the_file(stream, tmp_path):
    out = tmp_path / "replay"
    assert main(["replay", str(stream), "--out", str(out), "--quiet", "--no-report"]) == 0
    summary = json.loads((out / "replay.json").read_text())
    assert summary["stream"]["rows"] == pq.read_metadata(stream).num_rows
    assert summary["history_s"] == 7 * 86400.0 and summary["stream"]["scored_rows"] < summary["stream"]["rows"]
    assert summary["stream"]["features"] == list(FEATURES)
    assert summary["policy"] and summary["top_k"] == 100  # money metrics and card precision: amount and card known


def test_options_given_win_over_the_streams_own(stream):
    spec = prepare(stream=stream, features="log_amount,cnp", delay="1d").spec
    assert spec.features == ("log_amount", "cnp") and spec.delay.constant_s == 86400.0
    assert spec.time == "time" and spec.label == "label" and spec.delay.column is None


def test_a_file_that_names_no_columns_needs_time_and_label(tmp_path, capsys):
    path = tmp_path / "log.csv"
    path.write_text("ts,x,fraud\n1,0.5,0\n")
    assert main(["replay", str(path), "--delay", "1d", "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--time COL and --label COL" in err and "streams/" in err


def test_damaged_column_roles_are_named(stream, tmp_path, capsys):
    table = pq.read_table(stream)
    damaged = tmp_path / "damaged.parquet"
    pq.write_table(table.replace_schema_metadata({ROLES_KEY: b'{"time": "time"}'}), damaged)
    assert main(["replay", str(damaged), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "damaged.parquet" in err and "fraudsim.replay" in err


def test_python_replays_a_stream_by_its_path(stream):
    result = sim.replay(stream, learner="static", progress=False)
    assert result.summary["stream"]["label_column"] == "label"
    assert set(result.summary["metrics"]) == {"static"}


def test_every_feature_is_documented_in_order():
    """docs/concepts.md's table of the model's inputs, ``<c>`` standing for each category."""
    detection = (ROOT / "docs" / "concepts.md").read_text(encoding="utf-8").split("## Detection")[1].split("\n## ")[0]
    documented = []
    for cells in re.findall(r"^\| (`[^|]+`) \|", detection, flags=re.M):
        for name in re.findall(r"`([^`]+)`", cells):
            documented += [name.replace("<c>", c) for c in CATEGORIES] if "<c>" in name else [name]
    assert tuple(documented) == FEATURES


@pytest.mark.parametrize("sizes", [[7] * 6, [1, 40, 1], [25, 17], [42]])
def test_a_ledger_part_is_whole_groups_however_its_rows_came(tmp_path, monkeypatch, sizes):
    """The pending labels at the horizon come a day at a time: a part file's bytes must not
    depend on how its rows were appended."""
    monkeypatch.setattr(ledger, "ROW_GROUP", 10)
    schema = pa.schema([("tx_id", pa.int64()), ("label_at", pa.float64())])
    files = []
    for name, chunks in (("one", [42]), ("many", sizes)):
        part, start = ledger.PartWriter(tmp_path / name, schema), 0
        for n in chunks:
            part.append({"tx_id": np.arange(start, start + n), "label_at": np.arange(start, start + n) / 3})
            start += n
        part.close()
        files.append(part.path)
    metadata = pq.ParquetFile(files[1]).metadata
    assert [metadata.row_group(k).num_rows for k in range(metadata.num_row_groups)] == [10, 10, 10, 10, 2]
    assert files[0].read_bytes() == files[1].read_bytes()


@pytest.mark.parametrize("sizes", [[7] * 6, [1, 40, 1], [25, 17], [42]])
def test_the_stream_pairs_each_row_group_with_its_features_however_they_were_appended(tmp_path, monkeypatch, sizes):
    """The features part (Arrow) is written a tick's batch at a time, holding nothing back; the
    stream reads the transactions part (Parquet) a row group at a time and pairs each with its
    rows' features, whole."""
    monkeypatch.setattr(ledger, "ROW_GROUP", 10)
    parts = {
        "tx": ledger.PartWriter(tmp_path / "tx.parquet", pa.schema([("tx_id", pa.int64()), ("t", pa.float64())])),
        "X": ledger.PartWriter(tmp_path / "X.arrow", pa.schema([("tx_id", pa.int64()), ("x", pa.float32())]), True),
    }
    start = 0
    for n in sizes:
        ids = np.arange(start, start + n)
        parts["tx"].append({"tx_id": ids, "t": ids / 3})
        parts["X"].append({"tx_id": ids, "x": (ids / 7).astype(np.float32)})
        start += n
    for part in parts.values():
        part.close()
    pairs = list(export._scored(parts["tx"].path, parts["X"].path))
    assert [tx.num_rows for tx, _ in pairs] == [10, 10, 10, 10, 2]
    for tx, X in pairs:
        assert X["tx_id"].to_pylist() == tx["tx_id"].to_pylist()
        assert X["x"].num_chunks == 1  # whole, as the stream's Parquet writer is given one group
        np.testing.assert_array_equal(X["x"].to_numpy(), (tx["tx_id"].to_numpy() / 7).astype(np.float32))


def test_a_single_ledger_part_is_moved_as_the_table_a_merge_would_write(tmp_path, monkeypatch):
    """One arm and one replication: the part is the table, moved rather than rewritten, byte for
    byte what merging it row group by row group writes."""
    from sim.outputs import merge_parquet, parquet_writer

    monkeypatch.setattr(ledger, "ROW_GROUP", 10)
    schema = pa.schema([("tx_id", pa.int64()), ("arm", pa.string()), ("t", pa.float64())])
    part = ledger.PartWriter(tmp_path / "part.parquet", schema)
    for start in range(0, 35, 7):
        ids = np.arange(start, start + 7)
        part.append({"tx_id": ids, "arm": pa.array(["static"] * 7), "t": ids / 3})
    part.close()
    expected = tmp_path / "expected.parquet"
    with parquet_writer(expected, pq.read_schema(part.path)) as writer:
        file = pq.ParquetFile(part.path)
        for group in range(file.num_row_groups):
            writer.write_table(file.read_row_group(group))
    merge_parquet([part.path], tmp_path / "merged.parquet")
    assert not part.path.exists()
    assert (tmp_path / "merged.parquet").read_bytes() == expected.read_bytes()
