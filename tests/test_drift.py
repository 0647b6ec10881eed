"""Honest drift: customers who change their habits, and the whole population moving online.

Bounds are sampling bounds (four standard errors), not what the code printed.
"""

from __future__ import annotations

import numpy as np

from sim.schema import HonestDrift
from sim.schema import Population as Config
from sim.world.population import CATEGORY_AMOUNT, CATEGORY_CNP, build_population, with_movers
from sim.world.traffic import draw_day

DAYS_PER_YEAR = 365


def _population(drift: HonestDrift, customers: int = 20_000):
    config = Config(customers=customers, merchants=400, drift=drift)
    base = build_population(config, np.random.default_rng(0))
    return config, base, with_movers(base, config, 0.0, np.random.default_rng(1))


def test_movers_arrive_at_their_rate_and_keep_the_population_s_spread():
    config, base, moved = _population(HonestDrift(movers_per_year=0.5, cnp_growth_per_year=0.0))
    n = config.customers
    share = float(np.mean(moved.move_at < DAYS_PER_YEAR * 86400.0))
    expected = 1 - np.exp(-0.5)
    assert abs(share - expected) < 4 * np.sqrt(expected * (1 - expected) / n)
    # A new habit is a fresh draw from the same spread, correlated with the old one (not a copy).
    assert abs(np.std(moved.moved_log_median) / np.std(base.log_median) - 1) < 4 / np.sqrt(2 * n)
    assert 0.5 < np.corrcoef(moved.moved_log_median, base.log_median)[0, 1] < 0.9
    assert abs(np.mean(moved.moved_cnp_affinity) / np.mean(base.cnp_affinity) - 1) < 4 * 0.5 / np.sqrt(n)
    assert with_movers(base, Config(drift=HonestDrift(movers_per_year=0.0)), 0.0, np.random.default_rng(1)) is base


def test_a_customer_who_moved_buys_with_the_new_habits():
    config, _, moved = _population(HonestDrift(movers_per_year=2.0, cnp_growth_per_year=0.0))
    day = 200  # 2 moves a year: two thirds of the customers have moved by day 200
    tx = draw_day(moved, config, day, np.random.default_rng(3))
    category = moved.merchant_category[tx.merchant]
    after = tx.t >= moved.move_at[tx.card]
    assert 0.5 < after.mean() < 0.8
    for habit, mask in ((moved.moved_log_median, after), (moved.log_median, ~after)):
        residual = np.log(tx.amount[mask]) - habit[tx.card[mask]] - CATEGORY_AMOUNT[category[mask]]
        assert abs(residual.mean()) < 4 * config.amount_sigma / np.sqrt(mask.sum())  # rounding to cents aside
    # and not with the old ones
    stale = np.log(tx.amount[after]) - moved.log_median[tx.card[after]] - CATEGORY_AMOUNT[category[after]]
    assert stale.std() > config.amount_sigma * 1.1


def test_the_population_moves_online_at_the_configured_rate():
    growth = 0.3
    config, _, population = _population(HonestDrift(movers_per_year=0.0, cnp_growth_per_year=growth))
    for day in (0, DAYS_PER_YEAR):
        tx = draw_day(population, config, day, np.random.default_rng(4))
        category = population.merchant_category[tx.merchant]
        online = 1 + growth * day / DAYS_PER_YEAR  # every share grows by 30 % in a year, capped at 1
        expected = np.minimum(CATEGORY_CNP[category] * population.cnp_affinity[tx.card] * online, 1.0)
        # each purchase is its own Bernoulli draw: the share's standard error from the expected probabilities
        assert abs(tx.cnp.mean() - expected.mean()) < 4 * np.sqrt(np.sum(expected * (1 - expected))) / len(tx)
    # the cap keeps the growth of the mean share below 30 %, but without the drift it would be 0
    assert expected.mean() > 1.1 * np.minimum(CATEGORY_CNP[category] * population.cnp_affinity[tx.card], 1).mean()
