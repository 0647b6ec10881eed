"""Keyed random streams for common random numbers.

Every random draw comes from a generator keyed by (seed, replication,
component, keys...). Two arms of the same replication therefore see the same
honest traffic and the same label delays, whatever else they do: a stream never
shifts because another component drew one number more (docs/concepts.md,
"Replications, common random numbers and money").

>>> streams = Streams(seed=7, replication=0)
>>> a = streams.get("traffic", 3).random()
>>> b = Streams(seed=7, replication=0).get("traffic", 3).random()
>>> a == b
True
>>> a == streams.get("traffic", 4).random()
False
"""

from __future__ import annotations

import zlib
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
    "crew_group": 10,
    "compromise": 11,
    "innovation": 12,
    "drift": 13,
    "skimming": 14,
}


# Keys within a component's streams.
CLASSICS_KEY = 1  # "innovation": when the classic tactics wear out (the inventions use the unkeyed stream)
GARBAGE_SCORES_KEY = -1  # "learner": a garbage-scores fault's scores (arms' own keys are stable_key(name) >= 0)

# Salts of `uniform_hash`: each stable subsample of transactions (or cards) has its own.
QUALITY_SALT = 1  # the legitimate transactions the quality tables keep
COVERAGE_SALT = 2  # the legitimate transactions the label-coverage table follows
LABEL_WINDOW_SALT = 3  # the legitimate label events a batch learner's window (or an oracle's truth) keeps
TREE_SAMPLE_SALT = 5  # the legitimate label events river's trees learn
AB_SALT = 17  # the cards of an A/B test's arm b


def stable_key(name: str) -> int:
    """A key for a name that never changes between runs or Python processes (``hash`` does).

    >>> stable_key("online") == stable_key("online"), stable_key("online") == stable_key("static")
    (True, False)
    """
    return zlib.crc32(name.encode("utf-8"))


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


def uniform_hash(ids: np.ndarray, salt: int = 0) -> np.ndarray:
    """A fixed pseudo-random number in [0, 1) per id, for stable subsampling: the same
    transaction is kept or dropped in every arm and every run.

    >>> float(uniform_hash(np.array([12]))[0]) == float(uniform_hash(np.array([12]))[0])
    True
    >>> bool(abs(uniform_hash(np.arange(100_000)).mean() - 0.5) < 0.01)
    True
    """
    mixed = (np.asarray(ids).astype(np.uint64) + np.uint64(salt + 1)) * np.uint64(0x9E3779B97F4A7C15)
    mixed ^= mixed >> np.uint64(31)
    mixed *= np.uint64(0xBF58476D1CE4E5B9)
    mixed ^= mixed >> np.uint64(27)
    return (mixed >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def window_sample(ids: np.ndarray, always: np.ndarray, share: float) -> np.ndarray:
    """The transactions a batch window (an oracle's truth, the history, the feature store) keeps:
    those ``always`` marks (fraud) and a stable ``share`` of the rest — the same ones everywhere,
    so a store that keeps a window's share holds every row that window reads."""
    return always | (uniform_hash(ids, LABEL_WINDOW_SALT) < share)
