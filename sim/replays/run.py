"""A replay's results: metrics per learner, overall and per day, calibration, money, and the output
directory (docs/replay.md lists every file and column).

Money is counted only with an amount column, with the simulator's expected-cost policy: decline
when ``p × (amount + fraud_fee) > (1 − p) × (decline_fixed + decline_rate × amount)``. On a logged
stream it is counterfactual: the stream was already shaped by the decisions of the system that
logged it (what it declined, the fraud it deterred, the labels it let arrive).
"""

from __future__ import annotations

import platform
import time as clock
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import polars as pl

from .. import metrics
from ..detect.policy import decide, decline_cost
from ..outputs import REPLAY_MARKERS, ReportError, atomic_directory, build_kept, output_list, write_json, write_parquet
from ..schema import Arm, OnlineArm, Policy
from ..units import DAY, format_duration
from .engine import LearnerRun, Mode, Progress, Timeline, replay_arms, sees_truth
from .rankings import baselines, money_warnings, rankings
from .stream import ReplayError, Stream, StreamSpec, read_stream

# Batch mode: an online logistic learner takes one summed step per tick, which matches the exact
# mode's per-label steps to first order in lr × labels per tick × mean ‖x‖² (how far one step moves
# another row's log-odds); keep that product at most this: 5 × 8, the documented limit on the
# 8-feature benchmark stream (docs/replay.md).
BATCH_STEP_LIMIT = 40.0

# Labels that arrive too late to matter: warn when fewer than this share of the scored rows come
# after a label has arrived (docs/replay.md).
LEARNING_SHARE_LIMIT = 0.1
HISTORY_MIN_LABELS = 10  # as a batch retrain's default min_labels

SCHEMA_VERSION = 1
CAVEAT = (
    "Money on a logged stream is counterfactual. The stream was already shaped by the decisions of the "
    "system that logged it: transactions it declined may carry no label or a different one, fraud it "
    "deterred never happened, and fraudsters would have reacted to a different detector. Read the money "
    "as what these scores would have decided on this traffic, not as what they would have saved."
)
SEMANTICS = {
    "exact": "river's delayed progressive validation: rows in time order (ties in file order); before a row "
    "is scored, every label of an earlier row whose arrival time is at or before the row's time has been "
    "learned, oldest arrival first (ties in row order); a row is scored before its own label is learned.",
    "batch": "micro-batches: labels reach the learners at the first tick boundary at or after their arrival, "
    "and each learner scores a tick's rows with the model it had at the tick's start.",
}


DAILY = (
    "rows",
    "frauds",
    "mean_score",
    "log_loss",
    "roc_auc",
    "average_precision",
    "card_precision",
    "recall",
    "specificity",
    "fraud_loss",
    "friction",
)
METRICS = (
    "rows",
    "frauds",
    "mean_score",
    "log_loss",
    "brier",
    "roc_auc",
    "average_precision",
    "card_precision",
    "recall",
    "specificity",
    "ece",
    "ece_amount",
    "declined",
    "fraud_loss",
    "fraud_prevented",
    "friction",
    "total_cost",
)
MONEY = ("ece_amount", "declined", "fraud_loss", "fraud_prevented", "friction", "total_cost")
CARDS = ("card_precision",)  # with --card
TYPES = {
    "learner": pl.String,
    "kind": pl.String,
    "day": pl.Int64,
    "rows": pl.Int64,
    "frauds": pl.Int64,
    "declined": pl.Int64,
}


def _schema(columns: Sequence[str], money: bool, cards: bool) -> dict:
    return {c: TYPES.get(c, pl.Float64) for c in columns if (money or c not in MONEY) and (cards or c not in CARDS)}


@dataclass(frozen=True)
class ReplaySettings:
    """How to replay: ``mode`` exact or batch (with its ``tick``), a ``history`` to start from, the
    ``threshold`` for recall and specificity, and the policy and currency for money."""

    mode: Mode = "exact"
    tick: float = 900.0
    history: float = 0.0
    threshold: float = 0.5
    policy: Policy = field(default_factory=Policy)
    currency: str = "EUR"
    seed: int = 0
    top_k: int = 100  # cards investigators check a day, for card precision@k (with a card column)
    score_from: float = 0.0  # metrics count the scored rows from this long after the history's end
    score_until: float = float("inf")  # … until this long after it
    skip_known_cards: bool = False  # … and leave out rows of cards with a fraud label arrived (needs a card column)


def quality(y: np.ndarray, p: np.ndarray, amount: np.ndarray | None, threshold: float, policy: Policy) -> dict:
    """Quality and (with amounts) money of scores ``p`` on labels ``y``; undefined metrics are None.

    >>> q = quality(np.array([0, 1, 0, 1]), np.array([0.1, 0.8, 0.6, 0.3]), None, 0.5, Policy())
    >>> q["rows"], q["frauds"], q["roc_auc"], q["average_precision"], q["recall"], q["specificity"]
    (4, 2, 0.75, 0.8333333333333333, 0.5, 0.5)
    """

    def value(number: float) -> float | None:
        return None if np.isnan(number) else float(number)

    out: dict = {
        "rows": int(len(y)),
        "frauds": int(y.sum()),
        "mean_score": float(p.mean()),
        "log_loss": metrics.log_loss(y, p),
        "brier": metrics.brier_score(y, p),
        "roc_auc": value(metrics.roc_auc(y, p)),
        "average_precision": value(metrics.average_precision(y, p)),
        "recall": value(metrics.recall(y, p, threshold)),
        "specificity": value(metrics.specificity(y, p, threshold)),
        "ece": metrics.expected_calibration_error(y, p),
    }
    if amount is not None:
        fraud = y == 1
        declined = decide(p, amount, policy)
        out["ece_amount"] = metrics.expected_calibration_error(y, p, weights=amount) if amount.sum() > 0 else None
        out["declined"] = int(declined.sum())
        out["fraud_loss"] = float((amount + policy.fraud_fee)[fraud & ~declined].sum())
        out["fraud_prevented"] = float(amount[fraud & declined].sum())
        out["friction"] = float(decline_cost(amount, policy)[~fraud & declined].sum())
        out["total_cost"] = out["fraud_loss"] + out["friction"]
    return out


def batch_warnings(line: Timeline, arms: Sequence[Arm], tick: float) -> list[str]:
    """Online logistic arms whose summed step in one tick passes the tolerance limit: lr × labels
    × mean ‖x‖², where ‖x‖² is the number of features when they are scaled (river's scaler gives
    each unit variance) and the mean squared norm of the scored rows' features when not."""

    def busiest(arrivals: np.ndarray) -> int:
        arrivals = arrivals[arrivals <= line.time[-1]] - line.origin
        return int(np.bincount(np.ceil(arrivals / tick).astype(np.int64)).max()) if len(arrivals) else 0

    warnings = []
    for arm in arms:
        if not (isinstance(arm, OnlineArm) and arm.model == "logistic"):
            continue
        labels = busiest((line.time if sees_truth(arm) else line.label_at)[line.first :])
        norm = line.X.shape[1] if arm.scaling else float(np.mean(np.square(line.X[line.first :]).sum(axis=1)))
        step = arm.lr * labels * norm
        if step > BATCH_STEP_LIMIT:
            scale = "" if arm.scaling else " (unscaled: --no-scaling)"
            warnings.append(
                f"{arm.name}: up to {labels:,} labels reach the learner in one {format_duration(tick)} "
                f"tick; with lr {arm.lr:g} and features of mean squared norm {norm:,.3g}{scale} its "
                f"summed step (lr × labels × norm = {step:,.0f}) is past the batch-mode tolerance (at "
                f"most {BATCH_STEP_LIMIT:g}): use a shorter --tick, scaled features or the exact mode "
                "(docs/replay.md)"
            )
    return warnings


def label_warnings(line: Timeline, arms: Sequence[Arm], delay: str) -> list[str]:
    """A warning when labels arrive too late to matter.

    A scored row counts when the label of an earlier scored row has arrived by its time (the exact
    mode's rule; in batch mode labels wait for the next tick boundary, so fewer rows may see one).
    With no such row, no learner learns during the replay; with fewer than ``LEARNING_SHARE_LIMIT``
    of the scored rows, the metrics mostly measure the starting models. The oracle, whose labels
    arrive at once, and the static learner, which is not meant to learn, are left out: a replay of
    those alone gets no warning.
    """
    learning = [arm for arm in arms if not sees_truth(arm) and arm.learner != "static"]
    if not learning:
        return []
    time, label_at = line.time[line.first :], line.label_at[line.first :]
    scored = len(time)
    late = line.label_at[: line.first]
    late = late[late > line.origin]  # history labels that arrive during the replay
    earliest = np.minimum(np.r_[np.inf, np.minimum.accumulate(label_at)[:-1]], late.min() if len(late) else np.inf)
    learned = int((earliest <= time).sum())  # the earliest arrival so far ≤ the row's time
    if learned >= LEARNING_SHARE_LIMIT * scored:
        return []
    names = ", ".join(arm.name for arm in learning)
    learners = f"the learners ({names})" if len(learning) < len(arms) else "the learners"
    basis = (
        "from the --history alone" if line.first else "without a model, as there is no --history (0.5; online trees 0)"
    )
    where = f"label delay: {delay}; the scored rows span {(time[-1] - time[0]) / DAY:.1f} days"
    if learned == 0:
        return [
            f"no label arrives before the last row is scored ({where}): {learners} learn nothing during the "
            f"replay and score every row {basis}; give a longer stream or shorter label delays"
        ]
    return [
        f"only {learned:,} of {scored:,} scored rows ({learned / scored:.1%}, fewer than "
        f"{LEARNING_SHARE_LIMIT:.0%}) are scored after a label has arrived ({where}): {learners} score the "
        f"rest {basis}, so the metrics mostly measure the starting models, not learning under label delay; "
        "give a longer stream or shorter label delays"
    ]


def history_warnings(line: Timeline, arms: Sequence[Arm]) -> list[str]:
    """A warning when the labels of the history that have arrived by its end cannot train a model:
    fewer than ``HISTORY_MIN_LABELS`` of a class (every learner fed delayed labels then starts from
    a constant score)."""
    if not line.first or all(sees_truth(arm) for arm in arms):
        return []
    known = line.label[: line.first][line.label_at[: line.first] <= line.origin]
    frauds = int(known.sum())
    if min(frauds, len(known) - frauds) >= HISTORY_MIN_LABELS:
        return []
    return [
        f"by the end of the --history, {len(known):,} of its {line.first:,} labels have arrived "
        f"({frauds:,} fraud): too few to fit a first model (it needs {HISTORY_MIN_LABELS} of each class), so "
        "the learners fed delayed labels start from a constant score; lengthen --history to cover the "
        "label delay"
    ]


ONE_CLASS_SHARE = 0.2  # of the scored rows, scored while the arrived labels were all of one class
MIX_FACTOR = 3.0  # the arrived labels' fraud share this many times off the stream's


def class_warnings(line: Timeline, arms: Sequence[Arm]) -> list[str]:
    """Warnings when the labels that reach the learners fed delayed labels are not the stream's
    classes: all of one class while at least ``ONE_CLASS_SHARE`` of the rows are scored (a learner
    then learns to score one class: when legitimate labels arrive only at maturity, every payment
    looks like fraud), or a fraud share ``MIX_FACTOR`` times off the stream's by its end."""
    learning = [arm for arm in arms if not sees_truth(arm)]
    if not learning:
        return []
    time = line.time[line.first :]
    arrived = {c: np.sort(line.label_at[(line.label == c) & np.isfinite(line.label_at)]) for c in (0, 1)}
    counts = {c: np.searchsorted(at, time, side="right") for c, at in arrived.items()}
    warnings = []
    for c, name, other in ((0, "legitimate", "fraud"), (1, "fraud", "legitimate")):
        alone = (counts[c] > 0) & (counts[1 - c] == 0)
        if alone.mean() >= ONE_CLASS_SHARE:
            until = time[np.flatnonzero(alone)[-1]] - time[0]
            warnings.append(
                f"for {alone.mean():.0%} of the scored rows (their first {until / DAY:.1f} days) every label "
                f"that had arrived was {name}: learners fed delayed labels had no {other} label to learn from "
                "and learn to score one class; give a --history that covers the label delay, or labels of "
                f"both classes sooner (a delay for {other} labels)"
            )
    by_end = np.isfinite(line.label_at) & (line.label_at <= line.time[-1])
    stream_share, arrived_share = float(line.label.mean()), float(line.label[by_end].mean()) if by_end.any() else 0.0
    if (
        stream_share > 0
        and arrived_share > 0
        and max(arrived_share, stream_share) >= MIX_FACTOR * min(arrived_share, stream_share)
    ):
        warnings.append(
            f"the labels that arrive by the stream's end are {arrived_share:.2%} fraud, the stream "
            f"{stream_share:.2%}: the classes' delays differ so much that learners fed delayed labels learn "
            "another fraud rate, and their probabilities are off by as much (check the delay of each class)"
        )
    return warnings


def _null_nan(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col(pl.Float64).fill_nan(None))


def known_cards(stream: Stream) -> np.ndarray:
    """Whether each row's card is known to be compromised when the row happens: a fraud label of
    another row of the card has arrived by then (the row's own label never counts).

    >>> from types import SimpleNamespace as S
    >>> rows = S(card=np.array([1, 1, 2, 1]), time=np.array([0.0, 5.0, 6.0, 9.0]), label=np.array([1, 0, 1, 1]),
    ...          label_at=np.array([5.0, 8.0, 6.0, 9.0]))
    >>> known_cards(rows).tolist()  # row 0's label arrives at 5: rows 1 and 3 of card 1; row 2's own does not count
    [False, True, False, True]
    """
    fraud = np.flatnonzero(stream.label == 1)
    order = fraud[np.lexsort((stream.label_at[fraud], stream.card[fraud]))]  # by card, then arrival
    cards = stream.card[order]
    starts = np.flatnonzero(np.r_[True, cards[1:] != cards[:-1]]) if len(order) else np.empty(0, np.int64)
    twice = starts[np.diff(np.r_[starts, len(order)]) >= 2]  # cards with two fraud labels or more
    size = int(stream.card.max()) + 1
    first_at, first_row, second_at = np.full(size, np.inf), np.full(size, -1), np.full(size, np.inf)
    first_at[cards[starts]], first_row[cards[starts]] = stream.label_at[order[starts]], order[starts]
    second_at[cards[twice]] = stream.label_at[order[twice + 1]]
    own = first_row[stream.card] == np.arange(len(stream.card))  # the card's first fraud label is the row's own
    earliest = np.where(own, second_at[stream.card], first_at[stream.card])
    return earliest <= stream.time


def counted_rows(stream: Stream, first: int, origin: float, settings: ReplaySettings) -> np.ndarray:
    """The scored rows the metrics count: inside the evaluation window and, with
    ``skip_known_cards``, of cards not yet known to be compromised."""
    time = stream.time[first:]
    counted = (time >= origin + settings.score_from) & (time < origin + settings.score_until)
    if settings.skip_known_cards:
        counted &= ~known_cards(stream)[first:]
    return counted


def replay_days(time: np.ndarray, origin: float) -> np.ndarray:
    """Each row's day; day 0 starts at the origin."""
    return np.floor((time - origin) / DAY).astype(np.int64)


def card_precisions(
    runs: Sequence[LearnerRun], day: np.ndarray, card: np.ndarray | None, y: np.ndarray, k: int
) -> dict[str, tuple[dict[int, float], float]] | None:
    """Each learner's card precision@k per day and its mean over the days (None without cards)."""
    if card is None:
        return None
    out = {}
    for run in runs:
        days, precision, mean = metrics.card_precision_at_k(day, card, y, run.score, k)
        out[run.name] = (dict(zip(days.tolist(), precision.tolist(), strict=True)), mean)
    return out


def daily_table(
    runs: Sequence[LearnerRun],
    day: np.ndarray,
    y: np.ndarray,
    amount: np.ndarray | None,
    threshold: float,
    policy: Policy,
    cards: dict[str, tuple[dict[int, float], float]] | None = None,
) -> pl.DataFrame:
    """Quality per learner and day (``day``: each row's, from :func:`replay_days`)."""
    starts = np.flatnonzero(np.r_[True, day[1:] != day[:-1]])
    stops = np.r_[starts[1:], len(day)]
    rows = []
    for run in runs:
        for start, stop in zip(starts.tolist(), stops.tolist(), strict=True):
            part = slice(start, stop)
            q = quality(y[part], run.score[part], None if amount is None else amount[part], threshold, policy)
            if cards is not None:
                q["card_precision"] = cards[run.name][0][int(day[start])]
            rows.append({"learner": run.name, "day": int(day[start]), **{k: q[k] for k in DAILY if k in q}})
    schema = _schema(("learner", "day", *DAILY), amount is not None, cards is not None)
    return _null_nan(pl.DataFrame(rows, schema=schema))


def reliability_table(runs: Sequence[LearnerRun], y: np.ndarray, amount: np.ndarray | None) -> pl.DataFrame:
    """Ten equal-width score bins per learner, by rows and (with amounts) by amount."""
    frames = []
    for run in runs:
        weightings = [("count", None)] + ([("amount", amount)] if amount is not None and amount.sum() > 0 else [])
        for weighting, weights in weightings:
            table = metrics.reliability_table(y, run.score, 10, weights)
            frames.append(
                table.select(pl.lit(run.name).alias("learner"), pl.lit(weighting).alias("weighting"), pl.all())
            )
    return pl.concat(frames)


def predictions_table(stream: Stream, runs: Sequence[LearnerRun], first: int, counted: np.ndarray) -> pl.DataFrame:
    """One row per learner and scored row, learners in order, rows in time order; ``counted``:
    whether the metrics count the row."""
    scored = slice(first, None)
    parts = []
    for run in runs:
        columns = {
            "learner": pl.repeat(run.name, len(run.score), dtype=pl.String, eager=True),
            "row": stream.row[scored],
            "time": stream.time[scored],
            "label": stream.label[scored],
            "label_at": np.where(np.isfinite(run.label_at), run.label_at, np.nan),
        }
        if stream.amount is not None:
            columns["amount"] = stream.amount[scored]
        columns["score"] = run.score
        columns["counted"] = counted
        parts.append(pl.DataFrame(columns))
    return pl.concat(parts).with_columns(pl.col("label_at").fill_nan(None))


def skipped_warnings(runs: Sequence[LearnerRun]) -> list[str]:
    """One warning per learner whose retrains were skipped for want of labels of a class."""
    warnings = []
    for run in runs:
        skipped = [e for e in run.model_events if e.kind == "skipped"]
        if skipped:
            warnings.append(
                f"{run.name}: {len(skipped)} retrain(s) skipped and the deployed model kept, the first "
                f"because the window held {skipped[0].detail}; consider a longer --history or window"
            )
    return warnings


LEAKAGE_AUC = 0.995  # a feature this good on its own is more likely computed from the label than predictive


def features_line(stream: Stream) -> str:
    """The features a replay uses, and the columns the default left out with why."""
    line = f"features ({len(stream.features)}): {', '.join(stream.features)}"
    if stream.excluded:
        line += "; left out: " + ", ".join(f"{name!r} ({why})" for name, why in stream.excluded.items())
        line += "; name features with --features to choose them yourself"
    return line


def leakage_warnings(stream: Stream) -> list[str]:
    """A warning per feature that on its own separates the labels arriving within the stream almost
    perfectly (ROC AUC of the feature as a score, either way round, at least ``LEAKAGE_AUC``).

    >>> import numpy as np
    >>> from sim.replays.stream import LabelDelay, Stream, StreamSpec
    >>> y = np.array([0, 1] * 10, np.int8)
    >>> X = np.c_[y * 5.0, np.arange(20.0) % 3]
    >>> s = Stream("s.csv", StreamSpec("t", "y", LabelDelay(constant_s=0.0)), np.arange(20), np.arange(20.0),
    ...            y, np.zeros(20), X, ("outcome", "noise"), {}, None, False)
    >>> [w.split(":")[1].split(" alone")[0] for w in leakage_warnings(s)]
    [" feature 'outcome'"]
    """
    known = stream.label_at <= stream.time[-1]
    y = stream.label[known]
    if len(y) == 0 or y.min() == y.max():
        return []
    warnings = []
    for k, name in enumerate(stream.features):
        values, codes = np.unique(stream.X[known, k], return_inverse=True)
        auc = metrics.roc_auc(y, codes / max(len(values) - 1, 1))
        if max(auc, 1 - auc) >= LEAKAGE_AUC:
            warnings.append(
                f"possible leakage: feature {name!r} alone separates fraud from legitimate almost "
                f"perfectly (ROC AUC {max(auc, 1 - auc):.3f} as a score on its own, on the labels "
                "that arrive); a column computed from the label or the outcome does that: leave it "
                "out with --features"
            )
    return warnings


def _events_table(runs: Sequence[LearnerRun], origin: float) -> pl.DataFrame:
    rows = [(run.name, origin + e.time, e.kind, e.rows, e.positives) for run in runs for e in run.model_events]
    schema = {"learner": pl.String, "time": pl.Float64, "kind": pl.String, "rows": pl.Int64, "positives": pl.Int64}
    return pl.DataFrame(rows, schema=schema, orient="row")


def history_end(time: np.ndarray, history: float) -> float:
    """The origin, where scoring starts: ``history`` after the start of the first row's day (midnight
    UTC for timestamps, a multiple of a day for seconds), so ``--history 7d`` is the first seven
    calendar days; without a history, the first row's time.

    >>> history_end(np.array([31.0, 90_000.0, 700_000.0]), 7 * 86400) / 86400
    7.0
    """
    return float(np.floor(time[0] / DAY) * DAY + history) if history else float(time[0])


def replay(
    path: str | Path,
    spec: StreamSpec,
    arms: Sequence[Arm],
    settings: ReplaySettings,
    out_dir: Path,
    report: bool = True,
    progress: Progress | None = None,
    announce: Callable[[str], None] | None = None,
    source: str | None = None,
) -> dict:
    """Read a stream, replay every arm on it, and write the output directory atomically.

    ``source`` names the stream in the outputs (default: its path).
    Returns the content of ``replay.json``. A bad stream raises :class:`ReplayError` before anything
    is written. ``announce`` is told the features chosen (and those left out) once the stream is read.
    """
    started = clock.perf_counter()
    stream = read_stream(path, spec)
    if announce is not None:
        announce(features_line(stream))
    origin = history_end(stream.time, settings.history)
    line = Timeline(stream.time, stream.label_at, stream.label, stream.X, stream.row, origin)
    first = line.first
    if first >= len(stream):
        raise ReplayError(
            path, f"the history ({format_duration(settings.history)}) covers the whole stream; shorten --history"
        )
    if settings.history and first == 0:
        raise ReplayError(
            path,
            f"the history ({format_duration(settings.history)} from the start of the first "
            "row's day) ends before the first row; lengthen --history",
        )
    read_seconds = clock.perf_counter() - started
    runs = replay_arms(line, arms, stream.features, settings.mode, settings.tick, settings.seed, progress)
    counted = counted_rows(stream, first, origin, settings)
    if not counted.any():
        raise ReplayError(
            path,
            "no scored row is left for the metrics (--score-from, --score-until"
            + (", --skip-known-cards" if settings.skip_known_cards else "")
            + ")",
        )
    rows = np.flatnonzero(counted) + first  # the stream rows the metrics count
    y, amount = stream.label[rows], None if stream.amount is None else stream.amount[rows]
    measured = [replace(run, score=run.score[counted], label_at=run.label_at[counted]) for run in runs]
    overall = {run.name: quality(y, run.score, amount, settings.threshold, settings.policy) for run in measured}
    day = replay_days(stream.time[rows], origin)
    cards = card_precisions(measured, day, None if stream.card is None else stream.card[rows], y, settings.top_k)
    if cards is not None:
        for name, (_, mean) in cards.items():
            overall[name]["card_precision"] = mean
    summary = _summary(stream, spec, arms, settings, runs, overall, first, origin, counted)
    if source is not None:
        summary["stream"]["file"] = source
    scores = {run.name: run.score for run in measured}
    summary["baselines"] = None if amount is None else baselines(y, amount, settings.policy)
    summary["rankings"] = rankings(scores, y, day, amount, settings.policy)
    summary["warnings"] = batch_warnings(line, arms, settings.tick) if settings.mode == "batch" else []
    if not settings.history:
        summary["warnings"] += [
            f"{arm.name}: a static learner without --history has no model and scores every row 0.5"
            for arm in arms
            if arm.learner == "static"
        ]
    summary["warnings"] += history_warnings(line, arms)
    summary["warnings"] += class_warnings(line, arms)
    summary["warnings"] += label_warnings(line, arms, spec.delay.description)
    summary["warnings"] += skipped_warnings(runs)
    summary["warnings"] += leakage_warnings(stream)
    if amount is not None:
        approve_all = summary["baselines"]["approve_all"]["total_cost"]
        summary["warnings"] += money_warnings(scores, y, amount, settings.policy, approve_all, bool(settings.history))
    with atomic_directory(Path(out_dir), REPLAY_MARKERS) as work:
        write_parquet(work / "predictions.parquet", predictions_table(stream, runs, first, counted))
        metrics_rows = [{"learner": run.name, "kind": run.learner, **overall[run.name]} for run in runs]
        schema = _schema(("learner", "kind", *METRICS), amount is not None, cards is not None)
        write_parquet(work / "metrics.parquet", _null_nan(pl.DataFrame(metrics_rows, schema=schema)))
        daily = daily_table(measured, day, y, amount, settings.threshold, settings.policy, cards)
        write_parquet(work / "metrics_daily.parquet", daily)
        write_parquet(work / "reliability.parquet", reliability_table(measured, y, amount))
        write_parquet(work / "model_events.parquet", _events_table(runs, origin))
        write_json(work / "replay.json", summary)
        report_seconds, report_error = 0.0, None
        if report:
            from ..report.replay import build_replay_report

            report_seconds, report_error = build_kept(work, build_replay_report)
        info = _run_info(len(stream), runs, read_seconds, report_seconds, clock.perf_counter() - started)
        write_json(
            work / "run_info.json",
            {**info, **({"report_error": report_error} if report_error else {}), "outputs": output_list(work)},
        )
    if report_error:
        raise ReportError(Path(out_dir), report_error)
    return summary


def _summary(
    stream: Stream,
    spec: StreamSpec,
    arms: Sequence[Arm],
    settings: ReplaySettings,
    runs: Sequence[LearnerRun],
    overall: dict,
    first: int,
    origin: float,
    counted: np.ndarray,
) -> dict:
    from .. import __version__

    end = float(stream.time[-1])
    label_at = stream.label_at[first:]
    delays = stream.delay[first:]
    finite = delays[np.isfinite(delays)]
    return {
        "schema_version": SCHEMA_VERSION,
        "fraudsim_version": __version__,
        "stream": {
            "file": stream.path,
            "rows": len(stream),
            "history_rows": first,
            "scored_rows": len(stream) - first,
            "frauds": int(stream.label[first:].sum()),
            "start": origin,
            "end": end,
            "days": (end - origin) / DAY,
            "time_column": spec.time,
            "timestamps": stream.timestamps,
            "label_column": spec.label,
            "features": list(stream.features),
            "excluded_features": stream.excluded,
            "amount_column": spec.amount,
            "card_column": spec.card,
            "delay": spec.delay.description,
            "median_delay_s": float(np.median(finite)) if len(finite) else None,
            "labels_arrived_by_end": int((label_at <= end).sum()),
            "labels_pending_at_end": int((label_at > end).sum()),
        },
        "mode": settings.mode,
        "tick_s": settings.tick if settings.mode == "batch" else None,
        "history_s": settings.history,
        "threshold": settings.threshold,
        "top_k": settings.top_k if spec.card is not None else None,
        "evaluation": {
            "score_from_s": settings.score_from,
            "score_until_s": settings.score_until if np.isfinite(settings.score_until) else None,
            "skip_known_cards": settings.skip_known_cards,
            "counted_rows": int(counted.sum()),
            "counted_frauds": int(stream.label[first:][counted].sum()),
        },
        "currency": settings.currency,
        "policy": settings.policy.model_dump(mode="json", include={"fraud_fee", "decline_fixed", "decline_rate"})
        if spec.amount is not None
        else None,
        "semantics": SEMANTICS[settings.mode],
        "caveat": CAVEAT,
        "learners": [
            {"name": arm.name, "learner": arm.learner, "options": arm.model_dump(mode="json")} for arm in arms
        ],
        "metrics": overall,
    }


def _run_info(rows: int, runs: Sequence[LearnerRun], read_s: float, report_s: float, wall_s: float) -> dict:
    from .. import __version__
    from ..outputs import library_versions

    return {
        "fraudsim_version": __version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "wall_seconds": round(wall_s, 3),
        "read_seconds": round(read_s, 3),
        "report_seconds": round(report_s, 3),
        "learners": [
            {
                "learner": run.name,
                "seconds": round(run.seconds, 3),
                "rows_per_second": round(len(run.score) / max(run.seconds, 1e-9)),
            }
            for run in runs
        ],
        "rows": rows,
        "versions": library_versions(),
    }
