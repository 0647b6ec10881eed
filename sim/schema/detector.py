"""The detector's side: the decision policy and its costs, the rules baseline, metrics, monitoring."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from .base import Category, Duration, Money, Name, PositiveFloat, Share, Strict
from .features import FEATURES


class Policy(Strict):
    """The expected-cost decision rule (docs/concepts.md, "Detection") and the money it counts."""

    fraud_fee: Money = Field(25.0, description="cost of a fraud on top of its amount (chargeback fee; domain-facts §4)")
    decline_fixed: Money = Field(
        30.0, description="fixed cost of declining a legitimate transaction (churn; domain-facts §4)"
    )
    decline_rate: Share = Field(0.3, description="cost of a false decline per unit of amount (lost margin)")
    review_cost: Money = Field(5.0, description="cost of one investigator review (domain-facts §4)")
    alert_threshold: Money = Field(
        20.0, description="raise an alert on an approved transaction whose expected loss p × amount is at least this"
    )
    target_decline_rate: Share | None = Field(
        None,
        description="instead of the expected-cost rule, decline this share of transactions: each day the "
        "threshold is the previous day's score quantile (compare arms at matched friction)",
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

    window: Duration = Field("7d", description="each day, measure the transactions scored in this trailing window")


class DriftDetector(Strict):
    """A river drift detector watching one per-tick signal of an arm's deployed model."""

    signal: str = Field(
        "score",
        description="`score` (median score of the tick), `score_sd`, `label_error` (mean log loss of the tick's "
        "arriving labels), `feature:<name>` (a feature's mean) or `feature_sd:<name>`",
    )
    method: Literal["adwin", "page_hinkley", "kswin"] = Field(
        "page_hinkley", description="river drift detector, fed the signal in standard deviations from its healthy level"
    )
    sensitivity: PositiveFloat | None = Field(
        None,
        description="ADWIN's delta (default 0.002), Page-Hinkley's threshold in standard deviations "
        "(default 50) or KSWIN's alpha (default 0.005); smaller: fewer alarms",
    )

    @model_validator(mode="after")
    def _check(self) -> DriftDetector:
        base, _, feature = self.signal.partition(":")
        if base in ("feature", "feature_sd"):
            if feature not in FEATURES:
                raise ValueError(f"unknown feature {feature!r}; features are: {', '.join(FEATURES)}")
        elif self.signal not in ("score", "score_sd", "label_error"):
            raise ValueError("`signal` must be score, score_sd, label_error, feature:<name> or feature_sd:<name>")
        return self


class Monitoring(Strict):
    """Drift detectors on each arm's model; on an alarm the policy falls back to the rules until healthy."""

    detectors: list[DriftDetector] = Field(default_factory=list, description="detectors (none: no monitoring)")
    fallback: bool = Field(True, description="fall back to `[rules]` while a detector says the model is broken")
    recover_after: Duration = Field(
        "1d", description="return to the model once every watched signal has looked as before the alarm this long"
    )


class Fault(Strict):
    """Something breaks from `start` to `end`: a feature goes missing (0) or constant, or the model returns garbage."""

    kind: Literal["feature_missing", "feature_constant", "garbage_scores"] = Field(description="what breaks")
    feature: str | None = Field(None, description="the feature that breaks (feature faults)")
    value: float = Field(0.0, ge=-1e6, le=1e6, description="the constant a `feature_constant` fault writes")
    start: Duration = Field(description="when it breaks, from t = 0")
    end: Duration | None = Field(None, description="when it is fixed (never if unset)")
    arms: list[Name] | None = Field(None, description="arms affected (all if unset)")

    @model_validator(mode="after")
    def _check(self) -> Fault:
        if self.kind.startswith("feature") and self.feature not in FEATURES:
            raise ValueError(f"`feature` must be one of: {', '.join(FEATURES)}")
        if self.end is not None and self.end <= self.start:
            raise ValueError("`end` must come after `start`")
        return self


class ABTest(Strict):
    """An A/B test: arms `a` and `b` share one world, its cards split between them (docs/abtests.md).

    The run still simulates every arm in its own world; those separate worlds give the truth
    the test is trying to estimate.
    """

    a: Name = Field(description="the incumbent detector: an arm's name")
    b: Name = Field(description="the challenger: an arm's name")
    share_b: Share = Field(0.05, gt=0, lt=1, description="share of cards (and their traffic) scored by `b`")
    labels: Literal["own", "pooled"] = Field(
        "own", description="each arm's learner learns its own cards' labels (`own`), or every label (`pooled`)"
    )
    min_effect: Money = Field(
        0.25, gt=0, description="smallest difference in fraud loss per transaction worth detecting (the power analysis)"
    )
    decompose: bool = Field(
        True, description="also run the test with static crews and with pooled labels, to split the bias by source"
    )

    @model_validator(mode="after")
    def _check(self) -> ABTest:
        if self.a == self.b:
            raise ValueError("`a` and `b` must be different arms")
        return self
