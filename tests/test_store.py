"""The feature store: what it gives back is what was stored (zeros for the rows it was told not to
keep), however its rings grow and wrap, in a copy and in the original alike."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sim.detect.store import FeatureStore

# Up to 150 rows a tick: appends of several 64-row words, a partial last word, and none at all.
TICKS = st.lists(st.tuples(st.integers(0, 150), st.floats(0.0, 1.0)), min_size=1, max_size=40)


def _fill(store: FeatureStore, ticks, rng: np.random.Generator, start: float, kept: dict) -> None:
    for step, (n, share) in enumerate(ticks):
        X = rng.random((n, 3)).astype(np.float32)
        merchant, card = rng.integers(0, 100, n), rng.integers(0, 100, n)
        keep = None if share == 1.0 else rng.random(n) < share
        ids = store.append(X, merchant, card, start + step, keep)
        for row, tx in enumerate(ids.tolist()):
            has = keep is None or keep[row]
            kept[tx] = (X[row], int(merchant[row]), int(card[row])) if has else (np.zeros(3, np.float32), 0, 0)


def _check(store: FeatureStore, kept: dict) -> None:
    ids = np.arange(store.live_from, store.next_id)
    if len(ids) == 0:
        return
    order = np.random.default_rng(len(ids)).permutation(ids)  # any order, rows from several segments at once
    np.testing.assert_array_equal(store.features(order), np.array([kept[i][0] for i in order.tolist()]))
    assert store.merchant(order).tolist() == [kept[i][1] for i in order.tolist()]
    assert store.card(order).tolist() == [kept[i][2] for i in order.tolist()]


@given(TICKS, TICKS, st.integers(0, 2**32 - 1))
def test_the_store_gives_back_what_it_kept_in_the_original_and_a_copy(before, after, seed):
    rng = np.random.default_rng(seed)
    store = FeatureStore(3, retention_s=8.0, capacity=4)  # tiny rings: they grow and wrap
    kept: dict = {}
    _fill(store, before, rng, 0.0, kept)
    copy = store.fork()
    copy.keep_features(0.2)
    kept_copy = dict(kept)
    _fill(copy, after, rng, len(before), kept_copy)
    _fill(store, after[::-1], rng, len(before), kept)
    _check(store, kept)
    _check(copy, kept_copy)


@given(st.lists(st.tuples(st.integers(0, 100), st.floats(0.0, 3.0)), min_size=1, max_size=30))
def test_a_row_stays_readable_for_the_whole_retention_window(ticks):
    """An append holds the transactions of its time up to the next append's; so its rows stay
    readable while that next append is within the window (at now − retention or later)."""
    store = FeatureStore(1, retention_s=2.5, capacity=4)
    appends, now = [], 0.0  # (time, ids) of each append
    for n, gap in ticks:
        now += gap
        appends.append((now, store.append(np.ones((n, 1), np.float32), np.zeros(n), np.zeros(n), now)))
        ends = [t for t, _ in appends[1:]] + [now]
        inside = np.concatenate([ids for (_, ids), end in zip(appends, ends, strict=True) if end >= now - 2.5])
        assert not len(inside) or store.live_from <= inside.min()
        assert store.features(inside).tolist() == [[1.0]] * len(inside)


def test_rows_outside_the_retention_window_cannot_be_read():
    store = FeatureStore(2, retention_s=1.0)
    for now in range(4):
        store.append(np.ones((2, 2), np.float32), np.zeros(2), np.zeros(2), float(now))
    assert store.live_from > 0
    try:
        store.features(np.array([0]))
    except IndexError as error:
        assert "retention window" in str(error)
    else:
        raise AssertionError("a row that left the window was read")
