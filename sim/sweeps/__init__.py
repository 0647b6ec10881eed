"""Parameter sweeps: a grid of key paths over a base scenario, run locally or on Dask, resumable.

A sweep file (:func:`sim.scenario.load_sweep`) names a base scenario, a ``[grid]``
of key paths and values and an optional ``[zip]`` of keys varied together. Each
combination is a **point**: the base with those values set, validated like any
scenario. Every point runs every arm, replication *r* with the seeds of
replication *r*, so points are paired by seed just as arms are.

The unit of work is :func:`run_point` (one point, one replication). Its result
is saved atomically under ``points/<key>/replication-<r>.parquet``, where the
key hashes the resolved point and the package version; a sweep that is run
again skips what is saved, so a killed sweep resumes where it stopped and
finishes with exactly the results of an uninterrupted one. ``results.parquet``
is assembled from the saved results in a fixed order, so it is byte-identical
whichever executor (:mod:`sim.executors`) ran the work: in this process, local
worker processes or a Dask cluster.

Modules: :mod:`.points` (the grid resolved into scenarios, their resume keys),
:mod:`.store` (saved results, written atomically), :mod:`.run` (the unit of work and the
sweep itself).
"""

from ..outputs import atomic_write
from .points import Point, SweepError, SweepPlan, expand, plan_sweep, point_key
from .run import (
    PointRun,
    SweepOutcome,
    SweepProgress,
    assemble,
    describe,
    points_frame,
    run_point,
    run_sweep,
)
from .store import ResultStore

__all__ = [
    "Point",
    "PointRun",
    "ResultStore",
    "SweepError",
    "SweepOutcome",
    "SweepPlan",
    "SweepProgress",
    "assemble",
    "atomic_write",
    "describe",
    "expand",
    "plan_sweep",
    "point_key",
    "points_frame",
    "run_point",
    "run_sweep",
]
