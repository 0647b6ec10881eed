"""Point-in-time features against brute force."""

from __future__ import annotations

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sim.detect.features import HABIT_MAX_COUNT, VELOCITY_DECAY_S, FeatureState
from sim.schema import Population
from sim.schema.features import COLUMN
from sim.world.traffic import Transactions


def _batch(rng, n, cards, start):
    return Transactions(
        t=np.sort(start + rng.random(n) * 3600),
        card=rng.integers(cards, size=n).astype(np.int32),
        merchant=rng.integers(5, size=n).astype(np.int32),
        amount=np.round(rng.lognormal(3, 1, n), 2) + 0.01,
        cnp=rng.random(n) < 0.5,
        crew=np.full(n, -1, np.int32),
        tactic=np.full(n, -1, np.int16),
        stolen_card=np.full(n, -1, np.int64),
    )


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 60), st.integers(1, 8))
@example(7603, 59, 1)  # once failed: the reference ignored the 50-purchase cap the code applies
def test_velocity_and_habits_match_brute_force(seed, n, cards):
    rng = np.random.default_rng(seed)
    state = FeatureState(cards, 5, Population())
    category = rng.integers(8, size=5)
    history: list[tuple[int, float]] = []
    habits = {c: (0.0, 0.0, 0.0) for c in range(cards)}  # purchases counted (capped), mean log amount, M2
    for tick in range(3):
        tx = _batch(rng, n, cards, tick * 3600.0)
        X, velocity = state.compute(tx, category)
        for i in range(n):
            expected = sum(np.exp(-(tx.t[i] - s) / VELOCITY_DECAY_S) for c, s in history if c == tx.card[i])
            expected += sum(
                np.exp(-(tx.t[i] - tx.t[j]) / VELOCITY_DECAY_S) for j in range(i) if tx.card[j] == tx.card[i]
            )
            assert abs(velocity[i] - expected) < 1e-9 * max(1.0, expected)
            n_past, habit_mean, m2 = habits[int(tx.card[i])]
            k = 3.0
            mean = (n_past * habit_mean + k * state.prior_mean) / (n_past + k)
            z = (np.log(tx.amount[i]) - mean) / np.sqrt((m2 + k * state.prior_var) / (n_past + k))
            assert abs(X[i, COLUMN["amount_vs_habit"]] - z) < 1e-4 * max(1.0, abs(z))
        approved = rng.random(n) < 0.7
        state.record(tx, velocity, approved, category)
        history += [(int(c), float(s)) for c, s in zip(tx.card, tx.t, strict=True)]
        for c in range(cards):  # the tick's approved purchases join the habit, older ones capped at 50
            logs = np.log([a for a, cc, ok in zip(tx.amount, tx.card, approved, strict=True) if ok and cc == c])
            if len(logs) == 0:
                continue
            n_all, habit_mean, m2 = habits[c]
            n_old = min(n_all, HABIT_MAX_COUNT)
            old_m2 = m2 * n_old / n_all if n_all else 0.0
            total = n_old + len(logs)
            merged = (n_old * habit_mean + logs.sum()) / total
            # the sum of squared deviations of the old (down-weighted) and new purchases about the merged mean
            m2 = old_m2 + n_old * (habit_mean - merged) ** 2 + float(np.sum((logs - merged) ** 2))
            habits[c] = (total, merged, m2)


def test_merchant_rate_uses_only_arrived_labels():
    state = FeatureState(3, 2, Population())
    tx = Transactions(
        t=np.array([0.0, 1.0]),
        card=np.array([0, 1], np.int32),
        merchant=np.array([0, 1], np.int32),
        amount=np.array([10.0, 10.0]),
        cnp=np.array([False, False]),
        crew=np.array([-1, -1], np.int32),
        tactic=np.array([-1, -1], np.int16),
        stolen_card=np.array([-1, -1]),
    )
    before, _ = state.compute(tx, np.array([0, 0]))
    # transactions 7 and 8 at merchant 0 on card 0: fraud, fraud; a legitimate label for 9
    state.learn_labels(np.array([7, 8, 9]), np.array([0, 0, 0]), np.array([1, 1, 0], np.int8), np.zeros(3))
    state.learn_labels(np.array([10]), np.array([1]), np.array([0], np.int8), np.zeros(1))
    after, _ = state.compute(tx, np.array([0, 0]))
    column = COLUMN["merchant_fraud_rate"]
    assert after[0, column] > before[0, column]
    assert after[1, column] == before[1, column]


def test_a_transaction_counts_once_in_the_fraud_features_however_many_fraud_labels_it_gets():
    once, twice = FeatureState(3, 2, Population()), FeatureState(3, 2, Population())
    once.learn_labels(np.array([5]), np.array([0]), np.array([1], np.int8), np.array([10.0]))
    for at in (10.0, 20.0):  # an investigator's verdict, then the cardholder's report
        twice.learn_labels(np.array([5]), np.array([0]), np.array([1], np.int8), np.array([at]))
    assert twice.merchant_frauds[0] == once.merchant_frauds[0] == 1.0
    # once no label can come for transaction 5 any more it is forgotten (memory stays bounded)
    twice.learn_labels(np.array([9]), np.array([1]), np.array([1], np.int8), np.array([2 * 86400.0]), oldest_id=6)
    assert 5 not in twice._fraud_labelled and 9 in twice._fraud_labelled
