"""Problems with scenario and sweep files, in words people can act on.

:class:`ScenarioError` names the file, the key path and what is allowed. Pydantic's validation
errors become one: list entries are named by their ``name`` (``arms.batch-weekly.every``),
discriminated unions (an arm's ``learner``, a crew's ``strategy``) by the table that was meant.
The helpers here read the schema's annotations to find those names and the allowed keys.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError


class ScenarioError(Exception):
    """A problem with a scenario or sweep file, for people to read."""

    __module__ = "sim.scenario"  # its public home, as tracebacks and doctests name it

    def __init__(self, file: str | Path, key: str, message: str):
        self.file = str(file)
        self.key = key
        self.message = message
        super().__init__(f"{self.file}: {key}: {message}" if key else f"{self.file}: {message}")


def _entry_label(list_key: str, index: int, entry: Any) -> str:
    """How messages name a list entry: by its ``name``, a crew without one by its place (from 1), else by index."""
    if isinstance(entry, Mapping) and isinstance(entry.get("name"), str):
        return entry["name"]
    if list_key == "crews":
        return f"crews-{index + 1}"
    return str(index)


def _branches_merged(problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A value that fits no branch of a union of a name list and a Python object (an arm's
    ``model``) fails both: one problem at the key, the names as the allowed values."""
    merged: list[dict[str, Any]] = []
    for problem in problems:
        loc = tuple(problem["loc"])
        branch = loc[-1] if loc and isinstance(loc[-1], str) else ""
        if branch.startswith("function-plain["):
            continue
        if branch.startswith("literal["):
            problem = {**problem, "loc": loc[:-1], "msg": problem["msg"] + ", or, from Python, a model object"}
        merged.append(problem)
    return merged or problems


def _readable(error: ValidationError, model: type[BaseModel], raw: Mapping[str, Any], file) -> ScenarioError:
    problems = _branches_merged(error.errors(include_url=False))
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
    elif "input" in first and kind not in {"model_type", "dict_type", "value_error"} and _short(first["input"]):
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


def unannotated(annotation: Any) -> Any:
    """``X`` for ``Annotated[X, ...]`` (nested ones too), else the annotation itself."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _members(annotation: Any) -> list[Any]:
    annotation = unannotated(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [unannotated(a) for a in typing.get_args(annotation) if a is not type(None)]
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
    message += f" (did you mean {close[0]!r}?)" if close else ""
    if tag == "learner":
        from ..schema.arms import UNLOADABLE

        if value in UNLOADABLE:  # registered by a package that is broken
            message += f"; a package registers {value!r} but {UNLOADABLE[value]}"
        else:
            message += " (a package can register more: docs/own-model.md)"
    return message
