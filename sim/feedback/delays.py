"""Delay distributions: how long after a transaction its label arrives.

One protocol, several families, each given in the scenario by its median or
its mean in human durations. ``quantile`` and ``cdf`` exist so that tests can
hold sampled delays against theory.

>>> d = build_delay(LognormalDelay(median="30d", sigma=0.67))
>>> round(d.quantile(0.5) / 86400, 6)
30.0
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

import numpy as np
from scipy import special  # not scipy.stats: it takes half a second to import

from ..schema import (
    EmpiricalDelay,
    ExponentialDelay,
    FixedDelay,
    GammaDelay,
    LognormalDelay,
    MixtureDelay,
)


class DelayDistribution(Protocol):
    """How long after a transaction its label arrives, in seconds."""

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Return ``n`` delays in seconds."""

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """P(delay <= x)."""

    def quantile(self, q: float) -> float:
        """The delay below which a share ``q`` of labels arrive."""

    @property
    def mean(self) -> float:
        """The mean delay in seconds."""


@dataclass(frozen=True)
class Fixed:
    value_s: float

    def sample(self, rng, n):
        return np.full(n, self.value_s)

    def cdf(self, x):
        return (np.asarray(x) >= self.value_s).astype(float)

    def quantile(self, q):
        return self.value_s

    @property
    def mean(self):
        return self.value_s


@dataclass(frozen=True)
class Exponential:
    mean_s: float

    def sample(self, rng, n):
        return rng.exponential(self.mean_s, n)

    def cdf(self, x):
        return -special.expm1(-np.maximum(np.asarray(x, float), 0.0) / self.mean_s)

    def quantile(self, q):
        return float(-special.log1p(-q) * self.mean_s)

    @property
    def mean(self):
        return self.mean_s


@dataclass(frozen=True)
class Lognormal:
    median_s: float
    sigma: float

    def sample(self, rng, n):
        return rng.lognormal(self._log_median, self.sigma, n)

    @cached_property
    def _log_median(self) -> float:
        return float(np.log(self.median_s))

    def cdf(self, x):
        x = np.asarray(x, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(x > 0, special.ndtr(np.log(x / self.median_s) / self.sigma), 0.0)

    def quantile(self, q):
        return float(np.exp(self.sigma * special.ndtri(q)) * self.median_s)

    @property
    def mean(self):
        return self.median_s * float(np.exp(self.sigma**2 / 2))


@dataclass(frozen=True)
class Gamma:
    shape: float
    scale_s: float

    def sample(self, rng, n):
        return rng.gamma(self.shape, self.scale_s, n)

    def cdf(self, x):
        return special.gammainc(self.shape, np.maximum(np.asarray(x, float), 0.0) / self.scale_s)

    def quantile(self, q):
        return float(special.gammaincinv(self.shape, q) * self.scale_s)

    @property
    def mean(self):
        return self.shape * self.scale_s


@dataclass(frozen=True)
class Empirical:
    delays_s: tuple[float, ...]
    probabilities: tuple[float, ...]  # normalised

    def sample(self, rng, n):
        index = np.searchsorted(np.cumsum(self.probabilities), rng.random(n), side="right")
        return np.asarray(self.delays_s)[np.minimum(index, len(self.delays_s) - 1)]

    def cdf(self, x):
        x = np.asarray(x, float)
        delays, probs = np.asarray(self.delays_s), np.asarray(self.probabilities)
        return (probs[None, :] * (delays[None, :] <= x.reshape(-1, 1))).sum(axis=1).reshape(x.shape)

    def quantile(self, q):
        order = np.argsort(self.delays_s)
        cumulative = np.cumsum(np.asarray(self.probabilities)[order])
        index = min(int(np.searchsorted(cumulative, q - 1e-12)), len(order) - 1)
        return float(np.asarray(self.delays_s)[order][index])

    @property
    def mean(self):
        return float(np.dot(self.delays_s, self.probabilities))


@dataclass(frozen=True)
class Mixture:
    components: tuple[DelayDistribution, ...]
    weights: tuple[float, ...]  # normalised

    def sample(self, rng, n):
        which = np.searchsorted(np.cumsum(self.weights), rng.random(n), side="right")
        which = np.minimum(which, len(self.components) - 1)
        out = np.empty(n)
        for k, component in enumerate(self.components):
            where = np.flatnonzero(which == k)
            out[where] = component.sample(rng, len(where))
        return out

    def cdf(self, x):
        return sum(w * np.asarray(c.cdf(x)) for w, c in zip(self.weights, self.components, strict=True))

    def quantile(self, q):
        high = max(c.quantile(min(q, 1 - 1e-9)) for c in self.components)
        low = min(c.quantile(max(q, 1e-9)) for c in self.components)
        if high <= low:
            return high
        from scipy.optimize import brentq

        return float(brentq(lambda x: float(self.cdf(np.array([x]))[0]) - q, low, high, xtol=1e-6))

    @property
    def mean(self):
        return float(sum(w * c.mean for w, c in zip(self.weights, self.components, strict=True)))


def _centre_scale(mean: float | None, median: float | None, mean_per_scale: float, median_per_scale: float) -> float:
    return mean / mean_per_scale if mean is not None else median / median_per_scale


def build_delay(spec) -> DelayDistribution:
    """The distribution a scenario's delay table describes."""
    match spec:
        case FixedDelay():
            return Fixed(spec.value)
        case ExponentialDelay():
            return Exponential(_centre_scale(spec.mean, spec.median, 1.0, float(np.log(2))))
        case LognormalDelay():
            median = spec.median if spec.median is not None else spec.mean / float(np.exp(spec.sigma**2 / 2))
            return Lognormal(median, spec.sigma)
        case GammaDelay():
            median_per_scale = float(special.gammaincinv(spec.shape, 0.5))
            return Gamma(spec.shape, _centre_scale(spec.mean, spec.median, spec.shape, median_per_scale))
        case EmpiricalDelay():
            total = sum(spec.probabilities)
            return Empirical(tuple(spec.delays), tuple(p / total for p in spec.probabilities))
        case MixtureDelay():
            total = sum(spec.weights)
            return Mixture(tuple(build_delay(c) for c in spec.components), tuple(w / total for w in spec.weights))
    raise TypeError(f"unknown delay specification {spec!r}")
