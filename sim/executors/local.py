"""Local worker processes: a pool rebuilt when a worker dies, the lost tasks run again."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from ..parallel import process_pool, stop_pool
from .base import RETRIES, WorkersLost, map_submitted

T = TypeVar("T")


@dataclass
class _Task:
    """A submitted call: the future handed out, and the pool's future of its current attempt."""

    function: Callable[..., Any]
    args: tuple
    future: Future = field(default_factory=Future)
    attempt: Future | None = None

    def __post_init__(self) -> None:
        self.future.add_done_callback(self._cancel_attempt)

    def _cancel_attempt(self, future: Future) -> None:
        if future.cancelled() and self.attempt is not None:
            self.attempt.cancel()

    def settle(self, attempt: Future | None = None, failure: BaseException | None = None) -> None:
        """Hand the attempt's result (or ``failure``) to the future, unless it was cancelled."""
        try:
            if failure is not None:
                self.future.set_exception(failure)
            elif attempt.exception() is not None:
                self.future.set_exception(attempt.exception())
            else:
                self.future.set_result(attempt.result())
        except InvalidStateError:  # cancelled meanwhile: nobody waits for it
            pass


@dataclass
class LocalProcesses:
    """A pool of ``workers`` spawned processes, each pinned to one thread and watching that this
    process is alive (:func:`sim.parallel.process_pool`). If a worker dies (killed, out of memory),
    the pool is rebuilt and the tasks it was running or holding are submitted again, up to
    ``retries`` rebuilds; then they fail with :class:`WorkersLost`."""

    workers: int
    retries: int = RETRIES
    name: ClassVar[str] = "local processes"
    shared_disk: ClassVar[bool] = True

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._broken: list[ProcessPoolExecutor] = []
        self._generation = 0  # pools built so far, less one
        self._lost: WorkersLost | None = None

    def __enter__(self) -> LocalProcesses:
        self._pool, self._broken, self._generation, self._lost = process_pool(self.workers), [], 0, None
        return self

    def __exit__(self, kind, error, trace) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None and kind is None:
            pool.shutdown(wait=True)
        elif pool is not None:  # an error or Ctrl-C: do not wait for the tasks still running
            stop_pool(pool)
        for broken in self._broken:  # their workers are gone already
            broken.shutdown(wait=False)

    def submit(self, function: Callable[..., T], /, *args: Any) -> Future[T]:
        task = _Task(function, args)
        self._start(task)
        return task.future

    def map(self, function, calls, done, progress=None) -> None:
        map_submitted(self, function, calls, done)

    def _start(self, task: _Task) -> None:
        with self._lock:
            pool, generation, lost = self._pool, self._generation, self._lost
        if pool is None:
            task.settle(failure=lost or RuntimeError("submit() outside `with LocalProcesses(...)`"))
            return
        try:
            attempt = pool.submit(task.function, *task.args)
        except BrokenProcessPool:
            self._rebuild(task, generation)
            return
        task.attempt = attempt
        attempt.add_done_callback(lambda attempt: self._finished(task, generation, attempt))

    def _finished(self, task: _Task, generation: int, attempt: Future) -> None:
        """Called by the pool (in its own thread) when an attempt ends."""
        if attempt.cancelled():
            task.future.cancel()
        elif isinstance(attempt.exception(), BrokenProcessPool):
            self._rebuild(task, generation)
        else:
            task.settle(attempt)

    def _rebuild(self, task: _Task, generation: int) -> None:
        """A worker of pool ``generation`` died: the first of its tasks to say so replaces the pool
        (or gives up after ``retries`` replacements); then the task is submitted again."""
        with self._lock:
            if generation == self._generation and self._pool is not None:
                self._generation += 1
                self._broken.append(self._pool)
                if self._generation > self.retries:
                    self._pool = None
                    self._lost = WorkersLost(f"worker processes died {self._generation} times (out of memory?)")
                else:
                    logging.getLogger(__name__).warning("a worker process died; running its tasks again")
                    self._pool = process_pool(self.workers)
        if not task.future.done():
            self._start(task)
