"""The scenario schema: frozen pydantic models that refuse unknown keys.

The engine takes a :class:`Scenario`, never a path or a dict. Only
:mod:`sim.scenario` reads files. Every field carries a description and, where
it has one, a unit; `docs/scenario-reference.md` is generated from them
(`python -m sim.docgen`). Defaults come from `../shared/DOMAIN.md`; the
reference cites the facts behind them.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    model_validator,
)

from .units import DAY, format_duration, parse_duration

CATEGORIES = (
    "groceries",
    "fuel",
    "restaurants",
    "retail",
    "electronics",
    "digital_goods",
    "gift_cards",
    "travel",
)
Category = Literal[
    "groceries",
    "fuel",
    "restaurants",
    "retail",
    "electronics",
    "digital_goods",
    "gift_cards",
    "travel",
]

MAX_CUSTOMERS = 10_000_000
MAX_MERCHANTS = 1_000_000
MAX_TRANSACTIONS_PER_RUN = 2_000_000_000
MAX_HISTORY = 365 * DAY
MAX_HORIZON = 5 * 365 * DAY
MAX_WARMUP = 3 * 365 * DAY


def _duration(text: Any) -> float:
    if isinstance(text, bool) or not isinstance(text, str | int | float):
        raise ValueError(f"{text!r} is not a duration; write a string such as \"30d\"")
    if isinstance(text, int | float):
        if text == 0:
            return 0.0
        raise ValueError(f"{text!r} has no unit; write it as a string such as \"{text}d\"")
    return parse_duration(text)


Duration = Annotated[
    float,
    BeforeValidator(_duration),
    PlainSerializer(format_duration, return_type=str),
    Field(json_schema_extra={"unit": "duration"}),
]


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


Finite = Annotated[float, AfterValidator(_finite)]
Share = Annotated[float, Field(ge=0.0, le=1.0), AfterValidator(_finite)]
def _warmup(value: Any) -> Any:
    return value if value == "auto" else _duration(value)


Warmup = Annotated[
    float | Literal["auto"],
    BeforeValidator(_warmup),
    PlainSerializer(lambda v: v if v == "auto" else format_duration(v), return_type=str),
    Field(json_schema_extra={"unit": "duration or \"auto\""}),
]

Money = Annotated[float, Field(ge=0.0), AfterValidator(_finite), Field(json_schema_extra={"unit": "money"})]
PositiveFloat = Annotated[float, Field(gt=0.0), AfterValidator(_finite)]
NonNegativeFloat = Annotated[float, Field(ge=0.0), AfterValidator(_finite)]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def _name(value: str) -> str:
    if not _NAME.match(value):
        raise ValueError(
            f"{value!r} is not a usable name; use letters, digits, '-', '_' and '.', "
            "starting with a letter or digit"
        )
    return value


Name = Annotated[str, AfterValidator(_name)]


class Strict(BaseModel):
    """A frozen model that refuses unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


# --------------------------------------------------------------------------- delays


class FixedDelay(Strict):
    """Every label arrives exactly `value` after its transaction."""

    dist: Literal["fixed"] = "fixed"
    value: Duration = Field(description="the delay")


class ExponentialDelay(Strict):
    """Memoryless delays, given by their mean or their median (one of the two)."""

    dist: Literal["exponential"] = "exponential"
    mean: Duration | None = Field(None, description="mean delay (give this or `median`)")
    median: Duration | None = Field(None, description="median delay (give this or `mean`)")

    @model_validator(mode="after")
    def _one_centre(self) -> ExponentialDelay:
        _require_one_centre(self.mean, self.median)
        return self


class LognormalDelay(Strict):
    """Right-skewed delays: `log(delay)` is normal with spread `sigma`."""

    dist: Literal["lognormal"] = "lognormal"
    median: Duration | None = Field(None, description="median delay (give this or `mean`)")
    mean: Duration | None = Field(None, description="mean delay (give this or `median`)")
    sigma: PositiveFloat = Field(1.0, description="standard deviation of log(delay)")

    @model_validator(mode="after")
    def _one_centre(self) -> LognormalDelay:
        _require_one_centre(self.mean, self.median)
        return self


class GammaDelay(Strict):
    """Gamma-distributed delays with a `shape` (1 is exponential; larger is tighter)."""

    dist: Literal["gamma"] = "gamma"
    shape: PositiveFloat = Field(2.0, description="shape parameter k")
    mean: Duration | None = Field(None, description="mean delay (give this or `median`)")
    median: Duration | None = Field(None, description="median delay (give this or `mean`)")

    @model_validator(mode="after")
    def _one_centre(self) -> GammaDelay:
        _require_one_centre(self.mean, self.median)
        return self


class EmpiricalDelay(Strict):
    """A table of delays and their probabilities (normalised to sum to one)."""

    dist: Literal["empirical"] = "empirical"
    delays: list[Duration] = Field(description="the possible delays", min_length=1)
    probabilities: list[PositiveFloat] = Field(description="their relative probabilities")

    @model_validator(mode="after")
    def _same_length(self) -> EmpiricalDelay:
        if len(self.delays) != len(self.probabilities):
            raise ValueError("`delays` and `probabilities` must have the same length")
        return self


SimpleDelay = Annotated[
    FixedDelay | ExponentialDelay | LognormalDelay | GammaDelay | EmpiricalDelay,
    Field(discriminator="dist"),
]


class MixtureDelay(Strict):
    """A weighted mixture of simple delay distributions."""

    dist: Literal["mixture"] = "mixture"
    components: list[SimpleDelay] = Field(description="the component distributions", min_length=1)
    weights: list[PositiveFloat] = Field(description="their relative weights")

    @model_validator(mode="after")
    def _same_length(self) -> MixtureDelay:
        if len(self.components) != len(self.weights):
            raise ValueError("`components` and `weights` must have the same length")
        return self


Delay = Annotated[
    FixedDelay | ExponentialDelay | LognormalDelay | GammaDelay | EmpiricalDelay | MixtureDelay,
    Field(discriminator="dist"),
]


def _require_one_centre(mean: float | None, median: float | None) -> None:
    if (mean is None) == (median is None):
        raise ValueError("give exactly one of `mean` and `median`")
    if (mean or median or 0.0) <= 0.0:
        raise ValueError("the mean or median delay must be longer than 0s")


# --------------------------------------------------------------------------- world


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


class Population(Strict):
    """Customers (one card each) and merchants."""

    customers: int = Field(20_000, ge=1, le=MAX_CUSTOMERS, description="number of cardholders")
    merchants: int = Field(2_000, ge=1, le=MAX_MERCHANTS, description="number of merchants")
    tx_per_customer_day: PositiveFloat = Field(
        0.5, le=100, description="mean honest transactions per customer per day (DOMAIN §6: 11–23 a month)"
    )
    rate_shape: PositiveFloat = Field(
        2.0, description="gamma shape of per-customer daily rates (smaller = more heterogeneous)"
    )
    amount_median: Money = Field(25.0, gt=0, description="median honest amount (DOMAIN §6)")
    amount_sigma: PositiveFloat = Field(0.8, description="spread of log(amount) within a customer")
    amount_spread: PositiveFloat = Field(0.6, description="spread of customers' log median amounts")
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

    @model_validator(mode="after")
    def _check(self) -> Tactic:
        if self.amount_max < self.amount_min:
            raise ValueError("`amount_max` must be at least `amount_min`")
        start, end = self.hours
        if not (0 <= start <= 23 and 1 <= end <= 24) or start == end:
            raise ValueError("`hours` must be [start, end) with 0 <= start <= 23, 1 <= end <= 24, start != end")
        return self


# Mean attempt about €120, most of it card-not-present (DOMAIN §1, §5: €87 per fraud in the EEA,
# CNP 73–79 % of fraud value; electronics and gift cards targeted; night-time risk).
DEFAULT_TACTICS = (
    Tactic(name="electronics-online", category="electronics", channel="cnp", amount_min=40, amount_max=300, weight=3),
    Tactic(name="gift-cards-online", category="gift_cards", channel="cnp", amount_min=20, amount_max=200, weight=2),
    Tactic(name="digital-small", category="digital_goods", channel="cnp", amount_min=5, amount_max=50, weight=3),
    Tactic(name="retail-in-store", category="retail", channel="cp", amount_min=20, amount_max=200, weight=1),
    Tactic(name="night-travel", category="travel", channel="cnp", amount_min=80, amount_max=500,
           hours=(0, 6), weight=1),
)


class Breach(Strict):
    """A batch of cards stolen at once (a data breach) that a crew group buys."""

    at: Duration = Field(description="when the cards become usable, from t = 0")
    cards: int = Field(ge=1, le=10_000_000, description="cards in the batch, shared among the group's crews")


class Dynamics(Strict):
    """Crews follow the money: they enter while fraud pays and leave when it stops paying."""

    max_count: int = Field(ge=1, le=10_000, description="most crews of this group at any time")
    min_count: int = Field(0, ge=0, description="fewest crews of this group at any time")
    entry_per_month: NonNegativeFloat = Field(
        4.0, description="new crews per month when a crew's recent daily profit equals `profit_scale`"
    )
    profit_scale: Money = Field(100.0, gt=0, description="daily profit per crew that attracts `entry_per_month`")
    leave_after: int = Field(5, ge=1, description="a crew leaves after this many days in a row without profit")

    @model_validator(mode="after")
    def _check(self) -> Dynamics:
        if self.min_count > self.max_count:
            raise ValueError("`min_count` must be at most `max_count`")
        return self


class _Crew(Strict):
    name: Name | None = Field(None, description="name of this crew group (default `crews-<i>`)")
    count: int = Field(1, ge=0, le=10_000, description="crews in this group at the start")
    cards_per_day: NonNegativeFloat = Field(
        1.0, le=100_000, description="stolen cards each crew obtains per day (Poisson arrivals)"
    )
    breach_every: Duration | None = Field(
        None, description="mean time between random breaches sold to the group (Poisson); none if unset"
    )
    breach_size: int = Field(200, ge=1, description="cards in each random breach")
    breaches: list[Breach] = Field(default_factory=list, description="breaches at fixed times")
    card_cost: Money = Field(10.0, description="what a crew pays per stolen card (an assumption; no source)")
    attempt_cost: Money = Field(0.5, description="a crew's cost per attempt (time, bots, mules' share)")
    attempts_per_day: PositiveFloat = Field(
        3.0, le=1000, description="attempts per active card per day (DOMAIN §5: about 3)"
    )
    spree: Duration = Field("4d", description="how long a crew keeps using a card (DOMAIN §5: 2–7 days)")
    max_declines: int = Field(3, ge=1, description="declines after which a crew abandons a card")
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
    test_amount_max: Money = Field(2.0, gt=0, description="largest test charge (DOMAIN §5: €0.01–2)")
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


Crew = Annotated[
    StaticCrew | CardTestingCrew | ProberCrew | BanditCrew | MimicCrew, Field(discriminator="strategy")
]
STRATEGY_NAMES = ("static", "card_testing", "prober", "bandit", "mimic")


class Compromise(Strict):
    """Skimmed merchants: cards that buy there during the window leak to a crew group.

    This is the "compromised merchants for a period" typology of published generators.
    """

    name: Name = Field(description="the compromise's name")
    merchants: int = Field(1, ge=1, description="merchants compromised (chosen at random)")
    category: Category | None = Field(None, description="restrict the compromised merchants to a category")
    start: Duration = Field(description="start of the compromise, from t = 0")
    end: Duration = Field(description="end of the compromise")
    leak_share: Share = Field(1.0, description="share of the cards used there that leak")
    delay: Duration = Field("14d", description="time from the skim to the card being usable (DOMAIN §5: weeks)")
    crews: Name = Field(description="the crew group that receives the cards")

    @model_validator(mode="after")
    def _check(self) -> Compromise:
        if self.end <= self.start:
            raise ValueError("`end` must come after `start`")
        return self


# --------------------------------------------------------------------------- labels


def _lognormal(median: str, sigma: float) -> LognormalDelay:
    return LognormalDelay(median=median, sigma=sigma)


class Chargeback(Strict):
    """Approved fraud disputed by the cardholder through the card scheme: slow."""

    share: Share = Field(0.4, description="share of approved fraud that ends in a chargeback (DOMAIN §2)")
    delay: Delay = Field(
        default_factory=lambda: _lognormal("30d", 0.67),
        description="time from transaction to chargeback (DOMAIN §2: median about 30 days)",
    )
    window: Duration = Field(
        "120d", description="dispute window: a chargeback whose delay would exceed it is never filed"
    )


class CustomerReport(Strict):
    """Approved fraud the cardholder reports to the issuer: fast."""

    share: Share = Field(0.5, description="share of approved fraud the cardholder reports (DOMAIN §2: 54 %)")
    delay: Delay = Field(
        default_factory=lambda: _lognormal("2d", 1.0), description="time from transaction to report"
    )


class Maturity(Strict):
    """An approved transaction with no fraud label after `window` is labelled legitimate."""

    window: Duration = Field("90d", description="age at which an unreported approved transaction matures")


class DeclineConfirmation(Strict):
    """The issuer contacts the cardholder about a decline (e.g. by SMS) and learns the truth."""

    share: Share = Field(0.0, description="share of declined transactions whose truth comes back; the rest stay censored")
    delay: Delay = Field(
        default_factory=lambda: _lognormal("30m", 1.0), description="time from the decline to the answer"
    )


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class Investigators(Strict):
    """Analysts who review alerts, highest expected loss first (DOMAIN §3)."""

    count: int = Field(4, ge=0, le=10_000, description="number of investigators (0: alerts are not raised)")
    hours: Literal["24/7"] | tuple[int, int] = Field(
        (9, 17), description='working hours [start, end) each working day, or "24/7"'
    )
    days: list[Weekday] = Field(
        default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"], description="working days (ignored for 24/7)"
    )
    review_time: Delay = Field(
        default_factory=lambda: _lognormal("10m", 0.9),
        description="time to review one alert (DOMAIN §3: median 10 min, mean about 15 min)",
    )
    queue_limit: int = Field(
        1000, ge=1, description="alerts waiting at most; beyond it the lowest expected loss is dropped"
    )
    miss_rate: Share = Field(0.05, description="share of fraud an investigator judges legitimate")
    false_alarm_rate: Share = Field(0.01, description="share of honest alerts an investigator judges fraud")

    @model_validator(mode="after")
    def _check(self) -> Investigators:
        if self.hours != "24/7":
            start, end = self.hours
            if not (0 <= start < end <= 24):
                raise ValueError('`hours` must be [start, end) with 0 <= start < end <= 24, or "24/7"')
            if not self.days:
                raise ValueError("`days` must name at least one working day")
        return self


class Labels(Strict):
    """Where the truth comes from, and when."""

    chargeback: Chargeback = Field(default_factory=Chargeback, description="chargebacks")
    customer_report: CustomerReport = Field(default_factory=CustomerReport, description="cardholder reports")
    decline_confirmation: DeclineConfirmation = Field(
        default_factory=DeclineConfirmation, description="truth of declined transactions"
    )
    maturity: Maturity = Field(default_factory=Maturity, description="maturity labels")
    investigators: Investigators = Field(default_factory=Investigators, description="alert reviews")
    friendly_fraud: Share = Field(
        0.0, description="share of approved honest transactions the cardholder disputes as fraud (a chargeback)"
    )

    @model_validator(mode="after")
    def _shares(self) -> Labels:
        if self.chargeback.share + self.customer_report.share > 1.0 + 1e-12:
            raise ValueError(
                "`chargeback.share` + `customer_report.share` must be at most 1 "
                "(the rest of approved fraud is never reported)"
            )
        return self


# --------------------------------------------------------------------------- detector


class Policy(Strict):
    """The expected-cost decision rule (DESIGN §4) and the money it counts."""

    fraud_fee: Money = Field(25.0, description="cost of a fraud on top of its amount (chargeback fee; DOMAIN §4)")
    decline_fixed: Money = Field(
        30.0, description="fixed cost of declining a legitimate transaction (churn; DOMAIN §4)"
    )
    decline_rate: Share = Field(0.3, description="cost of a false decline per unit of amount (lost margin)")
    review_cost: Money = Field(5.0, description="cost of one investigator review (DOMAIN §4)")
    alert_threshold: Money = Field(
        20.0, description="raise an alert on an approved transaction whose expected loss p × amount is at least this"
    )
    exploration: Share = Field(
        0.0, le=0.5, description="share of would-be declines approved at random (logged), to measure censoring bias"
    )


class Rules(Strict):
    """Hand-written thresholds: the `rules` learner, the history's policy and the fallback."""

    max_amount: Money = Field(2500.0, description="decline any transaction above this amount")
    max_cnp_amount: Money = Field(1200.0, description="decline card-not-present transactions above this amount")
    risky_categories: list[Category] = Field(
        default_factory=lambda: ["gift_cards", "electronics"], description="categories with a lower limit"
    )
    max_risky_amount: Money = Field(600.0, description="decline risky-category transactions above this amount")
    max_velocity: PositiveFloat = Field(
        5.0, description="decline when the card's earlier attempts in the last day (decayed count) exceed this"
    )
    hit_score: Share = Field(0.9, description="fraud probability the rules report when a rule fires")
    base_score: Share = Field(0.002, description="fraud probability the rules report otherwise")


class Metrics(Strict):
    """How model quality is measured over time (see `quality_daily.parquet`)."""

    window: Duration = Field(
        "7d", description="each day, measure the transactions scored in this trailing window"
    )


# --------------------------------------------------------------------------- arms


class _Arm(Strict):
    name: Name = Field(description="the arm's name, unique in the scenario")


class OnlineArm(_Arm):
    """A river model that learns from each tick's label events (`learn_many`)."""

    learner: Literal["online"] = "online"
    model: Literal["logistic"] = Field("logistic", description="river model")
    optimizer: Literal["sgd", "adam"] = Field("sgd", description="river optimizer for the weights")
    lr: PositiveFloat = Field(0.002, description="learning rate per label event (see docs/concepts.md, Learners)")
    intercept_lr: PositiveFloat = Field(0.002, description="learning rate of the intercept, per label event")
    scaling: bool = Field(True, description="standardise features online before the model")
    reweight: Literal["none", "prior"] = Field(
        "none",
        description="`prior`: weight label events by the long-run fraud share of arrivals over the recent one, "
        "so a burst of fast fraud labels (legitimate ones arrive only at maturity) does not inflate scores",
    )
    reweight_window: Duration = Field("7d", description="half-life of the recent share used by `prior`")


class BatchArm(_Arm):
    """A scikit-learn model retrained every `every` on the labels in `window`."""

    learner: Literal["batch"] = "batch"
    model: Literal["logistic"] = Field("logistic", description="scikit-learn model")
    every: Duration = Field("7d", description="time between retrains")
    window: Duration = Field("60d", description="train on label events that arrived within this window")
    deploy_lag: Duration = Field("0s", description="time from a retrain to its model serving traffic")
    max_rows: int = Field(
        200_000, ge=100, description="cap on training rows: negatives are subsampled and reweighted above it"
    )

    @model_validator(mode="after")
    def _check(self) -> BatchArm:
        if self.every <= 0 or self.window <= 0:
            raise ValueError("`every` and `window` must be longer than 0s")
        return self


class StaticArm(_Arm):
    """Trained once on the history, never again."""

    learner: Literal["static"] = "static"
    model: Literal["logistic"] = Field("logistic", description="scikit-learn model")


class OracleArm(_Arm):
    """Learns online from the true label of every transaction at the next tick."""

    learner: Literal["oracle"] = "oracle"
    censored: bool = Field(False, description="keep censoring: no truth for declined transactions")
    optimizer: Literal["sgd", "adam"] = Field("sgd", description="river optimizer for the weights")
    lr: PositiveFloat = Field(0.002, description="learning rate per label event")
    intercept_lr: PositiveFloat = Field(0.002, description="learning rate of the intercept, per label event")


class RulesArm(_Arm):
    """The hand-written thresholds of `[rules]`; never learns."""

    learner: Literal["rules"] = "rules"


Arm = Annotated[OnlineArm | BatchArm | StaticArm | OracleArm | RulesArm, Field(discriminator="learner")]

DEFAULT_ARMS = (
    OnlineArm(name="online"),
    BatchArm(name="batch-weekly", every="7d", window="60d"),
    StaticArm(name="static"),
    RulesArm(name="rules"),
)


# --------------------------------------------------------------------------- scenario


class Scenario(Strict):
    """Everything one simulation needs."""

    name: Name = Field(description="the scenario's name; outputs go to `reports/<name>/`")
    description: str = Field("", description="what the scenario shows, in a sentence or two")
    seed: int = Field(0, ge=0, le=2**63 - 1, description="the one seed every random stream derives from")
    horizon: Duration = Field("60d", description="simulated time after t = 0, where money is counted")
    history: Duration = Field(
        "60d", description="labelled period before t = 0 under the `rules` policy; trains every first model"
    )
    warmup: Warmup = Field(
        "auto",
        description="time the world runs under `rules` before t = 0 so the label stream is in steady "
        "state; `auto` = longest label delay + longest batch window (at least the history)",
    )
    tick: Duration = Field(
        "15m", description="micro-batch length: the model is constant within a tick; must divide a day"
    )
    currency: Literal["EUR", "USD", "GBP"] = Field("EUR", description="currency of every amount")
    population: Population = Field(default_factory=Population, description="customers and merchants")
    crews: list[Crew] = Field(default_factory=lambda: [StaticCrew(name="crews-1")], description="fraud crews")
    compromises: list[Compromise] = Field(default_factory=list, description="skimmed merchants leaking cards")
    labels: Labels = Field(default_factory=Labels, description="label sources and delays")
    policy: Policy = Field(default_factory=Policy, description="decision rule and costs")
    rules: Rules = Field(default_factory=Rules, description="the rules baseline")
    metrics: Metrics = Field(default_factory=Metrics, description="model-quality measurement")
    arms: list[Arm] = Field(
        default_factory=lambda: list(DEFAULT_ARMS), min_length=1, description="the detectors compared"
    )
    replications: int = Field(
        1, ge=1, le=10_000, description="independent worlds per arm, each from a seed derived from `seed`"
    )
    fraudsim_version: str | None = Field(
        None, description="written into `scenario.resolved.toml`; informational when read back"
    )

    @model_validator(mode="before")
    @classmethod
    def _name_crews(cls, data: Any) -> Any:
        """Crew groups get a default name and strategy before validation, so both are in the resolved file."""
        if isinstance(data, dict) and isinstance(data.get("crews"), list):
            crews = [
                {"name": f"crews-{i + 1}", "strategy": "static", **crew} if isinstance(crew, dict) else crew
                for i, crew in enumerate(data["crews"])
            ]
            data = {**data, "crews": crews}
        return data

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        tick = self.tick
        if tick < 1.0 or DAY % tick != 0:
            raise ValueError(
                f"tick: {format_duration(tick)} does not divide one day evenly; use e.g. 1m, 5m, 15m, 1h"
            )
        if self.horizon < tick or self.horizon % tick != 0 or self.horizon > MAX_HORIZON:
            raise ValueError(
                f"horizon: must be a whole number of ticks ({format_duration(tick)}) between one tick and 5y"
            )
        if self.history < DAY or self.history % tick != 0 or self.history > MAX_HISTORY:
            raise ValueError(
                f"history: must be a whole number of ticks ({format_duration(tick)}) from 1d to 365d"
            )
        if self.warmup != "auto" and (
            self.warmup < self.history or self.warmup % tick != 0 or self.warmup > MAX_WARMUP
        ):
            raise ValueError(
                f"warmup: must be \"auto\" or a whole number of ticks from the history ({format_duration(self.history)}) to 3y"
            )
        names = [arm.name for arm in self.arms]
        if len(set(names)) != len(names):
            raise ValueError("arms: arm names must be unique")
        crew_names = [crew.name for crew in self.crews]
        if len(set(crew_names)) != len(crew_names):
            raise ValueError("crews: crew group names must be unique")
        for compromise in self.compromises:
            if compromise.crews not in crew_names:
                raise ValueError(
                    f"compromises: {compromise.name} sends cards to crew group {compromise.crews!r}; "
                    f"the groups are: {', '.join(crew_names) or 'none'}"
                )
        days = (self.history + self.horizon) / DAY
        expected = self.population.customers * self.population.tx_per_customer_day * days
        if expected > MAX_TRANSACTIONS_PER_RUN:
            raise ValueError(
                f"population: about {expected:.3g} honest transactions per run exceeds the "
                f"limit of {MAX_TRANSACTIONS_PER_RUN:.0e}; reduce customers, tx_per_customer_day, "
                "history or horizon"
            )
        return self

    def arm(self, name: str) -> Arm:
        """The arm called `name`."""
        for arm in self.arms:
            if arm.name == name:
                return arm
        raise KeyError(name)
