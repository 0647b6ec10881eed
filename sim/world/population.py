"""Customers and merchants: who spends, where, how much, and through which channel.

A customer holds one card, so a card id is a customer id. Customers differ in
daily rate (gamma), typical amount (lognormal), channel mix and the merchants
they return to; merchants belong to categories that set amount, channel and
risk profiles (domain-facts §5–6).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..schema import CATEGORIES
from ..schema import Population as PopulationConfig
from ..units import YEAR


@dataclass(frozen=True)
class CategoryProfile:
    share: float  # share of merchants in the category
    amount_factor: float  # typical amount relative to the customer's own median
    cnp_share: float  # share of the category's honest sales that are card-not-present
    risk: float  # base risk in [0, 1]: how attractive to fraudsters (used by crews and rules)


PROFILES: dict[str, CategoryProfile] = {
    "groceries": CategoryProfile(0.25, 1.0, 0.05, 0.1),
    "fuel": CategoryProfile(0.10, 1.4, 0.0, 0.2),
    "restaurants": CategoryProfile(0.20, 1.0, 0.10, 0.1),
    "retail": CategoryProfile(0.20, 1.8, 0.35, 0.4),
    "electronics": CategoryProfile(0.07, 4.0, 0.60, 0.9),
    "digital_goods": CategoryProfile(0.08, 0.5, 1.00, 0.7),
    "gift_cards": CategoryProfile(0.03, 2.0, 0.60, 1.0),
    "travel": CategoryProfile(0.07, 6.0, 0.85, 0.6),
}
assert tuple(PROFILES) == CATEGORIES


@dataclass(frozen=True)
class Population:
    """The customers and merchants of one replication, as arrays."""

    rate: np.ndarray  # (customers,) honest transactions per day
    log_median: np.ndarray  # (customers,) log of the customer's median amount
    amount_sigma: float
    cnp_affinity: np.ndarray  # (customers,) multiplier on a category's card-not-present share
    preferred: np.ndarray  # (customers, k) merchant ids the customer returns to
    merchant_category: np.ndarray  # (merchants,) category index
    merchant_popularity: np.ndarray  # (merchants,) probability a random purchase goes there
    merchants_by_category: tuple[np.ndarray, ...]  # merchant ids of each category
    popularity_cdf: tuple[np.ndarray, ...]  # per category, the cumulative popularity of its merchants (ends at 1)
    # Honest drift (see :func:`with_movers`); None: nobody changes habits.
    move_at: np.ndarray | None = None  # (customers,) when the customer's habits change (inf: never)
    moved_log_median: np.ndarray | None = None  # (customers,) the typical amount after the change
    moved_cnp_affinity: np.ndarray | None = None  # (customers,) the channel taste after the change

    def __deepcopy__(self, memo) -> Population:
        return self  # never modified: every copy of a world shares it

    @property
    def customers(self) -> int:
        return len(self.rate)

    @property
    def merchants(self) -> int:
        return len(self.merchant_category)


CATEGORY_AMOUNT = np.log([p.amount_factor for p in PROFILES.values()])
CATEGORY_CNP = np.array([p.cnp_share for p in PROFILES.values()])
CATEGORY_RISK = np.array([p.risk for p in PROFILES.values()])


def build_population(config: PopulationConfig, rng: np.random.Generator) -> Population:
    """Draw a population from its configuration.

    >>> from sim.schema import Population as Config
    >>> pop = build_population(Config(customers=100, merchants=20), np.random.default_rng(0))
    >>> pop.preferred.shape
    (100, 8)
    """
    shares = np.array([p.share for p in PROFILES.values()])
    category = rng.choice(len(CATEGORIES), size=config.merchants, p=shares / shares.sum())
    # Every category has at least one merchant so crews can always find a target.
    category[: len(CATEGORIES)] = np.arange(len(CATEGORIES))[: config.merchants]
    popularity = rng.pareto(1.5, size=config.merchants) + 1.0
    popularity /= popularity.sum()

    # A customer's median is set so that, averaged over where they shop, the
    # population median amount matches `amount_median`.
    mean_log_factor = float(np.dot(popularity, CATEGORY_AMOUNT[category]))
    log_median = rng.normal(np.log(config.amount_median) - mean_log_factor, config.amount_spread, size=config.customers)
    rate = rng.gamma(config.rate_shape, config.tx_per_customer_day / config.rate_shape, config.customers)
    mean_cnp = float(np.dot(popularity, CATEGORY_CNP[category]))
    cnp_affinity = rng.gamma(4.0, 0.25, size=config.customers) * (config.cnp_share / max(mean_cnp, 1e-9))
    preferred = rng.choice(config.merchants, size=(config.customers, config.preferred_merchants), p=popularity).astype(
        np.int32
    )
    by_category = tuple(np.flatnonzero(category == c).astype(np.int32) for c in range(len(CATEGORIES)))
    return Population(
        rate=rate,
        log_median=log_median,
        amount_sigma=config.amount_sigma,
        cnp_affinity=cnp_affinity,
        preferred=preferred,
        merchant_category=category.astype(np.int8),
        merchant_popularity=popularity,
        merchants_by_category=by_category,
        popularity_cdf=tuple(_cdf(popularity[ids]) for ids in by_category),
    )


def with_movers(population: Population, config: PopulationConfig, since: float, rng: np.random.Generator) -> Population:
    """``population`` with its movers: each customer changes habits once, at an exponential time
    from ``since`` at ``drift.movers_per_year`` (most never do within a run); the new typical amount
    and channel taste are fresh draws from the population's own spread.

    >>> from sim.schema import Population as Config
    >>> config = Config(customers=1000, merchants=20)
    >>> pop = with_movers(build_population(config, np.random.default_rng(0)), config, 0.0, np.random.default_rng(1))
    >>> 0.2 < float(np.mean(pop.move_at < 365 * 86400)) < 0.3  # 1 - exp(-0.3)
    True
    """
    rate = config.drift.movers_per_year
    if rate <= 0:
        return population
    n = population.customers
    move_at = since + rng.exponential(YEAR / rate, size=n)
    shift = rng.normal(0.0, config.amount_spread, size=n)  # a new median, as far from the old as two customers' are
    centre = float(np.mean(population.log_median))
    moved_log_median = centre + (population.log_median - centre) / np.sqrt(2) + shift / np.sqrt(2)
    mean_affinity = float(np.mean(population.cnp_affinity))
    moved_cnp_affinity = rng.gamma(4.0, 0.25, size=n) * mean_affinity
    return replace(
        population, move_at=move_at, moved_log_median=moved_log_median, moved_cnp_affinity=moved_cnp_affinity
    )


def _cdf(weights: np.ndarray) -> np.ndarray:
    cdf = np.cumsum(weights)
    return cdf / cdf[-1] if len(cdf) else cdf
