"""The decision: approve or decline by expected cost (DESIGN §4).

Decline when the expected cost of approving exceeds that of declining::

    p × (amount + fraud_fee) > (1 − p) × decline_cost(amount)
    decline_cost(amount) = decline_fixed + decline_rate × amount

>>> from sim.schema import Policy
>>> decide(np.array([0.01, 0.9]), np.array([100.0, 100.0]), Policy())
array([False,  True])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..columns import Columns
from ..schema import Policy


@dataclass
class Decisions(Columns):
    """What the policy did with a tick's transactions."""

    declined: np.ndarray  # bool
    explored: np.ndarray  # bool: a would-be decline approved at random
    propensity: np.ndarray  # probability of the decision taken
    alerted: np.ndarray  # bool
    expected_loss: np.ndarray  # p × amount


def decline_cost(amount: np.ndarray, policy: Policy) -> np.ndarray:
    """What a false decline costs: lost margin and churn."""
    return policy.decline_fixed + policy.decline_rate * amount


def decide(p: np.ndarray, amount: np.ndarray, policy: Policy) -> np.ndarray:
    """True where the transaction is declined."""
    return p * (amount + policy.fraud_fee) > (1.0 - p) * decline_cost(amount, policy)
