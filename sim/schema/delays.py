"""Delay distributions as scenario tables: each family by its median or its mean."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from .base import Duration, PositiveFloat, Strict


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
