"""Honest traffic: each day's legitimate transactions, drawn at once with numpy.

A day's traffic depends only on the population, the day and that day's keyed
stream, so it is identical in every arm of a replication (docs/concepts.md,
"Replications, common random numbers and money"). Within a
day, customers buy as independent Poisson processes whose rate follows the
hour-of-day curve; the day's total follows the day-of-week curve and seasons.
Customers drift: the movers among them (``Population.move_at``) buy with their new habits
from their move on, and every card-not-present share grows with time (``drift``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..columns import Columns, stable_order
from ..schema import Population as PopulationConfig
from ..units import DAY, HOUR, YEAR
from .population import CATEGORY_AMOUNT, CATEGORY_CNP, Population

# Share of a day's purchases in each hour (busiest 12-13, quietest 3-4; domain-facts §6).
_RETAIL_HOURS = np.array(
    [
        0.15,
        0.08,
        0.05,
        0.04,
        0.05,
        0.12,
        0.35,
        0.70,
        1.00,
        1.20,
        1.40,
        1.55,
        1.70,
        1.55,
        1.40,
        1.35,
        1.40,
        1.50,
        1.50,
        1.30,
        1.00,
        0.75,
        0.50,
        0.30,
    ]
)
DIURNAL = {"retail": _RETAIL_HOURS / _RETAIL_HOURS.sum(), "flat": np.full(24, 1 / 24)}

# Relative volume Monday..Sunday (busiest Saturday; domain-facts §6), mean 1.
_RETAIL_WEEK = np.array([0.90, 0.92, 0.95, 1.00, 1.10, 1.20, 0.93])
WEEKLY = {"retail": _RETAIL_WEEK / _RETAIL_WEEK.mean(), "flat": np.ones(7)}


@dataclass
class Transactions(Columns):
    """A batch of transaction attempts, one array per column, in time order."""

    t: np.ndarray  # float64 seconds
    card: np.ndarray  # int32 customer id
    merchant: np.ndarray  # int32
    amount: np.ndarray  # float64
    cnp: np.ndarray  # bool: card not present
    crew: np.ndarray  # int32: -1 for honest, else the crew id
    tactic: np.ndarray  # int16: -1 for honest, else the tactic's index in its crew group
    stolen_card: np.ndarray  # int64: -1 for honest, else the serial of the stolen card used

    @property
    def is_fraud(self) -> np.ndarray:
        return self.crew >= 0

    @staticmethod
    def empty() -> Transactions:
        return Transactions(
            np.empty(0),
            np.empty(0, np.int32),
            np.empty(0, np.int32),
            np.empty(0),
            np.empty(0, bool),
            np.empty(0, np.int32),
            np.empty(0, np.int16),
            np.empty(0, np.int64),
        )


def day_factor(config: PopulationConfig, day: int) -> float:
    """The day-of-week and seasonal multiplier for ``day`` (day 0 starts at t = 0, a Monday)."""
    factor = float(WEEKLY[config.weekly][day % 7])
    middle = (day + 0.5) * DAY
    for season in config.seasons:
        if season.start <= middle < season.end:
            factor *= season.factor
    return factor


def draw_day(population: Population, config: PopulationConfig, day: int, rng: np.random.Generator) -> Transactions:
    """All honest transactions of ``day``, sorted by time.

    >>> from sim.schema import Population as Config
    >>> from sim.world.population import build_population
    >>> config = Config(customers=1000, merchants=50)
    >>> pop = build_population(config, np.random.default_rng(1))
    >>> day = draw_day(pop, config, 0, np.random.default_rng(2))
    >>> bool(np.all(np.diff(day.t) >= 0) and 0 <= day.t.min() and day.t.max() < 86400)
    True
    """
    counts = rng.poisson(population.rate * day_factor(config, day))
    card = np.repeat(np.arange(population.customers, dtype=np.int32), counts)
    n = len(card)
    hour = rng.choice(24, size=n, p=DIURNAL[config.diurnal])
    t = day * DAY + (hour + rng.random(n)) * HOUR

    column = rng.integers(population.preferred.shape[1], size=n)
    merchant = population.preferred[card, column]
    explore = rng.random(n) < config.explore
    cumulative = np.cumsum(population.merchant_popularity)
    wander = np.searchsorted(cumulative, rng.random(int(explore.sum())) * cumulative[-1], side="right")
    merchant[explore] = np.minimum(wander, population.merchants - 1)

    category = population.merchant_category[merchant]
    log_median, affinity = population.log_median[card], population.cnp_affinity[card]
    if population.move_at is not None:  # customers who changed their habits buy as they do now
        moved = t >= population.move_at[card]
        log_median = np.where(moved, population.moved_log_median[card], log_median)
        affinity = np.where(moved, population.moved_cnp_affinity[card], affinity)
    log_amount = log_median + CATEGORY_AMOUNT[category] + population.amount_sigma * rng.standard_normal(n)
    amount = np.maximum(np.round(np.exp(log_amount), 2), 0.01)
    online = max(1.0 + config.drift.cnp_growth_per_year * day * DAY / YEAR, 0.0)  # the move online, 1 at t = 0
    cnp = rng.random(n) < np.minimum(CATEGORY_CNP[category] * affinity * online, 1.0)

    order = stable_order(t)
    return Transactions(
        t=t[order],
        card=card[order],
        merchant=merchant[order].astype(np.int32),
        amount=amount[order],
        cnp=cnp[order],
        crew=np.full(n, -1, np.int32),
        tactic=np.full(n, -1, np.int16),
        stolen_card=np.full(n, -1, np.int64),
    )
