"""The detector's side: the decision policy and its costs, the rules baseline, metrics."""

from __future__ import annotations

from pydantic import Field

from .base import Category, Duration, Money, PositiveFloat, Share, Strict

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
