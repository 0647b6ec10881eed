"""Card blocking on its own clock: cardholders who notice fraud, and the issuer's own verdicts.

A stolen card dies when the issuer blocks it. That happens when the cardholder notices
approved fraud and calls (at the transaction's time plus a notice delay drawn for every
transaction, used or not), when an investigator confirms fraud, and when a fraud label from a
source named in ``blocking.labels`` arrives. Label delays reach the models; by default they
do not decide how long a card keeps paying (docs/concepts.md, "Card blocking").
"""

from __future__ import annotations

import numpy as np

from ..schema import Blocking
from .labels import SOURCE_CODE

__all__ = ["CardBlocks"]


class CardBlocks:
    """Blocks waiting for their time: a few arrays (approved fraud is rare), merged on push.

    >>> blocks = CardBlocks(Blocking())
    >>> blocks.push(np.array([50.0, 10.0]), np.array([7, 3]))
    >>> [int(c) for c in blocks.pop_due(20.0)], len(blocks)
    ([3], 1)
    """

    def __init__(self, config: Blocking):
        self.config = config
        self.label_sources = np.array([SOURCE_CODE[s] for s in config.labels], np.int8)
        self._at = np.empty(0)
        self._card = np.empty(0, np.int32)

    def __len__(self) -> int:
        return len(self._at)

    def notice(
        self, t: np.ndarray, card: np.ndarray, approved_fraud: np.ndarray, notice: np.ndarray, delay: np.ndarray
    ) -> None:
        """Schedule the blocks of the approved fraud its cardholder notices (``notice``: a uniform draw)."""
        noticed = approved_fraud & (notice < self.config.cardholder.share)
        if noticed.any():
            self.push(t[noticed] + delay[noticed], card[noticed])

    def push(self, at: np.ndarray, card: np.ndarray) -> None:
        at = np.concatenate([self._at, at])
        order = np.argsort(at, kind="stable")
        self._at, self._card = at[order], np.concatenate([self._card, card.astype(np.int32)])[order]

    def pop_due(self, now: float) -> np.ndarray:
        """The cards whose block is due by ``now``."""
        end = int(np.searchsorted(self._at, now, side="right"))
        if end == 0:
            return self._card[:0]
        due = self._card[:end]
        self._at, self._card = self._at[end:], self._card[end:]
        return due

    def blocks_on(self, sources: np.ndarray) -> np.ndarray:
        """Which fraud labels (by source) block their card when they arrive."""
        return np.isin(sources, self.label_sources)
