"""Process workers: one thread per numeric library, so runs stay deterministic and fair."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor

THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "POLARS_MAX_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)


def pin_threads() -> None:
    """Set every numeric library's thread count to one (before they are imported)."""
    for name in THREAD_VARIABLES:
        os.environ[name] = "1"


def worker_init(parent: int | None = None) -> None:
    """Initialiser for worker processes: one thread each, and (given the ``parent``'s pid) exit as
    soon as the parent is gone, so a run or sweep killed with SIGKILL leaves no orphans computing on."""
    pin_threads()
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        pass
    if parent is not None:

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(1)

        threading.Thread(target=watch, name="fraudsim-orphan-watch", daemon=True).start()


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` fresh processes (spawned: forking a process that has started
    polars' or BLAS's thread pools can deadlock), each pinned to one thread and watching that
    this process is alive."""
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=worker_init,
        initargs=(os.getpid(),),
    )


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Shut a pool down without waiting for calls still running (after an error or Ctrl-C): its
    workers, this process's only child processes, are terminated."""
    workers = multiprocessing.active_children()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in workers:
        process.terminate()
    for process in workers:
        process.join(5)
