"""Crew strategies: how a crew picks tactics and amounts, and what it learns from outcomes.

Two verbs. :meth:`Strategy.choose` plans the attempts of one tick from a
:class:`Context` — the crew's usable stolen cards, the time, and each tactic's
hour-of-day intensity. :meth:`Strategy.observe` receives that :class:`Plan`
back with the decisions. That is all a crew ever knows: its own attempts and
whether they were declined, never a score, a label or a model weight.

Strategies: ``static`` (fixed mix), ``card_testing`` (test charges first),
``prober`` (amounts walk up after approvals, down after declines), ``bandit``
(discounted Thompson sampling on profit), ``mimic`` (the victim's own habits).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

import numpy as np

from ..columns import Columns
from ..schema import (
    CATEGORIES,
    BanditCrew,
    CardTestingCrew,
    MimicCrew,
    ProberCrew,
    StaticCrew,
)
from ..schema import Crew as CrewConfig
from ..units import DAY, HOUR
from .population import CATEGORY_AMOUNT, CATEGORY_CNP, Population
from .traffic import DIURNAL

if TYPE_CHECKING:
    from .innovation import NewTactic


@dataclass(frozen=True)
class TacticTable:
    """A crew group's tactics as arrays, indexed by tactic number."""

    names: tuple[str, ...]
    category: np.ndarray  # int
    cnp: np.ndarray  # bool
    amount_min: np.ndarray
    amount_max: np.ndarray
    hours: np.ndarray  # (tactics, 24) bool: may attack in this hour
    weight: np.ndarray  # relative share of attempts (static mix)
    velocity: np.ndarray  # attempts per card per day while using the tactic
    available_from: np.ndarray  # the tactic exists from this time (-inf: always)
    available_until: np.ndarray  # and is used until this time (inf: for ever)
    merchants: tuple[np.ndarray | None, ...]  # the merchants a tactic cashes out at (None: any of its category)
    # intensity arrays by (time of day, tick) while the set of tactics in use stays the same: (epoch, arrays)
    _cache: list = field(default_factory=lambda: [-1, {}], compare=False, repr=False)

    def __len__(self) -> int:
        return len(self.names)

    def intensity_at(self, now: float, tick: float) -> np.ndarray:
        """:meth:`intensity`, computed once per time of day while the set of tactics in use stays
        the same, and the same array every time (shared by the crews of the group)."""
        epoch = int(np.searchsorted(self.changes, now, side="right"))
        if epoch != self._cache[0]:
            self._cache[:] = [epoch, {}]
        arrays, key = self._cache[1], (now % DAY, tick)
        intensity = arrays.get(key)
        if intensity is None:
            intensity = arrays[key] = self.intensity(now, tick)
        return intensity

    def intensity(self, now: float, tick: float) -> np.ndarray:
        """Per tactic, the multiplier on its share of attempts in the tick starting at ``now``: 0
        unless the tactic is in use; a tactic limited to some hours concentrates its daily attempts
        there; and the tactics in use share all the weight (so a crew's attempt rate does not fall
        because tactics it no longer uses exist in the table)."""
        first = int((now % DAY) // HOUR)
        covered = (first + np.arange(max(1, int(round(tick / HOUR))))) % 24
        alive = (now >= self.available_from) & (now < self.available_until)
        weight = float(self.weight[alive].sum())
        scale = float(self.weight.sum()) / weight if weight > 0 else 1.0
        return self.hours[:, covered].mean(axis=1) * 24.0 / self.hours.sum(axis=1) * alive * scale

    @cached_property
    def changes(self) -> np.ndarray:
        """The sorted times at which a tactic appears or ends (the set in use is constant between them)."""
        times = np.concatenate([self.available_from, self.available_until])
        return np.unique(times[np.isfinite(times)])


def tactic_table(config: CrewConfig, invented: Sequence[NewTactic] = ()) -> TacticTable:
    """The group's configured tactics, the world's invented ones, and the ones its strategy adds
    (a test charge, last; a mimic, alone: mimics use no tactics and invent none)."""
    always, never = -np.inf, np.inf
    rows = [
        (
            t.name,
            CATEGORIES.index(t.category),
            t.channel == "cnp",
            t.amount_min,
            t.amount_max,
            t.hours,
            t.weight,
            t.velocity or config.attempts_per_day,
            always if t.available_from is None else t.available_from,
            never if t.available_until is None else t.available_until,
            None,
        )
        for t in config.tactics
    ]
    rows += [
        (
            t.name,
            t.category,
            t.cnp,
            t.amount_min,
            t.amount_max,
            t.hours,
            t.weight,
            config.attempts_per_day,
            t.available_from,
            t.available_until,
            t.merchants,
        )
        for t in invented
    ]
    if isinstance(config, CardTestingCrew):
        rows.append(
            (
                "card-test",
                CATEGORIES.index(config.test_category),
                True,
                0.5,
                config.test_amount_max,
                (0, 24),
                0.0,
                config.tests_per_day,
                always,
                never,
                None,
            )
        )
    if isinstance(config, MimicCrew):
        rows = [("mimic", 0, False, 0.0, 0.0, (0, 24), 1.0, config.attempts_per_day, always, never, None)]
    hours = np.zeros((len(rows), 24), bool)
    for k, row in enumerate(rows):
        start, end = row[5]
        span = np.arange(start, end) if start < end else np.r_[np.arange(start, 24), np.arange(0, end)]
        hours[k, span] = True
    column = list(zip(*rows, strict=True))
    return TacticTable(
        names=tuple(column[0]),
        category=np.array(column[1]),
        cnp=np.array(column[2], bool),
        amount_min=np.array(column[3], float),
        amount_max=np.array(column[4], float),
        hours=hours,
        weight=np.array(column[6], float),
        velocity=np.array(column[7], float),
        available_from=np.array(column[8], float),
        available_until=np.array(column[9], float),
        merchants=tuple(column[10]),
    )


@dataclass
class Context:
    """What a crew can see when it plans a tick: its own cards and the clock (read only; not
    frozen only because a frozen dataclass is slower to build, and one is built per crew and tick)."""

    now: float
    tick: float
    slots: np.ndarray  # wallet slots of the usable cards
    serial: np.ndarray  # their serials
    card: np.ndarray  # their owners (customer ids)
    intensity: np.ndarray  # per tactic
    population: Population  # the victims' habits (mimic reads them)


@dataclass
class Plan(Columns):
    """A tick's attempts: card, tactic, amount and, where a strategy insists, merchant, channel and time."""

    slot: np.ndarray
    serial: np.ndarray
    tactic: np.ndarray  # int16
    amount: np.ndarray
    merchant: np.ndarray  # int32; -1: a random merchant of the tactic's category
    cnp: np.ndarray  # int8; -1: the tactic's channel
    offset: np.ndarray  # seconds into the tick; nan: uniform


class Strategy(Protocol):
    """How a crew picks tactics and amounts, and what it learns from outcomes."""

    def choose(self, rng: np.random.Generator, context: Context) -> Plan:
        """Plan the tick's attempts on the usable cards."""

    def observe(self, plan: Plan, declined: np.ndarray) -> None:
        """Learn from the crew's own attempts and their decisions, and nothing else."""


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


# "Left open" columns of a plan, as read-only views: most plans leave merchant, channel and time open.
_OPEN = 4096
_ANY_MERCHANT = _read_only(np.full(_OPEN, -1, np.int32))
_ANY_CHANNEL = _read_only(np.full(_OPEN, -1, np.int8))
_ANY_TIME = _read_only(np.full(_OPEN, np.nan))


def _open(column: np.ndarray, n: int) -> np.ndarray:
    return column[:n] if n <= _OPEN else _read_only(np.full(n, column[0]))


def _plan(slot, serial, tactic, amount, merchant=None, cnp=None, offset=None) -> Plan:
    n = len(slot)
    return Plan(
        slot=slot,
        serial=serial,
        tactic=np.asarray(tactic, np.int16),
        amount=np.round(np.asarray(amount, float), 2),
        merchant=_open(_ANY_MERCHANT, n) if merchant is None else merchant.astype(np.int32),
        cnp=_open(_ANY_CHANNEL, n) if cnp is None else cnp.astype(np.int8),
        offset=_open(_ANY_TIME, n) if offset is None else offset,
    )


_NO_ATTEMPTS = np.empty(0, np.intp)
_EMPTY_COLUMNS = tuple(np.empty(0, dtype) for dtype in (np.intp, np.int64, np.int16, float, np.int32, np.int8, float))
for _column in _EMPTY_COLUMNS:
    _column.flags.writeable = False


def _empty_plan() -> Plan:
    return Plan(*_EMPTY_COLUMNS)


def _repeat(rng: np.random.Generator, context: Context, rate_per_day: float) -> np.ndarray:
    """Indices into the context's cards, one per attempt: Poisson counts at ``rate_per_day``."""
    counts = rng.poisson(rate_per_day * context.tick / DAY, len(context.slots))
    if np.count_nonzero(counts) == 0:  # most ticks: no attempt at all
        return _NO_ATTEMPTS
    return np.repeat(np.arange(len(context.slots)), counts)


def _choice(rng: np.random.Generator, cdf: np.ndarray, n: int) -> np.ndarray:
    """``rng.choice(len(cdf), size=n, p=p)`` given ``cdf`` = p's normalised cumulative sum: the
    same draws and values, without the checks numpy repeats on every call."""
    return cdf.searchsorted(rng.random(n), side="right")


def _uniform_amount(rng, tactics: TacticTable, tactic: np.ndarray) -> np.ndarray:
    low, high = tactics.amount_min[tactic], tactics.amount_max[tactic]
    return low + (high - low) * rng.random(len(tactic))


def _by_intensity(cache: dict, intensity: np.ndarray, compute):
    """``compute(intensity)``, kept in ``cache`` while the same array comes back (a crew keeps one
    intensity array per hour of the day)."""
    cached = cache.get(id(intensity))
    if cached is not None and cached[0] is intensity:
        return cached[1]
    if len(cache) > 256:
        cache.clear()
    value = compute(intensity)
    cache[id(intensity)] = (intensity, value)
    return value


class StaticStrategy:
    """A fixed tactic mix with amounts uniform in each tactic's band: never adapts."""

    def __init__(self, config: StaticCrew, tactics: TacticTable):
        self.tactics = tactics
        self._share = tactics.weight / tactics.weight.sum()
        self._mixes: dict[int, tuple] = {}

    def _mix(self, intensity: np.ndarray) -> tuple[float, np.ndarray]:
        """The total attempt rate per card per day at this ``intensity``, and the cumulative share
        of each tactic."""
        rate = self._share * self.tactics.velocity * intensity
        total = float(rate.sum())
        if total <= 0:
            return total, rate
        cdf = (rate / total).cumsum()
        cdf /= cdf[-1]
        return total, cdf

    def choose(self, rng, context):
        total, cdf = _by_intensity(self._mixes, context.intensity, self._mix)
        index = _repeat(rng, context, total) if total > 0 else _NO_ATTEMPTS
        if len(index) == 0:
            return _empty_plan()
        tactic = _choice(rng, cdf, len(index))
        return _plan(context.slots[index], context.serial[index], tactic, _uniform_amount(rng, self.tactics, tactic))

    def observe(self, plan, declined):
        pass


class CardTestingStrategy(StaticStrategy):
    """Test charges on each new card first; cash out (the static mix) only on cards that pass."""

    TESTING, CASHING, BURNT = 0, 1, 2

    def __init__(self, config: CardTestingCrew, tactics: TacticTable):
        super().__init__(config, tactics)
        self.config = config
        self.test = len(tactics) - 1  # the strategy's own "card-test" tactic, last in the table
        self._share = np.where(np.arange(len(tactics)) == self.test, 0.0, tactics.weight)
        self._share = self._share / self._share.sum()
        self._phase: dict[int, int] = {}
        self._tests_left: dict[int, int] = {}

    def choose(self, rng, context):
        serials = context.serial.tolist()
        phase_of, tests_left = self._phase, self._tests_left
        for serial in serials:
            if serial not in phase_of:
                phase_of[serial] = self.TESTING
                tests_left[serial] = int(rng.integers(1, self.config.tests + 1))
        phase = np.array([phase_of[s] for s in serials], int)
        testing = np.flatnonzero(phase == self.TESTING)
        left = np.array([tests_left[serials[i]] for i in testing.tolist()], dtype=int)
        counts = np.minimum(rng.poisson(self.config.tests_per_day * context.tick / DAY, len(testing)), left)
        tests = np.repeat(testing, counts)
        cashing = phase == self.CASHING
        if cashing.any():
            cash = super().choose(
                rng,
                Context(
                    context.now,
                    context.tick,
                    context.slots[cashing],
                    context.serial[cashing],
                    context.card[cashing],
                    context.intensity,
                    context.population,
                ),
            )
        else:
            cash = _empty_plan()
        if len(tests) == 0:
            return cash
        tactic = np.full(len(tests), self.test, np.int16)
        test_plan = _plan(
            context.slots[tests], context.serial[tests], tactic, _uniform_amount(rng, self.tactics, tactic)
        )
        return Plan.concat([test_plan, cash]) if len(cash) else test_plan

    def observe(self, plan, declined):
        tested = plan.tactic == self.test
        for serial, was_declined in zip(plan.serial[tested].tolist(), declined[tested].tolist(), strict=True):
            if self._phase.get(serial) != self.TESTING:
                continue
            if was_declined:
                self._phase[serial] = self.BURNT
                continue
            self._tests_left[serial] -= 1
            if self._tests_left[serial] <= 0:
                self._phase[serial] = self.CASHING


class ProberStrategy(StaticStrategy):
    """Walks each tactic's amount up after approvals and down after declines: it finds the boundary."""

    def __init__(self, config: ProberCrew, tactics: TacticTable):
        super().__init__(config, tactics)
        self.config = config
        self.level = (tactics.amount_min + tactics.amount_max) / 2

    def choose(self, rng, context):
        plan = super().choose(rng, context)
        if len(plan) == 0:
            return plan
        plan.amount = np.round(
            np.clip(self.level[plan.tactic] * rng.uniform(0.95, 1.05, len(plan)), 0.01, self.config.probe_max), 2
        )
        return plan

    def observe(self, plan, declined):
        k = len(self.tactics)
        approved = np.bincount(plan.tactic, weights=~declined, minlength=k)
        refused = np.bincount(plan.tactic, weights=declined, minlength=k)
        self.level *= self.config.probe_up**approved * self.config.probe_down**refused
        np.clip(self.level, 0.5, self.config.probe_max, out=self.level)


class BanditStrategy(StaticStrategy):
    """Discounted Thompson sampling over tactics, rewarded by approved amount minus attempt cost."""

    def __init__(self, config: BanditCrew, tactics: TacticTable):
        super().__init__(config, tactics)
        self.config = config
        midpoint = (tactics.amount_min + tactics.amount_max) / 2
        self.prior_mean = midpoint  # optimistic: as if every attempt were approved
        self.prior_sd = midpoint
        self.reward = np.zeros(len(tactics))  # discounted sums
        self.count = np.zeros(len(tactics))
        self._planned = 0.0
        self._updated: float | None = None
        self._availability: dict[int, tuple] = {}

    def choose(self, rng, context):
        self._planned = context.now
        available, rate = _by_intensity(self._availability, context.intensity, self._available)
        index = _repeat(rng, context, rate)
        if len(index) == 0:
            return _empty_plan()
        n, k = len(index), len(self.tactics)
        mean = (self.reward + self.prior_mean) / (self.count + 1)
        spread = self.prior_sd / np.sqrt(self.count + 1)
        draws = rng.normal(mean, spread, size=(n, k))
        draws[:, ~available] = -np.inf
        tactic = draws.argmax(axis=1) if n else np.empty(0, int)
        explore = rng.random(n) < self.config.exploration
        candidates = np.flatnonzero(available)
        if explore.any() and len(candidates):
            tactic[explore] = rng.choice(candidates, size=int(explore.sum()))
        return _plan(context.slots[index], context.serial[index], tactic, _uniform_amount(rng, self.tactics, tactic))

    def _available(self, intensity: np.ndarray) -> tuple[np.ndarray, float]:
        """The tactics available at this ``intensity``, and the attempt rate per card (0 if none)."""
        available = intensity > 0
        return available, self.config.attempts_per_day * float(available.any())

    def observe(self, plan, declined):
        """Forget at the half-life (time since the last update), then add this tick's profits."""
        if self._updated is not None:
            decay = 0.5 ** ((self._planned - self._updated) / self.config.halflife)
            self.reward *= decay
            self.count *= decay
        self._updated = self._planned
        gain = np.where(declined, 0.0, plan.amount) - self.config.attempt_cost
        k = len(self.tactics)
        self.reward += np.bincount(plan.tactic, weights=gain, minlength=k)
        self.count += np.bincount(plan.tactic, minlength=k)


class MimicStrategy:
    """Attempts that look like the victim: their merchants, usual amounts (times a factor), honest hours."""

    def __init__(self, config: MimicCrew, tactics: TacticTable):
        self.config = config
        self.tactics = tactics

    def choose(self, rng, context):
        hour = int((context.now % DAY) // HOUR)
        busy = DIURNAL["retail"][hour] * 24  # attempts follow the honest hour-of-day curve
        index = _repeat(rng, context, self.config.attempts_per_day * busy)
        if len(index) == 0:
            return _empty_plan()
        population, card = context.population, context.card[index]
        merchant = population.preferred[card, rng.integers(population.preferred.shape[1], size=len(index))]
        category = population.merchant_category[merchant]
        log_amount = (
            population.log_median[card]
            + CATEGORY_AMOUNT[category]
            + population.amount_sigma * rng.standard_normal(len(index))
        )
        amount = np.maximum(np.exp(log_amount) * self.config.amount_factor, 0.01)
        cnp = rng.random(len(index)) < np.minimum(CATEGORY_CNP[category] * population.cnp_affinity[card], 1.0)
        tactic = np.zeros(len(index), np.int16)
        return _plan(context.slots[index], context.serial[index], tactic, amount, merchant, cnp)

    def observe(self, plan, declined):
        pass


STRATEGIES = {
    "static": StaticStrategy,
    "card_testing": CardTestingStrategy,
    "prober": ProberStrategy,
    "bandit": BanditStrategy,
    "mimic": MimicStrategy,
}


def make_strategy(config: CrewConfig, tactics: TacticTable) -> Strategy:
    return STRATEGIES[config.strategy](config, tactics)
