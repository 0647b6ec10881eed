"""Keyed random streams for common random numbers.

Every random draw comes from a generator keyed by (seed, replication,
component, keys...). Two arms of the same replication therefore see the same
honest traffic and the same label delays, whatever else they do: a stream never
shifts because another component drew one number more (DESIGN §7).

>>> streams = Streams(seed=7, replication=0)
>>> a = streams.get("traffic", 3).random()
>>> b = Streams(seed=7, replication=0).get("traffic", 3).random()
>>> a == b
True
>>> a == streams.get("traffic", 4).random()
False
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COMPONENTS = {
    "population": 1,
    "traffic": 2,
    "honest_labels": 3,
    "crew_cards": 4,
    "crew": 5,
    "crew_labels": 6,
    "investigators": 7,
    "policy": 8,
    "learner": 9,
}


def _key(value: int) -> int:
    """Map any integer to a non-negative one (SeedSequence needs them), one to one."""
    return 2 * value if value >= 0 else -2 * value - 1


@dataclass(frozen=True)
class Streams:
    """The random streams of one replication."""

    seed: int
    replication: int

    def get(self, component: str, *keys: int) -> np.random.Generator:
        """A fresh generator for ``component`` and ``keys`` (e.g. a day, a crew id)."""
        entropy = [self.seed, self.replication, COMPONENTS[component], *(_key(int(k)) for k in keys)]
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))
