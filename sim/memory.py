"""How much memory one replication of a scenario needs, estimated before it runs.

A coarse model of the parts that grow with the world: a fixed base for the interpreter and
libraries; per customer and per merchant, their habits and features; the history kept for the
first models (at most ``history_rows`` rows, and its fit); the feature store, which holds
every scored transaction until its last label can arrive — 2 bits each, plus features,
merchant and card for the rows a learner may read (:func:`sim.warmup.feature_share`) — and the
label events waiting to arrive; and every fraud card the crews and breaches bring. Its
coefficients were fitted to ``make bench-scale``'s measured peaks (docs/performance.md,
"Scale"), which it matches within a fifth, ``--ledger`` included (the ledger writes as it goes).
Validation refuses a scenario whose estimate exceeds
this machine's memory, naming both.

>>> from sim.scenario import validate
>>> small = estimate(validate({"name": "s", "horizon": "2d", "population": {"customers": 2000}}, "inline"))
>>> 0.2e9 < small.total < 1e9
True
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .detect.store import KEPT_MARGIN
from .schema import Scenario
from .schema.features import FEATURES
from .units import DAY
from .warmup import (
    arm_retention,
    feature_share,
    transactions_per_day,
    warmup_feature_share,
    warmup_length,
    warmup_retention,
)

BASE = 300e6  # the interpreter, numpy, polars, river, scikit-learn, simpy
PER_CUSTOMER = 300.0  # habits, velocity and decayed-count features
PER_MERCHANT = 1e3
PER_HISTORY_ROW = 700.0  # a history row and its share of the first model's fit (a float64 copy, scaled in place)
PER_STORED_ROW = 0.25  # whether a scored transaction's columns are kept (a bit), and a kept count per 64 rows
PER_KEPT_ROW = 4.0 * len(FEATURES) + 8.0  # float32 features, merchant and card
PER_PENDING_TX = 12.0  # an approved transaction's maturity label waiting in the queue (a time and a bit, and the rest)
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


def stored(per_day: float, days: float, share: float) -> float:
    """Bytes of a store's rows over ``days``, keeping the columns of ``share`` of them."""
    return per_day * days * (PER_STORED_ROW + min(share + KEPT_MARGIN, 1.0) * PER_KEPT_ROW)


def estimate(scenario: Scenario) -> Estimate:
    """The memory one replication of ``scenario`` needs (a worker process runs one at a time):
    the warm-up's store, shared with the arms until its rows leave the window, and the rows of
    the arm that keeps the most."""
    population = scenario.population
    per_day = transactions_per_day(scenario)
    retention = max(warmup_retention(scenario), arm_retention(scenario)) / DAY + 1
    arm_days = min(scenario.horizon, arm_retention(scenario)) / DAY + 1
    arm_share = max(feature_share(arm, scenario) for arm in scenario.arms)
    history_days = scenario.history / DAY
    history_rows = min(per_day * history_days, scenario.history_rows)
    return Estimate(
        {
            "base": BASE,
            "customers": population.customers * PER_CUSTOMER + population.merchants * PER_MERCHANT,
            "history": history_rows * PER_HISTORY_ROW,
            "stored transactions": stored(per_day, retention - history_days, warmup_feature_share(scenario, False))
            + stored(per_day, history_days, warmup_feature_share(scenario, True))
            + stored(per_day, arm_days, arm_share),
            "pending labels": per_day * scenario.labels.maturity.window / DAY * PER_PENDING_TX,
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
