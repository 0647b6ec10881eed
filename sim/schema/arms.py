"""Arms: the learners being compared, each with its options."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from .base import Duration, Name, PositiveFloat, Strict

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
