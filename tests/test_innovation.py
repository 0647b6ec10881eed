"""Fraud that keeps moving: invented tactics, merchants chosen as crews choose them, and card
blocking on its own clock."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats

from sim.engine import warmup_length
from sim.rng import Streams
from sim.scenario import load_scenario
from sim.schema import Innovation
from sim.schema import Population as PopulationConfig
from sim.units import DAY
from sim.world.innovation import invent
from sim.world.population import build_population

from .test_crews import _config, _run, _world

POPULATION = build_population(PopulationConfig(customers=500, merchants=400), np.random.default_rng(0))


def _invented(seed: int = 1, **config) -> list:
    config = {"every": "6d", "lifetime": {"dist": "lognormal", "median": "24d", "sigma": 0.5}, **config}
    return invent(Innovation(**config), -300 * DAY, 100 * DAY, POPULATION, np.random.default_rng(seed))


def test_inventions_are_a_poisson_process_over_the_whole_space():
    """Over 400 days at one per 6 days, the count is Poisson(66.7): within ±4 SD; each tactic lives
    for its drawn lifetime; many categories, both channels and the night all occur."""
    counts = [len(_invented(seed)) for seed in range(20)]
    mean = 400 / 6
    assert all(abs(c - mean) < 4 * np.sqrt(mean) for c in counts), counts
    # 20 draws of a Poisson: their sum is Poisson(20 × mean); a two-sided 99.9 % bound
    low, high = stats.poisson.ppf([0.0005, 0.9995], 20 * mean)
    assert low <= sum(counts) <= high
    tactics = [t for seed in range(20) for t in _invented(seed)]
    assert all(t.available_from < t.available_until for t in tactics)
    lifetimes = np.array([t.available_until - t.available_from for t in tactics]) / DAY
    assert abs(np.median(lifetimes) - 24) < 3  # the lognormal's median, 24 days (n ≈ 1,300)
    assert len({t.category for t in tactics}) == 8 and {t.cnp for t in tactics} == {True, False}
    night = np.mean([t.hours == (0, 6) for t in tactics])
    assert abs(night - 0.3) < 4 * np.sqrt(0.3 * 0.7 / len(tactics))
    cashout = [t for t in tactics if t.merchants is not None]
    assert all(np.isin(t.merchants, POPULATION.merchants_by_category[t.category]).all() for t in cashout)


def test_inventions_are_deterministic_and_can_be_switched_off():
    first, second = _invented(3), _invented(3)
    assert [t.name for t in first] == [t.name for t in second]
    assert _invented(3, enabled=False) == []


def test_a_tactic_is_used_only_while_it_is_alive():
    from sim.world.strategies import tactic_table

    new = _invented(4)
    table = tactic_table(_config("static"), new)
    assert len(table) == 5 + len(new)
    for k, tactic in enumerate(new, start=5):
        assert table.intensity(tactic.available_from - 3600.0, 3600.0)[k] == 0
        assert table.intensity(tactic.available_until, 3600.0)[k] == 0
        middle = (tactic.available_from + tactic.available_until) / 2
        hour = 3600.0 * (tactic.hours[0] + 1)  # an hour when the tactic attacks, on the middle day of its life
        assert table.intensity(middle - middle % DAY + hour, 3600.0)[k] > 0


def test_crews_choose_merchants_as_customers_do():
    """Within a category, a crew's merchant is drawn by popularity (as honest purchases are), so no
    merchant draws fraud merely for being small: the share at each merchant matches its popularity
    (chi-square test at 0.1 %), and a uniform choice would fail the same test."""
    from sim.world.crews import Crew
    from sim.world.strategies import Plan, tactic_table

    config = _config("static")
    crew = Crew(0, "c", config, tactic_table(config), Streams(1, 0), POPULATION.customers, None)
    crew.open_day(0)
    n = 20_000
    plan = Plan(
        slot=np.zeros(n, np.intp),
        serial=np.zeros(n, np.int64),
        tactic=np.zeros(n, np.int16),
        amount=np.ones(n),
        merchant=np.full(n, -1, np.int32),
        cnp=np.full(n, -1, np.int8),
        offset=np.full(n, np.nan),
    )
    merchant, _, _ = crew.place(plan, 3600.0, POPULATION)
    category = int(crew.tactics.category[0])
    pool = POPULATION.merchants_by_category[category]
    assert np.isin(merchant, pool).all()
    observed = np.array([(merchant == m).sum() for m in pool])
    popularity = POPULATION.merchant_popularity[pool] / POPULATION.merchant_popularity[pool].sum()
    assert stats.chisquare(observed, n * popularity).pvalue > 1e-3
    assert stats.chisquare(observed, np.full(len(pool), n / len(pool))).pvalue < 1e-3


@pytest.mark.slow
def test_invented_tactics_absent_from_the_history_are_used_after_it(tmp_path):
    """Tactics invented after t = 0 cannot be in the history; crews use them once they exist and
    never before (crews.parquet counts each tactic's attempts per day)."""
    crews = [{"name": "c", "strategy": "static", "count": 3, "cards_per_day": 2}]
    world = _world("invent", crews, horizon="30d", **{"innovation.enabled": True, "innovation.every": "3d", "seed": 8})
    out = _run(tmp_path, world)
    crews_daily = pl.read_parquet(out / "crews.parquet")
    scenario = load_scenario(out / "scenario.resolved.toml")
    population = build_population(scenario.population, Streams(8, 0).get("population"))
    new = invent(
        scenario.innovation, -warmup_length(scenario), scenario.horizon, population, Streams(8, 0).get("innovation")
    )
    later = [t for t in new if 0 < t.available_from < scenario.horizon - 2 * DAY]
    assert len(later) >= 5
    used = 0
    for tactic in later:
        column = "tactic_" + tactic.name.replace("-", "_")
        share = crews_daily.filter(pl.col("replication") == 0).group_by("day").agg(pl.col(column).sum()).sort("day")
        before = share.filter(pl.col("day") < int(tactic.available_from // DAY))[column].sum()
        after = share.filter(pl.col("day") > int(tactic.available_from // DAY))[column].sum()
        assert before == 0, tactic.name
        used += after > 0
    assert used == len(later)


@pytest.mark.slow
def test_the_label_delay_reaches_the_models_not_the_cards(tmp_path):
    """With the rules detector (which reads no label) and static crews, nothing in the world can
    depend on the chargeback delay but card blocking. By default cards are blocked by cardholders
    who notice, so 1-hour and 30-day chargebacks lose the same fraud to the euro; tying blocking to
    chargebacks (as fraudsim did before) makes the fast labels save money."""
    crews = [{"name": "c", "strategy": "static", "count": 3, "cards_per_day": 3}]
    losses = {}
    for blocking in ("own clock", "chargebacks"):
        for median in ("1h", "30d"):
            changes = {
                "labels.chargeback.share": 0.9,
                "labels.customer_report.share": 0.0,
                "labels.chargeback.delay": {"dist": "lognormal", "median": median, "sigma": 0.5},
            }
            if blocking == "chargebacks":
                changes["blocking.labels"] = ["chargeback"]
            name = f"block-{blocking.replace(' ', '-')}-{median}"
            arms = pl.read_parquet(_run(tmp_path, _world(name, crews, **changes)) / "arms.parquet")
            losses[blocking, median] = float(arms["fraud_loss"].sum())
    assert losses["own clock", "1h"] == losses["own clock", "30d"]
    assert losses["chargebacks", "1h"] < 0.8 * losses["chargebacks", "30d"]


def test_a_crew_attacks_as_often_whatever_tactics_exist_that_it_no_longer_uses():
    """The tactics in use share all the weight: a static crew's attempt rate at a time when no
    invented tactic is alive equals its rate with the configured tactics alone."""
    from sim.world.strategies import StaticStrategy, tactic_table

    config = _config("static")
    new = [t for t in _invented(5)]
    quiet = next(
        t
        for t in np.arange(-300, 100) * DAY + 12 * 3600.0
        if not any(n.available_from <= t < n.available_until for n in new)
    )
    rates = []
    for table in (tactic_table(config), tactic_table(config, new)):
        total, _ = StaticStrategy(config, table)._mix(table.intensity(quiet, 3600.0))
        rates.append(total)
    assert rates[1] == pytest.approx(rates[0])
    assert rates[0] == pytest.approx(config.attempts_per_day * 24 * 3600.0 / DAY, rel=0.5)


def test_a_cash_out_merchant_s_fraud_rate_feature_rises_within_a_few_label_delays(tmp_path):
    """A new tactic that cashes out at a few merchants (complicit or compromised shops) betrays
    them through the label-fed `merchant_fraud_rate`. With cardholder reports after a median of
    one day, within three days of the tactic's start the feature has risen at its merchants, and
    not at the other merchants of the same categories.

    The size of the rise, from the feature's definition: a merchant starts near its prior rate
    (0.4 frauds in 200 transactions). A tactic gets a share of the crews' attempts around
    weight / total weight; its fraud at one of its three merchants adds frauds per day several
    times the prior's 0.4 while its honest traffic adds a few transactions a day, so the log rate
    rises by well over ln 2 within three days where fraud reached the merchant at all."""
    from sim.detect.features import MERCHANT_PRIOR_RATE, MERCHANT_PRIOR_TRANSACTIONS
    from sim.engine import Engine, arm_learner, transactions_per_day, warm_up

    from .conftest import write_scenario

    world = _world(
        "cashout",
        [{"name": "s", "strategy": "static", "count": 3, "cards_per_day": 3}],
        horizon="40d",
        innovation={"every": "4d", "cashout_share": 1.0, "weight": 10.0},
        labels={
            "investigators": {"count": 0},
            "chargeback": {"share": 0.1},
            "customer_report": {"share": 0.9, "delay": {"dist": "lognormal", "median": "1d", "sigma": 0.5}},
        },
        **{"population.customers": 5000, "population.merchants": 500},
    )
    scenario = load_scenario(write_scenario(tmp_path / "cashout.toml", world))
    streams = Streams(scenario.seed, 0)
    state, history = warm_up(scenario, streams)
    arm = scenario.arms[0]
    engine = Engine(
        scenario,
        streams,
        state,
        arm_learner(scenario, arm, streams, transactions_per_day(scenario)),
        None,
        0.0,
        scenario.horizon,
        None,
        arm.name,
    )
    engine.learner.start(history)
    features, samples = state.features, {}

    def sample(at: float) -> None:
        frauds = features.merchant_frauds + MERCHANT_PRIOR_TRANSACTIONS * MERCHANT_PRIOR_RATE
        samples[at] = np.log(frauds / (features.merchant_transactions + MERCHANT_PRIOR_TRANSACTIONS))

    for day in range(int(scenario.horizon // DAY)):
        engine.at(day * DAY, lambda at=day * DAY: sample(at))
    engine.run()
    invented = invent(
        scenario.innovation,
        -warmup_length(scenario),
        scenario.horizon,
        state.population,
        Streams(scenario.seed, 0).get("innovation"),
    )
    rises, others = [], []
    for tactic in invented:
        start = np.ceil(tactic.available_from / DAY) * DAY
        if not (start >= 0 and start + 3 * DAY < scenario.horizon and tactic.available_until > start + 3 * DAY):
            continue
        rise = samples[start + 3 * DAY] - samples[start]
        rises.append(rise[tactic.merchants].max())
        pool = state.population.merchants_by_category[tactic.category]
        others.append(np.median(rise[np.setdiff1d(pool, tactic.merchants)]))
    assert len(rises) >= 4, len(rises)
    assert np.median(rises) > np.log(2), rises
    assert abs(np.median(others)) < np.log(1.25), others


def test_classic_tactics_wear_out_a_lifetime_after_the_start_unless_told_to_stay():
    """With `classics = "wear_out"` (the default) every configured tactic with no availability of
    its own ends a lifetime after the start: over many groups the lifetimes follow the configured
    lognormal (median 12 days, σ 0.3: a KS test); a scheduled tactic keeps its own times. With
    `stay` the groups come back unchanged. Either way the same numbers are drawn, so the setting
    shifts no other draw."""
    from sim.schema import StaticCrew, Tactic
    from sim.world.innovation import wear_out

    scheduled = Tactic(
        name="later", category="travel", channel="cnp", amount_min=10, amount_max=20, available_from="5d"
    )
    groups = [StaticCrew(name=f"g{k}", tactics=[*StaticCrew(name="x").tactics, scheduled]) for k in range(300)]
    start = -100 * DAY
    rngs = {setting: np.random.default_rng(7) for setting in ("wear_out", "stay")}
    worn = wear_out(Innovation(), groups, start, rngs["wear_out"])
    kept = wear_out(Innovation(classics="stay"), groups, start, rngs["stay"])
    assert kept == groups
    assert rngs["wear_out"].random() == rngs["stay"].random()
    ends = np.array([t.available_until for g in worn for t in g.tactics if t.name != "later"])
    assert all(t == scheduled for g in worn for t in g.tactics if t.name == "later")
    lifetime = stats.lognorm(s=0.3, scale=12.0)
    assert stats.kstest((ends - start) / DAY, lifetime.cdf).pvalue > 1e-3


@pytest.mark.slow
def test_worn_out_classics_leave_the_horizon_to_invented_tactics(tmp_path):
    """A quickstart-like world: with the classics worn out no crew attempt in the horizon uses a
    configured tactic (card tests aside, which no lifetime ends); told to stay, they are used."""
    crews = [{"name": "c", "strategy": "bandit", "count": 3, "cards_per_day": 2}]
    used = {}
    for setting in ("wear_out", "stay"):
        world = _world(
            f"classics-{setting}", crews, warmup="60d", **{"innovation.enabled": True, "innovation.classics": setting}
        )
        daily = pl.read_parquet(_run(tmp_path, world) / "crews.parquet")
        classic = [c for c in daily.columns if c.startswith("tactic_") and not c.startswith("tactic_new_")]
        used[setting] = float(daily.select(classic).sum().sum_horizontal()[0])
    assert used["wear_out"] == 0
    assert used["stay"] > 0
