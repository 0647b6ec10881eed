"""A Dask distributed cluster: an existing scheduler, or a local cluster started for the work.

Dask is an optional extra, imported only when a cluster is entered. Whoever controls the
scheduler or a worker can run code in this process (results come back as pickles): the address
is checked, plain TCP to another machine is warned about, and workers must run this fraudsim.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import socket
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from .. import __version__
from ..parallel import THREAD_VARIABLES
from .base import RETRIES, ExecutorError, WorkersLost, map_submitted

T = TypeVar("T")
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


@dataclass
class DaskCluster:
    """An existing Dask distributed scheduler (``tcp://host:8786``, ``tls://...``), or ``local``
    for a local cluster of ``workers`` single-threaded processes started when entered.

    A task that raises is retried ``retries`` times; a task whose worker is lost is rescheduled
    by the scheduler (up to ``distributed.scheduler.allowed-failures`` times), then fails with
    :class:`WorkersLost`. Results come back to this process. The workers of a scheduler given
    by address share no disk with this machine (``shared_disk`` is False); a local cluster's do.
    """

    address: str
    workers: int | None = None
    retries: int = RETRIES
    name: ClassVar[str] = "dask"

    def __post_init__(self) -> None:
        if self.address != "local":
            check_address(self.address)
        self._stack: contextlib.ExitStack | None = None
        self._client: Any = None
        self._remote: dict[str, Any] = {}  # Dask's futures, held until their result is handed over

    @property
    def shared_disk(self) -> bool:
        return self.address == "local"

    def __enter__(self) -> DaskCluster:
        with contextlib.ExitStack() as stack:
            self._client = stack.enter_context(self._connect())
            self._stack = stack.pop_all()
        self._count, self._token = itertools.count(), uuid.uuid4().hex[:8]  # task keys unique on the cluster
        return self

    def __exit__(self, kind, error, trace) -> None:
        remote, self._remote = list(self._remote.values()), {}
        try:
            if kind is not None and remote:  # do not leave the cluster computing for nobody
                self._client.cancel(remote)
        finally:
            stack, self._stack, self._client = self._stack, None, None
            if stack is not None:
                stack.close()

    def submit(self, function: Callable[..., T], /, *args: Any) -> Future[T]:
        if self._client is None:
            raise RuntimeError("submit() outside `with DaskCluster(...)`")
        key = f"fraudsim-{getattr(function, '__name__', 'call')}-{next(self._count)}-{self._token}"
        remote = self._client.submit(function, *args, key=key, retries=self.retries, pure=False)
        self._remote[key] = remote
        future: Future[T] = Future()
        future.add_done_callback(lambda future: remote.cancel() if future.cancelled() else None)
        remote.add_done_callback(lambda remote: self._finished(remote, future))
        return future

    def map(self, function, calls, done, progress=None) -> None:
        map_submitted(self, function, calls, done)

    def _finished(self, remote: Any, future: Future) -> None:
        """Called by Dask (in its callback thread) when a task ends: its result to ``future``."""
        self._remote.pop(remote.key, None)
        try:
            if remote.status == "cancelled":
                future.cancel()
            elif remote.status == "finished":
                future.set_result(remote.result())
            else:
                failure = remote.exception()
                if type(failure).__name__ == "KilledWorker":
                    failure = WorkersLost(f"--dask {self.address}: a task kept killing its worker ({failure})")
                future.set_exception(failure)
        except InvalidStateError:  # cancelled here meanwhile: nobody waits for it
            pass
        except Exception as failure:  # the result could not be fetched (the cluster went away)
            with contextlib.suppress(InvalidStateError):
                future.set_exception(failure)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[Any]:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ExecutorError(
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
                try:
                    client = stack.enter_context(Client(self.address, timeout="15s"))
                except (OSError, TimeoutError, ValueError) as error:
                    raise ExecutorError(
                        f"--dask {self.address}: cannot reach a Dask scheduler there ({error}); "
                        "give its address, e.g. tcp://10.0.0.5:8786, or `local`"
                    ) from None
                try:
                    client.wait_for_workers(1, timeout=60)
                except TimeoutError:
                    raise ExecutorError(f"--dask {self.address}: the scheduler has no workers") from None
                self.workers = len(client.scheduler_info(n_workers=-1)["workers"])
            check_workers(client, self.address)
            yield client


def check_address(address: str) -> None:
    """Only Dask's TCP and TLS transports; a plain-TCP scheduler on another machine is warned
    about once: results come back as pickles, so the cluster runs code in this process.

    >>> check_address("tls://10.0.0.5:8786")
    >>> check_address("http://10.0.0.5:8786")
    Traceback (most recent call last):
    ...
    sim.executors.base.ExecutorError: --dask http://10.0.0.5:8786: give `local` or a scheduler address tcp://HOST:PORT or tls://HOST:PORT
    """  # noqa: E501
    parts = urllib.parse.urlsplit(address)
    if parts.scheme not in ("tcp", "tls") or not parts.hostname:
        raise ExecutorError(f"--dask {address}: give `local` or a scheduler address tcp://HOST:PORT or tls://HOST:PORT")
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


def check_workers(client, address: str) -> None:
    """Refuse workers that cannot run this fraudsim, in one line."""
    try:
        versions = client.run(_worker_version)
    except Exception as error:  # the workers cannot import fraudsim at all
        raise ExecutorError(
            f"--dask {address}: the workers cannot run fraudsim ({type(error).__name__}: {error}); "
            "install the same fraudsim on every worker"
        ) from None
    if not isinstance(versions, dict) or not all(isinstance(v, str) and len(v) < 100 for v in versions.values()):
        raise ExecutorError(
            f"--dask {address}: the workers' reply to the version check is malformed; "
            "is this a Dask cluster running fraudsim?"
        )
    wrong = sorted({v for v in versions.values() if v != __version__})
    if wrong:
        raise ExecutorError(
            f"--dask {address}: workers run fraudsim {', '.join(wrong)}, this is {__version__}; "
            "results would differ, so install the same version on every worker"
        )
