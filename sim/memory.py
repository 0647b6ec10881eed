"""How much memory one replication of a scenario needs, estimated before it runs.

A coarse model, calibrated on the quickstart world with one static arm over 30 days: peak
resident memory 1.25 GB at 20,000 customers and 3.34 GB at 60,000 (``/usr/bin/time -f %M
fraudsim run scenarios/quickstart.toml --workers 1 --replications 1 --set
population.customers=N ...``), where the estimate gives 1.3 and 3.4 GB. Its parts: a fixed
base for the interpreter and libraries; per customer and per merchant, their habits and
features; the labelled history kept for the first models; the pending-label store, which
holds every scored transaction until its last label can arrive; and every fraud card the
crews and breaches bring (each with its attempts). Validation refuses a scenario whose
estimate exceeds this machine's memory, naming both.

>>> from sim.scenario import validate
>>> small = estimate(validate({"name": "s", "horizon": "2d", "population": {"customers": 2000}}, "inline"))
>>> 0.2e9 < small.total < 1e9
True
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .schema import Scenario
from .schema.features import FEATURES
from .units import DAY
from .warmup import arm_retention, transactions_per_day, warmup_length

BASE = 250e6  # the interpreter, numpy, polars, river, scikit-learn, simpy
PER_CUSTOMER = 8e3  # habits, velocity and decayed-count features
PER_MERCHANT = 1e3
PER_HISTORY_ROW = 1000.0  # a labelled history transaction kept for the first models (float64 features)
PER_STORE_ROW = 4.0 * len(FEATURES) + 80.0  # a pending transaction: float32 features, ids, times
PER_FRAUD_CARD = 500.0  # a crew's card with its attempts (measured with 20,000-card daily breaches)


@dataclass(frozen=True)
class Estimate:
    """Bytes one replication needs, by part."""

    parts: dict[str, float]

    @property
    def total(self) -> float:
        return sum(self.parts.values())

    def describe(self) -> str:
        biggest = sorted(self.parts.items(), key=lambda item: (-item[1], item[0]))[:3]
        return ", ".join(f"{name} {gigabytes(value)}" for name, value in biggest)


def gigabytes(value: float) -> str:
    return f"{value / 1e9:.2g} GB"


def fraud_cards(scenario: Scenario) -> float:
    """Cards the crews and breaches bring over the warm-up and the horizon (compromises and
    skimming leak customers' own cards, counted with the customers)."""
    days = (warmup_length(scenario) + scenario.horizon) / DAY
    cards = 0.0
    for crew in scenario.crews:
        crews = crew.dynamics.max_count if crew.dynamics is not None else crew.count
        cards += crews * crew.cards_per_day * days
        if crew.breach_every is not None:
            cards += crew.breach_size * days * DAY / crew.breach_every
    return cards


def estimate(scenario: Scenario) -> Estimate:
    """The memory one replication of ``scenario`` needs (a worker process runs one at a time)."""
    population = scenario.population
    per_day = transactions_per_day(scenario)
    return Estimate(
        {
            "base": BASE,
            "customers": population.customers * PER_CUSTOMER + population.merchants * PER_MERCHANT,
            "history": per_day * scenario.history / DAY * PER_HISTORY_ROW,
            "pending labels": per_day * (arm_retention(scenario) + DAY) / DAY * PER_STORE_ROW,
            "fraud cards": fraud_cards(scenario) * PER_FRAUD_CARD,
        }
    )


def machine_memory() -> float:
    """This machine's physical memory in bytes (``inf`` where the system does not say)."""
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return float("inf")


def too_big(scenario: Scenario, limit: float | None = None) -> str | None:
    """Why ``scenario`` cannot run in ``limit`` bytes (this machine's memory), or None."""
    limit = machine_memory() if limit is None else limit
    needed = estimate(scenario)
    if needed.total <= limit:
        return None
    return (
        f"one replication needs about {gigabytes(needed.total)} of memory ({needed.describe()}); this machine "
        f"has {gigabytes(limit)}: reduce population.customers, history, crews or breaches"
    )
