"""The executor protocol, its errors, and the executor that runs everything in this process."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, as_completed
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

T = TypeVar("T")
RETRIES = 3  # times a task is run again after its worker died (or, on Dask, after it raised)


class ExecutorError(Exception):
    """Work that cannot run where it was sent (Dask missing, a scheduler out of reach, workers of
    another fraudsim): one line for the person who sent it."""


class WorkersLost(ExecutorError):
    """Workers kept dying on the work (killed, out of memory) after every retry."""


@runtime_checkable
class Executor(Protocol):
    """Where tasks run: this process, local worker processes or a Dask cluster.

    Enter it to start the workers and leave it to stop them: at once, cancelling what is still
    queued, when leaving on an error. A task is a module-level function and picklable
    arguments; results never depend on the executor (every task pins numeric libraries to one
    thread), so runs and sweeps are byte-identical whichever runs them.
    """

    name: str  # for people: "in-process", "local processes", "dask"
    workers: int  # tasks that run at once (for a Dask scheduler: known once entered)
    shared_disk: bool  # the workers read and write this machine's files (scratch files, the ledger)

    def __enter__(self) -> Executor: ...

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: Any) -> None: ...

    def submit(self, function: Callable[..., T], /, *args: Any) -> Future[T]:
        """Run ``function(*args)`` on a worker; the future holds its result or its exception."""
        ...

    def map(
        self,
        function: Callable[..., Any],
        calls: Sequence[tuple],
        done: Callable[[int, Any], None],
        progress: Callable[[int, float], None] | None = None,
    ) -> None:
        """Call ``function(*calls[i])`` for every i; ``done(i, result)`` here as each completes.
        Where the calls run in this process, ``progress(i, days)`` reports simulated days within
        call i (the function takes a ``progress`` keyword)."""
        ...


def map_submitted(
    executor: Executor, function: Callable[..., Any], calls: Sequence[tuple], done: Callable[[int, Any], None]
) -> None:
    """:meth:`Executor.map` through :meth:`Executor.submit`: every call submitted at once,
    ``done`` called in this thread as each completes; if one fails (or ``done`` does), the calls
    not started yet are cancelled."""
    futures = {executor.submit(function, *args): i for i, args in enumerate(calls)}
    try:
        for future in as_completed(futures):
            done(futures[future], future.result())
    finally:
        for future in futures:
            future.cancel()


class InProcess:
    """One task after another in this process (``--workers 1``); it reports progress within a
    task, and a task's exception is its future's."""

    name: ClassVar[str] = "in-process"
    workers: ClassVar[int] = 1
    shared_disk: ClassVar[bool] = True

    def __enter__(self) -> InProcess:
        return self

    def __exit__(self, kind, error, trace) -> None:
        return None

    def submit(self, function: Callable[..., T], /, *args: Any) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(function(*args))
        except Exception as failure:
            future.set_exception(failure)
        return future

    def map(self, function, calls, done, progress=None) -> None:
        for i, args in enumerate(calls):
            within = {} if progress is None else {"progress": lambda days, i=i: progress(i, days)}
            done(i, function(*args, **within))

    def __repr__(self) -> str:
        return "InProcess()"
