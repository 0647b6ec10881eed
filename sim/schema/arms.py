"""Arms: the learners being compared, each with its options."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Field, model_validator

from .base import Duration, Halflife, LearningRate, Name, PositiveFloat, Share, Strict
from .own import RiverClassifier, SklearnClassifier
from .registry import registered


class _Arm(Strict):
    """A detector being compared: a `name`, and a `learner` that picks its kind and its keys."""

    name: Name = Field(description="the arm's name, unique in the scenario")


class _River(_Arm):
    model: Literal["laplace", "logistic", "hoeffding_tree", "forest"] | RiverClassifier = Field(
        "laplace",
        description="`laplace`: Bayesian logistic regression, one Newton step per tick with forgetting (numpy; "
        "see docs/concepts.md); river models: `logistic` (StandardScaler | LogisticRegression, SGD), "
        "`hoeffding_tree` (HoeffdingAdaptiveTreeClassifier) or `forest` (ARFClassifier); trees learn and score "
        "row by row, so they are much slower. From Python, any river classifier (docs/own-model.md)",
    )
    halflife: Duration = Field(
        "14d", description="`laplace`: half-life of the evidence; shorter follows drift faster and forgets more"
    )
    prior_precision: PositiveFloat = Field(
        1.0, le=1e6, description="`laplace`: precision of the weak prior every weight decays toward (L2 strength)"
    )
    optimizer: Literal["sgd", "adam"] = Field("sgd", description="river optimizer for the weights (logistic)")
    lr: LearningRate = Field(0.002, description="learning rate per label event (logistic; see docs/concepts.md)")
    intercept_lr: LearningRate = Field(0.002, description="learning rate of the intercept, per label event (logistic)")
    scaling: bool = Field(True, description="standardise features online before the model (logistic)")
    trees: int = Field(5, ge=1, le=100, description="trees in the forest (`forest`)")
    negative_share: Share = Field(
        0.1,
        gt=0,
        description="trees only: share of legitimate label events learned (by a stable hash); the "
        "fraud odds are multiplied by it when scoring, so probabilities stay calibrated",
    )

    @model_validator(mode="after")
    def _positive_halflife(self) -> _River:
        if self.halflife <= 0:
            raise ValueError("`halflife` must be longer than 0s")
        return self


class OnlineArm(_River):
    """A river model that learns from each tick's arrived label events."""

    learner: Literal["online"] = "online"
    reweight: Literal["none", "prior"] = Field(
        "none",
        description="`prior`: weight label events by the long-run fraud share of arrivals over the recent one, "
        "so a burst of fast fraud labels (legitimate ones arrive only at maturity) does not inflate scores",
    )
    reweight_window: Duration = Field("7d", description="half-life of the recent share used by `prior`")
    truth: bool = Field(
        False,
        description="learn every transaction's true label at the next tick instead of the label events: "
        "online learning without delay, a diagnostic (the `oracle` arm is the bound)",
    )


class _Batch(_Arm):
    model: Literal["logistic", "gbm"] | SklearnClassifier = Field(
        "logistic",
        description="scikit-learn model: `logistic` or `gbm` (HistGradientBoostingClassifier); from Python, "
        "any scikit-learn classifier (docs/own-model.md)",
    )
    every: Duration = Field("7d", description="time between retrains")
    window: Duration = Field("60d", description="train on label events that arrived within this window")
    halflife: Halflife = Field(
        "none",
        description="half-life of a training row's weight, by the age of its transaction at the retrain "
        "(each class keeps its total weight); `none`: every row weighs the same. `14d` helps when fraud "
        "labels come within hours and widens the intervals when they take a month (docs/calibration.md)",
    )
    deploy_lag: Duration = Field("0s", description="time from a retrain to its model serving traffic")
    max_rows: int = Field(
        50_000,
        ge=100,
        le=100_000_000,
        description="cap on training rows: negatives are subsampled and reweighted above it",
    )
    class_weight: PositiveFloat | Literal["balanced"] | None = Field(
        None,
        description="weight fraud labels by this factor (`balanced`: as many as legitimate ones) when "
        "fitting; the prior correction then shifts the log-odds back so probabilities stay calibrated",
    )
    min_labels: int = Field(
        10,
        ge=1,
        le=1_000_000,
        description="fewest labels of each class a retrain needs: with fewer in the "
        "window it is skipped (recorded as `skipped` in model_events) and the deployed model stays",
    )

    @model_validator(mode="after")
    def _check(self) -> _Batch:
        if self.halflife != "none" and self.halflife <= 0:
            raise ValueError("`halflife` must be longer than 0s")
        if self.every <= 0 or self.window <= 0:
            raise ValueError("`every` and `window` must be longer than 0s")
        return self


class OracleArm(_Batch):
    """The truth at once: every transaction's true label arrives the tick after it. With `laplace`
    (the default) the online Bayesian learner takes it every tick; with `logistic` or `gbm` the model
    is refitted on all of it every `every` over `window`. No arm learns from more or fresher labels,
    so the oracle bounds what fresh labels can save (docs/concepts.md, docs/calibration.md)."""

    learner: Literal["oracle"] = "oracle"
    model: Literal["laplace", "logistic", "gbm"] | SklearnClassifier = Field(
        "laplace",
        description="`laplace`: the online learner of `online` arms, fed the truth every tick; "
        "`logistic` or `gbm`: a scikit-learn refit on the truth every `every`; from Python, any "
        "scikit-learn classifier refitted so",
    )
    every: Duration = Field("1d", description="time between refits on the truth (`logistic`, `gbm`)")
    halflife: Halflife = Field(
        "14d",
        description="half-life of the evidence: `laplace`'s forgetting; a refit's row weights by age "
        "(`none`: equal; `laplace` needs a duration)",
    )
    prior_precision: PositiveFloat = Field(1.0, le=1e6, description="`laplace`: precision of the weak prior")
    censored: bool = Field(False, description="keep censoring: no truth for declined transactions")

    @model_validator(mode="after")
    def _laplace_forgets(self) -> OracleArm:
        if self.model == "laplace" and self.halflife == "none":
            raise ValueError('`halflife`: the `laplace` model needs a duration, not "none"')
        return self


class BatchArm(_Batch):
    """A scikit-learn model retrained every `every` on the label events that arrived in `window`."""

    learner: Literal["batch"] = "batch"


class HybridArm(_Batch):
    """A batch model whose output is recalibrated online (Platt scaling) from arriving labels."""

    learner: Literal["hybrid"] = "hybrid"
    recalibration_lr: LearningRate = Field(0.002, description="learning rate of the recalibration, per label event")


class SplitArm(_Batch):
    """Two models, one on investigators' feedback, one on delayed labels, averaged (Dal Pozzolo et al. 2017)."""

    learner: Literal["split"] = "split"
    feedback_window: Duration = Field("14d", description="the feedback model learns the verdicts of this window")
    feedback_weight: Share = Field(0.5, description="weight of the feedback model's probability in the average")


class StaticArm(_Arm):
    """Trained once on the history, never again."""

    learner: Literal["static"] = "static"
    model: Literal["logistic", "gbm"] | SklearnClassifier = Field(
        "logistic", description="scikit-learn model: `logistic`, `gbm`, or from Python any scikit-learn classifier"
    )


class RulesArm(_Arm):
    """The hand-written thresholds of `[rules]`; never learns."""

    learner: Literal["rules"] = "rules"


class OnlinePlugin(_Arm):
    """The base of an online learner a package registers (docs/own-model.md): its fields are the
    arm's keys; :meth:`make` returns the river classifier every arm and replication clones."""

    negative_share: Share = Field(
        0.1,
        gt=0,
        description="share of legitimate label events learned (by a stable hash); the fraud odds are "
        "multiplied by it when scoring, so probabilities stay calibrated",
    )

    def make(self) -> Any:
        """The river classifier this arm's keys describe (unfitted; fraudsim clones and seeds it)."""
        raise NotImplementedError(f"{type(self).__name__}.make must return a river classifier")


class BatchPlugin(_Batch):
    """The base of a batch learner a package registers (docs/own-model.md): a batch arm's keys
    (`every`, `window`, ...) and its own; :meth:`make` returns the scikit-learn classifier every
    retrain clones."""

    model: None = Field(None, exclude=True, description="set by the class's `make`, not by a file")

    def make(self) -> Any:
        """The scikit-learn classifier this arm's keys describe (unfitted; fraudsim clones and seeds it)."""
        raise NotImplementedError(f"{type(self).__name__}.make must return a scikit-learn classifier")


BUNDLED = {
    "online": OnlineArm,
    "batch": BatchArm,
    "hybrid": HybridArm,
    "split": SplitArm,
    "static": StaticArm,
    "oracle": OracleArm,
    "rules": RulesArm,
}
LEARNERS, UNLOADABLE = registered(BUNDLED, _Arm)  # every registered learner's arm class, by name
Arm = Annotated[Union[tuple(LEARNERS.values())], Field(discriminator="learner")]  # noqa: UP007 (built at run time)
BATCH_LEARNERS = (BatchArm, HybridArm, SplitArm, OracleArm)

DEFAULT_ARMS = (
    OnlineArm(name="online"),
    BatchArm(name="batch-weekly", every="7d", window="60d"),
    StaticArm(name="static"),
    RulesArm(name="rules"),
)
