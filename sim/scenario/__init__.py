"""Read, override, validate and resolve scenario and sweep files.

This package is the only code that reads them. Every problem with one — missing, unreadable,
not TOML, an unknown key, a wrong unit, an impossible value — becomes a :class:`ScenarioError`
that names the file, the key path and what is allowed; the command line prints it and exits
with status 2. ``files`` reads, validates and resolves scenarios, ``overrides`` applies
``--set key.path=value``, ``errors`` words the problems, ``sweeps`` reads sweep files.

>>> scenario = validate({"name": "tiny", "horizon": "2d"}, "inline")
>>> scenario.horizon
172800.0
>>> validate({"name": "tiny", "horizon": "2 days"}, "inline")
Traceback (most recent call last):
...
sim.scenario.ScenarioError: inline: horizon: '2 days' is not a duration; write a number and a unit: s, m, h, d, w, mo (30 days), y (365 days), e.g. "30s", "15m", "2h", "3d", "1mo"
"""  # noqa: E501

from .errors import ScenarioError
from .files import is_sweep, load_scenario, read_toml, resolved_dict, resolved_toml, validate, validate_model
from .overrides import apply_overrides, named_path, parse_override, set_path
from .sweeps import SWEEP_RESERVED_KEYS, Sweep, SweepFile, blame, load_sweep

__all__ = [
    "SWEEP_RESERVED_KEYS",
    "ScenarioError",
    "Sweep",
    "SweepFile",
    "apply_overrides",
    "blame",
    "is_sweep",
    "load_scenario",
    "load_sweep",
    "named_path",
    "parse_override",
    "read_toml",
    "resolved_dict",
    "resolved_toml",
    "set_path",
    "validate",
    "validate_model",
]
