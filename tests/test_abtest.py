"""The A/B statistics: cluster-robust intervals cover at the nominal rate; plans are consistent."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from sim.ab.stats import difference, expected_half_width, plan, ratio


def _cards(rng, m, effect=0.0):
    """Cards with Poisson transaction counts and heavy-tailed, card-correlated losses."""
    n = rng.poisson(8, m) + 1
    attacked = rng.random(m) < 0.05
    loss = np.where(attacked, rng.lognormal(5, 1, m) * (1 + effect), 0.0)
    return loss, n


def test_ratio_matches_the_definition():
    y, n = np.array([5.0, 0.0, 15.0]), np.array([1, 2, 2])
    r = ratio(y, n)
    assert r.estimate == pytest.approx(4.0)
    residual = y - 4.0 * n
    assert r.variance == pytest.approx(3 / 2 * np.sum(residual**2) / 25)


def test_cluster_intervals_cover_at_about_the_nominal_rate():
    """Under the null, a 95 % interval for B − A covers zero in about 95 % of tests: with 400
    tests the count is Binomial(400, 0.95), so [366, 394] holds with probability > 0.997."""
    rng = np.random.default_rng(12)
    covered = 0
    for _ in range(400):
        a, b = _cards(rng, 2000), _cards(rng, 2000)
        d = difference(ratio(*b), ratio(*a))
        covered += d.low <= 0 <= d.high
    assert 366 <= covered <= 394


def test_plan_predicts_the_interval_it_gets():
    """A plan sized for an effect gives, at that size, a half-width of about effect / (z_a + z_b) × z."""
    rng = np.random.default_rng(3)
    past_loss, past_n = _cards(rng, 20_000)
    p = plan(min_effect=0.5, card_loss=past_loss, card_transactions=past_n, share_b=0.2, transactions_per_day=10_000)
    half = expected_half_width(p, p.transactions)
    z_alpha, z_power = norm.ppf(0.975), norm.ppf(0.8)
    assert half == pytest.approx(0.5 * z_alpha / (z_alpha + z_power), rel=1e-9)
    # Simulate tests of that size: the observed half-widths match the prediction within 15 %.
    cards = int(p.transactions / past_n.mean())
    widths = []
    for _ in range(30):
        b, a = _cards(rng, int(cards * 0.2)), _cards(rng, int(cards * 0.8))
        d = difference(ratio(*b), ratio(*a))
        widths.append((d.high - d.low) / 2)
    assert np.median(widths) == pytest.approx(half, rel=0.15)
    halved = plan(0.5, past_loss, past_n, 0.2, 10_000, coverage=0.5)
    assert halved.transactions == pytest.approx(4 * p.transactions)  # half the loss seen: 4× the sample
