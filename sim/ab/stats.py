"""A/B tests of detectors: the estimate a team would compute, and how long the test must run.

Traffic is split by card, so transactions of one card are correlated (a stolen card is
attacked many times, a big spender spends often): intervals are clustered by card. A
per-transaction figure of an arm is a ratio R = Σ_c y_c / Σ_c n_c over its cards c (y: money,
n: transactions); its variance by linearisation is

    Var(R) ≈ m / (m − 1) × Σ_c (y_c − R n_c)² / (Σ_c n_c)²,

with m cards. Arms have disjoint cards, so the variance of R_B − R_A is the sum.

>>> y = np.array([0.0, 10.0, 0.0, 0.0]); n = np.array([3, 2, 4, 1])
>>> round(ratio(y, n).estimate, 3)
1.0
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special


@dataclass(frozen=True)
class Ratio:
    """A per-transaction figure of one arm, with its cluster-robust variance."""

    estimate: float
    variance: float
    cards: int
    transactions: float


def ratio(y: np.ndarray, n: np.ndarray) -> Ratio:
    """Σ y / Σ n over cards, with the linearised (cluster-robust) variance."""
    y, n = np.asarray(y, float), np.asarray(n, float)
    keep = n > 0
    y, n = y[keep], n[keep]
    m, total = len(n), float(n.sum())
    if m < 2 or total == 0:
        return Ratio(float(y.sum() / total) if total else np.nan, np.nan, m, total)
    estimate = float(y.sum() / total)
    residual = y - estimate * n
    return Ratio(estimate, float(m / (m - 1) * np.dot(residual, residual) / total**2), m, total)


@dataclass(frozen=True)
class Difference:
    """B − A per transaction, with its 95 % interval."""

    estimate: float
    low: float
    high: float
    se: float


def difference(b: Ratio, a: Ratio, level: float = 0.95) -> Difference:
    """R_B − R_A with a normal interval (cards are many; their sums are near normal).

    >>> d = difference(Ratio(2.0, 0.25, 100, 1e4), Ratio(1.0, 0.0, 100, 1e4))
    >>> round(d.low, 2), round(d.high, 2)
    (0.02, 1.98)
    """
    se = float(np.sqrt(b.variance + a.variance))
    z = float(special.ndtri(0.5 + level / 2))
    estimate = b.estimate - a.estimate
    return Difference(estimate, estimate - z * se, estimate + z * se, se)


@dataclass(frozen=True)
class Plan:
    """What a team would compute before the test: transactions and days needed."""

    min_effect: float  # money per transaction worth detecting
    per_transaction_sd: float  # card-level spread, scaled per transaction
    coverage: float  # share of the loss the labels will have revealed by the read-out
    transactions: float  # needed in total (both arms)
    days: float  # at the daily volume
    share_b: float


def plan(
    min_effect: float,
    card_loss: np.ndarray,
    card_transactions: np.ndarray,
    share_b: float,
    transactions_per_day: float,
    coverage: float = 1.0,
    alpha: float = 0.05,
    power: float = 0.8,
) -> Plan:
    """The sample size for a two-sided test of a difference in loss per transaction.

    The spread comes from past data by card (heavy-tailed amounts and repeated attacks on a card
    are in it); with the split, the variance of R_B − R_A per transaction is
    s² (1/(share_b N) + 1/((1 − share_b) N)) where s² is the per-transaction variance of the
    cluster linearisation. Labels known at the read-out reveal only a share ``coverage`` of the
    loss, which shrinks the effect the test can see to ``coverage × min_effect``.

    >>> p = plan(1.0, np.array([0.0, 40.0, 0.0, 0.0] * 50), np.full(200, 10), 0.5, 1000.0)
    >>> p.transactions > 0 and p.days > 0
    True
    """
    past = ratio(card_loss, card_transactions)
    # Var(R) × (total transactions) is the per-transaction variance of the linearisation.
    per_transaction_var = past.variance * past.transactions
    seen_effect = coverage * min_effect
    z = float(special.ndtri(1 - alpha / 2) + special.ndtri(power))
    factor = 1.0 / share_b + 1.0 / (1.0 - share_b)
    needed = (z / seen_effect) ** 2 * per_transaction_var * factor if seen_effect > 0 else np.inf
    return Plan(
        min_effect,
        float(np.sqrt(per_transaction_var)),
        coverage,
        float(needed),
        float(needed / transactions_per_day),
        share_b,
    )


def expected_half_width(plan_: Plan, transactions: float, level: float = 0.95) -> float:
    """The interval half-width the plan predicts after ``transactions`` (both arms together)."""
    z = float(special.ndtri(0.5 + level / 2))
    factor = 1.0 / plan_.share_b + 1.0 / (1.0 - plan_.share_b)
    return z * plan_.per_transaction_sd * np.sqrt(factor / transactions)
