"""Fraud crews: wallets of stolen cards, a strategy each, and groups that follow the money.

Card supply: a daily trickle (`cards_per_day`), breaches (random, or at fixed
times, split among the group's crews) and skimmed merchants (cards that buy
there leak to a group after a delay). A crew loses a card after too many
declines, or when the issuer blocks it (a fraud verdict, a report, a
chargeback, a confirmed decline). With `dynamics`, crews enter at a rate that
grows with recent profit and leave after a run of days without profit.

Each crew draws from its own stream keyed by (crew, day); group decisions from
(group, day). A crew knows only its own attempts and their decisions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..feedback.delays import build_delay
from ..rng import Streams
from ..schema import CATEGORIES, Compromise, Skimming
from ..schema import Crew as CrewConfig
from ..units import DAY
from .innovation import NewTactic
from .population import Population
from .strategies import Context, Plan, StaticStrategy, TacticTable, _choice, make_strategy, tactic_table
from .traffic import Transactions

RECENT_PROFIT_DAYS = 7.0
BREACH_KEY = 1  # the crew group's stream key for breaches, apart from crew entries (day alone)


@dataclass
class Wallet:
    """A crew's stolen cards: whose, which theft, when usable, until when, and their declines."""

    card: np.ndarray  # int32 customer ids
    serial: np.ndarray  # int64: identifies this stolen card (a customer can be compromised twice)
    usable_from: np.ndarray
    usable_until: np.ndarray
    declines: np.ndarray  # int
    lost: np.ndarray  # bool: blocked or abandoned

    FIELDS = ("card", "serial", "usable_from", "usable_until", "declines", "lost")

    def __post_init__(self) -> None:
        self._usable: tuple[float, float, np.ndarray] | None = None  # (from, until, slots) while valid

    @staticmethod
    def empty() -> Wallet:
        return Wallet(
            np.empty(0, np.int32), np.empty(0, np.int64), np.empty(0), np.empty(0), np.empty(0, int), np.empty(0, bool)
        )

    def usable(self, now: float) -> np.ndarray:
        """Slots of the cards usable at ``now``."""
        return self.usable_cards(now)[0]

    def usable_cards(self, now: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Slots, serials and owners of the cards usable at ``now`` (kept until a card starts, ends
        or is lost)."""
        cached = self._usable
        if cached is not None and cached[0] <= now < cached[1]:
            return cached[2]
        slots = np.flatnonzero((self.usable_from <= now) & (now < self.usable_until) & ~self.lost)
        changes = np.concatenate([self.usable_from[self.usable_from > now], self.usable_until[self.usable_until > now]])
        cards = (slots, self.serial[slots], self.card[slots])
        self._usable = (now, float(changes.min()) if len(changes) else np.inf, cards)
        return cards

    def lose(self, lost: np.ndarray) -> int:
        """Mark the cards at ``lost`` (a mask) as lost; return how many were not already."""
        new = lost & ~self.lost
        count = int(np.count_nonzero(new))
        if count:
            self.lost |= new
            self._usable = None
        return count

    def add(self, card: np.ndarray, serial: np.ndarray, usable_from: np.ndarray, spree: float) -> None:
        n = len(card)
        parts = (
            card.astype(np.int32),
            serial.astype(np.int64),
            usable_from,
            usable_from + spree,
            np.zeros(n, int),
            np.zeros(n, bool),
        )
        for name, part in zip(self.FIELDS, parts, strict=True):
            setattr(self, name, np.concatenate([getattr(self, name), part]))
        self._usable = None

    def prune(self, now: float) -> None:
        """Forget cards that can no longer be used."""
        keep = (self.usable_until > now) & ~self.lost
        if not keep.all():
            for name in self.FIELDS:
                setattr(self, name, getattr(self, name)[keep])
            self._usable = None


@dataclass
class DayBook:
    """A crew's results for one day."""

    attempts: int = 0
    approved: int = 0
    amount_approved: float = 0.0
    cards_received: int = 0
    tactic_attempts: np.ndarray | None = None

    def profit(self, config: CrewConfig) -> float:
        return self.amount_approved - config.attempt_cost * self.attempts - config.card_cost * self.cards_received


class Crew:
    """One crew: its wallet, its strategy, its own random stream and its daily books."""

    def __init__(
        self,
        crew_id: int,
        group: str,
        config: CrewConfig,
        tactics: TacticTable,
        streams: Streams,
        customers: int,
        joined: int | None,
    ):
        self.crew_id = crew_id
        self.group = group
        self.config = config
        self.tactics = tactics
        self.strategy = make_strategy(config, tactics)
        self.wallet = Wallet.empty()
        self.joined = joined  # the day it entered (None: there from the start)
        self.left: int | None = None
        self.recent_profit = 0.0  # decayed mean daily profit
        self.losing_days = 0
        self.rows: list[dict] = []
        self._streams = streams
        self._customers = customers
        self._serials = 0
        self._day: int | None = None
        self._rng: np.random.Generator | None = None
        self._book = DayBook(tactic_attempts=np.zeros(len(tactics)))

    # ----------------------------------------------------------------- the day

    def freeze(self) -> None:
        """Keep to the tactic mix from now on and stop learning from declines (an A/B test's
        static-crews variant). Mimic crews never adapt, so they stay as they are."""
        if self.config.strategy != "mimic":
            self.strategy = StaticStrategy(self.config, self.tactics)

    def close_day(self) -> None:
        """Close the open day's books (profit, losing streak, the day's row)."""
        if self._day is None:
            return
        book = self._book
        profit = book.profit(self.config)
        self.recent_profit += (profit - self.recent_profit) / RECENT_PROFIT_DAYS
        self.losing_days = self.losing_days + 1 if profit <= 0 else 0
        self.rows.append(
            {
                "day": self._day,
                "crew": self.crew_id,
                "group": self.group,
                "strategy": self.config.strategy,
                "attempts": book.attempts,
                "approved": book.approved,
                "amount_approved": book.amount_approved,
                "cards_received": book.cards_received,
                "profit": profit,
                "tactic_attempts": book.tactic_attempts,
            }
        )
        self._book = DayBook(tactic_attempts=np.zeros(len(self.tactics)))
        self._day = None

    def open_day(self, day: int) -> None:
        """Start a day: the day's random stream, and the day's stolen cards."""
        self._day = day
        self._rng = self._streams.get("crew", self.crew_id, day)
        rng = self._streams.get("crew_cards", self.crew_id, day)
        count = int(rng.poisson(self.config.cards_per_day))
        if self.config.breach_every is not None:
            count += self.config.breach_size * int(rng.poisson(DAY / self.config.breach_every))
        self.wallet.prune(day * DAY)
        self.receive(rng.integers(self._customers, size=count), day * DAY + DAY * np.sort(rng.random(count)))

    def receive(self, cards: np.ndarray, usable_from: np.ndarray, paid: bool = True) -> None:
        serial = self.crew_id * 1_000_000_000 + self._serials + np.arange(len(cards))
        self._serials += len(cards)
        self.wallet.add(cards, serial, usable_from, self.config.spree)
        if paid:
            self._book.cards_received += len(cards)

    # ----------------------------------------------------------------- a tick

    def choose(self, now: float, tick: float, population: Population) -> Plan | None:
        """The strategy's plan for the tick [now, now + tick) on the usable cards (None: no attempts)."""
        slots, serial, card = self.wallet.usable_cards(now)
        if len(slots) == 0:
            return None
        intensity = self.tactics.intensity_at(now, tick)
        plan = self.strategy.choose(self._rng, Context(now, tick, slots, serial, card, intensity, population))
        return plan if len(plan) else None

    def place(self, plan: Plan, tick: float, population: Population) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Where, through which channel and when in the tick each attempt of ``plan`` happens, where
        the strategy left it open: a merchant of the tactic's category chosen as honest customers
        choose (by popularity: crews blend into busy shops, so no merchant draws fraud merely for
        being small) or one of the tactic's cash-out merchants, the tactic's channel, a uniform time."""
        rng = self._rng
        merchant = plan.merchant.copy()
        unset = merchant < 0
        pools = self.tactics.merchants
        cashing_out = [k for k in sorted(set(plan.tactic[unset].tolist())) if pools[k] is not None]
        chosen = unset & ~np.isin(plan.tactic, cashing_out) if cashing_out else unset
        for category in sorted(set(self.tactics.category[plan.tactic[chosen]].tolist())):  # category by category
            where = np.flatnonzero(chosen & (self.tactics.category[plan.tactic] == category))
            if len(where):
                cdf = population.popularity_cdf[category]  # ends at exactly 1: every draw lands in the pool
                merchant[where] = population.merchants_by_category[category][_choice(rng, cdf, len(where))]
        for k in cashing_out:
            where = np.flatnonzero(unset & (plan.tactic == k))
            merchant[where] = pools[k][rng.integers(len(pools[k]), size=len(where))]
        cnp = np.where(plan.cnp >= 0, plan.cnp == 1, self.tactics.cnp[plan.tactic])
        offset = np.where(np.isnan(plan.offset), tick * rng.random(len(plan)), plan.offset)
        return merchant, cnp, offset

    def observe(self, plan: Plan, declined: np.ndarray) -> None:
        """The decisions on the attempts of ``plan`` (the crew's last, in time order)."""
        if declined.any():
            np.add.at(self.wallet.declines, plan.slot, declined.astype(int))
            self.wallet.lose(self.wallet.declines >= self.config.max_declines)
        self.strategy.observe(plan, declined)
        book = self._book
        book.attempts += len(plan)
        book.approved += len(plan) - int(np.count_nonzero(declined))
        book.amount_approved += float(plan.amount[~declined].sum())
        book.tactic_attempts += np.bincount(plan.tactic, minlength=len(book.tactic_attempts))

    def block(self, cards: np.ndarray) -> int:
        """The issuer blocked ``cards``: the crew loses any it holds. Returns how many."""
        return self.wallet.lose(np.isin(self.wallet.card, cards))


@dataclass
class Attempts:
    """The crews' attempts of one tick, crew after crew, each crew's in time order."""

    crews: list[Crew]
    counts: list[int]
    tx: Transactions
    plan: Plan  # the same rows as planned by the strategies

    @staticmethod
    def join(
        now: float, crews: list[Crew], plans: list[Plan], places: list[tuple[np.ndarray, np.ndarray, np.ndarray]]
    ) -> Attempts:
        counts = [len(plan) for plan in plans]
        plan = Plan.concat(plans)
        merchant, cnp, offset = (np.concatenate(columns) for columns in zip(*places, strict=True))
        crew_id = np.repeat(np.array([crew.crew_id for crew in crews], np.int32), counts)
        card = np.concatenate([crew.wallet.card[p.slot] for crew, p in zip(crews, plans, strict=True)])
        order = np.lexsort((offset, np.repeat(np.arange(len(crews)), counts)))  # by crew, then time
        plan = plan.take(order)
        tx = Transactions(
            t=now + offset[order],
            card=card[order],
            merchant=merchant[order].astype(np.int32),
            amount=plan.amount,
            cnp=cnp[order],
            crew=crew_id,
            tactic=plan.tactic,
            stolen_card=plan.serial,
        )
        return Attempts(crews, counts, tx, plan)

    def by_crew(self):
        """Each crew with the slice of the rows that are its own."""
        start = 0
        for crew, count in zip(self.crews, self.counts, strict=True):
            yield crew, slice(start, start + count)
            start += count


@dataclass
class CrewIds:
    """Hands out crew ids. Plain data, so each copy of a world counts on its own."""

    next: int = 0

    def __call__(self) -> int:
        self.next += 1
        return self.next - 1


class CrewGroup:
    """Crews sharing a configuration: scheduled breaches are split among them, and with
    `dynamics` they enter and leave with profit."""

    def __init__(
        self,
        index: int,
        config: CrewConfig,
        streams: Streams,
        customers: int,
        ids: CrewIds,
        invented: Sequence[NewTactic] = (),
    ):
        self.index = index
        self.config = config
        self.tactics = tactic_table(config, invented)
        self.streams = streams
        self.customers = customers
        self._ids = ids
        self.crews: list[Crew] = []
        self.retired: list[Crew] = []
        self.last_profit = 0.0  # recent profit per crew when the group last had crews
        self._pending_leaks: list[tuple[np.ndarray, np.ndarray]] = []
        self.frozen = False  # crews keep to their tactic mix (see Crew.freeze)
        for _ in range(config.count):
            self.crews.append(self._new_crew(None))

    def _new_crew(self, day: int | None) -> Crew:
        crew = Crew(self._ids(), self.config.name, self.config, self.tactics, self.streams, self.customers, day)
        if self.frozen:
            crew.freeze()
        return crew

    def start_day(self, day: int) -> None:
        """Close yesterday, let crews leave or enter, open today, hand out breaches and leaks."""
        for crew in self.crews:
            crew.close_day()
        if self.config.dynamics is not None:
            self._follow_the_money(day)
        for crew in self.crews:
            crew.open_day(day)
        if self.crews:
            for breach in self.config.breaches:
                if day * DAY <= breach.at < (day + 1) * DAY:
                    rng = self.streams.get("crew_group", self.index, day, BREACH_KEY)  # not the entries' stream
                    cards = rng.integers(self.customers, size=breach.cards)
                    self._share_out(cards, np.full(breach.cards, breach.at), paid=True)
            for cards, usable_from in self._pending_leaks:
                self._share_out(cards, usable_from, paid=False)
        self._pending_leaks = []

    def _share_out(self, cards: np.ndarray, usable_from: np.ndarray, paid: bool) -> None:
        """Split a batch of cards among the group's crews, in turn."""
        for k, crew in enumerate(self.crews):
            crew.receive(cards[k :: len(self.crews)], usable_from[k :: len(self.crews)], paid)

    def leak(self, cards: np.ndarray, usable_from: np.ndarray) -> None:
        """Skimmed cards, handed to the crews at the next day start."""
        self._pending_leaks.append((cards, usable_from))

    def _follow_the_money(self, day: int) -> None:
        """Crews without profit for `leave_after` days leave (down to `min_count`); new crews enter
        at `entry_per_month` × (recent profit per crew / `profit_scale`), up to `max_count`."""
        dynamics = self.config.dynamics
        may_leave = len(self.crews) - dynamics.min_count
        staying = []
        for crew in self.crews:
            if crew.losing_days >= dynamics.leave_after and may_leave > 0:
                may_leave -= 1
                crew.left = day
                self.retired.append(crew)
            else:
                staying.append(crew)
        self.crews = staying
        if self.crews:
            self.last_profit = float(np.mean([crew.recent_profit for crew in self.crews]))
        rate = dynamics.entry_per_month / 30.0 * max(self.last_profit, 0.0) / dynamics.profit_scale
        arrivals = max(
            int(self.streams.get("crew_group", self.index, day).poisson(rate)), dynamics.min_count - len(self.crews)
        )
        for _ in range(min(arrivals, dynamics.max_count - len(self.crews))):
            crew = self._new_crew(day)
            crew.recent_profit = self.last_profit
            self.crews.append(crew)

    def everyone(self) -> list[Crew]:
        return self.retired + self.crews


class Crews:
    """Every crew group of the world, and the skimmed merchants that feed them."""

    def __init__(
        self,
        configs: list[CrewConfig],
        compromises: list[Compromise],
        population: Population,
        streams: Streams,
        invented: Sequence[NewTactic] = (),
        skims: Sequence[Skim] = (),
    ):
        ids = CrewIds()
        self.groups = [
            CrewGroup(i, config, streams, population.customers, ids, invented) for i, config in enumerate(configs)
        ]
        self._by_name = {group.config.name: group for group in self.groups}
        self.compromises = [
            Skim.configured(c, population, streams.get("compromise", i)) for i, c in enumerate(compromises)
        ] + list(skims)
        self._leaked = np.zeros(len(self.compromises), np.int64)  # cards each compromise has leaked
        self._day: int | None = None

    @property
    def active(self) -> list[Crew]:
        return [crew for group in self.groups for crew in group.crews]

    def plan(self, now: float, tick: float, population: Population) -> Attempts | None:
        """Every crew's attempts in the tick [now, now + tick) (None: no crew makes any)."""
        day = int(np.floor(now / DAY))
        if day != self._day:
            self._day = day
            for group in self.groups:
                group.start_day(day)
        crews, plans, places = [], [], []
        for group in self.groups:
            for crew in group.crews:
                plan = crew.choose(now, tick, population)
                if plan is not None:
                    crews.append(crew)
                    plans.append(plan)
                    places.append(crew.place(plan, tick, population))
        if not crews:
            return None
        return Attempts.join(now, crews, plans, places)

    def block(self, cards: np.ndarray) -> int:
        """The issuer blocked ``cards``: every crew loses those it holds. Returns how many."""
        active = self.active
        if not active or len(cards) == 0:
            return 0
        held = np.concatenate([crew.wallet.card for crew in active])
        hit = np.isin(held, cards)  # every wallet at once, then each wallet its share
        if not hit.any():
            return 0
        blocked, start = 0, 0
        for crew in active:
            end = start + len(crew.wallet.card)
            if hit[start:end].any():
                blocked += crew.wallet.lose(hit[start:end])
            start = end
        return blocked

    def skim(self, tx: Transactions, approved: np.ndarray, leak_draw: np.ndarray) -> None:
        """Honest cards used at compromised merchants leak to the compromise's crew group (the
        first ``max_cards`` a compromise catches, when it has a cap)."""
        if not self.compromises or len(tx) == 0:
            return
        honest = approved & ~tx.is_fraud
        first, last = tx.t.min(), tx.t.max()
        for k, skim in enumerate(self.compromises):
            if skim.end <= first or skim.start > last:
                continue
            hit = skim.catches(tx, honest, leak_draw)
            if skim.max_cards is not None:
                hit = hit[: max(skim.max_cards - int(self._leaked[k]), 0)]
            if len(hit):
                self._leaked[k] += len(hit)
                self._by_name[skim.crews].leak(tx.card[hit], tx.t[hit] + skim.delay)

    def freeze(self) -> None:
        """From now on no crew adapts, including crews that enter later (see :meth:`Crew.freeze`)."""
        for group in self.groups:
            group.frozen = True
            for crew in group.crews:
                crew.freeze()

    def finish(self) -> None:
        """Close every crew's open day (at the horizon)."""
        for group in self.groups:
            for crew in group.crews:
                crew.close_day()

    def rows(self, first_day: int) -> list[dict]:
        """Every crew's daily books from ``first_day`` on."""
        return [
            row for group in self.groups for crew in group.everyone() for row in crew.rows if row["day"] >= first_day
        ]

    def tactic_names(self) -> dict[str, tuple[str, ...]]:
        return {group.config.name: group.tactics.names for group in self.groups}


@dataclass(frozen=True)
class Skim:
    """One compromise: its merchants and window, how many of its cards leak, and to whom."""

    name: str
    merchants: np.ndarray  # merchant ids
    start: float
    end: float
    leak_share: float
    delay: float  # from a card's use there to its being usable by the crews
    crews: str  # the crew group that receives the cards
    max_cards: int | None = None  # cards it leaks at most (None: every card it catches)

    @staticmethod
    def configured(config: Compromise, population: Population, rng: np.random.Generator) -> Skim:
        """A ``[[compromises]]`` entry, its merchants drawn at random (within its category if set)."""
        pool = (
            population.merchants_by_category[CATEGORIES.index(config.category)]
            if config.category
            else np.arange(population.merchants)
        )
        merchants = rng.choice(pool, size=min(config.merchants, len(pool)), replace=False)
        return Skim(config.name, merchants, config.start, config.end, config.leak_share, config.delay, config.crews)

    def catches(self, tx: Transactions, honest: np.ndarray, leak_draw: np.ndarray) -> np.ndarray:
        """The positions, in order, of the approved honest transactions (``honest``) it leaks."""
        near = np.flatnonzero(honest & (leak_draw < self.leak_share) & (tx.t >= self.start) & (tx.t < self.end))
        return near[np.isin(tx.merchant[near], self.merchants)]


def draw_skims(
    config: Skimming, start: float, end: float, population: Population, groups: Sequence[str], rng: np.random.Generator
) -> list[Skim]:
    """Random points of compromise from ``start`` to ``end``: a Poisson process at one per
    ``every``, each at one merchant drawn by popularity, leaking to a crew group drawn at random
    at most ``max_cards`` cards. A card is usable the compromise's ``delay`` after its use there."""
    if not config.enabled or not groups or end <= start:
        return []
    n = int(rng.poisson((end - start) / config.every))
    # Every column is drawn for every compromise, in this order, so one setting never shifts another's draws.
    begin = np.sort(start + (end - start) * rng.random(n))
    window = build_delay(config.window).sample(rng, n)
    delay = build_delay(config.delay).sample(rng, n)
    cumulative = np.cumsum(population.merchant_popularity)
    merchant = np.minimum(
        np.searchsorted(cumulative, rng.random(n) * cumulative[-1], side="right"), population.merchants - 1
    )
    group = rng.integers(len(groups), size=n)
    return [
        Skim(
            f"skim-{k + 1:02d}",
            merchant[k : k + 1].astype(np.int32),
            float(begin[k]),
            float(begin[k] + window[k]),
            config.leak_share,
            float(delay[k]),
            groups[group[k]],
            config.max_cards,
        )
        for k in range(n)
    ]
