"""The world: population, seasons, fraud crews and their tactics, skimmed merchants."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from .base import (
    CATEGORIES,
    MAX_CUSTOMERS,
    MAX_MERCHANTS,
    Category,
    Duration,
    LogSpread,
    Money,
    Name,
    NonNegativeFloat,
    PositiveFloat,
    Share,
    Strict,
)
from .delays import Delay, LognormalDelay


class Season(Strict):
    """Honest traffic multiplied by `factor` from `start` to `end` (times from t = 0)."""

    start: Duration = Field(description="start of the season, from t = 0 (history is negative time)")
    end: Duration = Field(description="end of the season")
    factor: PositiveFloat = Field(description="multiplier on every customer's rate")

    @model_validator(mode="after")
    def _ordered(self) -> Season:
        if self.end <= self.start:
            raise ValueError("`end` must come after `start`")
        return self


class HonestDrift(Strict):
    """Honest customers change too, so a model that never learns again also misjudges them.

    Some customers change their habits for good (a new job, a move, a new phone): at a random
    time, at a constant rate from the warm-up's start, their typical amount and their taste for
    card-not-present purchases are drawn afresh. And the whole population drifts online: every
    customer's card-not-present share grows by `cnp_growth_per_year` (relative) a year, from the
    configured share at t = 0. Both rates are assumptions (docs/domain-facts.md §8: which signals
    mean fraud moves over the years; no source gives a rate per customer).
    """

    movers_per_year: float = Field(
        0.3, ge=0, le=10, description="habit changes per customer per year (0: none; 0.3: about 7 % in 90 days)"
    )
    cnp_growth_per_year: float = Field(
        0.2, ge=0, le=10, description="yearly growth of each card-not-present share, capped at 1 (0.2: 35 % → 42 %)"
    )


class Population(Strict):
    """Customers (one card each) and merchants."""

    customers: int = Field(20_000, ge=1, le=MAX_CUSTOMERS, description="number of cardholders")
    merchants: int = Field(
        2_000,
        ge=len(CATEGORIES),
        le=MAX_MERCHANTS,
        description="number of merchants (at least one per category, so crews always find a target)",
    )
    tx_per_customer_day: PositiveFloat = Field(
        0.5, le=100, description="mean honest transactions per customer per day (domain-facts §6: 11–23 a month)"
    )
    rate_shape: PositiveFloat = Field(
        2.0, description="gamma shape of per-customer daily rates (smaller = more heterogeneous)"
    )
    amount_median: Money = Field(25.0, gt=0, description="median honest amount (domain-facts §6)")
    amount_sigma: LogSpread = Field(0.8, description="spread of log(amount) within a customer")
    amount_spread: LogSpread = Field(0.6, description="spread of customers' log median amounts")
    cnp_share: Share = Field(0.35, description="mean share of card-not-present transactions")
    preferred_merchants: int = Field(8, ge=1, le=100, description="merchants a customer returns to")
    explore: Share = Field(0.1, description="share of transactions at a merchant outside the preferred set")
    diurnal: Literal["retail", "flat"] = Field(
        "retail", description="hour-of-day curve: `retail` (busy at midday, quiet at night) or `flat`"
    )
    weekly: Literal["retail", "flat"] = Field(
        "retail", description="day-of-week curve: `retail` (busiest Saturday) or `flat`; t = 0 is a Monday"
    )
    seasons: list[Season] = Field(default_factory=list, description="seasonal multipliers on honest traffic")
    drift: HonestDrift = Field(default_factory=HonestDrift, description="customers changing habits; the move online")


class Tactic(Strict):
    """One way a crew can cash out a card: what the detector sees of an attempt."""

    name: Name = Field(description="the tactic's name (shown in reports)")
    category: Category = Field(description="merchant category attacked")
    channel: Literal["cnp", "cp"] = Field(description="card-not-present (online) or card-present")
    amount_min: Money = Field(gt=0, description="smallest amount tried")
    amount_max: Money = Field(gt=0, description="largest amount tried")
    hours: tuple[int, int] = Field(
        (0, 24), description="local hours [start, end) when attempts are made; start > end wraps midnight"
    )
    weight: PositiveFloat = Field(1.0, description="relative share of attempts (static, card-testing and prober crews)")
    velocity: PositiveFloat | None = Field(
        None, le=1000, description="attempts per card per day with this tactic (default: the crew's `attempts_per_day`)"
    )
    available_from: Duration | None = Field(
        None, description="the tactic exists only from this time after t = 0 (a new scheme appears); always if unset"
    )
    available_until: Duration | None = Field(
        None, description="the tactic is no longer used from this time after t = 0; never ends if unset"
    )

    @model_validator(mode="after")
    def _check(self) -> Tactic:
        if self.amount_max < self.amount_min:
            raise ValueError("`amount_max` must be at least `amount_min`")
        start, end = self.hours
        if not (0 <= start <= 23 and 1 <= end <= 24) or start == end:
            raise ValueError("`hours` must be [start, end) with 0 <= start <= 23, 1 <= end <= 24, start != end")
        if (
            self.available_from is not None
            and self.available_until is not None
            and self.available_until <= self.available_from
        ):
            raise ValueError("`available_until` must come after `available_from`")
        return self


# Mean attempt about €120, most of it card-not-present (domain-facts §1, §5: €87 per fraud in the EEA,
# CNP 73–79 % of fraud value; electronics and gift cards targeted; night-time risk).
DEFAULT_TACTICS = (
    Tactic(name="electronics-online", category="electronics", channel="cnp", amount_min=40, amount_max=300, weight=3),
    Tactic(name="gift-cards-online", category="gift_cards", channel="cnp", amount_min=20, amount_max=200, weight=2),
    Tactic(name="digital-small", category="digital_goods", channel="cnp", amount_min=5, amount_max=50, weight=3),
    Tactic(name="retail-in-store", category="retail", channel="cp", amount_min=20, amount_max=200, weight=1),
    Tactic(
        name="night-travel", category="travel", channel="cnp", amount_min=80, amount_max=500, hours=(0, 6), weight=1
    ),
)


class Breach(Strict):
    """A batch of cards stolen at once (a data breach) that a crew group buys."""

    at: Duration = Field(description="when the cards become usable, from t = 0")
    cards: int = Field(ge=1, le=10_000_000, description="cards in the batch, shared among the group's crews")


class Dynamics(Strict):
    """Crews follow the money: they enter while fraud pays and leave when it stops paying."""

    max_count: int = Field(ge=1, le=10_000, description="most crews of this group at any time")
    min_count: int = Field(0, ge=0, le=100_000, description="fewest crews of this group at any time")
    entry_per_month: NonNegativeFloat = Field(
        4.0, description="new crews per month when a crew's recent daily profit equals `profit_scale`"
    )
    profit_scale: Money = Field(100.0, gt=0, description="daily profit per crew that attracts `entry_per_month`")
    leave_after: int = Field(
        5, ge=1, le=10_000, description="a crew leaves after this many days in a row without profit"
    )

    @model_validator(mode="after")
    def _check(self) -> Dynamics:
        if self.min_count > self.max_count:
            raise ValueError("`min_count` must be at most `max_count`")
        return self


class _Crew(Strict):
    """A crew group: crews that buy stolen cards and cash them out with the group's tactics.

    `strategy` picks how the crews choose a tactic and an amount; without it a group is `static`.
    """

    name: Name | None = Field(None, description="name of this crew group (default `crews-<i>`)")
    count: int = Field(1, ge=0, le=10_000, description="crews in this group at the start")
    cards_per_day: NonNegativeFloat = Field(
        1.0, le=100_000, description="stolen cards each crew obtains per day (Poisson arrivals)"
    )
    breach_every: Duration | None = Field(
        None, description="mean time between random breaches sold to the group (Poisson); none if unset"
    )
    breach_size: int = Field(200, ge=1, le=MAX_CUSTOMERS, description="cards in each random breach")
    breaches: list[Breach] = Field(default_factory=list, description="breaches at fixed times")
    card_cost: Money = Field(10.0, description="what a crew pays per stolen card (an assumption; no source)")
    attempt_cost: Money = Field(0.5, description="a crew's cost per attempt (time, bots, mules' share)")
    attempts_per_day: PositiveFloat = Field(
        3.0, le=1000, description="attempts per active card per day (domain-facts §5: about 3)"
    )
    spree: Duration = Field("4d", description="how long a crew keeps using a card (domain-facts §5: 2–7 days)")
    max_declines: int = Field(3, ge=1, le=10_000, description="declines after which a crew abandons a card")
    tactics: list[Tactic] = Field(
        default_factory=lambda: list(DEFAULT_TACTICS), min_length=1, description="the tactics in play"
    )
    dynamics: Dynamics | None = Field(None, description="crews enter and leave with profit; fixed count if unset")

    @model_validator(mode="after")
    def _check(self) -> _Crew:
        if self.spree <= 0:
            raise ValueError("`spree` must be longer than 0s")
        names = [t.name for t in self.tactics]
        if len(set(names)) != len(names):
            raise ValueError("tactic names must be unique within a crew group")
        if self.breach_every is not None and self.breach_every <= 0:
            raise ValueError("`breach_every` must be longer than 0s")
        if self.dynamics is not None and not self.dynamics.min_count <= self.count <= self.dynamics.max_count:
            raise ValueError("`count` must lie within `dynamics.min_count` and `dynamics.max_count`")
        return self


class StaticCrew(_Crew):
    """A fixed tactic mix, with amounts uniform in each tactic's band: never adapts (published generators)."""

    strategy: Literal["static"] = "static"


class CardTestingCrew(_Crew):
    """Tests each new card with tiny charges at low-risk merchants; cashes out only cards that pass."""

    strategy: Literal["card_testing"] = "card_testing"
    test_category: Category = Field("groceries", description="where test charges go (a low-risk category)")
    test_amount_max: Money = Field(2.0, gt=0, description="largest test charge (domain-facts §5: €0.01–2)")
    tests: int = Field(2, ge=1, le=10, description="test charges per card (1 to this many)")
    tests_per_day: PositiveFloat = Field(12.0, description="how fast tests are run on a new card")


class ProberCrew(_Crew):
    """Searches the decision boundary: raises a tactic's amount after approvals, cuts it after declines."""

    strategy: Literal["prober"] = "prober"
    probe_up: float = Field(1.15, gt=1.0, le=10.0, description="amount multiplier after an approval")
    probe_down: float = Field(0.75, gt=0.0, lt=1.0, description="amount multiplier after a decline")
    probe_max: Money = Field(5000.0, gt=0, description="largest amount a prober tries")


class BanditCrew(_Crew):
    """A non-stationary bandit over tactics: discounted Thompson sampling on profit per attempt."""

    strategy: Literal["bandit"] = "bandit"
    halflife: Duration = Field("3d", description="how fast old outcomes are forgotten")
    exploration: Share = Field(0.05, description="share of attempts on a tactic chosen at random")


class MimicCrew(_Crew):
    """Copies the victim's own habits (merchants, amounts, hours) at a lower payoff per attempt.

    With `amount_factor = 5` it is the "compromised cards with inflated amounts" typology of
    the Fraud Detection Handbook's generator. `tactics` are not used.
    """

    strategy: Literal["mimic"] = "mimic"
    amount_factor: PositiveFloat = Field(1.5, le=100, description="attempt amount relative to the victim's usual")


DEFAULT_STRATEGY = "static"  # a crew group without `strategy` (filled in before validation: Scenario._name_crews)
Crew = Annotated[
    StaticCrew | CardTestingCrew | ProberCrew | BanditCrew | MimicCrew,
    Field(discriminator="strategy", json_schema_extra={"default": DEFAULT_STRATEGY}),
]
STRATEGY_NAMES = ("static", "card_testing", "prober", "bandit", "mimic")


class Innovation(Strict):
    """Crews invent tactics: new combinations of merchant category, channel, hours and amount band,
    drawn from the whole space, each alive for a while and open to every crew group (mimics aside).

    New tactics arrive as a Poisson process from the warm-up's start to the horizon, drawn from
    their own stream (the same in every arm). While alive a tactic gets `weight` in the fixed mix
    of static, card-testing and prober crews; bandit crews try it because it is new and keep to
    it while it pays. Some tactics cash out at a few merchants only (complicit or weakly protected
    shops), whose label-fed fraud rate can then betray them.
    """

    enabled: bool = Field(True, description="crews invent tactics; `false`: only the configured tactics")
    every: Duration = Field("3d", description="mean time between new tactics (at least 1h)")
    lifetime: Delay = Field(
        default_factory=lambda: LognormalDelay(median="12d", sigma=0.3),
        description="how long a new tactic stays in use (the scheme is burnt, the mules move on)",
    )
    weight: PositiveFloat = Field(10.0, le=1000, description="a live new tactic's weight in the fixed mixes")
    cnp_share: Share = Field(
        0.75, description="share of new tactics that are card-not-present (domain-facts §1: 73–79 %)"
    )
    night_share: Share = Field(
        0.3,
        description="share of new tactics limited to the night, 0–6 h "
        "(domain-facts §5: the fraud rate peaks at 2–6 am)",
    )
    amount_bands: list[tuple[Money, Money]] = Field(
        default_factory=lambda: [(5.0, 40.0), (20.0, 120.0), (50.0, 250.0), (100.0, 400.0)],
        min_length=1,
        description="amount bands [min, max] a new tactic draws from (one each)",
    )
    cashout_share: Share = Field(0.3, description="share of new tactics that cash out at a few merchants only")
    cashout_merchants: int = Field(3, ge=1, le=100, description="merchants such a tactic uses")
    classics: Literal["wear_out", "stay"] = Field(
        "wear_out",
        description="the crews' configured tactics that have neither `available_from` nor `available_until` "
        "(the default five among them): `wear_out`: they are the repertoire the world starts from, and each is "
        "retired a `lifetime` after the warm-up's start, as an invented tactic would be; `stay`: used for ever "
        "beside the invented ones",
    )

    @model_validator(mode="after")
    def _check(self) -> Innovation:
        if self.enabled and self.every < 3600:
            raise ValueError("`every` must be at least 1h (or set `enabled = false`)")
        if any(high < low for low, high in self.amount_bands):
            raise ValueError("`amount_bands`: each band is [min, max] with max >= min")
        return self


class Skimming(Strict):
    """Random points of compromise: now and then a merchant is compromised (a tampered terminal, a
    breached web shop) for days to weeks, and a share of the cards used there leaks to one crew
    group, which can use each of them weeks after its use there.

    Compromises arrive as a Poisson process from the warm-up's start to the horizon, drawn from
    their own stream, so every arm has the same ones; the merchant is drawn by popularity (a busy
    shop is worth skimming), the crew group at random. `[[compromises]]` adds fixed ones.
    """

    enabled: bool = Field(True, description="merchants are compromised at random; `false`: only `[[compromises]]`")
    every: Duration = Field("30d", description="mean time between compromises (at least 1h)")
    window: Delay = Field(
        default_factory=lambda: LognormalDelay(median="7d", sigma=0.7),
        description="how long a merchant stays compromised (days to weeks)",
    )
    leak_share: Share = Field(0.15, description="share of the cards used there that leak and are sold")
    max_cards: int = Field(
        300,
        ge=1,
        le=10_000_000,
        description="cards one compromise leaks at most (a crew group buys a lot it can cash out; a busy shop "
        "compromised for weeks would otherwise leak thousands and one replication's fraud would swamp the rest)",
    )
    delay: Delay = Field(
        default_factory=lambda: LognormalDelay(median="21d", sigma=0.5),
        description="from a card's use at the merchant to its being usable (domain-facts §5: weeks to months)",
    )

    @model_validator(mode="after")
    def _check(self) -> Skimming:
        if self.enabled and self.every < 3600:
            raise ValueError("`every` must be at least 1h (or set `enabled = false`)")
        return self


class Compromise(Strict):
    """Skimmed merchants: cards that buy there during the window leak to a crew group.

    This is the "compromised merchants for a period" typology of published generators.
    """

    name: Name = Field(description="the compromise's name")
    merchants: int = Field(1, ge=1, le=MAX_MERCHANTS, description="merchants compromised (chosen at random)")
    category: Category | None = Field(None, description="restrict the compromised merchants to a category")
    start: Duration = Field(description="start of the compromise, from t = 0")
    end: Duration = Field(description="end of the compromise")
    leak_share: Share = Field(1.0, description="share of the cards used there that leak")
    delay: Duration = Field("14d", description="time from the skim to the card being usable (domain-facts §5: weeks)")
    crews: Name = Field(description="the crew group that receives the cards")

    @model_validator(mode="after")
    def _check(self) -> Compromise:
        if self.end <= self.start:
            raise ValueError("`end` must come after `start`")
        return self
