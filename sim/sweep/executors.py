"""Where a sweep's runs execute: in this process, local worker processes, or a Dask cluster."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import urllib.parse
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .. import __version__
from ..parallel import THREAD_VARIABLES, process_pool, stop_pool
from .points import SweepError

RETRIES = 3


class Executor(Protocol):
    """Runs calls of one function and hands each result back as it completes."""

    name: str
    workers: int

    def map(
        self,
        function: Callable[..., Any],
        calls: Sequence[tuple],
        done: Callable[[int, Any], None],
        progress: Callable[[int, float], None] | None = None,
    ) -> None:
        """Call ``function(*calls[i])`` for every i; ``done(i, result)`` here as each completes."""


@dataclass
class InProcess:
    """One call after another in this process (``--workers 1``); reports progress within a call."""

    name: str = "in-process"
    workers: int = 1

    def map(self, function, calls, done, progress=None) -> None:
        for i, args in enumerate(calls):
            within = {} if progress is None else {"progress": lambda days, i=i: progress(i, days)}
            done(i, function(*args, **within))


@dataclass
class LocalProcesses:
    """A pool of spawned worker processes pinned to one thread each. If a worker dies (killed, out
    of memory) the pool is rebuilt and the unfinished calls run again, up to ``retries`` times."""

    workers: int
    retries: int = RETRIES
    name: str = "local processes"

    def map(self, function, calls, done, progress=None) -> None:
        from concurrent.futures import as_completed
        from concurrent.futures.process import BrokenProcessPool

        pending = dict(enumerate(calls))
        failures = 0
        while pending:
            pool = process_pool(min(self.workers, len(pending)))
            futures = {pool.submit(function, *args): i for i, args in pending.items()}
            try:
                for future in as_completed(futures):
                    i = futures[future]
                    result = future.result()
                    del pending[i]
                    done(i, result)
                pool.shutdown(wait=True)
            except BrokenProcessPool:
                failures += 1
                for future, i in futures.items():  # keep what finished before the pool broke
                    if i in pending and future.done() and not future.cancelled() and future.exception() is None:
                        del pending[i]
                        done(i, future.result())
                if failures > self.retries:
                    raise SweepError(
                        f"worker processes died {failures} times (out of memory?); the results "
                        "finished so far are saved: run the same command again to resume"
                    ) from None
                logging.getLogger(__name__).warning(
                    "a worker process died; retrying %d unfinished run(s)", len(pending)
                )
                stop_pool(pool)
            except BaseException:
                stop_pool(pool)
                raise


@dataclass
class DaskCluster:
    """An existing Dask distributed scheduler (``tcp://host:8786``), or ``local`` for a local
    cluster of ``workers`` single-threaded processes started for this sweep.

    A call that raises is retried ``retries`` times; a call whose worker is lost is rescheduled
    by the scheduler (up to ``distributed.scheduler.allowed-failures`` times). Results come back
    to this process, which writes them, so the workers need no shared file system.
    """

    address: str
    workers: int | None = None
    retries: int = RETRIES
    name: str = "dask"

    def map(self, function, calls, done, progress=None) -> None:
        with self._client() as client:
            from distributed import as_completed

            token = uuid.uuid4().hex[:8]
            label = getattr(function, "__name__", "call")
            futures = [
                client.submit(
                    function,
                    *args,
                    key=f"fraudsim-{label}-{i}-{token}",
                    retries=self.retries,
                    pure=False,
                )
                for i, args in enumerate(calls)
            ]
            index = {future.key: i for i, future in enumerate(futures)}
            for future in as_completed(futures):
                try:
                    result = future.result()
                except Exception as error:
                    if type(error).__name__ == "KilledWorker":
                        raise SweepError(
                            f"--dask {self.address}: a run kept killing its worker ({error}); the "
                            "results finished so far are saved"
                        ) from None
                    raise
                done(index[future.key], result)
                future.release()

    @contextlib.contextmanager
    def _client(self) -> Iterator[Any]:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise SweepError(
                f"--dask {self.address}: Dask is not installed; install the extra: "
                "pip install 'fraudsim[dask]' (make test installs it)"
            ) from None

        with contextlib.ExitStack() as stack:
            if self.address == "local":
                workers = self.workers or os.cpu_count() or 1
                cluster = stack.enter_context(
                    LocalCluster(
                        n_workers=workers,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=None,
                        silence_logs=logging.ERROR,
                        env={name: "1" for name in THREAD_VARIABLES},
                    )
                )
                self.workers = workers
                client = stack.enter_context(Client(cluster))
            else:
                _check_address(self.address)
                try:
                    client = stack.enter_context(Client(self.address, timeout="15s"))
                except (OSError, TimeoutError, ValueError) as error:
                    raise SweepError(
                        f"--dask {self.address}: cannot reach a Dask scheduler there ({error}); "
                        "give its address, e.g. tcp://10.0.0.5:8786, or `local`"
                    ) from None
                try:
                    client.wait_for_workers(1, timeout=60)
                except TimeoutError:
                    raise SweepError(f"--dask {self.address}: the scheduler has no workers") from None
                self.workers = len(client.scheduler_info(n_workers=-1)["workers"])
            _check_workers(client, self.address)
            yield client


LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


def _check_address(address: str) -> None:
    """Only Dask's TCP and TLS transports; a plain-TCP scheduler on another machine is warned
    about once: results come back as pickles, so the cluster runs code in this process.

    >>> _check_address("tls://10.0.0.5:8786")
    >>> _check_address("http://10.0.0.5:8786")
    Traceback (most recent call last):
    ...
    sim.sweep.points.SweepError: --dask http://10.0.0.5:8786: give `local` or a scheduler address tcp://HOST:PORT or tls://HOST:PORT
    """  # noqa: E501
    parts = urllib.parse.urlsplit(address)
    if parts.scheme not in ("tcp", "tls") or not parts.hostname:
        raise SweepError(f"--dask {address}: give `local` or a scheduler address tcp://HOST:PORT or tls://HOST:PORT")
    if parts.scheme == "tcp" and parts.hostname not in (*LOCAL_HOSTS, socket.gethostname()) and not _warned:
        _warned.append(address)
        logging.getLogger(__name__).warning(
            "--dask %s: plain TCP to another machine; anyone who can reach the scheduler or a worker can "
            "run code in this process (results come back as pickles). Use tls:// with Dask's TLS settings "
            "on an untrusted network (docs/sweeps.md)",
            address,
        )


_warned: list[str] = []


def _worker_version() -> str:
    import sim

    return sim.__version__


def _check_workers(client, address: str) -> None:
    try:
        versions = client.run(_worker_version)
    except Exception as error:  # the workers cannot import fraudsim at all
        raise SweepError(
            f"--dask {address}: the workers cannot run fraudsim ({type(error).__name__}: {error}); "
            "install the same fraudsim on every worker"
        ) from None
    if not isinstance(versions, dict) or not all(isinstance(v, str) and len(v) < 100 for v in versions.values()):
        raise SweepError(
            f"--dask {address}: the workers' reply to the version check is malformed; "
            "is this a Dask cluster running fraudsim?"
        )
    wrong = sorted({v for v in versions.values() if v != __version__})
    if wrong:
        raise SweepError(
            f"--dask {address}: workers run fraudsim {', '.join(wrong)}, this is {__version__}; "
            "results would differ, so install the same version on every worker"
        )


def make_executor(workers: int | None = None, dask: str | None = None) -> Executor:
    """In this process for one worker, a local process pool for more (default: every core), or
    Dask when ``dask`` is a scheduler address or ``local``.

    >>> make_executor(1).name, make_executor(4).name, make_executor(2, "local").name
    ('in-process', 'local processes', 'dask')
    """
    if dask:
        return DaskCluster(dask, workers)
    workers = workers or os.cpu_count() or 1
    return InProcess() if workers == 1 else LocalProcesses(workers)
