"""The rule behind every "a scenario that validates must run" fix: any small scenario the schema
accepts runs to a whole report, or is refused at validation with one line (exit 2) — never a
traceback, never a run that dies after the simulation.

Hypothesis changes a few numeric or duration keys of the tiny test world at a time, to values
from the edges of their documented ranges and around their defaults (kept small: the rule is
about crashing, not about how long a huge world takes).
"""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from sim.cli import main
from sim.docgen import _constraints, _kind
from sim.scenario import validate
from sim.schema.base import _numeric

from .conftest import TINY, write_scenario

DURATIONS = ("0s", "1s", "1h", "1d", "3d", "30d", "400d")


def _keys(model: BaseModel, path: tuple) -> list[tuple[tuple, Any]]:
    """(path into the raw scenario, field) for every numeric or duration key reachable from
    ``model``, through tables and the entries of lists of tables."""
    found = []
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if _numeric(field.annotation) or _kind(field).startswith("duration"):
            found.append(((*path, name), field))
        elif isinstance(value, BaseModel):
            found += _keys(value, (*path, name))
        elif isinstance(value, list) and value and isinstance(value[0], BaseModel) and name in ("crews", "arms"):
            for i, entry in enumerate(value):
                found += _keys(entry, (*path, name, i))
    return found


WORLD = validate(TINY, "tiny")
KEYS = _keys(WORLD, ())


def _candidates(field, default) -> list:
    if _kind(field).startswith("duration"):
        return list(DURATIONS)
    metas = _constraints(field)
    low = max([m.ge for m in metas if hasattr(m, "ge")] + [m.gt for m in metas if hasattr(m, "gt")], default=0)
    high = min([m.le for m in metas if hasattr(m, "le")] + [m.lt for m in metas if hasattr(m, "lt")], default=1e6)
    centre = default if isinstance(default, int | float) and not isinstance(default, bool) and default else 1
    values = {low, low + (high - low) * 1e-6, *(centre * f for f in (0.1, 0.5, 2, 10))}
    if abs(high) <= 10 * max(abs(centre), 1):
        values.add(high)
    is_int = "int" in _kind(field)
    out = [int(round(v)) if is_int else float(v) for v in values if low <= v <= high and math.isfinite(v)]
    return sorted(set(out))


def _default(path: tuple):
    value: Any = WORLD
    for part in path:
        value = value[part] if isinstance(part, int) else getattr(value, part)
    return value


def _set(raw: dict, path: tuple, value) -> None:
    node: Any = raw
    for part in path[:-1]:
        node = node[part] if isinstance(part, int) else node.setdefault(part, {})
    node[path[-1]] = value


@st.composite
def changes(draw):
    chosen = draw(st.lists(st.sampled_from(range(len(KEYS))), min_size=1, max_size=3, unique=True))
    out = []
    for index in chosen:
        path, field = KEYS[index]
        out.append((path, draw(st.sampled_from(_candidates(field, _default(path))))))
    return out


@pytest.mark.slow
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes())
def test_any_small_scenario_runs_to_a_report_or_is_refused_at_validation(tmp_path_factory, capsys, change):
    raw = copy.deepcopy(TINY)
    raw.update({"horizon": "2d", "replications": 1})
    raw["arms"] = [arm for arm in raw["arms"] if arm["learner"] in ("online", "batch", "static")]
    for path, value in change:
        if path[0] == "arms" and path[1] >= len(raw["arms"]):
            continue
        _set(raw, path, value)
    folder = tmp_path_factory.mktemp("any")
    path = write_scenario(folder / "world.toml", raw)
    status = main(["run", str(path), "--out", str(folder / "out"), "--quiet", "--workers", "1"])
    output = capsys.readouterr()
    assert status in (0, 2), (change, output.err[-2000:])
    if status == 0:
        assert (folder / "out" / "index.html").is_file(), change
    else:
        assert len(output.err.strip().splitlines()) == 1 and "Traceback" not in output.err, (change, output.err)
        assert not (folder / "out").exists(), change
