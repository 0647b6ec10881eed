"""Label events and the queue they wait in."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.feedback.labels import SOURCE_CODE, LabelEvents, LabelModel, LabelQueue
from sim.schema import Labels
from sim.units import DAY

from .conftest import TINY, write_scenario


def _events(tx_id, label_at):
    n = len(tx_id)
    return LabelEvents(
        np.asarray(tx_id, np.int64),
        np.full(n, 2, np.int8),
        np.ones(n, np.int8),
        np.asarray(label_at, float),
        np.zeros(n),
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.floats(0, 5 * DAY), max_size=20), min_size=1, max_size=30), st.data())
def test_queue_returns_exactly_the_due_events_in_order(batches, data):
    queue = LabelQueue()
    pending: list[tuple[float, int]] = []
    now, next_id = 0.0, 0
    for batch in batches:
        arrivals = [now + x for x in batch]
        queue.push(_events(range(next_id, next_id + len(arrivals)), arrivals))
        pending += [(a, i) for a, i in zip(arrivals, range(next_id, next_id + len(arrivals)), strict=True)]
        next_id += len(arrivals)
        now += data.draw(st.floats(0, DAY))
        due = queue.pop_due(now)
        expected = sorted((a, i) for a, i in pending if a <= now)
        assert list(zip(due.label_at.tolist(), due.tx_id.tolist(), strict=True)) == expected
        pending = [(a, i) for a, i in pending if a > now]
        assert len(queue) == len(pending)
    rest = LabelEvents.concat(list(queue.drain()))
    assert len(queue) == 0
    assert sorted(zip(rest.label_at.tolist(), rest.tx_id.tolist(), strict=True)) == sorted(pending)


def _model(**labels):
    return LabelModel(Labels.model_validate(labels))


def test_censoring_reporting_and_maturity():
    model = _model(
        chargeback={"share": 0.5, "delay": {"dist": "fixed", "value": "10d"}, "window": "120d"},
        customer_report={"share": 0.5, "delay": {"dist": "fixed", "value": "2d"}},
        maturity={"window": "30d"},
    )
    n = 6
    draws = model.draw(np.random.default_rng(0), n)
    draws.fate[:] = [0.1, 0.7, 0.1, 0.7, 0.3, 0.3]
    is_fraud = np.array([True, True, True, True, False, False])
    declined = np.array([False, False, True, True, False, True])
    events = model.events(np.arange(n), np.zeros(n), is_fraud, declined, draws).sorted()
    got = sorted(
        zip(events.tx_id.tolist(), events.source.tolist(), events.value.tolist(), events.label_at.tolist(), strict=True)
    )
    assert got == [
        (0, SOURCE_CODE["customer_report"], 1, 2 * DAY),
        (1, SOURCE_CODE["chargeback"], 1, 10 * DAY),
        (4, SOURCE_CODE["maturity"], 0, 30 * DAY),
    ]


def test_chargeback_after_maturity_is_a_correction_and_late_ones_are_never_filed():
    model = _model(
        chargeback={"share": 1.0, "delay": {"dist": "fixed", "value": "40d"}, "window": "120d"},
        customer_report={"share": 0.0},
        maturity={"window": "30d"},
    )
    draws = model.draw(np.random.default_rng(0), 1)
    events = model.events(np.arange(1), np.zeros(1), np.array([True]), np.array([False]), draws).sorted()
    assert events.source.tolist() == [SOURCE_CODE["maturity"], SOURCE_CODE["chargeback"]]
    assert events.value.tolist() == [0, 1]
    late = _model(
        chargeback={"share": 1.0, "delay": {"dist": "fixed", "value": "130d"}, "window": "120d"},
        customer_report={"share": 0.0},
        maturity={"window": "30d"},
    )
    events = late.events(
        np.arange(1), np.zeros(1), np.array([True]), np.array([False]), late.draw(np.random.default_rng(0), 1)
    )
    assert events.source.tolist() == [SOURCE_CODE["maturity"]]


TICK_STEPS = st.lists(
    st.tuples(st.integers(0, 12), st.floats(0, 1), st.integers(1, 20), st.booleans()), min_size=1, max_size=40
)


@settings(max_examples=60, deadline=None)
@given(TICK_STEPS, st.integers(0, 2**32 - 1))
def test_maturity_labels_filed_compactly_arrive_exactly_as_the_others(steps, seed):
    """The queue files maturity labels (each exactly a window after its transaction) compactly;
    everything it gives back — due events, pending ones, withdrawals, its length — is what a queue
    keeping every event as it is gives back."""
    rng = np.random.default_rng(seed)
    window, tick = 3 * DAY, DAY / 4
    compact, plain = LabelQueue(window), LabelQueue()
    maturity, report = SOURCE_CODE["maturity"], SOURCE_CODE["customer_report"]
    next_id, now, clock, times = 0, 0.0, 0.0, np.empty(0)
    for n, fraud_share, wait, withdraw in steps:
        ids = np.arange(next_id, next_id + n, dtype=np.int64)
        t = now + rng.integers(0, 4, n) * tick / 4  # on a grid: arrivals fall exactly on the clock, and tie
        fraud = rng.random(n) < fraud_share
        events = LabelEvents.concat(
            [
                LabelEvents(
                    ids[~fraud],
                    np.full((~fraud).sum(), maturity, np.int8),
                    np.zeros((~fraud).sum(), np.int8),
                    t[~fraud] + window,
                    t[~fraud],
                ),
                LabelEvents(
                    ids[fraud],
                    np.full(fraud.sum(), report, np.int8),
                    np.ones(fraud.sum(), np.int8),
                    t[fraud] + rng.random(fraud.sum()) * window,
                    t[fraud],
                ),
            ]
        )
        for queue in (compact, plain):
            queue.push(events)
        times = np.r_[times, t]
        if withdraw and next_id:
            # An investigator's fraud verdict on any transaction: its maturity label may be waiting, or not.
            tx = int(rng.integers(0, next_id + n))
            due = float(times[tx] + window)
            assert compact.withdraw_maturity(tx, due) == plain.withdraw_maturity(tx, due)
        next_id, now = next_id + n, now + tick
        clock = max(clock, now + wait * window / 8)  # a tick boundary comes before the next tick's pushes
        _same(compact.pop_due(clock), plain.pop_due(clock))
        assert len(compact) == len(plain)
        _same(compact.pending(next_id // 2), plain.pending(next_id // 2))
        now = max(now, clock)
    # Drained a day of arrivals at a time, in the order pending gives (whatever the queue's filing).
    for queue in (compact, plain):
        expected, days = queue.pending(next_id // 3), list(queue.drain(next_id // 3))
        assert all(len(np.unique(np.floor(part.label_at / DAY))) == 1 for part in days)
        _same(LabelEvents.concat(days), expected)
        assert len(queue) == 0 and len(queue.pending()) == 0


def test_a_maturity_label_due_on_the_clock_arrives_and_one_on_a_chunk_boundary_can_be_withdrawn():
    maturity = SOURCE_CODE["maturity"]
    compact, plain = LabelQueue(DAY), LabelQueue()
    for start in (0.0, 3 * 3600.0):  # two pushes; the second's first label arrives as the first's last
        t = start + np.array([0.0, 3600.0, 3 * 3600.0])
        ids = np.arange(3, dtype=np.int64) + (3 if start else 0)
        for queue in (compact, plain):
            queue.push(LabelEvents(ids, np.full(3, maturity, np.int8), np.zeros(3, np.int8), t + DAY, t))
    assert compact.withdraw_maturity(3, DAY + 3 * 3600.0) and plain.withdraw_maturity(3, DAY + 3 * 3600.0)
    for queue in (compact, plain):
        assert queue.pop_due(DAY + 3600.0).tx_id.tolist() == [0, 1]  # due on the clock: arrived
        assert queue.pop_due(2 * DAY).tx_id.tolist() == [2, 4, 5]  # 3 was withdrawn


def test_maturity_labels_of_ids_out_of_order_or_far_apart_arrive_as_the_others():
    """A push's maturity labels wait as a bit per id over their run of ids, times in id order;
    ids out of order or too sparse for that wait as they are, and arrive the same."""
    maturity, window = SOURCE_CODE["maturity"], DAY
    compact, plain = LabelQueue(window), LabelQueue()
    pushes = [
        (np.array([5, 3, 4]), np.array([0.0, 10.0, 20.0])),  # out of order: times must stay with their ids
        (np.array([10, 11, 14]), np.array([30.0, 40.0, 50.0])),  # dense: bits
        (np.array([20, 10_000_000]), np.array([60.0, 70.0])),  # far apart
        (np.array([10_000_001, 10_000_003]), np.array([80.0, 90.0])),
    ]
    for ids, t in pushes:
        for queue in (compact, plain):
            queue.push(
                LabelEvents(
                    ids.astype(np.int64),
                    np.full(len(ids), maturity, np.int8),
                    np.zeros(len(ids), np.int8),
                    t + window,
                    t,
                )
            )
    assert compact.withdraw_maturity(14, 50.0 + window) and plain.withdraw_maturity(14, 50.0 + window)
    assert not compact.withdraw_maturity(12, 45.0 + window)
    _same(compact.pending(4), plain.pending(4))
    _same(compact.pop_due(window + 45.0), plain.pop_due(window + 45.0))
    _same(compact.pop_due(2 * window), plain.pop_due(2 * window))
    assert len(compact) == len(plain) == 0


def _same(a: LabelEvents, b: LabelEvents) -> None:
    for name in ("tx_id", "source", "value", "label_at", "tx_time"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), name)


def test_a_withdrawn_maturity_label_never_arrives():
    queue = LabelQueue()
    maturity, report = SOURCE_CODE["maturity"], SOURCE_CODE["customer_report"]
    arrive = np.array([10 * DAY, 10 * DAY, 2 * DAY])
    queue.push(
        LabelEvents(
            np.array([1, 2, 3]),
            np.array([maturity, maturity, report], np.int8),
            np.array([0, 0, 1], np.int8),
            arrive,
            np.zeros(3),
        )
    )
    assert queue.withdraw_maturity(1, 10 * DAY)
    assert not queue.withdraw_maturity(3, 10 * DAY)  # a report, not a maturity label, is waiting for 3
    assert [int(x) for x in queue.pending().tx_id] == [3, 2]
    assert [int(x) for x in queue.pop_due(11 * DAY).tx_id] == [3, 2]
    assert len(queue.pending()) == 0


@pytest.mark.slow
def test_an_investigators_fraud_verdict_stops_the_maturity_label(tmp_path):
    """Approved fraud that an investigator confirms is not later labelled legitimate by maturity,
    and the daily count of fraud maturing as legitimate counts only the maturity labels that come."""
    world = {
        **TINY,
        "replications": 1,
        "horizon": "8d",
        "policy": {"alert_threshold": 0.0},
        "labels": {
            **TINY["labels"],
            "maturity": {"window": "3d"},
            "customer_report": {"share": 0.0},
            "chargeback": {"share": 0.0},
            "investigators": {"count": 20, "hours": "24/7", "queue_limit": 100000},
        },
        "arms": [{"name": "rules", "learner": "rules"}],
    }
    out = tmp_path / "out"
    path = write_scenario(tmp_path / "w.toml", world)
    assert main(["run", str(path), "--out", str(out), "--ledger", "--quiet", "--no-report", "--workers", "1"]) == 0
    labels = pl.read_parquet(out / "labels.parquet")
    verdicts = labels.filter((pl.col("source") == "investigator") & (pl.col("value") == 1))
    confirmed = set(verdicts["tx_id"].to_list())
    matured = set(labels.filter(pl.col("source") == "maturity")["tx_id"].to_list())
    assert len(confirmed) > 20 and len(matured) > 1000
    assert not confirmed & matured
    transactions = pl.read_parquet(out / "transactions.parquet")
    fraud_matured = transactions.filter(pl.col("is_fraud") & pl.col("tx_id").is_in(list(matured)))
    daily = pl.read_parquet(out / "daily.parquet")
    assert daily["fraud_labelled_legit"].sum() == fraud_matured.height > 0
