"""The replay engine: learners through a recorded stream, exactly or in micro-batches (docs/replay.md).

**Exact** (the default) is river's delayed progressive validation
(``evaluate.progressive_val_score`` with ``moment`` and ``delay``): rows in time order, ties in
file order; before row j is scored, every label of an earlier row whose arrival time is at or
before row j's time has been learned, oldest arrival first, ties in row order. A row is always
scored before its own label is learned, even with no delay. Online learners learn each label
with river's ``learn_one`` and score with ``predict_proba_one``; batch learners retrain and
deploy at their scheduled times on the labels that arrived by then (a label arriving exactly at
a retrain counts; the label of a row at that very moment does not).

**Batch** does what the simulator does with its ticks: a label reaches the learners at the
first tick boundary at or after its arrival (online learners take one summed ``learn_many``
step per tick), retrains happen at tick boundaries, and the model is constant within a tick.

Order is decided on the stream's own times, exactly as river compares them; learners see times
relative to ``origin``, the end of the history (the first scored moment).

Scores and batch steps go through σ(z) = 1 / (1 + exp(−z)), in fraudsim's models as in river's
``predict_proba_many`` and ``Log.gradient`` (whose arithmetic batch mode reproduces bit for bit).
Where |z| > 709 (unscaled features: ``--no-scaling``), ``exp`` overflows to inf and the result is
0, the true value rounded (it is below 1e-308): only numpy's overflow warning is wrong, so
:data:`SATURATING` silences it around scoring and learning, and nowhere else.
"""

from __future__ import annotations

import time as clock
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..feedback.labels import SOURCE_CODE, LabelEvents
from ..learn.history import History
from ..learn.learners import HybridLearner, OnlineLearner, from_arm
from ..learn.protocol import Batch, Learner, ModelEvent
from ..schema import BATCH_LEARNERS, Arm, OracleArm, Rules
from ..units import DAY

LABEL, BOUNDARY, ROW = 0, 1, 2
REPLAY_SOURCE = SOURCE_CODE["chargeback"]  # every replayed label counts as a delayed label
CHUNK = 1 << 15
SATURATING = {"over": "ignore"}  # np.errstate for σ(z) at large |z|: exp(|z|) = inf gives the limit, 0

Mode = Literal["exact", "batch"]
Progress = Callable[[int, int], None]


@dataclass(frozen=True, eq=False)
class Timeline:
    """The stream as learners see it; rows before ``first`` (earlier than ``origin``) are the
    history: learners start from them and they are not scored."""

    time: np.ndarray  # float64 seconds, ascending
    label_at: np.ndarray  # float64 arrival in the same seconds; inf: never
    label: np.ndarray  # int8
    X: np.ndarray  # float64 (rows, features)
    tx_id: np.ndarray  # int64 row positions in the file: stable ids for hashing
    origin: float

    @property
    def first(self) -> int:
        return int(np.searchsorted(self.time, self.origin, side="left"))

    def events(self, index: np.ndarray, label_at: np.ndarray) -> LabelEvents:
        """Label events of rows ``index``, in relative time."""
        return LabelEvents(
            self.tx_id[index],
            np.full(len(index), REPLAY_SOURCE, np.int8),
            self.label[index],
            label_at[index] - self.origin,
            self.time[index] - self.origin,
        )

    def history(self, label_at: np.ndarray) -> History:
        """What a learner knows at the origin: the history rows whose labels arrived by then (by
        ``label_at``). The first model is fitted on them and batch windows start with them; the
        other history labels arrive later, on their delay (see :func:`merged_order`)."""
        rows = np.arange(self.first)
        arrived = rows[label_at[rows] <= self.origin]
        return History(self.X[arrived], self.label[arrived], self.events(arrived, label_at), self.X[arrived])


@dataclass(frozen=True, eq=False)
class LearnerRun:
    """One learner's replay: a score per scored row (stream order) and when its labels arrived."""

    name: str
    learner: str
    score: np.ndarray
    label_at: np.ndarray  # in the stream's seconds; the oracle's labels arrive at once
    model_events: tuple[ModelEvent, ...]
    seconds: float


def merged_order(
    time: np.ndarray,
    label_at: np.ndarray,
    boundaries: np.ndarray,
    first: int = 0,
    at_boundaries: bool = False,
    origin: float = np.inf,
) -> tuple[np.ndarray, np.ndarray]:
    """Scored rows (from ``first``), their labels and ``boundaries`` in processing order; with an
    ``origin``, also the labels of history rows (before ``first``) that arrive after it.

    Returns ``(kind, index)``: ``kind`` is LABEL (0), BOUNDARY (1) or ROW (2); ``index`` the row
    or boundary. Label i comes before row j when j > i and ``label_at[i] <= time[j]``; before a
    boundary b when ``label_at[i] <= b`` and ``time[i] < b``; a boundary comes before the rows at
    or after it. With ``at_boundaries``, labels wait for the first boundary after them. Labels
    that would come after the last row are left out: they cannot change a score.

    >>> kind, index = merged_order(np.array([0.0, 0.0, 5.0]), np.array([0.0, 9.0, 5.0]), np.array([]))
    >>> list(zip(kind.tolist(), index.tolist()))  # row 0's label (delay 0) precedes row 1 (same time)
    [(2, 0), (0, 0), (2, 1), (2, 2)]
    """
    n = len(time)
    rows = np.arange(first, n)
    late = np.flatnonzero(label_at[:first] > origin)  # history rows whose labels arrive after the origin
    sources = np.concatenate([late, rows])
    b_pos = np.searchsorted(time, boundaries, side="left")
    keep_b = b_pos < n
    if at_boundaries:
        k = np.maximum(
            np.searchsorted(boundaries, label_at[sources], side="left"),
            np.searchsorted(boundaries, time[sources], side="right"),
        )
        keep = k < len(boundaries)
        keep[keep] = keep_b[k[keep]]
        l_pos, l_time = b_pos[k[keep]], boundaries[k[keep]]
    else:
        l_pos = np.maximum(sources + 1, np.searchsorted(time, label_at[sources], side="left"))
        keep = l_pos < n
        l_pos, l_time = l_pos[keep], label_at[sources][keep]
    labelled = sources[keep]
    b_index = np.flatnonzero(keep_b)
    pos = np.concatenate([l_pos, b_pos[b_index], rows])
    at = np.concatenate([l_time, boundaries[b_index], time[rows]])
    sub = np.concatenate([np.full(len(labelled), LABEL), np.full(len(b_index), BOUNDARY), np.full(len(rows), ROW)])
    arrival = np.concatenate([label_at[labelled], np.zeros(len(b_index)), np.zeros(len(rows))])
    index = np.concatenate([labelled, b_index, rows])
    order = np.lexsort((index, arrival, sub, at, pos))
    return sub[order].astype(np.int8), index[order]


def sees_truth(arm: Arm) -> bool:
    """Whether the arm learns each label at once (the oracle, an online arm fed the truth)."""
    return isinstance(arm, OracleArm) or getattr(arm, "truth", False)


def schedule(arm: Arm, end: float, tick: float | None = None) -> np.ndarray:
    """A batch arm's retrain and deploy times in (0, end]; with ``tick``, each at the first tick
    boundary at or after it, as the simulator does (retrain at a tick, deploy ``deploy_lag`` later).

    >>> from sim.schema import BatchArm
    >>> arm = BatchArm(name="b", every="1d", deploy_lag="6h")
    >>> (schedule(arm, 2.5 * 86400) / 3600).tolist()
    [24.0, 30.0, 48.0, 54.0]
    >>> (schedule(arm, 2.5 * 86400, tick=5 * 3600) / 3600).tolist()
    [25.0, 35.0, 50.0, 60.0]
    """
    if not isinstance(arm, BATCH_LEARNERS):
        return np.empty(0)
    retrains = np.arange(1, int(end // arm.every) + 1) * arm.every
    deploys = retrains + arm.deploy_lag
    if tick is not None:
        retrains = np.ceil(retrains / tick) * tick
        deploys = np.ceil((retrains + arm.deploy_lag) / tick) * tick
    return np.unique(np.concatenate([retrains, deploys]))


def _exact_river(
    learner: OnlineLearner, line: Timeline, label_at: np.ndarray, progress: Callable[[int], None]
) -> np.ndarray:
    """River's per-row loop: ``predict_proba_one`` for a row, ``learn_one`` for a label (the logistic
    learner's own, river's for trees)."""
    kind, index = merged_order(line.time, label_at, np.empty(0), line.first, origin=line.origin)
    predict, learn = learner.row_verbs()
    keep = learner.keeps(line.tx_id, line.label).tolist()
    prior = getattr(learner.arm, "reweight", "none") == "prior"
    scores: list[float] = []
    for start in range(0, len(kind), CHUNK):
        kinds, rows = kind[start : start + CHUNK], index[start : start + CHUNK]
        before = len(scores)
        for what, i, x_row, y, at in zip(
            kinds.tolist(),
            rows.tolist(),
            line.X[rows].tolist(),
            line.label[rows].tolist(),
            label_at[rows].tolist(),
            strict=True,
        ):
            if what == ROW:
                scores.append(predict(x_row))
            elif keep[i]:
                if prior:
                    learn(x_row, y == 1, w=float(learner.weights(np.array([y]), at - line.origin)[0]))
                else:
                    learn(x_row, y == 1)
        progress(len(scores) - before)
    p = np.asarray(scores, np.float64)
    return learner.unsample(p) if learner.samples else p


def _walk(
    learner: Learner,
    line: Timeline,
    label_at: np.ndarray,
    boundaries: np.ndarray,
    at_boundaries: bool,
    progress: Callable[[int], None],
) -> tuple[np.ndarray, list[ModelEvent]]:
    """Any learner through the protocol: runs of rows scored in one call, labels learned one by one
    (or, with ``at_boundaries``, all at their boundary), ``at_boundary`` at each boundary.
    ``boundaries`` are relative to the origin."""
    kind, index = merged_order(line.time, label_at, line.origin + boundaries, line.first, at_boundaries, line.origin)
    scores = np.empty(len(line.time) - line.first)
    events: list[ModelEvent] = []
    cuts = np.flatnonzero(np.r_[True, kind[1:] != kind[:-1], True])
    for start, stop in zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True):
        what, items = kind[start], index[start:stop]
        if what == ROW:
            with np.errstate(**SATURATING):
                scores[items - line.first] = learner.predict_proba(Batch(line.X[items]))
            progress(len(items))
        elif what == BOUNDARY:
            for b in items.tolist():
                events.extend(learner.at_boundary(float(boundaries[b])))
        elif at_boundaries:
            now = float(boundaries[index[stop]])  # labels wait for the boundary right after them
            with np.errstate(**SATURATING):
                learner.learn(Batch(line.X[items], now, labels=line.events(items, label_at)))
        else:
            with np.errstate(**SATURATING):
                for i in items.tolist():
                    now = float(label_at[i] - line.origin)
                    learner.learn(Batch(line.X[i : i + 1], now, labels=line.events(np.array([i]), label_at)))
    return scores, events


def replay_arms(
    line: Timeline,
    arms: Sequence[Arm],
    features: Sequence[str],
    mode: Mode = "exact",
    tick: float = 900.0,
    seed: int = 0,
    progress: Progress | None = None,
) -> list[LearnerRun]:
    """Replay every arm on the timeline; each starts from the history and learns on its own."""
    scored = len(line.time) - line.first
    done = [0]

    def advance(rows: int) -> None:
        done[0] += rows
        if progress is not None:
            progress(done[0], scored * len(arms))

    end = float(line.time[-1] - line.origin)
    labels_per_day = float(np.isfinite(line.label_at[line.first :]).sum()) / max(end / DAY, 1.0)
    histories = {}  # what is known at the origin: every history label (truth) or those arrived by then
    runs = []
    for arm in arms:
        started = clock.perf_counter()
        learner = from_arm(arm, Rules(), labels_per_day, seed, features)
        truth = sees_truth(arm)
        label_at = line.time if truth else line.label_at
        if truth not in histories:
            histories[truth] = line.history(label_at)
        learner.start(histories[truth])
        events: list[ModelEvent] = []
        if mode == "batch":
            ticks = np.arange(int(end // tick) + 2) * tick
            if not isinstance(learner, OnlineLearner | HybridLearner) and getattr(arm, "every", tick) >= tick:
                ticks = schedule(arm, end, tick)  # the other ticks would change nothing: skip them
            scores, events = _walk(learner, line, label_at, ticks, True, advance)
        elif isinstance(learner, OnlineLearner) and learner.arm.model != "laplace":
            scores = _exact_river(learner, line, label_at, advance)
        else:
            per_label = isinstance(learner, HybridLearner | OnlineLearner)  # scores that move with each label
            scores, events = _walk(learner, line, label_at, schedule(arm, end), not per_label, advance)
        runs.append(
            LearnerRun(
                arm.name,
                arm.learner,
                scores,
                label_at[line.first :].copy(),
                tuple(events),
                clock.perf_counter() - started,
            )
        )
    return runs
