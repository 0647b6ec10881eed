"""The scenario schema: frozen pydantic models that refuse unknown keys.

The engine takes a :class:`Scenario`, never a path or a dict. Only
:mod:`sim.scenario` reads files. Every field carries a description and, where
it has one, a unit; `docs/scenario-reference.md` is generated from them
(`python -m sim.docgen`). Defaults come from `docs/domain-facts.md`; the
reference cites the facts behind them.
"""

from __future__ import annotations

from .arms import *  # noqa: F403
from .base import *  # noqa: F403
from .delays import *  # noqa: F403
from .detector import *  # noqa: F403
from .labels import *  # noqa: F403
from .scenario import *  # noqa: F403
from .world import *  # noqa: F403
