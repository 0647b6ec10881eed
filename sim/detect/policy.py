"""The decision: approve or decline by expected cost (docs/concepts.md, "Detection"), explore, and alert.

Decline when the expected cost of approving exceeds that of declining::

    p × (amount + fraud_fee) > (1 − p) × decline_cost(amount)
    decline_cost(amount) = decline_fixed + decline_rate × amount

>>> from sim.schema import Policy as PolicyConfig
>>> decide(np.array([0.01, 0.9]), np.array([100.0, 100.0]), PolicyConfig())
array([False,  True])

A :class:`Policy` makes a tick's decisions; with a target decline rate it keeps the day's scores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..columns import Columns
from ..schema import Policy as PolicyConfig
from ..units import DAY


@dataclass
class Decisions(Columns):
    """What the policy did with a tick's transactions."""

    declined: np.ndarray  # bool
    explored: np.ndarray  # bool: a would-be decline approved at random
    propensity: np.ndarray  # probability of the decision taken
    alerted: np.ndarray  # bool
    expected_loss: np.ndarray  # p × amount


def decline_cost(amount: np.ndarray, policy: PolicyConfig) -> np.ndarray:
    """What a false decline costs: lost margin and churn."""
    return policy.decline_fixed + policy.decline_rate * amount


def decide(p: np.ndarray, amount: np.ndarray, policy: PolicyConfig) -> np.ndarray:
    """True where the transaction is declined."""
    return p * (amount + policy.fraud_fee) > (1.0 - p) * decline_cost(amount, policy)


class Policy:
    """Decides each tick's transactions from their scores: the expected-cost rule, or (with a
    ``target_decline_rate``) a daily score threshold; would-be declines explored at random;
    alerts on approved transactions with a high expected loss, when investigators work them.

    >>> policy = Policy(PolicyConfig(exploration=0.5), alerting=False)
    >>> policy.decide(np.array([0.9, 0.9]), np.array([100.0, 100.0]), np.array([0.1, 0.9]), 0.0).declined
    array([False,  True])
    """

    def __init__(self, config: PolicyConfig, alerting: bool):
        self.config = config
        self.alerting = alerting
        self._threshold: float | None = None  # matched friction: today's score threshold
        self._threshold_day: int | None = None
        self._today_scores: list[np.ndarray] = []

    def decide(self, p: np.ndarray, amount: np.ndarray, explore: np.ndarray, now: float) -> Decisions:
        """``explore``: a uniform draw per transaction (a would-be decline below the exploration share is approved)."""
        config = self.config
        if config.target_decline_rate is None:
            would_decline = decide(p, amount, config)
        else:
            would_decline = self._matched_friction(p, now)
        explored = would_decline & (explore < config.exploration)
        declined = would_decline & ~explored
        propensity = np.where(would_decline, np.where(explored, config.exploration, 1 - config.exploration), 1.0)
        expected_loss = p * amount
        alerted = ~declined & (expected_loss >= config.alert_threshold) & self.alerting
        return Decisions(declined, explored, propensity, alerted, expected_loss)

    def _matched_friction(self, p: np.ndarray, now: float) -> np.ndarray:
        """Decline the top `target_decline_rate` share: each day's threshold is the previous
        day's score quantile (the first tick's own quantile on the first day)."""
        day = int(np.floor(now / DAY))
        if day != self._threshold_day:
            if self._today_scores:
                scores = np.concatenate(self._today_scores)
                self._threshold = float(np.quantile(scores, 1 - self.config.target_decline_rate))
            self._today_scores, self._threshold_day = [], day
        self._today_scores.append(p)
        threshold = self._threshold
        if threshold is None:
            threshold = float(np.quantile(p, 1 - self.config.target_decline_rate))
        return p > threshold
