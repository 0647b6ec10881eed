"""Replay: a recorded transaction stream through the learners, with its label delays.

See ``docs/replay.md``. ``stream`` reads and checks the file (the only module that reads
streams), ``engine`` replays it (exact and batch modes), ``run`` writes the outputs, ``cli`` is
the ``fraudsim replay`` command.
"""

from __future__ import annotations

from .stream import LabelDelay, ReplayError, StreamSpec, arm_from_options, read_stream


def __getattr__(name: str):
    """``replay`` and ``ReplaySettings`` load the learners (and river) on first use, so that the
    command line starts quickly for commands that do not replay."""
    if name in ("ReplaySettings", "replay"):
        from . import run

        return getattr(run, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["LabelDelay", "ReplayError", "ReplaySettings", "StreamSpec", "arm_from_options", "read_stream", "replay"]
