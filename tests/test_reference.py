"""docs/scenario-reference.md documents every key a scenario can hold, with durations shown as durations.

The schema is walked here on its own (not with sim.docgen's helpers), so a table or a union of
tables the generator skips shows up as missing keys.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterator

import pytest
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sim.docgen import reference
from sim.schema import Scenario
from sim.schema.base import _duration

REFERENCE = reference()
ROWS = re.findall(r"^\| `([^`]+)` \| (.+?) \| (.+?) \| .* \|$", REFERENCE, flags=re.M)
HEADINGS = set(re.findall(r"^#+ (.+)$", REFERENCE, flags=re.M))


def _strip(annotation):
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _holds(field: FieldInfo) -> tuple[object, bool]:
    """What a field holds, ``Annotated`` kept (``X``, ``X | None``, ``list[X]``), and whether it is a list."""
    annotation = _strip(field.annotation)
    if typing.get_origin(annotation) is list:
        return typing.get_args(annotation)[0], True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return members[0], False
    return annotation, False


def _tables(field: FieldInfo) -> tuple[list[type[BaseModel]], str | None]:
    """The tables a field holds (one, or the kinds of a discriminated union) and the union's tag key."""
    inner, _ = _holds(field)
    tag = field.discriminator
    for meta in typing.get_args(inner)[1:] if typing.get_origin(inner) is typing.Annotated else ():
        tag = tag or getattr(meta, "discriminator", None)
    inner = _strip(inner)
    members = typing.get_args(inner) if typing.get_origin(inner) in (typing.Union, types.UnionType) else (inner,)
    models = [_strip(m) for m in members if isinstance(_strip(m), type) and issubclass(_strip(m), BaseModel)]
    return models, tag


def expected(model: type[BaseModel], prefix: str = "", seen: set | None = None) -> Iterator[tuple[str, str]]:
    """``("row", key path)`` for every key, ``("heading", text)`` for every table and every kind of a union.

    Delay tables (`dist = ...`) are documented once, with bare keys, in their own section.
    """
    seen = set() if seen is None else seen
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        models, tag = _tables(field)
        many = _holds(field)[1]
        child = f"{path}[]." if many else f"{path}."
        table = path.replace("[].", ".")
        if not models:
            yield "row", path
        elif tag is None:
            yield "heading", f"`[[{table}]]`" if many else f"`[{table}]`"
            yield from expected(models[0], child, seen)
        elif tag == "dist":
            yield "row", path
            for variant in models:
                yield "heading", f'`dist = "{variant.model_fields["dist"].default}"`'
                if variant not in seen:
                    seen.add(variant)
                    yield from _variant_keys(variant, "", "dist", seen)
        else:
            yield "row", path
            yield "heading", f"`[[{table}]]`" if many else f"`[{table}]`"
            yield "row", f"{child}{tag}"
            for variant in models:
                yield "heading", f'`{tag} = "{variant.model_fields[tag].default}"`'
                yield from _variant_keys(variant, child, tag, seen)


def _variant_keys(variant: type[BaseModel], prefix: str, tag: str, seen: set) -> Iterator[tuple[str, str]]:
    for kind, text in expected(variant, prefix, seen):
        if (kind, text) != ("row", f"{prefix}{tag}"):
            yield kind, text


EXPECTED = sorted(set(expected(Scenario)))


def test_every_key_of_the_schema_is_documented():
    keys = {key for key, _, _ in ROWS}
    missing = [text for kind, text in EXPECTED if text not in (keys if kind == "row" else HEADINGS)]
    assert not missing, f"keys or tables missing from the scenario reference: {missing}"


def test_the_reference_documents_no_key_the_schema_lacks():
    keys = {text for kind, text in EXPECTED if kind == "row"}
    assert not [key for key, _, _ in ROWS if key not in keys]


@pytest.mark.parametrize(
    "key",
    [
        "crews[].strategy",
        "crews[].cards_per_day",
        "crews[].tactics[].amount_max",
        "crews[].dynamics.max_count",
        "crews[].breaches[].at",
        "crews[].probe_up",
        "crews[].halflife",
        "crews[].test_amount_max",
        "crews[].amount_factor",
        "arms[].learner",
        "monitoring.detectors[].method",
        "faults[].end",
    ],
)
def test_crew_and_other_nested_keys_are_listed(key):
    assert key in {k for k, _, _ in ROWS}


def _is_duration(annotation) -> bool:
    """Whether ``Duration`` appears anywhere in the annotation (``Duration | None``, ``list[Duration]``…)."""
    metadata = typing.get_args(annotation)[1:] if typing.get_origin(annotation) is typing.Annotated else ()
    if any(getattr(meta, "func", None) is _duration for meta in metadata):
        return True
    return any(_is_duration(arg) for arg in typing.get_args(annotation))


def _duration_keys(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    for name, field in model.model_fields.items():
        if _is_duration(field.annotation) or any(getattr(m, "func", None) is _duration for m in field.metadata):
            yield f"{prefix}{name}"
        models, tag = _tables(field)
        child = f"{prefix}{name}[]." if _holds(field)[1] else f"{prefix}{name}."
        for variant in models:
            yield from _duration_keys(variant, "" if tag == "dist" else child)


def test_durations_read_as_durations():
    keys = set(_duration_keys(Scenario))
    assert {"faults[].end", "mean", "median", "delays", "crews[].tactics[].available_from"} <= keys
    types_of = [(key, kind) for key, kind, _ in ROWS if key in keys]
    assert types_of and all("duration" in kind for _, kind in types_of), [
        (key, kind) for key, kind in types_of if "duration" not in kind
    ]
    assert ("delays", "list of durations") in types_of and ("faults[].end", "duration") in types_of


def test_unset_defaults_are_not_written_as_toml():
    """TOML has no null: a key without a default says *unset*, not `none`."""
    assert not [key for key, _, default in ROWS if default == "`none`"]
