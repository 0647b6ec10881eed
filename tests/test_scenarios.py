"""Every scenario in scenarios/ runs at a short horizon, keeps the ledger's invariants, and its
report builds."""

from __future__ import annotations

import json

import polars as pl
import pytest

from sim.cli import main
from sim.scenario import load_scenario

from .conftest import ROOT

SCENARIOS = sorted(p for p in (ROOT / "scenarios").glob("*.toml"))
SHORT = [
    "--set",
    "horizon=3d",
    "--set",
    "replications=1",
    "--set",
    "population.customers=2000",
    "--set",
    "population.merchants=300",
    "--set",
    "warmup=70d",  # past every bundled history (60 days at most); `auto` would be 210 days
]


def test_there_are_scenarios():
    assert {"quickstart.toml", "labels.toml", "crews.toml"} <= {p.name for p in SCENARIOS}


@pytest.mark.slow
@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_runs_keeps_the_ledger_s_invariants_and_reports(path, tmp_path):
    out = tmp_path / path.stem
    assert main(["run", str(path), "--out", str(out), "--quiet", "--workers", "1", "--ledger", *SHORT]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["horizon_days"] == 3 and summary["ranking"]
    page = (out / "index.html").read_text()
    assert page.count("data:image/png;base64,") >= 4
    check_ledger(out)


def check_ledger(out):
    """One decision per transaction; no label before its transaction or delivered before it
    arrives; the daily tables' fraud counts and money are the ledger's."""
    tx, labels = pl.read_parquet(out / "transactions.parquet"), pl.read_parquet(out / "labels.parquet")
    keys = ["arm", "replication", "tx_id"]
    assert tx.height > 0 and tx.select(pl.struct(keys).is_unique().all()).item()
    assert tx["decision"].null_count() == 0 and tx["score"].is_between(0, 1).all()
    joined = labels.join(tx, on=keys, how="inner")
    assert (joined["label_at"] >= joined["t"]).all()
    delivered = joined.filter(pl.col("delivered_at").is_not_null())
    assert (delivered["delivered_at"] >= delivered["label_at"]).all()
    policy = load_scenario(out / "scenario.resolved.toml").policy
    approved_fraud = pl.col("is_fraud") & (pl.col("decision") == "approve")
    declined_honest = ~pl.col("is_fraud") & (pl.col("decision") == "decline")
    ledger = (
        tx.filter(pl.col("t") >= 0)
        .group_by("arm", "replication")
        .agg(
            pl.col("is_fraud").sum().alias("ledger_attempts"),
            approved_fraud.sum().alias("ledger_approved"),
            pl.when(approved_fraud).then(pl.col("amount") + policy.fraud_fee).otherwise(0.0).sum().alias("ledger_loss"),
            pl.when(declined_honest)
            .then(policy.decline_fixed + policy.decline_rate * pl.col("amount"))
            .otherwise(0.0)
            .sum()
            .alias("ledger_friction"),
        )
    )
    tables = pl.read_parquet(out / "arms.parquet").join(ledger, on=["arm", "replication"], how="inner")
    assert tables.height == pl.read_parquet(out / "arms.parquet").height
    assert (tables["ledger_attempts"] == tables["fraud_attempts"]).all() and (
        tables["ledger_approved"] == tables["fraud_approved"]
    ).all()
    assert ((tables["ledger_loss"] - tables["fraud_loss"]).abs() <= 1e-6 * (1 + tables["fraud_loss"])).all()
    assert ((tables["ledger_friction"] - tables["friction"]).abs() <= 1e-6 * (1 + tables["friction"])).all()
