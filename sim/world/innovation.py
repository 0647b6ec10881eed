"""Crews invent tactics: the fraud repertoire keeps moving.

A new tactic is a point of the whole space — merchant category × channel × hours × amount
band, sometimes a handful of cash-out merchants — that appears at a random time and is used
for a while. Every tactic of the world's history and horizon is drawn once, at the start,
from the world's own stream, so every arm faces the same inventions; what crews then do with
them depends on what each arm declines.

>>> from sim.schema import Innovation, Population as Config
>>> from sim.world.population import build_population
>>> population = build_population(Config(customers=100, merchants=50), np.random.default_rng(0))
>>> new = invent(Innovation(every="6d"), -60 * 86400.0, 60 * 86400.0, population, np.random.default_rng(1))
>>> 10 <= len(new) <= 30, all(t.available_from < t.available_until for t in new)
(True, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..feedback.delays import build_delay
from ..schema import CATEGORIES, Innovation
from ..schema import Crew as CrewConfig
from .population import CATEGORY_RISK, Population

NIGHT = (0, 6)
DAY_BANDS = ((6, 12), (12, 18), (18, 24))
ALL_DAY = (0, 24)
ALL_DAY_SHARE = 0.5  # of the tactics not limited to the night; the rest take one daytime band
CATEGORY_APPEAL = CATEGORY_RISK + 0.1  # crews invent where resale pays, but anywhere may be tried


@dataclass(frozen=True)
class NewTactic:
    """An invented tactic: what it attacks, and when it is in use."""

    name: str
    category: int
    cnp: bool
    amount_min: float
    amount_max: float
    hours: tuple[int, int]
    weight: float
    available_from: float
    available_until: float
    merchants: np.ndarray | None  # int32 merchant ids it cashes out at; None: any of the category


def wear_out(
    config: Innovation, crews: Sequence[CrewConfig], start: float, rng: np.random.Generator
) -> list[CrewConfig]:
    """The crew groups with their classic tactics retired: with ``classics = "wear_out"``, every
    configured tactic without ``available_from`` or ``available_until`` is the repertoire the world
    starts from (at ``start``) and ends a ``lifetime`` later, as an invented one does. A classic
    scheme that never dies would stay the richest and best-known target whatever a detector learns,
    and the value of a fresh label would drown in it.

    >>> from sim.schema import StaticCrew
    >>> from sim.units import DAY
    >>> [group] = wear_out(Innovation(), [StaticCrew(name="c")], 0.0, np.random.default_rng(0))
    >>> all(0 < t.available_until < 90 * DAY for t in group.tactics)
    True
    """
    # One lifetime per configured tactic, whatever the setting, so the setting shifts no draw.
    lifetimes = [build_delay(config.lifetime).sample(rng, len(crew.tactics)) for crew in crews]
    if not config.enabled or config.classics == "stay":
        return list(crews)
    return [
        crew.model_copy(
            update={
                "tactics": [
                    tactic
                    if tactic.available_from is not None or tactic.available_until is not None
                    else tactic.model_copy(update={"available_until": float(start + life)})
                    for tactic, life in zip(crew.tactics, lives, strict=True)
                ]
            }
        )
        for crew, lives in zip(crews, lifetimes, strict=True)
    ]


def invent(
    config: Innovation, start: float, end: float, population: Population, rng: np.random.Generator
) -> list[NewTactic]:
    """The tactics invented from ``start`` to ``end`` (a Poisson process at one per ``every``)."""
    if not config.enabled or end <= start:
        return []
    n = int(rng.poisson((end - start) / config.every))
    # Every column is drawn for every tactic, in this order, so one setting never shifts another's draws.
    appear = np.sort(start + (end - start) * rng.random(n))
    lifetime = build_delay(config.lifetime).sample(rng, n)
    category = rng.choice(len(CATEGORIES), size=n, p=CATEGORY_APPEAL / CATEGORY_APPEAL.sum())
    cnp = rng.random(n) < config.cnp_share
    night, all_day, band = rng.random(n) < config.night_share, rng.random(n) < ALL_DAY_SHARE, rng.integers(3, size=n)
    amount = rng.integers(len(config.amount_bands), size=n)
    cashout = rng.random(n) < config.cashout_share
    pick = rng.random((n, config.cashout_merchants))
    tactics = []
    for k in range(n):
        hours = NIGHT if night[k] else ALL_DAY if all_day[k] else DAY_BANDS[band[k]]
        low, high = config.amount_bands[amount[k]]
        merchants = None
        if cashout[k]:
            pool = population.merchants_by_category[category[k]]
            merchants = np.unique(pool[(pick[k] * len(pool)).astype(int)]).astype(np.int32)
        where = "night" if hours == NIGHT else "allday" if hours == ALL_DAY else f"{hours[0]:02d}to{hours[1]:02d}h"
        name = (
            f"new-{k + 1:02d}-{CATEGORIES[category[k]]}-{'online' if cnp[k] else 'instore'}-{where}-"
            f"{low:g}to{high:g}{'-cashout' if merchants is not None else ''}"
        )
        tactics.append(
            NewTactic(
                name,
                int(category[k]),
                bool(cnp[k]),
                float(low),
                float(high),
                hours,
                config.weight,
                float(appear[k]),
                float(appear[k] + lifetime[k]),
                merchants,
            )
        )
    return tactics
