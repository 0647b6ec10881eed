"""Fraud crews: a wallet of stolen cards and a strategy that picks tactics.

A crew knows only its own attempts and their decisions: the engine hands
:meth:`Crew.observe` the tactic, amount and whether each attempt was declined,
never a score, a label or a model weight (DESIGN §3).

A strategy has two verbs: :meth:`Strategy.choose` picks the tactic and amount
of each planned attempt, :meth:`Strategy.observe` learns from the outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..rng import Streams
from ..schema import CATEGORIES, Crew as CrewConfig
from ..units import DAY, HOUR
from .population import Population
from .traffic import Transactions


@dataclass(frozen=True)
class TacticTable:
    """A crew group's tactics as arrays, indexed by tactic number."""

    names: tuple[str, ...]
    category: np.ndarray  # int
    cnp: np.ndarray  # bool
    amount_min: np.ndarray
    amount_max: np.ndarray
    hours: np.ndarray  # (tactics, 24) bool: may attack in this hour
    weight: np.ndarray  # relative share of attempts

    @staticmethod
    def from_config(config: CrewConfig) -> TacticTable:
        hours = np.zeros((len(config.tactics), 24), bool)
        for k, tactic in enumerate(config.tactics):
            start, end = tactic.hours
            span = np.arange(start, end) if start < end else np.r_[np.arange(start, 24), np.arange(0, end)]
            hours[k, span] = True
        return TacticTable(
            names=tuple(t.name for t in config.tactics),
            category=np.array([CATEGORIES.index(t.category) for t in config.tactics]),
            cnp=np.array([t.channel == "cnp" for t in config.tactics]),
            amount_min=np.array([t.amount_min for t in config.tactics]),
            amount_max=np.array([t.amount_max for t in config.tactics]),
            hours=hours,
            weight=np.array([t.weight for t in config.tactics]),
        )

    def __len__(self) -> int:
        return len(self.names)

    def intensity(self, now: float, tick: float) -> np.ndarray:
        """Per tactic, the multiplier on attempt rate in the tick starting at ``now``.

        A tactic limited to some hours concentrates its daily attempts there.
        """
        first = int((now % DAY) // HOUR)
        covered = (first + np.arange(max(1, int(round(tick / HOUR))))) % 24
        active = self.hours[:, covered].mean(axis=1)
        return active * 24.0 / self.hours.sum(axis=1)


class Strategy(Protocol):
    """How a crew picks tactics and amounts, and what it learns from outcomes."""

    def choose(
        self, rng: np.random.Generator, n: int, intensity: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return (tactic index, amount) for ``n`` attempts; ``intensity`` is per tactic."""

    def observe(self, tactic: np.ndarray, amount: np.ndarray, declined: np.ndarray) -> None:
        """Learn from the crew's own attempts and their decisions."""


class StaticStrategy:
    """A fixed tactic mix with uniform amounts in each tactic's band: never adapts."""

    def __init__(self, tactics: TacticTable):
        self.tactics = tactics

    def choose(self, rng, n, intensity):
        share = self.tactics.weight * intensity
        tactic = rng.choice(len(self.tactics), size=n, p=share / share.sum())
        low, high = self.tactics.amount_min[tactic], self.tactics.amount_max[tactic]
        amount = np.round(low + (high - low) * rng.random(n), 2)
        return tactic.astype(np.int16), amount

    def observe(self, tactic, amount, declined):
        pass


STRATEGIES = {"static": StaticStrategy}


@dataclass
class Wallet:
    """A crew's stolen cards: when each becomes usable, until when, and its declines."""

    card: np.ndarray  # int32 customer ids
    serial: np.ndarray  # int64: identifies this stolen card (a customer can be compromised twice)
    usable_from: np.ndarray
    usable_until: np.ndarray
    declines: np.ndarray  # int
    lost: np.ndarray  # bool: blocked or abandoned

    @staticmethod
    def empty() -> Wallet:
        return Wallet(np.empty(0, np.int32), np.empty(0, np.int64), np.empty(0), np.empty(0), np.empty(0, int),
                      np.empty(0, bool))  # fmt: skip

    def usable(self, now: float) -> np.ndarray:
        return np.flatnonzero((self.usable_from <= now) & (now < self.usable_until) & ~self.lost)

    def add(self, card: np.ndarray, serial: np.ndarray, usable_from: np.ndarray, spree: float) -> None:
        self.card = np.concatenate([self.card, card.astype(np.int32)])
        self.serial = np.concatenate([self.serial, serial.astype(np.int64)])
        self.usable_from = np.concatenate([self.usable_from, usable_from])
        self.usable_until = np.concatenate([self.usable_until, usable_from + spree])
        self.declines = np.concatenate([self.declines, np.zeros(len(card), int)])
        self.lost = np.concatenate([self.lost, np.zeros(len(card), bool)])

    def prune(self, now: float) -> None:
        """Forget cards that can no longer be used."""
        keep = (self.usable_until > now) & ~self.lost
        if not keep.all():
            for name in ("card", "serial", "usable_from", "usable_until", "declines", "lost"):
                setattr(self, name, getattr(self, name)[keep])


class Crew:
    """One crew: its wallet, its strategy and its own random stream."""

    def __init__(self, crew_id: int, group: int, config: CrewConfig, streams: Streams, customers: int):
        self.crew_id = crew_id
        self.group = group
        self.config = config
        self.tactics = TacticTable.from_config(config)
        self.strategy: Strategy = STRATEGIES[config.strategy](self.tactics)
        self.wallet = Wallet.empty()
        self._customers = customers
        self._serials = 0
        self._intensity: dict[tuple[float, float], np.ndarray] = {}
        self._streams = streams
        self._rng_day: int | None = None
        self._rng: np.random.Generator | None = None

    def _rng_for(self, now: float) -> np.random.Generator:
        """The crew's stream for the day; a new day also brings the day's stolen cards."""
        day = int(now // DAY)
        if day != self._rng_day:
            self._rng, self._rng_day = self._streams.get("crew", self.crew_id, day), day
            self._receive_cards(day)
        return self._rng

    def _receive_cards(self, day: int) -> None:
        rng = self._streams.get("crew_cards", self.crew_id, day)
        count = int(rng.poisson(self.config.cards_per_day))
        cards = rng.integers(self._customers, size=count)
        self.wallet.prune(day * DAY)
        serial = self.crew_id * 1_000_000_000 + self._serials + np.arange(count)
        self._serials += count
        self.wallet.add(cards, serial, day * DAY + DAY * np.sort(rng.random(count)), self.config.spree)

    def plan(self, now: float, tick: float, population: Population) -> Transactions:
        """The crew's attempts in the tick [now, now + tick)."""
        rng = self._rng_for(now)
        slots = self.wallet.usable(now)
        if len(slots) == 0:
            return Transactions.empty()
        key = (now % DAY, tick)
        intensity = self._intensity.get(key)
        if intensity is None:
            intensity = self._intensity[key] = self.tactics.intensity(now, tick)
        rate = self.config.attempts_per_day * tick / DAY * float(np.dot(self.tactics.weight, intensity)) / float(
            self.tactics.weight.sum()
        )
        counts = rng.poisson(rate, size=len(slots))
        slot = np.repeat(slots, counts)
        n = len(slot)
        if n == 0:
            return Transactions.empty()
        tactic, amount = self.strategy.choose(rng, n, intensity)
        category = self.tactics.category[tactic]
        merchant = np.empty(n, np.int32)
        for c in np.unique(category):
            where = np.flatnonzero(category == c)
            pool = population.merchants_by_category[c]
            merchant[where] = pool[rng.integers(len(pool), size=len(where))]
        t = now + tick * rng.random(n)
        order = np.argsort(t, kind="stable")
        self._last_slots = slot[order]
        return Transactions(
            t=t[order],
            card=self.wallet.card[slot[order]],
            merchant=merchant[order],
            amount=amount[order],
            cnp=self.tactics.cnp[tactic[order]],
            crew=np.full(n, self.crew_id, np.int32),
            tactic=tactic[order],
            stolen_card=self.wallet.serial[slot[order]],
        )

    def observe(self, attempts: Transactions, declined: np.ndarray) -> None:
        """Learn the decisions on the attempts of the last :meth:`plan`; burn declined cards."""
        np.add.at(self.wallet.declines, self._last_slots, declined.astype(int))
        self.wallet.lost |= self.wallet.declines >= self.config.max_declines
        self.strategy.observe(attempts.tactic, attempts.amount, declined)

    def block(self, cards: np.ndarray) -> int:
        """The issuer blocked ``cards``: the crew loses any it holds. Returns how many."""
        hit = np.isin(self.wallet.card, cards) & ~self.wallet.lost
        self.wallet.lost |= hit
        return int(hit.sum())


def build_crews(configs: list[CrewConfig], population: Population, streams: Streams) -> list[Crew]:
    """Every crew of the scenario; each receives its stolen cards day by day."""
    crews: list[Crew] = []
    for group, config in enumerate(configs):
        for _ in range(config.count):
            crews.append(Crew(len(crews), group, config, streams, population.customers))
    return crews
