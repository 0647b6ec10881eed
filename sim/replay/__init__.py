"""Replay: a recorded transaction stream through the learners, with its label delays.

See ``docs/replay.md``. ``stream`` reads and checks the file (the only module that reads
streams), ``engine`` replays it (exact and batch modes), ``fast`` is the batch mode's learning
step, ``run`` writes the outputs, ``cli`` is the ``fraudsim replay`` command.
"""

from __future__ import annotations

from .run import ReplaySettings, replay
from .stream import LabelDelay, ReplayError, StreamSpec, arm_from_options, read_stream

__all__ = ["LabelDelay", "ReplayError", "ReplaySettings", "StreamSpec", "arm_from_options", "read_stream", "replay"]
