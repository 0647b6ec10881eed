"""fraudsim from Python: the public API that ``sim`` re-exports (docs/python.md).

``sim.load`` reads a scenario with overrides, ``sim.run`` runs it into a :class:`Result`,
``sim.sweep`` runs a sweep into a :class:`SweepResult`, ``sim.replay`` replays a recorded
stream (a file or a DataFrame) into a :class:`ReplayResult`. The command line is a layer over
these: ``fraudsim run`` is ``sim.run(...).save(...)``.
"""

from .replays import ReplayResult, replay
from .results import Result, load, run, with_overrides
from .sweeps import SweepResult, sweep

__all__ = ["ReplayResult", "Result", "SweepResult", "load", "replay", "run", "sweep", "with_overrides"]
