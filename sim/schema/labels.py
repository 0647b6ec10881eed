"""Labels: where the truth comes from, and when; investigators."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from .base import Duration, Share, Strict
from .delays import Delay, LognormalDelay


def _lognormal(median: str, sigma: float) -> LognormalDelay:
    return LognormalDelay(median=median, sigma=sigma)


class Chargeback(Strict):
    """Approved fraud disputed by the cardholder through the card scheme: slow."""

    share: Share = Field(0.4, description="share of approved fraud that ends in a chargeback (domain-facts §2)")
    delay: Delay = Field(
        default_factory=lambda: _lognormal("30d", 0.67),
        description="time from transaction to chargeback (domain-facts §2: median about 30 days)",
    )
    window: Duration = Field(
        "120d", description="dispute window: a chargeback whose delay would exceed it is never filed"
    )


class CustomerReport(Strict):
    """Approved fraud the cardholder reports to the issuer: fast."""

    share: Share = Field(0.5, description="share of approved fraud the cardholder reports (domain-facts §2: 54 %)")
    delay: Delay = Field(default_factory=lambda: _lognormal("2d", 1.0), description="time from transaction to report")


class Maturity(Strict):
    """An approved transaction with no fraud label after `window` is labelled legitimate."""

    window: Duration = Field("90d", description="age at which an unreported approved transaction matures")


class DeclineConfirmation(Strict):
    """The issuer contacts the cardholder about a decline (e.g. by SMS) and learns the truth."""

    share: Share = Field(
        0.0, description="share of declined transactions whose truth comes back; the rest stay censored"
    )
    delay: Delay = Field(
        default_factory=lambda: _lognormal("30m", 1.0), description="time from the decline to the answer"
    )


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class Investigators(Strict):
    """Analysts who review alerts, highest expected loss first (domain-facts §3)."""

    count: int = Field(4, ge=0, le=10_000, description="number of investigators (0: alerts are not raised)")
    hours: Literal["24/7"] | tuple[int, int] = Field(
        (9, 17), description='working hours [start, end) each working day, or "24/7"'
    )
    days: list[Weekday] = Field(
        default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"], description="working days (ignored for 24/7)"
    )
    review_time: Delay = Field(
        default_factory=lambda: _lognormal("10m", 0.9),
        description="time to review one alert (domain-facts §3: median 10 min, mean about 15 min)",
    )
    queue_limit: int = Field(
        1000, ge=1, le=10_000_000, description="alerts waiting at most; beyond it the lowest expected loss is dropped"
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


class CardholderNotice(Strict):
    """The cardholder notices approved fraud on the card (an app notification, a statement line)
    and calls the issuer, who blocks the card at once."""

    share: Share = Field(
        0.8,
        description="share of approved fraud the cardholder notices (domain-facts §2: households detect 54 % first, "
        "and 82 % of bank-found fraud is found after the customer calls)",
    )
    delay: Delay = Field(
        default_factory=lambda: _lognormal("2d", 1.0),
        description="time from the fraudulent transaction to the call that blocks the card",
    )


BLOCKING_LABEL_SOURCES = ("customer_report", "chargeback", "decline_confirmation")


class Blocking(Strict):
    """When the issuer blocks (reissues) a stolen card: its own process, apart from the labels the
    learners receive, so that varying a label delay changes what the models know, not how fast
    cards die."""

    cardholder: CardholderNotice = Field(default_factory=CardholderNotice, description="cardholders who notice")
    investigator: bool = Field(True, description="an investigator's fraud verdict blocks the card at once")
    labels: list[Literal["customer_report", "chargeback", "decline_confirmation"]] = Field(
        default_factory=lambda: ["decline_confirmation"],
        description="fraud labels from these sources also block the card when they arrive (a confirmed "
        "decline is the issuer's own contact with the cardholder); add `customer_report` and `chargeback` "
        "to tie blocking to the label delays, as fraudsim did before",
    )


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
