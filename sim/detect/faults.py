"""Injected faults (``[[faults]]``): a feature pipeline or a model that breaks for a while.

A feature fault breaks the tick's features where they are computed, so the feature store keeps
them broken, as a broken pipeline would; a garbage-scores fault replaces the deployed model's
scores (see :class:`sim.detect.deployed.Deployed`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..rng import GARBAGE_SCORES_KEY, Streams
from ..schema import Fault
from ..schema.features import COLUMN


class Faults:
    """The faults that hit one arm, each active from its ``start`` until its ``end``."""

    def __init__(self, faults: Sequence[Fault], arm_name: str, streams: Streams, tick: float):
        self.faults = [f for f in faults if f.arms is None or arm_name in f.arms]
        self.streams = streams
        self.tick = tick

    def __bool__(self) -> bool:
        return bool(self.faults)

    def active(self, now: float) -> list[Fault]:
        return [f for f in self.faults if f.start <= now and (f.end is None or now < f.end)]

    def break_features(self, X: np.ndarray, now: float) -> None:
        """In place: a missing feature reads 0; a constant one reads its value."""
        for fault in self.active(now):
            if fault.kind == "feature_missing":
                X[:, COLUMN[fault.feature]] = 0.0
            elif fault.kind == "feature_constant":
                X[:, COLUMN[fault.feature]] = fault.value

    def scores(self, p: np.ndarray, now: float) -> np.ndarray:
        """The scores served: uniform noise (the same in every arm) while a garbage-scores fault is active."""
        if any(f.kind == "garbage_scores" for f in self.active(now)):
            return self.streams.get("learner", GARBAGE_SCORES_KEY, int(now // self.tick)).random(len(p))
        return p
