"""Sweep files: a base scenario, ``[set]`` keys, a ``[grid]`` and a ``[zip]`` (``docs/sweeps.md``)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field

from ..schema import Name, Strict
from .errors import ScenarioError
from .files import read_toml, validate, validate_model
from .overrides import apply_overrides, named_path, set_path

# Keys a sweep may not vary: they name or describe the scenario, or belong to the sweep itself.
SWEEP_RESERVED_KEYS = ("name", "description", "replications", "fraudsim_version")


class SweepFile(Strict):
    """The keys of a sweep file (``docs/sweeps.md``): a base scenario, a grid, a zip."""

    name: Name | None = Field(
        None,
        description="the sweep's name; results go to `reports/sweep-<name>/` (default: the file's stem)",
    )
    description: str = Field("", description="what the sweep shows and what to look for")
    base: str = Field(description="the base scenario file, relative to the sweep file")
    replications: int | None = Field(
        None,
        ge=1,
        le=10_000,
        description="replications of every point (default: the base scenario's)",
    )
    set: dict[str, Any] = Field(
        default_factory=dict,
        description='key paths set in the base before the grid: `"labels.chargeback.share" = 0.9`',
    )
    grid: dict[str, Any] = Field(
        default_factory=dict,
        description="key paths and lists of values; every combination is a point",
    )
    zip: dict[str, Any] = Field(
        default_factory=dict,
        description="key paths with equal-length lists, varied together and crossed with the grid",
    )


@dataclass(frozen=True)
class Sweep:
    """A checked sweep file: its base scenario as a raw dict (``[set]`` and ``--set`` applied,
    valid on its own), and the grid and zip still to expand (:func:`sim.sweeps.plan_sweep`)."""

    file: Path
    name: str
    description: str
    base_file: Path
    base: dict[str, Any]
    overrides: tuple[str, ...]
    replications: int
    grid: dict[str, list[Any]]
    zip: dict[str, list[Any]]

    def label(self, key: str) -> str:
        """How messages name a grid or zip key: ``grid."arms.batch-weekly.every"``."""
        return f"{'zip' if key in self.zip else 'grid'}.{json.dumps(key)}"


def load_sweep(path: str | Path, overrides: Iterable[str] = ()) -> Sweep:
    """Read a sweep file and its base scenario; check everything but the grid's combinations.

    ``overrides`` (``key.path=value``, as ``--set``) apply to the base after the file's ``[set]``.

    >>> sweep = load_sweep(Path(__file__).parents[2] / "scenarios" / "sweeps" / "label_delay.toml")
    >>> sweep.name, sweep.replications, sweep.grid["labels.chargeback.delay.median"][0]
    ('label_delay', 4, '1h')
    """
    path = Path(path)
    spec = validate_model(SweepFile, read_toml(path), path)
    name = spec.name or path.stem
    if spec.name is None:
        try:
            validate_model(SweepFile, {"name": name, "base": spec.base}, path)
        except ScenarioError:
            raise ScenarioError(
                path, "name", f'the file\'s stem {name!r} is not a usable name; give `name = "..."`'
            ) from None
    base_file = path.parent / spec.base
    if not base_file.is_file():
        raise ScenarioError(
            path,
            "base",
            f"{spec.base!r}: no such scenario file ({base_file}); give a path relative to the sweep file",
        )
    base = read_toml(base_file)
    validate(base, base_file)  # the base is a scenario in its own right
    applied: dict[str, str] = {}
    for key, value in spec.set.items():
        label = f"set.{json.dumps(key)}"
        parts = _sweep_key(path, label, key)
        if isinstance(value, dict) and len(parts) == 1 and isinstance(base.get(key), dict):
            raise ScenarioError(
                path,
                label,
                f"a table here would replace all of `{key}`; set each key on its own "
                f'with a quoted key path, e.g. "{_first_leaf(key, value)}" = ...',
            )
        try:
            set_path(base, parts, copy.deepcopy(value))
        except KeyError as error:
            raise ScenarioError(path, label, error.args[0]) from None
        applied[label] = named_path(base, key)
    texts = list(overrides)
    base = apply_overrides(base, texts, path)
    for text in texts:
        key = text.partition("=")[0].strip()
        applied[f"--set {key}"] = named_path(base, key)
    try:
        scenario = validate(base, path)
    except ScenarioError as error:
        raise blame(error, path, applied) or error from None
    grid, zipped = _sweep_values(path, "grid", spec.grid), _sweep_values(path, "zip", spec.zip)
    if not grid and not zipped:
        raise ScenarioError(
            path,
            "grid",
            "is empty; give at least one key path and its values, "
            'e.g. "labels.chargeback.delay.median" = ["1d", "30d"]',
        )
    lengths = {key: len(values) for key, values in zipped.items()}
    if len(set(lengths.values())) > 1:
        first = next(iter(lengths))
        odd = next(key for key, n in lengths.items() if n != lengths[first])
        raise ScenarioError(
            path,
            f"zip.{json.dumps(odd)}",
            f"has {lengths[odd]} values but zip.{json.dumps(first)} has "
            f"{lengths[first]}; zip keys vary together, so each needs as many values",
        )
    keys = [(f"grid.{json.dumps(k)}", k) for k in grid] + [(f"zip.{json.dumps(k)}", k) for k in zipped]
    for i, (label, key) in enumerate(keys):
        for other_label, other in keys[:i]:
            if _related(key, other):
                raise ScenarioError(path, label, f"overlaps {other_label}: one point would set the same key twice")
    return Sweep(
        path,
        name,
        spec.description,
        base_file,
        base,
        tuple(spec.set) + tuple(texts),
        spec.replications or scenario.replications,
        grid,
        zipped,
    )


def blame(error: ScenarioError, file: str | Path, keys: Mapping[str, str]) -> ScenarioError | None:
    """Re-address a validation ``error`` to the one sweep key (``{label: key path}``) it concerns.

    Returns None when no key, or more than one, explains it.

    >>> error = ScenarioError("point", "arms.batch.every", "'7 days' is not a duration")
    >>> str(blame(error, "s.toml", {'grid."arms.batch.every"': "arms.batch.every"}))
    's.toml: grid."arms.batch.every": \\'7 days\\' is not a duration'
    """
    matches = [(label, key) for label, key in keys.items() if _related(error.key, key)]
    if len(matches) != 1:
        return None
    label, key = matches[0]
    return ScenarioError(file, label, error.message if error.key == key else f"{error.key}: {error.message}")


def _related(a: str, b: str) -> bool:
    """One key path is the other or contains it."""
    return bool(a) and bool(b) and (a == b or a.startswith(b + ".") or b.startswith(a + "."))


def _sweep_key(file: Path, label: str, key: str) -> list[str]:
    parts = key.split(".")
    if not key or any(not part.strip() for part in parts):
        raise ScenarioError(file, label, 'is not a key path; write dotted keys such as "labels.chargeback.share"')
    if parts[0] in SWEEP_RESERVED_KEYS:
        what = "the sweep's own `replications`" if parts[0] == "replications" else "nothing a point can vary"
        raise ScenarioError(file, label, f"`{parts[0]}` cannot be varied or set in a sweep (use {what})")
    return parts


def _first_leaf(key: str, table: Mapping[str, Any]) -> str:
    while isinstance(table, Mapping) and table:
        name, table = next(iter(table.items()))
        key = f"{key}.{name}"
    return key


def _sweep_values(file: Path, section: str, table: Mapping[str, Any]) -> dict[str, list[Any]]:
    checked: dict[str, list[Any]] = {}
    for key, values in table.items():
        label = f"{section}.{json.dumps(key)}"
        _sweep_key(file, label, key)
        if isinstance(values, dict):
            raise ScenarioError(
                file,
                label,
                "is a table, not a list of values; quote dotted key paths in "
                f'the {section} table: "{_first_leaf(key, values)}" = [...]',
            )
        if not isinstance(values, list):
            raise ScenarioError(
                file,
                label,
                f"must be a list of values, e.g. [{json.dumps(values)}] (got {values!r})",
            )
        if not values:
            raise ScenarioError(file, label, "has no values; give at least one")
        seen = [json.dumps(value, sort_keys=True) for value in values]
        repeated = next((text for i, text in enumerate(seen) if text in seen[:i]), None)
        if repeated is not None:
            raise ScenarioError(file, label, f"value {repeated} appears twice")
        checked[key] = list(values)
    return checked
