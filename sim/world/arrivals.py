"""A tick's transactions: the day's honest traffic paged tick by tick and the crews' attempts,
merged in time order with their label draws; each crew is then told its own decisions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..feedback.labels import Draws, LabelModel
from ..rng import Streams
from ..schema import Scenario
from ..units import DAY
from .crews import Attempts
from .state import World
from .traffic import Transactions, draw_day


@dataclass
class _Day:
    """The current day's honest traffic and its draws, consumed tick by tick."""

    day: int
    tx: Transactions
    draws: Draws
    cursor: int = 0


class Arrivals:
    """The transactions of each tick, in time order (``progress`` is told of each new day)."""

    def __init__(
        self,
        scenario: Scenario,
        streams: Streams,
        world: World,
        labels: LabelModel,
        progress: Callable[[float], None] | None = None,
    ):
        self.scenario = scenario
        self.streams = streams
        self.world = world
        self.labels = labels
        self.progress = progress
        self._day: _Day | None = None
        self._crew_label_rng: dict[int, tuple[int, np.random.Generator]] = {}
        self._planned: Attempts | None = None  # this tick's crew attempts
        self._position = np.empty(0, np.intp)

    def tick(self, now: float) -> tuple[Transactions, Draws]:
        """The tick's honest transactions and crew attempts, in time order, with their draws."""
        honest, honest_draws = self._honest(now)
        self._planned = planned = self.world.crews.plan(now, self.scenario.tick, self.world.population)
        if planned is None:
            return honest, honest_draws
        draws = [honest_draws] + [
            self.labels.draw(self._crew_rng(crew.crew_id, now), count)
            for crew, count in zip(planned.crews, planned.counts, strict=True)
        ]
        tx = Transactions.concat([honest, planned.tx])
        order = np.argsort(tx.t, kind="stable")
        self._position = np.empty(len(order), np.intp)  # where each attempt went in time order
        self._position[order] = np.arange(len(order))
        return tx.take(order), Draws.concat(draws).take(order)

    def tell_crews(self, declined: np.ndarray) -> None:
        """Each crew learns the decisions on its own attempts (in its plan's order), and nothing else."""
        planned = self._planned
        if planned is None:
            return
        crew_rows = self._position[len(declined) - len(planned.tx) :]
        for crew, rows in planned.by_crew():
            crew.observe(planned.plan.take(rows), declined[crew_rows[rows]])

    def _honest(self, now: float) -> tuple[Transactions, Draws]:
        day = int(np.floor(now / DAY))
        if self._day is None or self._day.day != day:
            population, config = self.world.population, self.scenario.population
            tx = draw_day(population, config, day, self.streams.get("traffic", day))
            draws = self.labels.draw(self.streams.get("honest_labels", day), len(tx))
            self._day = _Day(day, tx, draws, int(np.searchsorted(tx.t, now)))
            if self.progress is not None:
                self.progress(now)
        current = self._day
        stop = int(np.searchsorted(current.tx.t, now + self.scenario.tick))
        window = slice(current.cursor, stop)
        current.cursor = stop
        return current.tx.take(window), current.draws.take(window)

    def _crew_rng(self, crew_id: int, now: float) -> np.random.Generator:
        day = int(np.floor(now / DAY))
        cached = self._crew_label_rng.get(crew_id)
        if cached is None or cached[0] != day:
            cached = (day, self.streams.get("crew_labels", crew_id, day))
            self._crew_label_rng[crew_id] = cached
        return cached[1]
