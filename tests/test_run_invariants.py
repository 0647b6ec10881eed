"""Invariants on the ledger of one tiny run (its tables: docs/outputs.md)."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from sim.scenario import load_scenario


@pytest.fixture(scope="module")
def ledger(tiny_run):
    return pl.read_parquet(tiny_run / "transactions.parquet"), pl.read_parquet(tiny_run / "labels.parquet")


def test_every_transaction_has_exactly_one_decision(ledger):
    tx, _ = ledger
    assert tx.height > 0
    assert tx.select(pl.struct("arm", "replication", "tx_id").is_unique().all()).item()
    assert set(tx["decision"].unique().to_list()) <= {"approve", "decline"}
    assert tx["decision"].null_count() == 0 and tx["score"].is_between(0, 1).all()


def test_no_label_precedes_its_transaction_or_reaches_a_learner_early(ledger):
    tx, labels = ledger
    joined = labels.join(tx, on=["arm", "replication", "tx_id"], how="left")
    assert joined["t"].null_count() == 0  # every labelled transaction is in the ledger
    assert (joined["label_at"] >= joined["t"]).all()
    delivered = joined.filter(pl.col("delivered_at").is_not_null())
    assert delivered.height > 0
    assert (delivered["delivered_at"] >= delivered["label_at"]).all()


def test_declined_transactions_are_censored(ledger):
    tx, labels = ledger
    declined = tx.filter(pl.col("decision") == "decline").select("arm", "replication", "tx_id")
    assert declined.height > 0
    assert labels.join(declined, on=["arm", "replication", "tx_id"]).height == 0


def test_fraud_approved_plus_declined_is_all_fraud(ledger, tiny_run):
    tx, _ = ledger
    fraud = tx.filter(pl.col("is_fraud"))
    per_arm = fraud.group_by("arm", "replication").agg(
        pl.len().alias("attempted"),
        (pl.col("decision") == "approve").sum().alias("approved"),
        (pl.col("decision") == "decline").sum().alias("declined"),
    )
    assert (per_arm["approved"] + per_arm["declined"] == per_arm["attempted"]).all()
    daily = pl.read_parquet(tiny_run / "arms.parquet")
    check = per_arm.join(daily, on=["arm", "replication"])
    assert (check["attempted"] == check["fraud_attempts"]).all()
    assert (check["approved"] == check["fraud_approved"]).all()


def test_money_in_summary_equals_the_ledger(ledger, tiny_run):
    tx, _ = ledger
    scenario = load_scenario(tiny_run / "scenario.resolved.toml")
    policy = scenario.policy
    summary = json.loads((tiny_run / "summary.json").read_text())
    approved_fraud = pl.col("is_fraud") & (pl.col("decision") == "approve")
    declined_honest = ~pl.col("is_fraud") & (pl.col("decision") == "decline")
    money = tx.group_by("arm", "replication").agg(
        pl.when(approved_fraud).then(pl.col("amount") + policy.fraud_fee).otherwise(0).sum().alias("fraud_loss"),
        pl.when(declined_honest)
        .then(policy.decline_fixed + policy.decline_rate * pl.col("amount"))
        .otherwise(0)
        .sum()
        .alias("friction"),
    )
    alerts = pl.read_parquet(tiny_run / "alerts.parquet")
    reviews = alerts.filter((pl.col("outcome") == "reviewed") & (pl.col("review_done_at") < scenario.horizon))
    review_cost = reviews.group_by("arm", "replication").agg((pl.len() * policy.review_cost).alias("review_cost"))
    money = money.join(review_cost, on=["arm", "replication"], how="left").fill_null(0.0)
    assert reviews.height > 0
    for arm, entry in summary["arms"].items():
        rows = money.filter(pl.col("arm") == arm)
        assert rows.height == scenario.replications
        for column in ("fraud_loss", "friction", "review_cost"):
            assert entry[column]["mean"] == pytest.approx(rows[column].mean(), abs=1e-4)
        total = rows["fraud_loss"].mean() + rows["friction"].mean() + rows["review_cost"].mean()
        assert entry["total_cost"]["mean"] == pytest.approx(total, abs=1e-4)


def test_honest_traffic_is_identical_across_arms(ledger):
    tx, _ = ledger
    honest = tx.filter(pl.col("crew") == -1).sort("arm", "replication", "t")
    columns = ["t", "customer", "merchant", "amount", "cnp"]
    for replication in honest["replication"].unique().to_list():
        frames = honest.filter(pl.col("replication") == replication).partition_by("arm", maintain_order=True)
        assert len(frames) == 5
        first = frames[0].select(columns)
        assert first.height > 1000
        for other in frames[1:]:
            assert other.select(columns).equals(first)


def test_replications_differ(ledger):
    tx, _ = ledger
    rule = tx.filter(pl.col("arm") == "rules")
    amounts = [rule.filter(pl.col("replication") == r)["amount"].sum() for r in (0, 1)]
    assert amounts[0] != amounts[1]


def test_fraud_volume_within_what_the_crews_can_attempt(ledger, tiny_run):
    """Without declines, crews attempt count × cards/day × spree days × attempts/day per day at most
    (in steady state); burnt cards only lower it. Allow five Poisson standard deviations."""
    tx, _ = ledger
    scenario = load_scenario(tiny_run / "scenario.resolved.toml")
    per_day = 0.0
    for crew in scenario.crews:
        most = crew.dynamics.max_count if crew.dynamics else crew.count
        rate = max([crew.attempts_per_day] + [getattr(crew, "tests_per_day", 0.0)])
        per_day += most * crew.cards_per_day * (crew.spree / 86400) * rate
    ceiling = per_day * scenario.horizon / 86400
    attempts = tx.filter(pl.col("is_fraud")).group_by("arm", "replication").len()["len"].to_numpy()
    assert (attempts > 0).all()
    assert (attempts < ceiling + 5 * np.sqrt(ceiling)).all()
    assert np.isfinite(tx["amount"].to_numpy()).all() and (tx["amount"] > 0).all()


def test_daily_average_precision_and_card_precision_are_those_of_the_ledger(ledger, tiny_run):
    """daily.parquet's average precision (scikit-learn's, per day) and card precision@k (k: what the
    investigators can review in a working day) recomputed from every transaction in the ledger."""
    from sklearn.metrics import average_precision_score

    from sim.results import review_capacity
    from sim.units import DAY

    from .test_metrics import card_precision_brute_force

    tx, _ = ledger
    scenario = load_scenario(tiny_run / "scenario.resolved.toml")
    k = review_capacity(scenario)
    daily = pl.read_parquet(tiny_run / "daily.parquet")
    arm, replication = daily["arm"][0], daily["replication"][0]
    mine = tx.filter((pl.col("arm") == arm) & (pl.col("replication") == replication) & (pl.col("t") >= 0))
    day = (mine["t"].to_numpy() // DAY).astype(int)
    y, p, card = mine["is_fraud"].to_numpy().astype(int), mine["score"].to_numpy(), mine["customer"].to_numpy()
    rows = daily.filter((pl.col("arm") == arm) & (pl.col("replication") == replication)).sort("day")
    expected = card_precision_brute_force(day, card, y, p, k)
    assert k is not None and len(expected) == rows.height
    np.testing.assert_allclose(rows["card_precision"].to_numpy(), expected, rtol=0, atol=1e-12)
    for d, value in zip(rows["day"].to_list(), rows["average_precision"].to_list(), strict=True):
        today = day == d
        if y[today].any():
            assert value == pytest.approx(average_precision_score(y[today], p[today]), abs=1e-12)
        else:
            assert value is None or np.isnan(value)
