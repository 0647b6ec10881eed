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
"""  # noqa: E501

from __future__ import annotations

import copy
import difflib
import json
import re
import tomllib
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import BaseModel, Field, ValidationError

from .schema import Name, Scenario, Strict

M = typing.TypeVar("M", bound=BaseModel)

__all__ = [
    "ScenarioError",
    "Sweep",
    "SweepFile",
    "apply_overrides",
    "load_scenario",
    "load_sweep",
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

    A value that starts like a TOML list, table or string but is not valid TOML is refused
    with the quoted form to write instead.

    >>> parse_override("population.customers=500")
    (['population', 'customers'], 500)
    >>> parse_override("horizon=7d")
    (['horizon'], '7d')
    >>> parse_override("labels.investigators.days=[mon,tue]")
    Traceback (most recent call last):
    ...
    ValueError: the value is not valid TOML: values are read as TOML, so strings inside a list or table need quotes; write --set 'labels.investigators.days=["mon","tue"]'
    """  # noqa: E501
    key, sep, value = text.partition("=")
    key, value = key.strip(), value.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise ValueError(f"{text!r}: write overrides as key.path=value, e.g. horizon=30d")
    try:
        parsed = _toml_value(value)
    except tomllib.TOMLDecodeError:
        if value[:1] not in ("[", "{", '"', "'"):
            parsed = value  # a bare string: 30d, online
        else:
            raise ValueError(_toml_hint(key, value)) from None
    return key.split("."), parsed


def _toml_value(text: str) -> Any:
    return tomllib.loads(f"v = {text}")["v"]


_BARE = re.compile(r"""[^\s\[\]{},="']+""")


def _toml_hint(key: str, value: str) -> str:
    """How to write a value that looks like a TOML list, table or string but does not parse.

    The value itself is not repeated: the user typed it, and a terminal may read brackets as markup.
    """

    def quote(match: re.Match) -> str:
        word = match.group(0)
        try:
            _toml_value(word)
            return word  # a number, a boolean
        except tomllib.TOMLDecodeError:
            return json.dumps(word)

    if value[:1] in ("'", '"'):
        return f"the value is not valid TOML: a quoted string must end with the quote it starts with ({value[0]})"
    message = (
        "the value is not valid TOML: values are read as TOML, so strings inside a list or table need quotes; write "
    )
    fixed = _BARE.sub(quote, value)
    try:
        _toml_value(fixed)
    except tomllib.TOMLDecodeError:
        example = '["a", "b"]' if value.startswith("[") else '{ name = "a" }'
        return message + f"e.g. --set '{key}={example}'"
    return message + f"--set '{key}={fixed}'"


def set_path(raw: dict[str, Any], path: list[str], value: Any, model: type[BaseModel] = Scenario) -> None:
    """Set ``value`` at ``path`` in ``raw``; list entries are addressed by name or index.

    ``model`` is the schema of ``raw``: a missing key that holds a list of tables is not
    created as a table. Raises ``KeyError`` with a readable message when a list entry does
    not exist, or when a list entry would be replaced by something other than a table.

    >>> set_path({"name": "x"}, ["faults", "outage", "end"], "1d")
    Traceback (most recent call last):
    ...
    KeyError: "no entry 'outage' in faults; the scenario has no faults entries (add one to the file)"
    """
    node: Any = raw
    annotation: Any = model
    for depth, part in enumerate(path[:-1]):
        parent_key = path[depth - 1] if depth else ""
        if isinstance(node, list):
            node = node[_find_entry(node, parent_key, part, path[:depth])]
            annotation = _variant(_element(annotation), node)
            continue
        if not isinstance(node, dict):
            raise KeyError(f"{'.'.join(path[:depth])} is a value, not a table")
        annotation = _field(annotation, part)
        if part not in node:
            if _is_list_of_tables(annotation):
                _find_entry([], part, path[depth + 1], path[: depth + 1])  # raises: no such entry
            node[part] = {}
        node = node[part]
    last = path[-1]
    if isinstance(node, list):
        list_key = path[-2] if len(path) > 1 else ""
        index = _find_entry(node, list_key, last, path[:-1])
        if not isinstance(value, dict) and _is_list_of_tables(annotation):
            raise KeyError(
                f"an entry of {list_key} is a table: set one of its keys (--set {'.'.join(path)}.<key>=...) "
                "or give a whole inline table {...}"
            )
        old = node[index]
        if isinstance(value, dict) and "name" not in value and isinstance(old, Mapping) and old.get("name") == last:
            value = {"name": last, **value}  # the entry keeps the name it was addressed by
        node[index] = value
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
    where_text = ".".join(where)
    if not entries:
        raise KeyError(
            f"no entry {part!r} in {where_text}; the scenario has no {list_key} entries (add one to the file)"
        )
    labels = ", ".join(_entry_label(list_key, i, e) for i, e in enumerate(entries))
    raise KeyError(f"no entry {part!r} in {where_text}; entries are: {labels}")


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
    elif kind in ("union_tag_not_found", "union_tag_invalid"):
        _, annotation, node = _locate(loc, raw, model)
        message = _tag_message(kind, first.get("ctx", {}), annotation, node)
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
    """The dotted key path of a pydantic error location, and the model found there."""
    key, annotation, _ = _locate(loc, raw, model)
    return key, _as_model(annotation)


def _locate(loc: tuple, raw: Any, model: type[BaseModel]) -> tuple[str, Any, Any]:
    """The dotted key path of a pydantic error location, the annotation there and the raw value there.

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
        member = _union_member(annotation, item)
        if member is not None:
            annotation = member
            continue  # the tag of a discriminated union
        parts.append(str(item))
        list_key = str(item)
        node = node.get(item) if isinstance(node, dict) else None
        annotation = _field(annotation, str(item))
    return ".".join(parts), annotation, node


def _strip(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _members(annotation: Any) -> list[Any]:
    annotation = _strip(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [_strip(a) for a in typing.get_args(annotation) if a is not type(None)]
    return [annotation]


def _models(annotation: Any) -> list[type[BaseModel]]:
    return [m for m in _members(annotation) if isinstance(m, type) and issubclass(m, BaseModel)]


def _as_model(annotation: Any) -> type[BaseModel] | None:
    models = _models(annotation)
    return models[0] if len(models) == 1 else None


def _field(annotation: Any, name: str) -> Any:
    """The annotation of key ``name`` in the table(s) ``annotation`` allows (the first that has it)."""
    for model in _models(annotation):
        if name in model.model_fields:
            return model.model_fields[name].annotation
    return None


def _element(annotation: Any) -> Any:
    for member in _members(annotation):
        if typing.get_origin(member) in (list, tuple):
            return typing.get_args(member)[0]
    return None


def _is_list_of_tables(annotation: Any) -> bool:
    element = _element(annotation)
    return any(typing.get_origin(m) is list for m in _members(annotation)) and bool(_models(element))


def _tag_key(models: list[type[BaseModel]]) -> str | None:
    """The key that tags the members of a discriminated union: a one-value ``Literal`` in every one of them."""
    for name in models[0].model_fields if models else ():
        annotations = [m.model_fields[name].annotation if name in m.model_fields else None for m in models]
        if all(typing.get_origin(a) is typing.Literal and len(typing.get_args(a)) == 1 for a in annotations):
            return name
    return None


def _tags(models: list[type[BaseModel]]) -> list[tuple[type[BaseModel], Any]]:
    """Each member of a discriminated union with its tag value."""
    key = _tag_key(models)
    return [(m, typing.get_args(m.model_fields[key].annotation)[0]) for m in models] if key else []


def _union_member(annotation: Any, tag: Any) -> type[BaseModel] | None:
    """The member of a union of several tables whose tag is ``tag``, if ``annotation`` is such a union."""
    models = _models(annotation)
    if len(models) < 2:
        return None
    return next((member for member, value in _tags(models) if value == tag), None)


def _variant(annotation: Any, entry: Any) -> Any:
    """The member of a union of tables that ``entry`` (a raw table) picks with its tag, else the union."""
    models = _models(annotation)
    key = _tag_key(models) if len(models) > 1 else None
    if key and isinstance(entry, Mapping):
        return next((member for member, value in _tags(models) if entry.get(key) == value), annotation)
    return annotation


KIND_NOUNS = {"learner": "learners", "strategy": "strategies", "dist": "distributions"}


def _tag_message(kind: str, ctx: Mapping[str, Any], annotation: Any, node: Any) -> str:
    """The message for a table of a discriminated union whose tag (``learner``, ``strategy``…) is missing or wrong."""
    tag = str(ctx.get("discriminator", "")).strip("'\"")
    tags = [value for _, value in _tags(_models(annotation))]
    allowed = f"allowed {KIND_NOUNS.get(tag, f'values of `{tag}`')}: {', '.join(map(repr, tags))}"
    if kind == "union_tag_not_found":
        return f"the `{tag}` key is missing; {allowed}"
    value = node.get(tag) if isinstance(node, Mapping) else ctx.get("tag")
    message = f"{tag} = {value!r} is not allowed; {allowed}"
    close = difflib.get_close_matches(str(value), [str(t) for t in tags], n=1)
    return message + (f" (did you mean {close[0]!r}?)" if close else "")


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


# --------------------------------------------------------------------------- sweep files

# Keys a sweep may not vary: they name or describe the scenario, or belong to the sweep itself.
SWEEP_RESERVED_KEYS = ("name", "description", "replications", "fraudsim_version")


class SweepFile(Strict):
    """The keys of a sweep file (``docs/sweeps.md``): a base scenario, a grid, a zip."""

    name: Name | None = Field(
        None,
        description="the sweep's name; results go to `reports/<name>/` (default: the file's stem)",
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
    valid on its own), and the grid and zip still to expand (:func:`sim.sweep.plan_sweep`)."""

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

    >>> sweep = load_sweep(Path(__file__).parent.parent / "scenarios" / "sweeps" / "label_delay.toml")
    >>> sweep.name, sweep.replications, sweep.grid["labels.chargeback.delay.median"][0]
    ('label_delay', 5, '15m')
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
    keys = [(f"grid.{json.dumps(k)}", k) for k in grid] + [
        (f"zip.{json.dumps(k)}", k) for k in zipped
    ]
    for i, (label, key) in enumerate(keys):
        for other_label, other in keys[:i]:
            if _related(key, other):
                raise ScenarioError(
                    path, label, f"overlaps {other_label}: one point would set the same key twice"
                )
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


def named_path(raw: Mapping[str, Any], key: str) -> str:
    """``key`` with list entries named as error messages name them (by ``name``, else index).

    >>> named_path({"arms": [{"name": "online", "learner": "online"}]}, "arms.0.lr")
    'arms.online.lr'
    """
    node: Any = raw
    named: list[str] = []
    list_key = ""
    for part in key.split("."):
        if isinstance(node, list):
            try:
                index = _find_entry(node, list_key, part, [])
            except KeyError:
                named.append(part)
                node = None
                continue
            named.append(_entry_label(list_key, index, node[index]))
            node = node[index]
            continue
        named.append(part)
        list_key = part
        node = node.get(part) if isinstance(node, dict) else None
    return ".".join(named)


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
    return ScenarioError(
        file, label, error.message if error.key == key else f"{error.key}: {error.message}"
    )


def _related(a: str, b: str) -> bool:
    """One key path is the other or contains it."""
    return bool(a) and bool(b) and (a == b or a.startswith(b + ".") or b.startswith(a + "."))


def _sweep_key(file: Path, label: str, key: str) -> list[str]:
    parts = key.split(".")
    if not key or any(not part.strip() for part in parts):
        raise ScenarioError(
            file, label, 'is not a key path; write dotted keys such as "labels.chargeback.share"'
        )
    if parts[0] in SWEEP_RESERVED_KEYS:
        what = (
            "the sweep's own `replications`"
            if parts[0] == "replications"
            else "nothing a point can vary"
        )
        raise ScenarioError(
            file, label, f"`{parts[0]}` cannot be varied or set in a sweep (use {what})"
        )
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
