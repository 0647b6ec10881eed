"""Read, override, validate and resolve scenario files.

This is the only module that reads scenario files. Every problem with one —
missing, unreadable, not TOML, an unknown key, a wrong unit, an impossible
value — becomes a :class:`ScenarioError` that names the file, the key path and
what is allowed; the command line prints it and exits with status 2.

>>> scenario = validate({"name": "tiny", "horizon": "2d"}, "inline")
>>> scenario.horizon
172800.0
>>> validate({"name": "tiny", "horizon": "2 days"}, "inline")
Traceback (most recent call last):
...
sim.scenario.ScenarioError: inline: horizon: '2 days' is not a duration; write a number and a unit: s, m, h, d, w, mo (30 days), y (365 days), e.g. "30s", "15m", "2h", "3d", "1mo"
"""

from __future__ import annotations

import copy
import difflib
import tomllib
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import BaseModel, ValidationError

from .schema import Scenario

M = typing.TypeVar("M", bound=BaseModel)

__all__ = [
    "ScenarioError",
    "apply_overrides",
    "load_scenario",
    "read_toml",
    "resolved_toml",
    "validate",
]


class ScenarioError(Exception):
    """A problem with a scenario or sweep file, for people to read."""

    def __init__(self, file: str | Path, key: str, message: str):
        self.file = str(file)
        self.key = key
        self.message = message
        super().__init__(f"{self.file}: {key}: {message}" if key else f"{self.file}: {message}")


# --------------------------------------------------------------------------- reading


def read_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file into a dict, turning every failure into a :class:`ScenarioError`."""
    path = Path(path)
    if not path.exists():
        raise ScenarioError(path, "", "no such file")
    if path.is_dir():
        raise ScenarioError(path, "", "is a directory; give a scenario file (.toml)")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ScenarioError(path, "", f"cannot be read: {error.strerror}") from None
    if not data.strip():
        raise ScenarioError(path, "", "is empty; a scenario needs at least `name = \"...\"`")
    if b"\x00" in data:
        raise ScenarioError(path, "", "is a binary file, not a TOML text file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(path, "", "is not UTF-8 text; scenario files are TOML text") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(path, "", f"is not valid TOML: {error}") from None


def load_scenario(path: str | Path, overrides: Iterable[str] = ()) -> Scenario:
    """Read, override (``key.path=value`` strings) and validate a scenario file."""
    raw = read_toml(path)
    raw = apply_overrides(raw, overrides, path)
    return validate(raw, path)


# --------------------------------------------------------------------------- overrides


def _entry_label(list_key: str, index: int, entry: Any) -> str:
    if isinstance(entry, Mapping) and isinstance(entry.get("name"), str):
        return entry["name"]
    if list_key == "crews":
        return f"crews-{index + 1}"
    return str(index)


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split ``key.path=value``; the value is read as TOML, else kept as a string.

    >>> parse_override("population.customers=500")
    (['population', 'customers'], 500)
    >>> parse_override("horizon=7d")
    (['horizon'], '7d')
    """
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise ValueError(f"{text!r}: write overrides as key.path=value, e.g. horizon=30d")
    try:
        parsed = tomllib.loads(f"v = {value.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value.strip()
    return key.split("."), parsed


def set_path(raw: dict[str, Any], path: list[str], value: Any) -> None:
    """Set ``value`` at ``path`` in ``raw``; list entries are addressed by name or index.

    Raises ``KeyError`` with a readable message when a list entry does not exist.
    """
    node: Any = raw
    for depth, part in enumerate(path[:-1]):
        parent_key = path[depth - 1] if depth else ""
        if isinstance(node, list):
            node = node[_find_entry(node, parent_key, part, path[:depth])]
            continue
        if not isinstance(node, dict):
            raise KeyError(f"{'.'.join(path[:depth])} is a value, not a table")
        if part not in node:
            node[part] = {}
        node = node[part]
    last = path[-1]
    if isinstance(node, list):
        node[_find_entry(node, path[-2] if len(path) > 1 else "", last, path[:-1])] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise KeyError(f"{'.'.join(path[:-1])} is a value, not a table")


def _find_entry(entries: list[Any], list_key: str, part: str, where: list[str]) -> int:
    for index, entry in enumerate(entries):
        if _entry_label(list_key, index, entry) == part:
            return index
    if part.isdigit() and int(part) < len(entries):
        return int(part)
    labels = ", ".join(_entry_label(list_key, i, e) for i, e in enumerate(entries)) or "none"
    raise KeyError(f"no entry {part!r} in {'.'.join(where)}; entries are: {labels}")


def apply_overrides(raw: dict[str, Any], overrides: Iterable[str], file: str | Path) -> dict[str, Any]:
    """Return a copy of ``raw`` with each ``key.path=value`` override applied."""
    raw = copy.deepcopy(raw)
    for text in overrides:
        try:
            path, value = parse_override(text)
            set_path(raw, path, value)
        except (KeyError, ValueError) as error:
            message = error.args[0] if error.args else str(error)
            raise ScenarioError(file, f"--set {text.partition('=')[0]}", message) from None
    return raw


# --------------------------------------------------------------------------- validation


def validate(raw: Mapping[str, Any], file: str | Path) -> Scenario:
    """Validate a raw dict into a :class:`Scenario`, or raise one readable :class:`ScenarioError`."""
    return validate_model(Scenario, raw, file)


def validate_model(model: type[M], raw: Mapping[str, Any], file: str | Path) -> M:
    """Validate ``raw`` against any of our schemas, with errors for people."""
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise _readable(error, model, raw, file) from None


def _readable(error: ValidationError, model: type[BaseModel], raw: Mapping[str, Any], file) -> ScenarioError:
    problems = error.errors(include_url=False)
    first = problems[0]
    loc = tuple(first["loc"])
    key, node_model = _key_path(loc, raw, model)
    kind = first["type"]
    message = str(first["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind == "extra_forbidden":
        parent_key, parent_model = _key_path(loc[:-1], raw, model)
        allowed = sorted(parent_model.model_fields) if parent_model else []
        message = f"unknown key {str(loc[-1])!r}"
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        if close:
            message += f" (did you mean {close[0]!r}?)"
        if allowed:
            message += f"; allowed keys here: {', '.join(allowed)}"
    elif kind == "missing":
        message = "is required but missing"
    elif not loc and ": " in message and " " not in message.split(": ", 1)[0]:
        key, message = message.split(": ", 1)  # a whole-scenario check names its own key
    elif "input" in first and kind not in {"model_type", "dict_type", "value_error"} and _short(
        first["input"]
    ):
        message += f" (got {first['input']!r})"
    extra = len(problems) - 1
    if extra:
        message += f" [and {extra} more problem{'s' if extra > 1 else ''}]"
    return ScenarioError(file, key, message)


def _short(value: Any) -> bool:
    return not isinstance(value, dict | list) and len(repr(value)) <= 60


def _key_path(loc: tuple, raw: Any, model: type[BaseModel]) -> tuple[str, type[BaseModel] | None]:
    """The dotted key path of a pydantic error location, and the model found there.

    List entries are named by their ``name`` (``arms.batch-weekly.every``), else
    by index (``crews.0.count``); discriminated-union tags are skipped.
    """
    parts: list[str] = []
    node: Any = raw
    annotation: Any = model
    list_key = ""
    for item in loc:
        if isinstance(item, int) and isinstance(node, list):
            entry = node[item] if item < len(node) else None
            parts.append(_entry_label(list_key, item, entry))
            node, annotation = entry, _element(annotation)
            continue
        if isinstance(node, dict) and item not in node and item in node.values():
            annotation = _union_member(annotation, node, item)
            continue  # the tag of a discriminated union
        parts.append(str(item))
        list_key = str(item)
        node = node.get(item) if isinstance(node, dict) else None
        annotation = _field(annotation, str(item))
    found = _as_model(annotation)
    return ".".join(parts), found


def _strip(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _members(annotation: Any) -> list[Any]:
    annotation = _strip(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [_strip(a) for a in typing.get_args(annotation) if a is not type(None)]
    return [annotation]


def _as_model(annotation: Any) -> type[BaseModel] | None:
    models = [m for m in _members(annotation) if isinstance(m, type) and issubclass(m, BaseModel)]
    return models[0] if len(models) == 1 else None


def _field(annotation: Any, name: str) -> Any:
    model = _as_model(annotation)
    if model is None or name not in model.model_fields:
        return None
    return model.model_fields[name].annotation


def _element(annotation: Any) -> Any:
    for member in _members(annotation):
        if typing.get_origin(member) in (list, tuple):
            return typing.get_args(member)[0]
    return None


def _union_member(annotation: Any, node: dict, tag: Any) -> Any:
    for member in _members(annotation):
        if not (isinstance(member, type) and issubclass(member, BaseModel)):
            continue
        for field in member.model_fields.values():
            if typing.get_origin(field.annotation) is typing.Literal and typing.get_args(field.annotation) == (
                tag,
            ):
                return member
    return annotation


# --------------------------------------------------------------------------- resolving


def resolved_dict(scenario: Scenario, version: str) -> dict[str, Any]:
    """Every key with its value, defaults filled in, ready to write as TOML."""
    data = scenario.model_dump(mode="json", exclude_none=True)
    data["fraudsim_version"] = version
    return data


def resolved_toml(scenario: Scenario, version: str) -> str:
    """The scenario as TOML with every default filled in; reading it back gives the same run."""
    header = (
        "# Resolved by fraudsim: every default filled in. Running this file reproduces the run.\n"
    )
    return header + tomli_w.dumps(resolved_dict(scenario, version))
