"""Sweep points: the grid expanded, each combination resolved and keyed for resume."""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from .. import __version__
from ..experiment.scheduling import simulated_days
from ..scenario import (
    ScenarioError,
    Sweep,
    blame,
    named_path,
    resolved_dict,
    set_path,
    validate,
)
from ..schema import Scenario
from ..units import parse_duration

# Keys that describe a point rather than change what it computes: left out of its hash, so that
# renaming a sweep or adding replications reuses the results already saved.
COSMETIC_KEYS = ("name", "description", "replications", "fraudsim_version")


class SweepError(Exception):
    """A problem running a sweep that the user can fix: an unreachable cluster, an output in use."""


def expand(
    grid: Mapping[str, Sequence[Any]], zipped: Mapping[str, Sequence[Any]] | None = None
) -> list[dict[str, Any]]:
    """Every combination of the grid's values (the last key varying fastest), each crossed with
    the zip's rows (its keys vary together, after the grid's).

    >>> expand({"a": [1, 2], "b": ["x", "y"]})
    [{'a': 1, 'b': 'x'}, {'a': 1, 'b': 'y'}, {'a': 2, 'b': 'x'}, {'a': 2, 'b': 'y'}]
    >>> [tuple(point.values()) for point in expand({"a": [1, 2]}, {"b": [10, 20], "c": ["p", "q"]})]
    [(1, 10, 'p'), (1, 20, 'q'), (2, 10, 'p'), (2, 20, 'q')]
    """
    axes: list[list[dict[str, Any]]] = [[{key: value} for value in values] for key, values in grid.items()]
    if zipped:
        rows = zip(*zipped.values(), strict=True)
        axes.append([dict(zip(zipped, row, strict=True)) for row in rows])
    return [{k: v for part in combination for k, v in part.items()} for combination in itertools.product(*axes)]


def point_key(scenario: Scenario, version: str = __version__) -> str:
    """The resume key of a resolved point: a hash of every key that changes its results, and of
    the package version (16 hex digits).

    >>> a = validate({"name": "a", "horizon": "2d"}, "inline")
    >>> b = validate({"name": "b", "horizon": "2d", "replications": 5}, "inline")
    >>> point_key(a) == point_key(b), point_key(a) == point_key(a, "9.9")
    (True, False)
    """
    data = resolved_dict(scenario, version)
    for key in COSMETIC_KEYS:
        data.pop(key, None)
    text = json.dumps({"fraudsim_version": version, "scenario": data}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Point:
    """One combination of grid values, resolved into a scenario."""

    index: int
    values: tuple[tuple[str, Any], ...]
    scenario: Scenario
    key: str

    def value(self, key: str) -> Any:
        return dict(self.values)[key]


@dataclass(frozen=True)
class GridColumn:
    """A grid or zip key as columns of ``results.parquet``: its raw values and, for durations,
    the same in seconds (``<key>_s``)."""

    key: str
    zipped: bool
    values: tuple[Any, ...]
    dtype: pl.DataType
    duration: bool

    @classmethod
    def of(cls, key: str, values: Sequence[Any], zipped: bool) -> GridColumn:
        kinds = {type(v) for v in values}
        if kinds == {bool}:
            dtype: pl.DataType = pl.Boolean()
        elif kinds == {int}:
            dtype = pl.Int64()
        elif kinds <= {int, float}:
            dtype = pl.Float64()
        else:
            dtype = pl.String()
        return cls(key, zipped, tuple(values), dtype, all(_is_duration(v) for v in values))

    def cell(self, value: Any) -> Any:
        """The value as stored in the raw column (tables and mixed types as JSON text)."""
        if self.dtype == pl.String() and not isinstance(value, str):
            return json.dumps(value, sort_keys=True)
        return float(value) if self.dtype == pl.Float64() else value

    def describe(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "in": "zip" if self.zipped else "grid",
            "values": list(self.values),
            "column": self.key,
            "seconds_column": f"{self.key}_s" if self.duration else None,
        }


def _is_duration(value: Any) -> bool:
    try:
        parse_duration(value)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Task:
    """One replication of one resolved point (points that resolve alike share their tasks)."""

    key: str
    replication: int
    scenario: Scenario

    @property
    def days(self) -> float:
        return simulated_days(self.scenario)


@dataclass(frozen=True)
class SweepPlan:
    """A sweep with every point resolved and validated: nothing has run yet."""

    sweep: Sweep
    points: tuple[Point, ...]
    columns: tuple[GridColumn, ...]
    version: str

    def tasks(self) -> list[Task]:
        """Each distinct (point key, replication), in point order."""
        seen: dict[tuple[str, int], Task] = {}
        for point in self.points:
            for replication in range(self.sweep.replications):
                seen.setdefault((point.key, replication), Task(point.key, replication, point.scenario))
        return list(seen.values())


def plan_sweep(sweep: Sweep, version: str = __version__) -> SweepPlan:
    """Resolve every point of ``sweep``: set its values on the base and validate it.

    A bad point raises :class:`ScenarioError` naming the sweep file and the grid key
    (``grid."arms.batch-weekly.every": ...``), before anything runs.
    """
    points: list[Point] = []
    for index, values in enumerate(expand(sweep.grid, sweep.zip)):
        raw = copy.deepcopy(sweep.base)
        raw["replications"] = sweep.replications
        for key, value in values.items():
            try:
                set_path(raw, key.split("."), copy.deepcopy(value))
            except KeyError as error:
                raise ScenarioError(sweep.file, sweep.label(key), error.args[0]) from None
        try:
            scenario = validate(raw, sweep.file)
        except ScenarioError as error:
            raise _point_error(sweep, error, raw, values) from None
        points.append(Point(index, tuple(values.items()), scenario, point_key(scenario, version)))
    columns = tuple(GridColumn.of(key, values, key in sweep.zip) for key, values in {**sweep.grid, **sweep.zip}.items())
    return SweepPlan(sweep, tuple(points), columns, version)


def _point_error(sweep: Sweep, error: ScenarioError, raw: dict, values: Mapping[str, Any]) -> ScenarioError:
    labels = {sweep.label(key): named_path(raw, key) for key in values}
    blamed = blame(error, sweep.file, labels)
    if blamed is not None:
        key = next(k for k in values if sweep.label(k) == blamed.key)
        shown = json.dumps(values[key], sort_keys=True)
        if (
            shown not in blamed.message
            and repr(values[key]) not in blamed.message
            and "unknown key" not in blamed.message
        ):
            blamed = ScenarioError(sweep.file, blamed.key, f"{blamed.message} (value {shown})")
        return blamed
    where = ", ".join(f"{json.dumps(k)} = {json.dumps(v, sort_keys=True)}" for k, v in values.items())
    return ScenarioError(
        sweep.file,
        f"grid point ({where})",
        f"{error.key}: {error.message}" if error.key else error.message,
    )
