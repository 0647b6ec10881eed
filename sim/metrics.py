"""Model quality on arrays: log loss, Brier score, ROC AUC, recall, specificity and calibration.

Conventions shared by every function:

- ``y`` holds labels 0/1 (ints, bools, or floats equal to 0 or 1); ``p`` holds the predicted
  probability of label 1, in [0, 1]; ``weights`` (optional) are finite and non-negative, e.g.
  amounts, so that a metric counts money rather than rows. All are 1-D array-likes of the
  same length. Anything else — different lengths, empty input, NaN, ``p`` outside [0, 1],
  ``y`` not 0/1, negative weights, weights summing to zero — raises ``ValueError``.
- Weighted means divide by the sum of the weights; without weights every row weighs 1.
- A metric that the data leave undefined is ``nan``, not an error: ROC AUC with one class
  only, recall without positives, specificity without negatives (or when that class has zero
  total weight). A day without fraud is a normal day.
- Calibration bins are equal-width and left-closed, ``[k/B, (k+1)/B)``, the last one closed at
  1, so p = 0.0 is in the first bin and p = 1.0 in the last. The edges are ``k / B`` in float64
  (``np.arange(B + 1) / B``, each correctly rounded), and a value is placed by comparing it
  with those edges, so a probability written as a decimal on an edge lands in the bin that
  edge opens: 0.3 is in bin 3 of 10 and 0.29 in bin 29 of 100. Neither
  ``np.linspace(0, 1, 11)`` (whose edge 3 is 0.30000000000000004) nor ``np.floor(p * B)``
  (0.29 * 100 = 28.999999999999996) has that property. ``p`` is compared in float64: a
  float32 0.7 is 0.699999988 and falls in bin 6.
- Vectorised numpy, no per-row Python: O(n), except ROC AUC, which sorts (O(n log n)).
"""

from __future__ import annotations

import operator
from collections.abc import Sequence

import numpy as np
import polars as pl
from scipy import special

from .columns import stable_order

LOG_LOSS_CLIP = 1e-15

ArrayLike = np.ndarray | Sequence[float] | Sequence[int] | Sequence[bool]


def t_interval(values: ArrayLike, axis: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and 95 % Student-t interval of the mean along ``axis`` (replications); with one value
    the bounds are the mean.

    >>> [round(float(x), 6) for x in t_interval([1.0, 2.0, 3.0])]
    [2.0, -0.484138, 4.484138]
    """
    values = np.asarray(values, float)
    mean = values.mean(axis=axis)
    n = values.shape[axis]
    if n < 2:
        return mean, mean, mean
    half = special.stdtrit(n - 1, 0.975) * values.std(axis=axis, ddof=1) / np.sqrt(n)
    return mean, mean - half, mean + half


def wilson(successes: float, trials: float, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score 95 % interval of a proportion (sound for small counts and shares near 0).

    >>> [round(x, 4) for x in wilson(5, 50)]
    [0.0435, 0.2136]
    """
    if trials <= 0:
        return 0.0, 1.0
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * np.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return float(max(centre - half, 0.0)), float(min(centre + half, 1.0))


def interval(values: np.ndarray) -> dict[str, float | None]:
    """Mean and 95 % Student-t interval over replications, rounded as the summaries write them
    (null bounds with one value).

    >>> interval(np.array([1.0, 2.0, 3.0]))
    {'mean': 2.0, 'ci_low': -0.484138, 'ci_high': 4.484138}
    """
    mean, low, high = t_interval(values)
    if np.size(values) < 2:
        return {"mean": round6(mean), "ci_low": None, "ci_high": None}
    return {"mean": round6(mean), "ci_low": round6(low), "ci_high": round6(high)}


def round6(x: float) -> float:
    """A number as the summaries write it: six decimals."""
    return round(float(x), 6)


def _vector(name: str, values: ArrayLike) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric or boolean, got dtype {array.dtype}")
    return array.astype(np.float64, copy=False)


def _inputs(y: ArrayLike, p: ArrayLike, weights: ArrayLike | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validated float64 copies of ``y``, ``p`` and the weights (ones when not given)."""
    y_arr = _vector("y", y)
    p_arr = _vector("p", p)
    w_arr = None if weights is None else _vector("weights", weights)
    lengths = [len(y_arr), len(p_arr)] + ([] if w_arr is None else [len(w_arr)])
    if len(set(lengths)) != 1:
        names = "y and p" if w_arr is None else "y, p and weights"
        raise ValueError(f"{names} must have the same length, got {lengths}")
    if len(y_arr) == 0:
        raise ValueError("y and p are empty")
    if not ((y_arr == 0) | (y_arr == 1)).all():
        raise ValueError("y must hold only 0 and 1 (or False and True)")
    if np.isnan(p_arr).any():
        raise ValueError("p contains NaN")
    if p_arr.min() < 0 or p_arr.max() > 1:
        raise ValueError(f"p must lie in [0, 1], got values from {p_arr.min()} to {p_arr.max()}")
    if w_arr is None:
        return y_arr, p_arr, np.ones_like(p_arr)
    if not np.isfinite(w_arr).all():
        raise ValueError("weights must be finite (no NaN or infinity)")
    if w_arr.min() < 0:
        raise ValueError(f"weights must be non-negative, got {w_arr.min()}")
    if w_arr.sum() <= 0:
        raise ValueError("weights sum to zero")
    return y_arr, p_arr, w_arr


def log_loss(y: ArrayLike, p: ArrayLike, weights: ArrayLike | None = None) -> float:
    """Mean negative log-likelihood (natural log), ``p`` clipped to [1e-15, 1 - 1e-15].

    >>> round(log_loss([1, 0], [0.8, 0.4]), 6)  # -(ln 0.8 + ln 0.6) / 2
    0.366985
    >>> round(log_loss([1, 0], [0.8, 0.4], weights=[3, 1]), 6)  # -(3 ln 0.8 + ln 0.6) / 4
    0.295064
    """
    y_arr, p_arr, w_arr = _inputs(y, p, weights)
    return float(np.dot(w_arr, row_log_loss(y_arr, p_arr)) / w_arr.sum())


def row_log_loss(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Each row's negative log-likelihood, ``p`` clipped to [1e-15, 1 - 1e-15] (checked inputs)."""
    clipped = np.clip(p, LOG_LOSS_CLIP, 1 - LOG_LOSS_CLIP)
    return -np.where(y == 1, np.log(clipped), np.log1p(-clipped))


def brier_score(y: ArrayLike, p: ArrayLike, weights: ArrayLike | None = None) -> float:
    """Mean squared difference between ``p`` and ``y``.

    >>> round(brier_score([1, 0], [0.8, 0.4]), 6)  # (0.2² + 0.4²) / 2
    0.1
    """
    y_arr, p_arr, w_arr = _inputs(y, p, weights)
    return float(np.dot(w_arr, (p_arr - y_arr) ** 2) / w_arr.sum())


def roc_auc(y: ArrayLike, p: ArrayLike, weights: ArrayLike | None = None) -> float:
    """Area under the ROC curve: the chance a positive scores above a negative, ties counting
    one half; with weights, each (positive, negative) pair weighs w_pos × w_neg.

    Exact, by sorting and grouping tied scores (O(n log n)). ``nan`` when only one class is
    present (or one class has zero total weight).

    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.4, 0.9])  # 3 pairs ordered, 1 tied, of 4
    0.875
    >>> roc_auc([0, 1], [0.7, 0.2], weights=[1, 5])
    0.0
    >>> roc_auc([1, 1], [0.3, 0.6])
    nan
    """
    y_arr, p_arr, w_arr = _inputs(y, p, weights)
    positive = w_arr * y_arr
    negative = w_arr - positive
    total_positive, total_negative = positive.sum(), negative.sum()
    if total_positive <= 0 or total_negative <= 0:
        return float("nan")
    order, starts = tie_groups(p_arr)
    return grouped_auc(positive[order], negative[order], starts)


def tie_groups(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The order that sorts ``p`` (stable) and where each run of tied scores starts in it."""
    order = stable_order(p)  # = np.argsort(p, kind="stable"), faster
    sorted_p = p[order]
    return order, np.flatnonzero(np.r_[True, sorted_p[1:] != sorted_p[:-1]])


def grouped_auc(positive: np.ndarray, negative: np.ndarray, starts: np.ndarray) -> float:
    """ROC AUC from the rows' positive and negative weights in score order (:func:`tie_groups`),
    ties counting one half; ``nan`` when a class has no weight."""
    group_positive = np.add.reduceat(positive, starts)
    group_negative = np.add.reduceat(negative, starts)
    total_positive, total_negative = group_positive.sum(), group_negative.sum()
    if total_positive <= 0 or total_negative <= 0:
        return float("nan")
    negative_below = np.cumsum(group_negative) - group_negative
    won = np.dot(group_positive, negative_below + 0.5 * group_negative)
    return float(won / total_positive / total_negative)


def average_precision(y: ArrayLike, p: ArrayLike) -> float:
    """Average precision, as scikit-learn's ``average_precision_score``: the precision at each
    distinct score, from the highest down, weighted by the recall it adds, Σ (Rₙ − Rₙ₋₁) Pₙ (tied
    scores form one step). ``nan`` without positives.

    >>> average_precision([0, 1, 1, 0], [0.1, 0.9, 0.4, 0.6])  # (1/2)·1 + (1/2)·(2/3)
    0.8333333333333333
    >>> average_precision([0, 0], [0.2, 0.3])
    nan
    """
    y_arr, p_arr, _ = _inputs(y, p, None)
    positives = y_arr.sum()
    if positives <= 0:
        return float("nan")
    order = stable_order(-p_arr)
    sorted_p = p_arr[order]
    ends = np.r_[np.flatnonzero(sorted_p[1:] != sorted_p[:-1]), len(sorted_p) - 1]  # last row of each tie
    hits = np.cumsum(y_arr[order])[ends]
    precision = hits / (ends + 1)
    return float(np.dot(np.diff(np.r_[0.0, hits]), precision) / positives)


def top_cards(card: np.ndarray, y: np.ndarray, p: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` cards with the highest score among some transactions (a card scores its highest
    transaction; ties go to the smaller card id) and whether each is fraudulent (any fraud).

    >>> cards, fraud = top_cards(np.array([7, 7, 8, 9]), np.array([0, 1, 0, 0]), np.array([0.2, 0.9, 0.5, 0.5]), 2)
    >>> cards.tolist(), fraud.tolist()
    ([7, 8], [True, False])
    """
    if len(card) == 0:
        return np.empty(0, np.asarray(card).dtype), np.empty(0, bool)
    best = (
        pl.DataFrame({"card": np.asarray(card), "p": np.asarray(p, np.float64), "y": np.asarray(y)})
        .group_by("card")
        .agg(pl.col("p").max(), pl.col("y").max())
        .sort(["p", "card"], descending=[True, False])
        .head(k)
    )
    return best["card"].to_numpy(), best["y"].to_numpy() == 1


def card_precision_at_k(
    day: np.ndarray, card: np.ndarray, y: ArrayLike, p: ArrayLike, k: int, drop_found: bool = True
) -> tuple[np.ndarray, np.ndarray, float]:
    """Card precision@k: each day, the ``k`` cards with the highest score (:func:`top_cards`) are
    the ones investigators with capacity ``k`` check, and the day's precision is the fraudulent
    ones among them ÷ ``k`` (÷ ``k`` even on a day with fewer cards). With ``drop_found``, a
    fraudulent card found on one day is left out of every later day (it is blocked).

    Returns the days (ascending), their precisions, and their mean (the textbook's measure).

    >>> day, card = np.array([0, 0, 0, 1, 1]), np.array([7, 7, 8, 7, 9])
    >>> days, precision, mean = card_precision_at_k(day, card, [0, 1, 0, 1, 0], [0.2, 0.9, 0.5, 0.8, 0.3], k=1)
    >>> precision.tolist(), mean  # day 0: card 7 (0.9, fraud); day 1: card 7 is gone, card 9 is not fraud
    ([1.0, 0.0], 0.5)
    """
    y_arr, p_arr, _ = _inputs(y, p, None)
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    day, card = np.asarray(day), np.asarray(card)
    order = np.argsort(day, kind="stable")
    days, starts = np.unique(day[order], return_index=True)
    stops = np.r_[starts[1:], len(order)]
    precision = np.empty(len(days))
    found = np.empty(0, card.dtype)
    for index, (start, stop) in enumerate(zip(starts.tolist(), stops.tolist(), strict=True)):
        rows = order[start:stop]
        if drop_found and len(found):
            rows = rows[~np.isin(card[rows], found)]
        cards, fraud = top_cards(card[rows], y_arr[rows], p_arr[rows], k)
        precision[index] = fraud.sum() / k
        if drop_found:
            found = np.concatenate([found, cards[fraud]])
    return days, precision, float(precision.mean())


def _flag_share(y: ArrayLike, p: ArrayLike, threshold: float, weights: ArrayLike | None, label: int) -> float:
    """Weighted share of the rows with ``y == label`` whose flag (``p >= threshold``) says so."""
    if np.isnan(threshold):
        raise ValueError("threshold is NaN")
    y_arr, p_arr, w_arr = _inputs(y, p, weights)
    in_class = y_arr == label
    class_weight = w_arr[in_class].sum()
    if class_weight <= 0:
        return float("nan")
    flagged = p_arr >= threshold
    correct = flagged if label == 1 else ~flagged
    return float(w_arr[in_class & correct].sum() / class_weight)


def recall(y: ArrayLike, p: ArrayLike, threshold: float = 0.5, weights: ArrayLike | None = None) -> float:
    """Weighted share of positives flagged (``p >= threshold``); ``nan`` without positives.

    >>> recall([1, 1, 1, 0], [0.9, 0.5, 0.2, 0.8])
    0.6666666666666666
    >>> recall([1, 1, 1, 0], [0.9, 0.5, 0.2, 0.8], weights=[10, 10, 80, 1])  # share of money
    0.2
    """
    return _flag_share(y, p, threshold, weights, label=1)


def specificity(y: ArrayLike, p: ArrayLike, threshold: float = 0.5, weights: ArrayLike | None = None) -> float:
    """Weighted share of negatives not flagged (``p < threshold``); ``nan`` without negatives.

    >>> specificity([0, 0, 0, 1], [0.1, 0.5, 0.2, 0.8])
    0.6666666666666666
    >>> specificity([1], [0.3])
    nan
    """
    return _flag_share(y, p, threshold, weights, label=0)


def _bin_edges(n_bins: int) -> np.ndarray:
    if isinstance(n_bins, bool):
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
    try:
        count = operator.index(n_bins)
    except TypeError:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}") from None
    if count < 1:
        raise ValueError(f"n_bins must be a positive integer, got {count}")
    return np.arange(count + 1) / count


def bin_index(edges: np.ndarray, p: np.ndarray) -> np.ndarray:
    """The bin of each ``p`` in [0, 1] for equal-width ``edges`` (``np.arange(B + 1) / B``):
    ``k`` with ``edges[k] <= p < edges[k + 1]``, exactly, and p = 1 in the last bin. The same as
    ``np.minimum(np.searchsorted(edges, p, side="right") - 1, B - 1)``, faster: ``floor(p × B)``
    is at most one bin off, and a comparison with each neighbouring edge corrects it.

    >>> bin_index(np.arange(11) / 10, np.array([0.0, 0.29, 0.3, 0.99, 1.0])).tolist()
    [0, 2, 3, 9, 9]
    """
    count = len(edges) - 1
    index = np.minimum((p * count).astype(np.intp), count)
    index -= edges[index] > p
    index += (index < count) & (edges[np.minimum(index + 1, count)] <= p)
    return np.minimum(index, count - 1)


def bin_sums(
    y: ArrayLike, p: ArrayLike, n_bins: int = 10, weights: ArrayLike | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The edges, and per bin: row count, weight, weighted sum of p, weighted sum of y.

    Sums from several batches add up, so a reliability table can be built incrementally
    (see :func:`reliability_from_sums`).

    >>> edges, rows, weight, sum_p, sum_y = bin_sums([0, 1], [0.05, 0.95], n_bins=2)
    >>> rows.tolist(), sum_y.tolist()
    ([1, 1], [0.0, 1.0])
    """
    edges = _bin_edges(n_bins)
    y_arr, p_arr, w_arr = _inputs(y, p, weights)
    count = len(edges) - 1
    index = bin_index(edges, p_arr)
    rows = np.bincount(index, minlength=count)
    weight = np.bincount(index, weights=w_arr, minlength=count)
    sum_p = np.bincount(index, weights=w_arr * p_arr, minlength=count)
    sum_y = np.bincount(index, weights=w_arr * y_arr, minlength=count)
    return edges, rows, weight, sum_p, sum_y


def expected_calibration_error(y: ArrayLike, p: ArrayLike, n_bins: int = 10, weights: ArrayLike | None = None) -> float:
    """Σ over bins of (the bin's share of the weight) × |weighted mean y − weighted mean p|.

    Bins are ``[k/B, (k+1)/B)`` with edges ``k / B`` in float64, the last bin closed at 1
    (see the module docstring). With ``weights`` = amounts it is the amount-weighted ECE.
    Always in [0, 1].

    >>> # bin 1 holds p = 0.1, 0.1 with y = 0, 1: gap 0.4; bin 3 holds p = 0.3 with y = 0: gap 0.3
    >>> round(expected_calibration_error([0, 1, 0], [0.1, 0.1, 0.3]), 6)  # (2 × 0.4 + 0.3) / 3
    0.366667
    """
    _, _, weight, sum_p, sum_y = bin_sums(y, p, n_bins, weights)
    return float(np.abs(sum_y - sum_p).sum() / weight.sum())


def reliability_table(y: ArrayLike, p: ArrayLike, n_bins: int = 10, weights: ArrayLike | None = None) -> pl.DataFrame:
    """One row per bin, sorted by bin, empty bins included: ``bin``, ``lower``, ``upper``,
    ``count`` (rows), ``weight`` (sum of weights; = count without weights), ``mean_p`` and
    ``mean_y`` (weighted means; null when the bin's weight is zero, e.g. an empty bin), ``gap``
    (mean_y − mean_p).

    Bins are ``[lower, upper)`` with ``lower = k / B`` in float64, the last bin closed at 1
    (see the module docstring).

    >>> table = reliability_table([0, 1, 1], [0.0, 0.2, 1.0], n_bins=4)
    >>> table["count"].to_list(), table["mean_y"].to_list()
    ([2, 0, 0, 1], [0.5, None, None, 1.0])
    >>> table.columns
    ['bin', 'lower', 'upper', 'count', 'weight', 'mean_p', 'mean_y', 'gap']
    >>> table.row(0)  # p = 0.0 and 0.2 with y = 0 and 1
    (0, 0.0, 0.25, 2, 2.0, 0.1, 0.5, 0.4)
    """
    return reliability_from_sums(*bin_sums(y, p, n_bins, weights))


def reliability_from_sums(
    edges: np.ndarray, rows: np.ndarray, weight: np.ndarray, sum_p: np.ndarray, sum_y: np.ndarray
) -> pl.DataFrame:
    """The reliability table of :func:`reliability_table` from (summed) :func:`bin_sums`."""
    has_weight = pl.col("weight") > 0
    return (
        pl.DataFrame(
            {
                "bin": np.arange(len(rows), dtype=np.int64),
                "lower": edges[:-1],
                "upper": edges[1:],
                "count": np.asarray(rows).astype(np.int64),
                "weight": weight,
                "_sum_p": sum_p,
                "_sum_y": sum_y,
            }
        )
        .with_columns(
            mean_p=pl.when(has_weight).then(pl.col("_sum_p") / pl.col("weight")),
            mean_y=pl.when(has_weight).then(pl.col("_sum_y") / pl.col("weight")),
        )
        .with_columns(gap=pl.col("mean_y") - pl.col("mean_p"))
        .drop("_sum_p", "_sum_y")
    )
