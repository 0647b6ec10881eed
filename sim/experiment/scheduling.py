"""Running arms × replications on an executor: whole replications as tasks, or each warm-up,
arm and A/B test as a task of its own.

A replication is one seed's world: one warm-up, then every arm in its own copy of it.
``run_replication(scenario, r)`` is the unit of work a sweep distributes; it returns plain
data and is picklable. The tasks of a split replication pass the warmed-up world through a
scratch file, so they need workers that share this machine's disk.
"""

from __future__ import annotations

import os
import pickle
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, wait
from pathlib import Path

from threadpoolctl import threadpool_limits

from ..ab.run import ABReplication, per_transaction, run_ab, world_runs
from ..engine import World, run_arm, warm_up, warmup_length
from ..executors import Executor, ExecutorError, InProcess, make_executor
from ..learn.learners import History
from ..learn.protocol import ModelFailure
from ..outputs import scratch_directory
from ..results import ArmRecorder
from ..rng import Streams
from ..schema import Arm, Scenario
from ..units import DAY
from .records import ArmRun, Experiment, ReplicationRun


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
        separate = {arm.arm: per_transaction(arm.daily) for arm in arms if arm.failure is None}
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
    names = [arm.model for arm in scenario.arms if isinstance(getattr(arm, "model", None), str)]  # not users' models
    kinds = {"logistic" if name == "laplace" else name for name in names}
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
    try:
        engine = run_arm(scenario, arm, Streams(scenario.seed, replication), world, history, recorder, progress)
    except ModelFailure as failure:  # this arm stops; the others go on
        return ArmRun.failed(arm.name, replication, str(failure), time.perf_counter() - started)
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


def executor_for(scenario: Scenario, workers: int | None = None, dask: str | None = None) -> Executor:
    """The executor of a run of ``scenario``: ``workers`` processes (default: the machine's cores)
    but no more than the run has tasks (replications × arms), or Dask (:func:`make_executor`).

    >>> from sim.scenario import validate
    >>> two = validate({"name": "t", "replications": 2, "arms": [{"name": "rules", "learner": "rules"}]}, "x")
    >>> executor_for(two, 8).workers, executor_for(two, 1).name
    (2, 'in-process')
    """
    tasks = scenario.replications * len(scenario.arms)
    return make_executor(min(workers or os.cpu_count() or 1, tasks), dask)


def run_all(
    scenario: Scenario,
    executor: Executor | None = None,
    ledger_dir: Path | None = None,
    progress: Callable[[float, float], None] | None = None,
) -> Experiment:
    """Every replication of ``scenario`` on ``executor`` (default: this process);
    ``progress(done, total)`` in simulated days.

    With several workers, whole replications are the tasks when they share out evenly;
    otherwise (one replication on two workers, say) each warm-up, arm and A/B test is a task of
    its own, so no worker idles while another runs a replication's last arms — when the workers
    share this machine's disk, where a warmed-up world is saved for the arms. The results are
    the same either way: every arm starts from the same warmed-up world.
    """
    executor = executor or InProcess()
    if ledger_dir is not None and not executor.shared_disk:
        raise ExecutorError(
            f"--ledger: the workers of {executor.name} write the ledger to their own disks; "
            "run it with local workers or --dask local"
        )
    total = simulated_days(scenario) * scenario.replications
    step = None if progress is None else lambda days: progress(days, total)
    with executor:
        workers = executor.workers
        if workers > 1 and scenario.replications % workers and executor.shared_disk:
            runs = _run_tasks(executor, workers, scenario, ledger_dir, step)
        else:
            runs = _run_replications(executor, scenario, ledger_dir, step)
    return Experiment(scenario, runs).without_failed()


def _run_replications(
    executor: Executor, scenario: Scenario, ledger_dir: Path | None, progress: Callable[[float], None] | None
) -> list[ReplicationRun]:
    """Every replication as one task; ``progress`` moves within a replication run in this process."""
    per_replication = simulated_days(scenario)
    runs: dict[int, ReplicationRun] = {}

    def done(r: int, run: ReplicationRun) -> None:
        runs[r] = run
        if progress is not None:
            progress(len(runs) * per_replication)

    within = None if progress is None else lambda r, days: progress(r * per_replication + days)
    calls = [(scenario, r, ledger_dir) for r in range(scenario.replications)]
    executor.map(run_replication, calls, done, within)
    return [runs[r] for r in range(scenario.replications)]


# --------------------------------------------------------------------------- replications split into tasks


def _run_tasks(
    executor: Executor,
    workers: int,
    scenario: Scenario,
    ledger_dir: Path | None,
    progress: Callable[[float], None] | None,
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
                pending[executor.submit(_arm_task, scenario, i, r, result[0], ledger_dir)] = ("arm", r, i)
        elif kind == "arm":
            arm_runs[r][index] = result
            if len(arm_runs[r]) == arms and scenario.ab is not None:
                separate = {run.arm: per_transaction(run.daily) for run in arm_runs[r].values() if run.failure is None}
                pending[executor.submit(_ab_task, scenario, r, warmed[r][0], separate)] = ("ab", r, 0)
        else:
            tests[r] = result
        if len(arm_runs[r]) == arms and (scenario.ab is None or r in tests):
            Path(warmed[r][0]).unlink()  # the replication is done: free the disk
        done[0] += days[kind]
        if progress is not None:
            progress(done[0])

    with scratch_directory() as scratch:
        pending = {executor.submit(_warm_task, scenario, r, scratch): ("warm", r, 0) for r in range(1, replications)}
        for _ in range(workers - len(pending)):
            executor.submit(_start_worker)  # start the idle workers now, not when the first arms are ready
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
