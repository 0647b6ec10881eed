"""Scenario files: read (every failure a :class:`ScenarioError`), validate, resolve."""

from __future__ import annotations

import tomllib
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import BaseModel, ValidationError

from ..schema import Scenario
from ..schema.own import is_own
from .errors import ScenarioError, _readable
from .overrides import MAX_DEPTH, apply_overrides, changes, too_deep

MAX_BYTES = 1_000_000  # a scenario is a page of text; the bundled ones are under 10 kB

M = typing.TypeVar("M", bound=BaseModel)


def read_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file into a dict, turning every failure into a :class:`ScenarioError`."""
    path = Path(path)
    if not path.exists():
        raise ScenarioError(path, "", "no such file")
    if path.is_dir():
        raise ScenarioError(path, "", "is a directory; give a scenario file (.toml)")
    if not path.is_file():
        raise ScenarioError(path, "", "is not a regular file (a pipe, device or socket); give a scenario file (.toml)")
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ScenarioError(path, "", f"is larger than {MAX_BYTES // 1000} kB; a scenario is a short TOML text")
        data = path.read_bytes()
    except OSError as error:
        raise ScenarioError(path, "", f"cannot be read: {error.strerror}") from None
    if not data.strip():
        raise ScenarioError(path, "", 'is empty; a scenario needs at least `name = "..."`')
    if b"\x00" in data:
        raise ScenarioError(path, "", "is a binary file, not a TOML text file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(path, "", "is not UTF-8 text; scenario files are TOML text") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(path, "", f"is not valid TOML: {error}") from None
    except RecursionError:
        raw = None
    if raw is None or too_deep(raw):
        raise ScenarioError(path, "", f"nests tables or lists more than {MAX_DEPTH} levels deep")
    return raw


def is_sweep(raw: Mapping[str, Any]) -> bool:
    """Whether a file's keys are a sweep's (a ``base`` scenario and a ``grid`` or ``zip``), not a scenario's."""
    return "base" in raw and ("grid" in raw or "zip" in raw)


def load_scenario(path: str | Path, overrides: Iterable[str] = ()) -> Scenario:
    """Read, override (``key.path=value`` strings) and validate a scenario file."""
    file = read_toml(path)
    if is_sweep(file):
        what = "this is a sweep file (a base scenario and a grid), not a scenario"
        raise ScenarioError(path, "base", f"{what}: run it with `fraudsim sweep {path}`")
    raw = apply_overrides(file, overrides, path)
    return validate(raw, path).with_changes(changes(file, raw))


def validate(raw: Mapping[str, Any], file: str | Path) -> Scenario:
    """Validate a raw dict into a :class:`Scenario`, or raise one readable :class:`ScenarioError`
    (also when one replication would need more memory than this machine has)."""
    from ..memory import too_big
    from ..schema.base import MAX_WARMUP
    from ..units import format_duration
    from ..warmup import warmup_length

    scenario = validate_model(Scenario, raw, file)
    warmup = warmup_length(scenario)
    if scenario.warmup == "auto" and warmup > MAX_WARMUP:
        raise ScenarioError(
            file,
            "warmup",
            f'"auto" would run {format_duration(warmup)} before '
            "t = 0 (the longest label delay or maturity window, plus the history and 30 days), "
            "over the 3y limit; shorten the label windows or set warmup",
        )
    problem = too_big(scenario)
    if problem is not None:
        raise ScenarioError(file, "population", problem)
    return scenario


def validate_model(model: type[M], raw: Mapping[str, Any], file: str | Path) -> M:
    """Validate ``raw`` against any of our schemas, with errors for people."""
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise _readable(error, model, raw, file) from None


def resolved_dict(scenario: Scenario, version: str) -> dict[str, Any]:
    """Every key with its value, defaults filled in, ready to write as TOML."""
    data = scenario.model_dump(mode="json", exclude_none=True)
    data["fraudsim_version"] = version
    return data


def resolved_toml(scenario: Scenario, version: str) -> str:
    """The scenario as TOML with every default filled in; reading it back gives the same run."""
    header = "# Resolved by fraudsim: every default filled in. Running this file reproduces the run.\n"
    if scenario.changes:
        header += "# Changed from the scenario's own file:\n" + "".join(f"#   {line}\n" for line in scenario.changes)
    own = [arm.name for arm in scenario.arms if is_own(getattr(arm, "model", ""))]
    if own:
        header += (
            f"# Except: the arms {', '.join(own)} were given model objects from Python, recorded here as\n"
            "# `python: ...`; a file cannot hold them, so run it from Python (docs/own-model.md).\n"
        )
    return header + tomli_w.dumps(resolved_dict(scenario, version))
