"""Where runs and sweeps execute: one :class:`Executor` protocol, three executors.

``fraudsim run`` submits replications (or, when they do not share out evenly, each warm-up, arm
and A/B test) and ``fraudsim sweep`` maps (point, replication) runs, through the same protocol:
:class:`InProcess` (``--workers 1``), :class:`LocalProcesses` (a pool of spawned processes
that die with their parent) or :class:`DaskCluster` (``--dask ADDRESS|local``).
:func:`make_executor` picks one from those two options. Every task pins numeric libraries to
one thread, so results are byte-identical whichever executor runs them.

Modules: :mod:`.base` (the protocol, its errors, in-process), :mod:`.local` (local processes),
:mod:`.cluster` (Dask, its address and version checks).
"""

from __future__ import annotations

import os

from .base import RETRIES, Executor, ExecutorError, InProcess, WorkersLost, map_submitted
from .cluster import DaskCluster, check_address, check_workers
from .local import LocalProcesses


def make_executor(workers: int | None = None, dask: str | None = None) -> Executor:
    """In this process for one worker, a local process pool for more (default: every core), or
    Dask when ``dask`` is a scheduler address or ``local`` (its address checked now).

    >>> make_executor(1).name, make_executor(4).name, make_executor(2, "local").name
    ('in-process', 'local processes', 'dask')
    """
    if dask:
        return DaskCluster(dask, workers)
    workers = workers or os.cpu_count() or 1
    return InProcess() if workers == 1 else LocalProcesses(workers)


__all__ = [
    "RETRIES",
    "DaskCluster",
    "Executor",
    "ExecutorError",
    "InProcess",
    "LocalProcesses",
    "WorkersLost",
    "check_address",
    "check_workers",
    "make_executor",
    "map_submitted",
]
