"""``--set key.path=value``: overrides of a scenario's keys, list entries addressed by name."""

from __future__ import annotations

import copy
import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..schema import Scenario
from .errors import ScenarioError, _element, _entry_label, _field, _is_list_of_tables, _variant

MAX_DEPTH = 16  # tables and lists within each other; the schema itself goes four deep


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether tables and lists nest more than ``limit`` levels (checked without recursion).

    >>> too_deep({"a": [[1]]}, limit=3), too_deep({"a": [[{"b": 1}]]}, limit=3)
    (False, True)
    """
    level = [value] if isinstance(value, (dict, list)) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        level = [
            v
            for item in level
            for v in (item.values() if isinstance(item, dict) else item)
            if isinstance(v, (dict, list))
        ]
    return False


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
    except RecursionError:
        parsed = None
    except tomllib.TOMLDecodeError:
        if value[:1] not in ("[", "{", '"', "'"):
            parsed = value  # a bare string: 30d, online
        else:
            raise ValueError(_toml_hint(key, value)) from None
    if parsed is None or too_deep(parsed):
        raise ValueError(f"the value nests lists or tables more than {MAX_DEPTH} levels deep")
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


def flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """``value``'s leaves by dotted path, list entries that are named tables by their name (as
    ``--set`` addresses them: ``arms.online.lr``).

    >>> flat({"horizon": "7d", "arms": [{"name": "online", "lr": 0.1}], "labels": {"days": ["mon"]}})
    {'horizon': '7d', 'arms.online.name': 'online', 'arms.online.lr': 0.1, 'labels.days': ['mon']}
    """
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(flat(item, f"{prefix}{key}."))
        return out
    named = isinstance(value, list) and value and all(isinstance(v, Mapping) and "name" in v for v in value)
    if named:
        out = {}
        for item in value:
            out.update(flat(item, f"{prefix}{item['name']}."))
        return out
    return {prefix.rstrip("."): value}


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[str, ...]:
    """What ``after`` changed of ``before`` (raw scenario dicts), one ``key = value (was: …)`` line
    per leaf, in ``after``'s order.

    >>> changes({"horizon": "60d"}, {"horizon": "7d", "seed": 3})
    ('horizon = "7d" (was "60d")', 'seed = 3 (was the default)')
    """
    old, new = flat(before), flat(after)
    lines = []
    for key, value in new.items():
        if key not in old:
            lines.append(f"{key} = {_shown(value)} (was the default)")
        elif old[key] != value:
            lines.append(f"{key} = {_shown(value)} (was {_shown(old[key])})")
    lines += [f"{key} removed (was {_shown(value)})" for key, value in old.items() if key not in new]
    return tuple(lines)


def _shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
