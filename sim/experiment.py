"""Arms × replications: run them, then summarise with intervals over replications.

A replication is one seed's world: one warm-up, then every arm in its own copy
of it. Figures get a mean and a 95 % Student-t interval over replications
(null with one replication). ``run_replication(scenario, r)`` is the unit of
work a sweep distributes; it returns plain data and is picklable.
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, wait
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
from threadpoolctl import threadpool_limits

from .ab.run import ABReplication, per_transaction, run_ab, world_runs
from .engine import World, run_arm, warm_up, warmup_length
from .learn.learners import History, ModelEvent
from .metrics import interval, round6, t_interval
from .outputs import scratch_directory
from .results import NOT_SUMMED, ArmRecorder
from .rng import Streams
from .schema import Arm, Scenario
from .summary import (
    SCHEMA_VERSION,
    ArmSummary,
    Counts,
    Difference,
    FreshLabels,
    Headroom,
    Interval,
    Recovered,
    Summary,
)
from .units import DAY

MONEY = ArmSummary.MONEY
COUNTS = ("transactions", "fraud_attempts", "fraud_approved", "declines", "legit_declined")


@dataclass
class ArmRun:
    """One arm in one replication."""

    arm: str
    replication: int
    daily: pl.DataFrame
    labels_daily: pl.DataFrame
    label_coverage: pl.DataFrame
    quality_daily: pl.DataFrame
    crews_daily: pl.DataFrame
    reliability: pl.DataFrame
    model_events: list[ModelEvent]
    transactions: int
    seconds: float
    ledger_parts: dict[str, Path] = field(default_factory=dict)


@dataclass
class ReplicationRun:
    replication: int
    arms: list[ArmRun]
    warmup_transactions: int
    warmup_seconds: float
    ab: ABReplication | None = None


@dataclass
class Experiment:
    """Every arm of every replication."""

    scenario: Scenario
    runs: list[ReplicationRun] = field(default_factory=list)

    @property
    def arm_runs(self) -> list[ArmRun]:
        return [arm for run in self.runs for arm in run.arms]

    def daily(self) -> pl.DataFrame:
        return pl.concat([a.daily for a in self.arm_runs]).sort(["arm", "replication", "day"])

    def labels_daily(self) -> pl.DataFrame:
        return pl.concat([a.labels_daily for a in self.arm_runs]).sort(["arm", "replication", "day", "source"])

    def quality_daily(self) -> pl.DataFrame:
        return pl.concat([a.quality_daily for a in self.arm_runs]).sort(["arm", "replication", "day", "view"])

    def crews_daily(self) -> pl.DataFrame:
        """Crews per arm, replication and day; tactic columns are the union over arms (0 where absent)."""
        frames = [a.crews_daily for a in self.arm_runs]
        table = pl.concat(frames, how="diagonal")
        tactics = sorted(c for c in table.columns if c.startswith("tactic_"))
        fixed = [c for c in table.columns if not c.startswith("tactic_")]
        filled = [pl.col(c).fill_null(0.0) for c in tactics]
        return table.select(*fixed, *filled).sort(["arm", "replication", "day", "crew"])

    def reliability(self) -> pl.DataFrame:
        return pl.concat([a.reliability for a in self.arm_runs]).sort(["arm", "replication", "weighting", "bin"])

    def label_coverage(self) -> pl.DataFrame:
        return pl.concat([a.label_coverage for a in self.arm_runs]).sort(["arm", "replication", "group", "age_s"])

    def model_events(self) -> pl.DataFrame:
        rows = [
            {
                "arm": a.arm,
                "replication": a.replication,
                "time": e.time,
                "kind": e.kind,
                "rows": e.rows,
                "positives": e.positives,
                "detail": e.detail,
            }
            for a in self.arm_runs
            for e in a.model_events
        ]
        schema = {
            "arm": pl.String,
            "replication": pl.Int32,
            "time": pl.Float64,
            "kind": pl.String,
            "rows": pl.Int64,
            "positives": pl.Int64,
            "detail": pl.String,
        }
        return pl.DataFrame(rows, schema=schema).sort(["arm", "replication", "time", "kind"])


def run_replication(
    scenario: Scenario,
    replication: int,
    ledger_dir: Path | None = None,
    progress: Callable[[float], None] | None = None,
) -> ReplicationRun:
    """Warm the world up once, then run every arm in its own copy of it.

    ``progress`` receives simulated days done (warm-up and arms together).
    """
    with threadpool_limits(1):  # one BLAS thread: the same sums (and bytes) on every machine, and faster
        return _run_replication(scenario, replication, ledger_dir, progress)


def _run_replication(
    scenario: Scenario, replication: int, ledger_dir: Path | None, progress: Callable[[float], None] | None
) -> ReplicationRun:
    warmup = warmup_length(scenario)
    done = [0.0]

    def ticker(offset: float) -> Callable[[float], None] | None:
        if progress is None:
            return None
        return lambda now: progress(offset + (now + warmup if offset == 0 else now) / DAY)

    world, history, warmup_transactions, warmup_seconds = _warm(scenario, replication, ticker(0.0))
    done[0] = warmup / DAY
    arms: list[ArmRun] = []
    for arm in scenario.arms:
        arms.append(_arm(scenario, arm, replication, world, history, ledger_dir, ticker(done[0])))
        done[0] += scenario.horizon / DAY
    ab = None
    if scenario.ab is not None:
        separate = {arm.arm: per_transaction(arm.daily) for arm in arms}
        ab = run_ab(
            scenario,
            Streams(scenario.seed, replication),
            world,
            history,
            replication,
            separate,
            None if progress is None else lambda days: progress(done[0] + days),
        )
    return ReplicationRun(replication, arms, warmup_transactions, warmup_seconds, ab)


def _warm(
    scenario: Scenario, replication: int, progress: Callable[[float], None] | None = None
) -> tuple[World, History, int, float]:
    """The warmed-up world and history, with the first models fitted (timed with the warm-up:
    they are fitted once and shared by every arm); the warm-up's transactions and seconds."""
    started = time.perf_counter()
    world, history = warm_up(scenario, Streams(scenario.seed, replication), progress)
    kinds = {
        "logistic" if getattr(arm, "model", None) == "laplace" else getattr(arm, "model", None) for arm in scenario.arms
    }
    for kind in sorted(kinds & {"logistic", "gbm"}):
        history.first_model(kind)
    return world, history, world.store.next_id, time.perf_counter() - started


def _arm(
    scenario: Scenario,
    arm: Arm,
    replication: int,
    world: World,
    history: History,
    ledger_dir: Path | None,
    progress: Callable[[float], None] | None = None,
) -> ArmRun:
    """One arm in its own copy of the warmed-up ``world``."""
    recorder = ArmRecorder(scenario, arm.name, replication, ledger_dir)
    started = time.perf_counter()
    engine = run_arm(scenario, arm, Streams(scenario.seed, replication), world, history, recorder, progress)
    return ArmRun(
        arm.name,
        replication,
        recorder.daily(),
        recorder.labels_daily(),
        recorder.label_coverage(),
        recorder.quality_daily(),
        recorder.crews_daily(),
        recorder.reliability_table(),
        engine.model_events,
        engine.transactions,
        time.perf_counter() - started,
        recorder.ledger.paths if recorder.ledger is not None else {},
    )


def run_all(
    scenario: Scenario,
    workers: int = 1,
    ledger_dir: Path | None = None,
    progress: Callable[[float, float], None] | None = None,
) -> Experiment:
    """Every replication of ``scenario``; ``progress(done, total)`` in simulated days.

    With several workers, whole replications go to the workers when they share out evenly;
    otherwise (one replication on two workers, say) each warm-up, arm and A/B test is a task of
    its own, so no worker idles while another runs a replication's last arms. The results are
    the same either way: every arm starts from the same warmed-up world.
    """
    per_replication = simulated_days(scenario)
    total = per_replication * scenario.replications
    experiment = Experiment(scenario)
    workers = min(workers, scenario.replications * len(scenario.arms))  # no more processes than tasks
    if workers <= 1:
        for r in range(scenario.replications):
            base = r * per_replication

            def report(days: float, base: float = base) -> None:
                if progress is not None:
                    progress(base + days, total)

            experiment.runs.append(run_replication(scenario, r, ledger_dir, report))
        return experiment
    from .parallel import process_pool

    with process_pool(workers) as pool:
        if scenario.replications % workers == 0:
            futures = [pool.submit(run_replication, scenario, r, ledger_dir) for r in range(scenario.replications)]
            for done, future in enumerate(futures, start=1):
                experiment.runs.append(future.result())
                if progress is not None:
                    progress(done * per_replication, total)
        else:
            step = None if progress is None else lambda days: progress(days, total)
            experiment.runs.extend(_run_tasks(pool, workers, scenario, ledger_dir, step))
    return experiment


# --------------------------------------------------------------------------- replications split into tasks


def _run_tasks(
    pool: Executor, workers: int, scenario: Scenario, ledger_dir: Path | None, progress: Callable[[float], None] | None
) -> list[ReplicationRun]:
    """Every replication as separate tasks: its warm-up, whose world is saved to a scratch file;
    then each arm, and the A/B test once the arms are done, loaded from that file. This process
    warms the first replication up itself while the workers start (and warm up the others)."""
    replications, arms = scenario.replications, len(scenario.arms)
    days = {
        "warm": warmup_length(scenario) / DAY,
        "arm": scenario.horizon / DAY,
        "ab": world_runs(scenario) * scenario.horizon / DAY,
    }
    warmed: dict[int, tuple[str, int, float]] = {}
    arm_runs: dict[int, dict[int, ArmRun]] = {r: {} for r in range(replications)}
    tests: dict[int, ABReplication | None] = {}
    done = [0.0]

    def finished(kind: str, r: int, index: int, result) -> None:
        if kind == "warm":
            warmed[r] = result
            for i in range(arms):
                pending[pool.submit(_arm_task, scenario, i, r, result[0], ledger_dir)] = ("arm", r, i)
        elif kind == "arm":
            arm_runs[r][index] = result
            if len(arm_runs[r]) == arms and scenario.ab is not None:
                separate = {run.arm: per_transaction(run.daily) for run in arm_runs[r].values()}
                pending[pool.submit(_ab_task, scenario, r, warmed[r][0], separate)] = ("ab", r, 0)
        else:
            tests[r] = result
        if len(arm_runs[r]) == arms and (scenario.ab is None or r in tests):
            Path(warmed[r][0]).unlink()  # the replication is done: free the disk
        done[0] += days[kind]
        if progress is not None:
            progress(done[0])

    with scratch_directory() as scratch:
        pending = {pool.submit(_warm_task, scenario, r, scratch): ("warm", r, 0) for r in range(1, replications)}
        for _ in range(workers - len(pending)):
            pool.submit(_start_worker)  # start the idle workers now, not when the first arms are ready
        ticker = None if progress is None else lambda now: progress((now + days["warm"] * DAY) / DAY)
        try:
            finished("warm", 0, 0, _warm_task(scenario, 0, scratch, ticker))
            while pending:
                complete, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(complete, key=pending.__getitem__):
                    finished(*pending.pop(future), future.result())
        finally:  # a failed task (or Ctrl-C): do not start the ones still queued
            for future in pending:
                future.cancel()
    return [
        ReplicationRun(r, [arm_runs[r][i] for i in range(arms)], warmed[r][1], warmed[r][2], tests.get(r))
        for r in range(replications)
    ]


def _start_worker() -> None:
    """Nothing: submitted to start a worker process (and its imports) before it has work."""


def _warm_task(
    scenario: Scenario, replication: int, scratch: str, progress: Callable[[float], None] | None = None
) -> tuple[str, int, float]:
    """Warm a replication's world up and save it (with its history) for the arm tasks."""
    with threadpool_limits(1):
        world, history, transactions, seconds = _warm(scenario, replication, progress)
    path = Path(scratch) / f"warm-{replication}.pickle"
    with path.open("wb") as handle:
        pickle.dump((world, history), handle, protocol=pickle.HIGHEST_PROTOCOL)
    return str(path), transactions, seconds


_LOADED: dict[str, tuple[World, History]] = {}  # a worker's last loaded warm-up, reused by its next task


def _load_warm(path: str) -> tuple[World, History]:
    if path not in _LOADED:
        _LOADED.clear()
        with open(path, "rb") as handle:
            _LOADED[path] = pickle.load(handle)
    return _LOADED[path]


def _arm_task(scenario: Scenario, index: int, replication: int, path: str, ledger_dir: Path | None) -> ArmRun:
    world, history = _load_warm(path)
    with threadpool_limits(1):
        return _arm(scenario, scenario.arms[index], replication, world, history, ledger_dir)


def _ab_task(scenario: Scenario, replication: int, path: str, separate: dict) -> ABReplication:
    world, history = _load_warm(path)
    with threadpool_limits(1):
        return run_ab(scenario, Streams(scenario.seed, replication), world, history, replication, separate)


def simulated_days(scenario: Scenario) -> float:
    """Simulated days per replication (warm-up plus every arm), for progress bars."""
    return (warmup_length(scenario) + (len(scenario.arms) + world_runs(scenario)) * scenario.horizon) / DAY


# --------------------------------------------------------------------------- summaries


def totals(daily: pl.DataFrame) -> pl.DataFrame:
    """Per arm and replication, the sums over the horizon."""
    value_columns = [c for c in daily.columns if c not in ("arm", "replication", "day", *NOT_SUMMED)]
    return (
        daily.group_by(["arm", "replication"], maintain_order=True)
        .agg([pl.col(c).sum() for c in value_columns])
        .sort(["arm", "replication"])
    )


def summarize(scenario: Scenario, experiment: Experiment) -> Summary:
    """The content of ``summary.json``: per arm, money with intervals and counts; the ranking."""
    per_rep = totals(experiment.daily())
    arms: dict[str, dict] = {}
    for arm in scenario.arms:
        rows = per_rep.filter(pl.col("arm") == arm.name)
        arms[arm.name] = {
            "learner": arm.learner,
            **{name: _interval(rows[name].to_numpy()) for name in MONEY},
            "counts": Counts(**{name: round6(rows[name].to_numpy().mean()) for name in COUNTS}),
        }
    ranking = tuple(sorted(arms, key=lambda name: (arms[name]["total_cost"].mean, name)))
    rank = {name: i for i, name in enumerate(ranking, start=1)}
    skipped: dict[str, int] = {}
    for arm_run in experiment.arm_runs:
        for event in arm_run.model_events:
            if event.kind == "skipped":
                skipped[arm_run.arm] = skipped.get(arm_run.arm, 0) + 1
    ab = None
    if scenario.ab is not None:
        from .ab.summary import summarize_ab

        ab = summarize_ab(scenario, [run.ab for run in experiment.runs])
    return Summary(
        schema_version=SCHEMA_VERSION,
        scenario=scenario.name,
        seed=scenario.seed,
        replications=len(experiment.runs),
        horizon_days=round6(scenario.horizon / DAY),
        warmup_days=round6(warmup_length(scenario) / DAY),
        currency=scenario.currency,
        ranking=ranking,
        arms={name: ArmSummary(**entry, rank=rank[name]) for name, entry in arms.items()},
        differences=paired_differences(per_rep, ranking),
        fresh_labels=fresh_labels(scenario, per_rep),
        ab=ab,
        # a model that could not learn was never deployed: say so
        warnings=tuple(
            f"{arm}: {n} retrain(s) skipped over all replications for want of labels of a class "
            "(min_labels); the model already serving stayed"
            for arm, n in sorted(skipped.items())
        ),
    )


def _interval(values: np.ndarray) -> Interval:
    return Interval.from_json(interval(values))


def ratio_interval(saved: np.ndarray, headroom: np.ndarray) -> Interval:
    """mean(saved) / mean(headroom) over paired replications, with a 95 % interval by the delta
    method (Student t on the residuals saved − R × headroom); null bounds with one replication or
    no headroom.

    >>> ratio_interval(np.array([5.0, 6.0, 7.0]), np.array([10.0, 10.0, 10.0]))
    Interval(mean=0.6, ci_low=0.351586, ci_high=0.848414)
    """
    mean_headroom = float(np.mean(headroom))
    if mean_headroom == 0:
        return Interval(None, None, None)
    ratio = float(np.mean(saved)) / mean_headroom
    if len(saved) < 2:
        return Interval(round6(ratio), None, None)
    _, low, high = t_interval((saved - ratio * headroom) / abs(mean_headroom))
    return Interval(round6(ratio), round6(ratio + low), round6(ratio + high))


def fresh_labels(scenario: Scenario, per_rep: pl.DataFrame) -> FreshLabels | None:
    """The value of fresh labels: what the oracle (every true label at once) saves over the static
    model (no label after the history), and the share of that each other arm recovers, by total
    cost and by fraud loss, paired by replication. None unless the run has both arms."""
    static = next((a.name for a in scenario.arms if a.learner == "static"), None)
    oracle = next((a.name for a in scenario.arms if a.learner == "oracle"), None)
    if static is None or oracle is None:
        return None
    by_arm = {arm.name: per_rep.filter(pl.col("arm") == arm.name).sort("replication") for arm in scenario.arms}
    headroom: dict[str, Interval] = {}
    for name in ("total_cost", "fraud_loss"):
        base = by_arm[static][name].to_numpy()
        saved = base - by_arm[oracle][name].to_numpy()
        headroom[name] = _interval(saved)
        headroom[f"{name}_relative"] = _interval(saved / np.maximum(base, 1e-9))
    recovered = {
        arm.name: Recovered(
            *(
                ratio_interval(
                    by_arm[static][name].to_numpy() - by_arm[arm.name][name].to_numpy(),
                    by_arm[static][name].to_numpy() - by_arm[oracle][name].to_numpy(),
                )
                for name in ("total_cost", "fraud_loss")
            )
        )
        for arm in scenario.arms
        if arm.name not in (static, oracle)
    }
    return FreshLabels(static, oracle, Headroom(**headroom), recovered)


def paired_differences(per_rep: pl.DataFrame, ranking: tuple[str, ...]) -> tuple[Difference, ...]:
    """Every pair of arms, the better-ranked as baseline: arm − baseline per replication
    (same seed, same honest traffic), with 95 % intervals; ``*_relative`` divides by the
    baseline's own figure in that replication."""
    rows: list[Difference] = []
    by_arm = {arm: per_rep.filter(pl.col("arm") == arm).sort("replication") for arm in ranking}
    for i, baseline in enumerate(ranking):
        for arm in ranking[i + 1 :]:
            a, b = by_arm[arm], by_arm[baseline]
            figures: dict[str, Interval] = {}
            for name in ("total_cost", "fraud_loss"):
                difference = a[name].to_numpy() - b[name].to_numpy()
                figures[name] = _interval(difference)
                figures[f"{name}_relative"] = _interval(difference / np.maximum(b[name].to_numpy(), 1e-9))
            rows.append(Difference(arm, baseline, **figures))
    return tuple(rows)
