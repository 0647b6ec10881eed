"""Model-quality metrics against scikit-learn, hand-computed calibration tables and properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from sim.metrics import (
    average_precision,
    brier_score,
    card_precision_at_k,
    expected_calibration_error,
    log_loss,
    recall,
    reliability_table,
    roc_auc,
    specificity,
)

TOLERANCE = 1e-9


def close(actual: float, expected: float, tolerance: float = TOLERANCE) -> bool:
    """Equal within `tolerance` (absolute, relative for large values); nan equals nan."""
    if math.isnan(expected):
        return math.isnan(actual)
    return abs(actual - expected) <= tolerance * max(1.0, abs(expected))


def random_data(seed: int, n: int = 3000, decimals: int | None = None):
    """Labels, informative probabilities (optionally rounded, for ties) and lognormal amounts."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.15).astype(np.int64)
    p = 1 / (1 + np.exp(-(rng.normal(-1.5, 1.0, n) + 1.5 * y)))
    if decimals is not None:
        p = np.round(p, decimals)
    amounts = np.round(rng.lognormal(3.5, 1.2, n), 2)
    return y, p, amounts


SEEDS = [0, 1, 2]
WEIGHTED = [False, True]


# ------------------------------------------------------------------ against scikit-learn


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("weighted", WEIGHTED)
def test_log_loss_matches_sklearn(seed, weighted):
    y, p, amounts = random_data(seed)
    w = amounts if weighted else None
    expected = skm.log_loss(y, p, sample_weight=w, labels=[0, 1])
    assert close(log_loss(y, p, weights=w), expected)


def test_log_loss_clips_certain_mistakes():
    # p = 0 for a positive costs -ln(1e-15), not infinity; p = 1 for a negative is clipped to
    # the float 1 - 1e-15 = 0.999999999999999000799..., whose complement is 9.992e-16.
    assert close(log_loss([1], [0.0]), -math.log(1e-15))
    assert close(log_loss([0], [1.0]), -math.log(1 - (1 - 1e-15)))
    assert close(log_loss([0, 1], [0.0, 1.0]), -math.log(1 - 1e-15))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("weighted", WEIGHTED)
def test_brier_score_matches_sklearn(seed, weighted):
    y, p, amounts = random_data(seed)
    w = amounts if weighted else None
    assert close(brier_score(y, p, weights=w), skm.brier_score_loss(y, p, sample_weight=w))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("weighted", WEIGHTED)
@pytest.mark.parametrize("decimals", [None, 2, 1, 0])
def test_roc_auc_matches_sklearn_with_and_without_ties(seed, weighted, decimals):
    y, p, amounts = random_data(seed, decimals=decimals)
    w = amounts if weighted else None
    expected = skm.roc_auc_score(y, p, sample_weight=w)
    assert close(roc_auc(y, p, weights=w), expected)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("decimals", [None, 2, 1, 0])
def test_average_precision_matches_sklearn_with_and_without_ties(seed, decimals):
    y, p, _ = random_data(seed, decimals=decimals)
    assert close(average_precision(y, p), skm.average_precision_score(y, p))
    assert math.isnan(average_precision([0, 0, 0], [0.1, 0.5, 0.2]))


def card_precision_brute_force(day, card, y, p, k, drop_found=True):
    """The textbook's card precision@k, row by row in plain Python (no arrays)."""
    found, precisions = set(), []
    for today in sorted(set(day.tolist())):
        best: dict[int, tuple[float, int]] = {}
        for d, c, label, score in zip(day.tolist(), card.tolist(), y.tolist(), p.tolist(), strict=True):
            if d == today and c not in found:
                old_score, old_label = best.get(c, (-1.0, 0))
                best[c] = (max(old_score, score), max(old_label, label))
        ranked = sorted(best, key=lambda c: (-best[c][0], c))[:k]
        hits = [c for c in ranked if best[c][1] == 1]
        precisions.append(len(hits) / k)
        if drop_found:
            found.update(hits)
    return precisions


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("k", "decimals", "drop_found"), [(5, None, True), (20, 2, True), (20, 1, False)])
def test_card_precision_at_k_matches_a_brute_force_oracle(seed, k, decimals, drop_found):
    rng = np.random.default_rng(seed)
    n = 2000
    day, card = rng.integers(0, 12, n), rng.integers(0, 150, n)  # cards buy several times a day, on many days
    y, p, _ = random_data(seed, n=n, decimals=decimals)
    days, precision, mean = card_precision_at_k(day, card, y, p, k, drop_found)
    expected = card_precision_brute_force(day, card, y, p, k, drop_found)
    assert days.tolist() == list(range(12))
    np.testing.assert_allclose(precision, expected, rtol=0, atol=1e-12)
    assert close(mean, float(np.mean(expected)))


def test_roc_auc_scales_to_many_rows():
    # An O(n²) pairwise AUC could not do 400k rows (1.6e11 pairs) in a test run.
    y, p, amounts = random_data(7, n=400_000, decimals=3)
    assert close(roc_auc(y, p), skm.roc_auc_score(y, p))
    assert close(roc_auc(y, p, amounts), skm.roc_auc_score(y, p, sample_weight=amounts))


def test_roc_auc_is_nan_with_one_class():
    assert math.isnan(roc_auc([0, 0, 0], [0.1, 0.5, 0.9]))
    assert math.isnan(roc_auc([1, 1], [0.1, 0.5]))
    # both classes present, but the positives weigh nothing
    assert math.isnan(roc_auc([1, 0], [0.1, 0.5], weights=[0.0, 2.0]))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("weighted", WEIGHTED)
@pytest.mark.parametrize("threshold", [0.1, 0.3, 0.5, 0.8])
def test_recall_and_specificity_match_sklearn(seed, weighted, threshold):
    y, p, amounts = random_data(seed, decimals=1)  # rounding puts many p exactly on thresholds
    w = amounts if weighted else None
    flagged = (p >= threshold).astype(np.int64)
    expected_recall = skm.recall_score(y, flagged, sample_weight=w)
    expected_specificity = skm.recall_score(y, flagged, pos_label=0, sample_weight=w)
    assert close(recall(y, p, threshold, weights=w), expected_recall)
    assert close(specificity(y, p, threshold, weights=w), expected_specificity)


def test_recall_and_specificity_flag_at_the_threshold_and_are_nan_without_the_class():
    assert recall([1], [0.5], threshold=0.5) == 1.0
    assert specificity([0], [0.5], threshold=0.5) == 0.0
    assert math.isnan(recall([0, 0], [0.2, 0.9]))
    assert math.isnan(specificity([1, 1], [0.2, 0.9]))
    assert recall([True, True, False], [0.6, 0.4, 0.9]) == 0.5  # booleans are labels too


# ------------------------------------------------------------------ calibration, by hand


def assert_table(table, expected: dict[str, list]) -> None:
    for column, values in expected.items():
        got = table[column].to_list()
        assert len(got) == len(values), column
        for g, e in zip(got, values, strict=True):
            if e is None:
                assert g is None, (column, got)
            else:
                assert g is not None and close(g, e, 1e-12), (column, got)


def test_reliability_table_ten_bins_with_values_on_edges_zero_one_and_empty_bins():
    # B = 10, bins [k/10, (k+1)/10), the last closed at 1.
    p = [0.0, 0.05, 0.1, 0.29, 0.3, 0.3, 0.5, 0.7, 0.7, 0.9, 1.0]
    y = [0, 1, 0, 0, 1, 0, 1, 1, 1, 0, 1]
    # bin 0: p 0.0, 0.05; y 0, 1 -> mean_p 0.025, mean_y 0.5, gap 0.475
    # bin 1: p 0.1 (on the edge, opens bin 1); y 0 -> gap -0.1
    # bin 2: p 0.29; y 0 -> gap -0.29
    # bin 3: p 0.3, 0.3 (on the edge); y 1, 0 -> mean_y 0.5, gap 0.2
    # bin 4: empty
    # bin 5: p 0.5; y 1 -> gap 0.5
    # bin 6: empty (0.7 is on the edge of bin 7)
    # bin 7: p 0.7, 0.7; y 1, 1 -> gap 0.3
    # bin 8: empty (0.9 opens bin 9)
    # bin 9: p 0.9, 1.0 (1.0 closes the last bin); y 0, 1 -> mean_p 0.95, mean_y 0.5, gap -0.45
    table = reliability_table(y, p, n_bins=10)
    assert table.columns == ["bin", "lower", "upper", "count", "weight", "mean_p", "mean_y", "gap"]
    assert table["bin"].to_list() == list(range(10))
    # edges are k / 10 exactly: decimal literals, not np.linspace's 0.30000000000000004
    assert table["lower"].to_list() == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    assert table["upper"].to_list() == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    assert table["count"].to_list() == [2, 1, 1, 2, 0, 1, 0, 2, 0, 2]
    assert table["weight"].to_list() == [2.0, 1.0, 1.0, 2.0, 0.0, 1.0, 0.0, 2.0, 0.0, 2.0]
    N = None
    assert_table(
        table,
        {
            "mean_p": [0.025, 0.1, 0.29, 0.3, N, 0.5, N, 0.7, N, 0.95],
            "mean_y": [0.5, 0.0, 0.0, 0.5, N, 1.0, N, 1.0, N, 0.5],
            "gap": [0.475, -0.1, -0.29, 0.2, N, 0.5, N, 0.3, N, -0.45],
        },
    )
    # ECE = (2·0.475 + 0.1 + 0.29 + 2·0.2 + 0.5 + 2·0.3 + 2·0.45) / 11 = 3.74 / 11 = 0.34
    assert close(expected_calibration_error(y, p, n_bins=10), 0.34)
    # the row order does not matter
    order = [10, 3, 0, 7, 5, 1, 9, 2, 8, 4, 6]
    shuffled = expected_calibration_error(np.take(y, order), np.take(p, order), n_bins=10)
    assert close(shuffled, 0.34)


def test_bins_where_floor_of_p_times_b_would_be_wrong():
    # 0.29 * 100 = 28.999999999999996 in floating point, but 0.29 == 29 / 100: bin 29.
    p = [0.29, 0.57, 0.58, 0.0, 1.0]
    y = [1, 0, 1, 0, 1]
    table = reliability_table(y, p, n_bins=100)
    counts = table["count"].to_list()
    assert len(counts) == 100
    assert [i for i, c in enumerate(counts) if c] == [0, 29, 57, 58, 99]
    # one row per occupied bin: gaps |1 - 0.29|, |0 - 0.57|, |1 - 0.58|, 0, 0
    # ECE = (0.71 + 0.57 + 0.42) / 5 = 0.34
    assert close(expected_calibration_error(y, p, n_bins=100), 0.34)


def test_amount_weighted_reliability_table_and_ece():
    # B = 5: bins [0, .2), [.2, .4), [.4, .6), [.6, .8), [.8, 1].
    p = [0.2, 0.5, 0.5, 0.1, 0.1, 1.0, 0.8]
    y = [0, 1, 0, 0, 1, 1, 0]
    amounts = [100.0, 50.0, 150.0, 20.0, 20.0, 80.0, 20.0]
    # bin 0: p 0.1, 0.1; y 0, 1; amounts 20, 20 -> weight 40, mean_p 0.1, mean_y 0.5, gap 0.4
    # bin 1: p 0.2 (on the edge); y 0; amount 100 -> weight 100, mean_y 0, gap -0.2
    # bin 2: p 0.5, 0.5; y 1, 0; amounts 50, 150 -> weight 200, mean_y 50/200 = 0.25, gap -0.25
    # bin 3: empty
    # bin 4: p 1.0, 0.8 (on the edge); y 1, 0; amounts 80, 20
    #        -> weight 100, mean_p (80·1 + 20·0.8) / 100 = 0.96, mean_y 0.8, gap -0.16
    table = reliability_table(y, p, n_bins=5, weights=amounts)
    N = None
    assert table["count"].to_list() == [2, 1, 2, 0, 2]
    assert_table(
        table,
        {
            "lower": [0.0, 0.2, 0.4, 0.6, 0.8],
            "upper": [0.2, 0.4, 0.6, 0.8, 1.0],
            "weight": [40.0, 100.0, 200.0, 0.0, 100.0],
            "mean_p": [0.1, 0.2, 0.5, N, 0.96],
            "mean_y": [0.5, 0.0, 0.25, N, 0.8],
            "gap": [0.4, -0.2, -0.25, N, -0.16],
        },
    )
    # amount-weighted ECE = (40·0.4 + 100·0.2 + 200·0.25 + 100·0.16) / 440 = 102 / 440
    assert close(expected_calibration_error(y, p, n_bins=5, weights=amounts), 102 / 440)
    # by rows instead: bin 2 is then perfectly calibrated (mean_p 0.5, mean_y 0.5) and bin 4 has
    # mean_p 0.9, mean_y 0.5: ECE = (2·0.4 + 0.2 + 2·0 + 2·0.4) / 7 = 1.8 / 7
    assert close(expected_calibration_error(y, p, n_bins=5), 1.8 / 7)


def test_zero_weight_bin_has_rows_but_no_means():
    # bin 0 holds one row of weight 0; bin 1 holds p 0.95 with y 0 -> gap -0.95
    table = reliability_table([1, 0], [0.05, 0.95], n_bins=2, weights=[0.0, 3.0])
    assert table["count"].to_list() == [1, 1]
    assert_table(table, {"weight": [0.0, 3.0], "mean_p": [None, 0.95], "gap": [None, -0.95]})
    assert close(expected_calibration_error([1, 0], [0.05, 0.95], 2, weights=[0.0, 3.0]), 0.95)


def test_one_bin_ece_is_the_gap_between_the_means():
    # mean y = 0.5, mean p = (0.9 + 0.1 + 0.2 + 0.4) / 4 = 0.4
    assert close(expected_calibration_error([1, 0, 0, 1], [0.9, 0.1, 0.2, 0.4], n_bins=1), 0.1)


# ------------------------------------------------------------------ input validation


def _ece(y, p, weights=None):
    return expected_calibration_error(y, p, weights=weights)


def _table(y, p, weights=None):
    return reliability_table(y, p, weights=weights)


def _recall(y, p, weights=None):
    return recall(y, p, weights=weights)


def _specificity(y, p, weights=None):
    return specificity(y, p, weights=weights)


ALL = [log_loss, brier_score, roc_auc, _recall, _specificity, _ece, _table]


@pytest.mark.parametrize("metric", ALL)
@pytest.mark.parametrize(
    ("y", "p", "weights", "message"),
    [
        ([0, 1, 1], [0.2, 0.4], None, "same length"),
        ([0, 1], [0.2, 0.4], [1.0, 2.0, 3.0], "same length"),
        ([], [], None, "empty"),
        ([0, 1], [0.2, 1.5], None, r"\[0, 1\]"),
        ([0, 1], [-0.1, 0.5], None, r"\[0, 1\]"),
        ([0, 1], [0.2, float("nan")], None, "NaN"),
        ([0, float("nan")], [0.2, 0.4], None, "0 and 1"),
        ([0, 2], [0.2, 0.4], None, "0 and 1"),
        ([0, 1], [0.2, 0.4], [1.0, -1.0], "non-negative"),
        ([0, 1], [0.2, 0.4], [1.0, float("nan")], "finite"),
        ([0, 1], [0.2, 0.4], [0.0, 0.0], "sum to zero"),
        ([[0, 1]], [[0.2, 0.4]], None, "one-dimensional"),
        (["a", "b"], [0.2, 0.4], None, "numeric"),
    ],
)
def test_bad_input_is_refused(metric, y, p, weights, message):
    with pytest.raises(ValueError, match=message):
        metric(y, p, weights=weights)


@pytest.mark.parametrize("n_bins", [0, -3, 2.5, True])
def test_bad_bin_counts_are_refused(n_bins):
    with pytest.raises(ValueError, match="n_bins"):
        expected_calibration_error([0, 1], [0.2, 0.4], n_bins=n_bins)
    with pytest.raises(ValueError, match="n_bins"):
        reliability_table([0, 1], [0.2, 0.4], n_bins=n_bins)


def test_nan_threshold_is_refused():
    with pytest.raises(ValueError, match="threshold"):
        recall([0, 1], [0.2, 0.4], threshold=float("nan"))


# ------------------------------------------------------------------ properties

probabilities = st.one_of(
    st.floats(0, 1),
    st.integers(0, 20).map(lambda k: k / 20),  # values on bin edges of B = 2, 4, 5, 10, 20
    st.sampled_from([0.0, 1.0, 0.1, 0.3, 0.7, 0.29, 0.57]),
)
rows = st.lists(st.tuples(st.integers(0, 1), probabilities, st.floats(0.01, 1000)), min_size=1, max_size=40)


def columns(data):
    y, p, w = (np.array(column) for column in zip(*data, strict=True))
    return y, p, w


@settings(max_examples=200, deadline=None)
@given(rows, st.integers(1, 120), st.booleans())
def test_ece_in_unit_interval_and_bins_follow_the_edges(data, n_bins, weighted):
    y, p, w = columns(data)
    weights = w if weighted else None
    ece = expected_calibration_error(y, p, n_bins, weights)
    assert 0.0 <= ece <= 1.0
    table = reliability_table(y, p, n_bins, weights)
    # brute force: edges[k] <= p < edges[k + 1] with edges k / B, and p == 1 in the last bin
    expected = [0] * n_bins
    for value in p:
        for k in range(n_bins):
            if k / n_bins <= value < (k + 1) / n_bins or (k == n_bins - 1 and value == 1.0):
                expected[k] += 1
                break
    assert table["count"].to_list() == expected
    total = table["weight"].sum()
    assert close(total, float(np.sum(w)) if weighted else float(len(y)), 1e-12)
    from_table = (table["weight"] * table["gap"].abs()).sum() / total
    assert close(ece, from_table, 1e-12)


@settings(max_examples=200, deadline=None)
@given(rows, st.booleans())
def test_roc_auc_matches_pairwise_brute_force_and_its_complement(data, weighted):
    y, p, w = columns(data)
    assume(0 < y.sum() < len(y))
    weights = w if weighted else np.ones(len(y))
    pos, neg = y == 1, y == 0
    pair_weight = np.outer(weights[pos], weights[neg])
    wins = (p[pos][:, None] > p[neg][None, :]) + 0.5 * (p[pos][:, None] == p[neg][None, :])
    expected = (pair_weight * wins).sum() / pair_weight.sum()
    auc = roc_auc(y, p, w if weighted else None)
    assert close(auc, expected)
    assert close(auc + roc_auc(1 - y, p, w if weighted else None), 1.0)


def _all_metrics(y, p, weights, threshold):
    return [
        log_loss(y, p, weights),
        brier_score(y, p, weights),
        roc_auc(y, p, weights),
        recall(y, p, threshold, weights),
        specificity(y, p, threshold, weights),
        expected_calibration_error(y, p, 7, weights),
    ]


@settings(max_examples=150, deadline=None)
@given(rows, st.floats(0.01, 1e6), probabilities)
def test_equal_weights_change_nothing(data, weight, threshold):
    y, p, _ = columns(data)
    unweighted = _all_metrics(y, p, None, threshold)
    weighted = _all_metrics(y, p, np.full(len(y), weight), threshold)
    for a, b in zip(weighted, unweighted, strict=True):
        assert close(a, b)


@settings(max_examples=150, deadline=None)
@given(rows, st.lists(st.integers(0, 4), min_size=40, max_size=40), probabilities)
def test_integer_weights_equal_repeated_rows(data, counts, threshold):
    y, p, _ = columns(data)
    repeats = np.array(counts[: len(y)])
    assume(repeats.sum() > 0)
    weighted = _all_metrics(y, p, repeats, threshold)
    repeated = _all_metrics(np.repeat(y, repeats), np.repeat(p, repeats), None, threshold)
    for a, b in zip(weighted, repeated, strict=True):
        assert close(a, b)
    table_w = reliability_table(y, p, 7, repeats)
    table_r = reliability_table(np.repeat(y, repeats), np.repeat(p, repeats), 7)
    assert table_w["weight"].to_list() == [float(c) for c in table_r["count"].to_list()]
