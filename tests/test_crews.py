"""Crews: one contract for every strategy, and tests that show each one adapting (fixed seeds)."""

from __future__ import annotations

import copy
import math

import numpy as np
import polars as pl
import pytest
from pydantic import TypeAdapter

from sim.cli import main
from sim.rng import Streams
from sim.scenario import set_path
from sim.schema import STRATEGY_NAMES
from sim.schema import Crew as CrewConfig
from sim.schema import Population as PopulationConfig
from sim.units import DAY, HOUR
from sim.world.population import build_population
from sim.world.strategies import BanditStrategy, Context, Plan, make_strategy, tactic_table

from .conftest import write_scenario

POPULATION = build_population(PopulationConfig(customers=500, merchants=80), np.random.default_rng(0))


def _config(strategy: str, **extra) -> CrewConfig:
    return TypeAdapter(CrewConfig).validate_python({"name": "c", "strategy": strategy, **extra})


def _context(config, now=10 * HOUR, cards=30) -> Context:
    tactics = tactic_table(config)
    slots = np.arange(cards)
    return Context(
        now, HOUR, slots, 1000 + slots, (slots * 7) % POPULATION.customers, tactics.intensity(now, HOUR), POPULATION
    )


@pytest.mark.parametrize("strategy", STRATEGY_NAMES)
def test_strategy_contract(strategy):
    """Seeded determinism; inputs never mutated; a plan of valid attempts; observe takes only
    the crew's own plan and decisions; no reference to anything a crew should not see."""
    config = _config(strategy)
    context = _context(config)
    snapshot = copy.deepcopy(context)
    first, second = make_strategy(config, tactic_table(config)), make_strategy(config, tactic_table(config))
    plans = [s.choose(np.random.default_rng(7), context) for s in (first, second)]
    for a, b in zip(plans[0].columns(), plans[1].columns(), strict=True):
        np.testing.assert_array_equal(a, b)
    for before, after in zip(vars(snapshot).values(), vars(context).values(), strict=True):
        if isinstance(before, np.ndarray):
            np.testing.assert_array_equal(before, after)
    plan = plans[0]
    assert isinstance(plan, Plan) and len(plan) > 0
    assert np.isin(plan.slot, context.slots).all() and (plan.amount > 0).all()
    assert ((plan.tactic >= 0) & (plan.tactic < len(tactic_table(config)))).all()
    declined = np.random.default_rng(1).random(len(plan)) < 0.3
    kept = plan.take(np.arange(len(plan)))
    first.observe(plan, declined)
    for a, b in zip(kept.columns(), plan.columns(), strict=True):
        np.testing.assert_array_equal(a, b)
    allowed = (np.ndarray, np.generic, int, float, str, dict, type(None), type(config), type(tactic_table(config)))
    for name, value in vars(first).items():
        assert isinstance(value, allowed), f"{strategy} keeps {name}: {type(value)}"


def test_bandit_moves_to_the_tactic_a_detector_cannot_see():
    """A detector that declines every tactic but one: within two days, at least three quarters
    of the bandit's attempts use it (the rest is its 5 % exploration and sampling)."""
    config = _config("bandit", exploration=0.05)
    tactics = tactic_table(config)
    blind = tactics.names.index("retail-in-store")
    strategy = BanditStrategy(config, tactics)
    rng = np.random.default_rng(3)
    daily_share = []
    for day in range(3):
        used = []
        for hour in range(24):
            context = _context(config, now=day * DAY + hour * HOUR)
            plan = strategy.choose(rng, context)
            strategy.observe(plan, plan.tactic != blind)
            used.append(plan.tactic)
        used = np.concatenate(used)
        daily_share.append(float(np.mean(used == blind)))
    assert daily_share[0] < 0.9  # it had to find it
    assert daily_share[1] >= 0.75 and daily_share[2] >= 0.75


def _run(tmp_path, data: dict, *extra: str):
    path = write_scenario(tmp_path / f"{data['name']}.toml", data)
    out = tmp_path / data["name"]
    assert main(["run", str(path), "--out", str(out), "--quiet", "--no-report", "--workers", "1", *extra]) == 0
    return out


def _world(name: str, crews: list[dict], **changes) -> dict:
    world = {
        "name": name,
        "seed": 5,
        "horizon": "10d",
        "history": "3d",
        "warmup": "3d",
        "tick": "1h",
        "population": {"customers": 3000, "merchants": 300},
        "rules": {"max_amount": 1e6, "max_cnp_amount": 1e6, "max_risky_amount": 1e6, "max_velocity": 1e6},
        "labels": {"investigators": {"count": 0}},
        "innovation": {"enabled": False},  # these tests are about the strategies; tests/test_innovation.py turns it on
        "skimming": {"enabled": False},  # only the compromises a test configures
        "crews": crews,
        "arms": [{"name": "rules", "learner": "rules"}],
    }
    for key, value in changes.items():
        set_path(world, key.split("."), value)
    return world


@pytest.mark.slow
def test_prober_piles_up_just_below_the_amount_limit(tmp_path):
    """Against "decline above X", the log-amount random walk is stationary when
    (1 − p) ln(up) + p ln(down) = 0: the decline rate is ln(up) / (ln(up) − ln(down))."""
    limit, up, down = 500.0, 1.15, 0.75
    retail = {"name": "retail", "category": "retail", "channel": "cp", "amount_min": 20, "amount_max": 200}
    world = _world(
        "prober",
        [
            {
                "name": "p",
                "strategy": "prober",
                "count": 3,
                "cards_per_day": 4,
                "probe_up": up,
                "probe_down": down,
                "tactics": [retail],
            }
        ],
        **{"rules.max_amount": limit},
    )
    tx = pl.read_parquet(_run(tmp_path, world, "--ledger") / "transactions.parquet").filter(pl.col("is_fraud"))
    approved = tx.filter(pl.col("decision") == "approve")["amount"].to_numpy()
    decline_rate = float((tx["decision"] == "decline").mean())
    expected = math.log(up) / (math.log(up) - math.log(down))
    assert len(approved) > 200
    assert abs(decline_rate - expected) < 0.06
    assert approved.max() <= limit
    assert np.median(approved) > 0.7 * limit and np.quantile(approved, 0.9) > 0.9 * limit


@pytest.mark.slow
def test_card_testers_test_before_cashing_out(tmp_path):
    # Every card comes from breaches inside the horizon, so its whole life is in the ledger.
    breaches = [{"at": "1d", "cards": 150}, {"at": "4d", "cards": 150}]
    crews = [
        {"name": "t", "strategy": "card_testing", "count": 3, "cards_per_day": 0, "tests": 3, "breaches": breaches}
    ]
    world = _world("testers", crews, **{"rules.max_amount": 250.0})
    tx = pl.read_parquet(_run(tmp_path, world, "--ledger") / "transactions.parquet").filter(pl.col("is_fraud"))
    test_tactic = tactic_table(_config("card_testing")).names.index("card-test")
    tx = tx.with_columns(test=pl.col("tactic") == test_tactic).sort("stolen_card", "t")
    assert (tx.filter(pl.col("test"))["amount"] <= 2.0).all()
    per_card = tx.group_by("stolen_card").agg(
        pl.col("t").filter(pl.col("test")).max().alias("last_test"),
        pl.col("t").filter(~pl.col("test")).min().alias("first_cash_out"),
        pl.col("decision").filter(pl.col("test")).eq("decline").any().alias("failed_test"),
    )
    cashed = per_card.filter(pl.col("first_cash_out").is_not_null())
    assert cashed.height > 50
    assert cashed["last_test"].null_count() == 0  # every cashed-out card was tested first
    assert (cashed["last_test"] < cashed["first_cash_out"]).all()
    assert not cashed["failed_test"].any()  # a card that failed its test is abandoned


@pytest.mark.slow
def test_crews_follow_the_money(tmp_path):
    """Crews multiply where fraud pays and thin out where it does not."""
    dynamics = {"max_count": 12, "min_count": 1, "entry_per_month": 30.0, "profit_scale": 50.0, "leave_after": 2}
    crews = [{"name": "b", "strategy": "bandit", "count": 4, "cards_per_day": 2, "dynamics": dynamics}]
    paying = pl.read_parquet(_run(tmp_path, _world("paying", crews)) / "crews.parquet")
    blocked = pl.read_parquet(_run(tmp_path, _world("blocked", crews, **{"rules.max_amount": 1.0})) / "crews.parquet")

    def crews_on(frame: pl.DataFrame, day: int) -> int:
        return frame.filter(pl.col("day") == day)["crew"].n_unique()

    assert crews_on(paying, 9) > 4 and crews_on(paying, 9) <= 12
    assert crews_on(blocked, 9) == 1
    assert blocked["profit"].sum() < 0 < paying["profit"].sum()


@pytest.mark.slow
def test_skimmed_merchants_leak_cards_to_their_crew_group(tmp_path):
    crews = [{"name": "skimmers", "strategy": "static", "count": 2, "cards_per_day": 0}]
    compromise = {"name": "terminal", "merchants": 15, "start": "0d", "end": "4d", "delay": "2d", "crews": "skimmers"}
    out = _run(tmp_path, _world("skim", crews, compromises=[compromise]), "--ledger")
    tx = pl.read_parquet(out / "transactions.parquet")
    fraud = tx.filter(pl.col("is_fraud"))
    assert fraud.height > 30
    honest = tx.filter(~pl.col("is_fraud") & (pl.col("t") < 4 * DAY) & (pl.col("decision") == "approve"))
    first_seen = honest.group_by("customer").agg(pl.col("t").min().alias("skimmed_at"))
    joined = fraud.join(first_seen, on="customer", how="left")
    assert joined["skimmed_at"].null_count() == 0  # every victim had bought during the compromise
    assert (joined["t"] >= joined["skimmed_at"] + 2 * DAY).all()  # and was used only after the delay


def test_random_compromises_arrive_at_their_rate_at_busy_merchants():
    from sim.schema import Skimming
    from sim.world.crews import draw_skims

    population = build_population(PopulationConfig(customers=500, merchants=400), np.random.default_rng(0))
    span = 4000 * DAY
    skims = draw_skims(Skimming(every="10d"), -span / 2, span / 2, population, ["a", "b"], np.random.default_rng(1))
    assert abs(len(skims) - 400) < 4 * math.sqrt(400)  # Poisson
    assert all(-span / 2 <= s.start < s.end and s.delay > 0 and len(s.merchants) == 1 for s in skims)
    assert [s.start for s in skims] == sorted(s.start for s in skims)
    # Drawn by popularity: the chosen merchants' mean popularity is E[p²]/E[p] per draw, well above the mean 1/M.
    chosen = population.merchant_popularity[[int(s.merchants[0]) for s in skims]]
    p = population.merchant_popularity
    expected, spread = float(np.sum(p * p)), float(np.sqrt(np.sum(p * p * p) - np.sum(p * p) ** 2))
    assert abs(chosen.mean() - expected) < 4 * spread / math.sqrt(len(skims))
    assert expected > 1.5 / population.merchants
    groups = [s.crews for s in skims]
    assert abs(groups.count("a") - len(skims) / 2) < 4 * math.sqrt(len(skims) / 4)
    median_window = float(np.median([s.end - s.start for s in skims]))
    assert 5.7 * DAY < median_window < 8.3 * DAY  # lognormal, median 7 d: its sample median's SE is 0.3 d
    assert draw_skims(Skimming(enabled=False), 0, span, population, ["a"], np.random.default_rng(1)) == []


def test_a_compromise_leaks_at_most_its_cap_over_every_tick():
    from sim.world.crews import Crews, Skim
    from sim.world.traffic import Transactions

    skims = [
        Skim("capped", np.array([3], np.int32), 0.0, 10 * DAY, 1.0, DAY, "c", max_cards=7),
        Skim("open", np.array([4], np.int32), 0.0, 10 * DAY, 1.0, DAY, "c"),
    ]
    crews = Crews([_config("static", count=1, cards_per_day=0)], [], POPULATION, Streams(1, 0), skims=skims)

    def tick(start: float, n: int) -> Transactions:
        honest = np.full(n, -1)
        return Transactions(
            start + np.arange(n, dtype=float),
            np.arange(n, dtype=np.int32),
            np.repeat([3, 4], n // 2).astype(np.int32),
            np.full(n, 20.0),
            np.zeros(n, bool),
            honest.astype(np.int32),
            honest.astype(np.int16),
            honest.astype(np.int64),
        )

    for start in (0.0, HOUR, 2 * HOUR):  # 5 cards at each merchant per tick: the cap binds in the second
        crews.skim(tick(start, 10), np.ones(10, bool), np.zeros(10))
    leaked = np.concatenate([cards for cards, _ in crews.groups[0]._pending_leaks])
    assert list(crews._leaked) == [7, 15]
    assert len(leaked) == 22 and set(leaked[:5]) == {0, 1, 2, 3, 4}  # the first cards caught, in order


def test_mimic_copies_the_victims_habits():
    config = _config("mimic", amount_factor=1.0)
    strategy = make_strategy(config, tactic_table(config))
    context = _context(config, cards=200)
    plan = strategy.choose(np.random.default_rng(2), context)
    card = context.card[np.searchsorted(context.slots, plan.slot)]
    assert all(m in POPULATION.preferred[c] for m, c in zip(plan.merchant, card, strict=True))
    log_ratio = np.log(plan.amount) - POPULATION.log_median[card]
    assert abs(float(np.median(log_ratio))) < 1.0  # around the victim's own median (category factors aside)


def test_crew_streams_are_keyed_by_crew_and_day():
    streams = Streams(1, 0)
    assert streams.get("crew", 3, 7).random() == Streams(1, 0).get("crew", 3, 7).random()
    assert streams.get("crew", 3, 7).random() != streams.get("crew", 4, 7).random()


@pytest.mark.slow
def test_adaptive_crews_take_more_than_static_crews_with_the_same_cards(tmp_path):
    """Same seed, same cards (keyed by crew and day), same static detector: a bandit crew takes
    more than a static one in every replication."""
    losses = {}
    for strategy in ("static", "bandit"):
        crews = [{"name": "c", "strategy": strategy, "count": 4, "cards_per_day": 1.0}]
        world = _world(
            f"take-{strategy}",
            crews,
            horizon="14d",
            history="7d",
            warmup="14d",
            replications=3,
            arms=[{"name": "static", "learner": "static"}],
            **{"labels.maturity.window": "10d", "labels.chargeback.window": "10d"},
        )
        arms = pl.read_parquet(_run(tmp_path, world) / "arms.parquet").sort("replication")
        losses[strategy] = arms["fraud_amount_approved"].to_numpy()
    assert np.all(losses["bandit"] > losses["static"]), losses


@pytest.mark.slow
def test_with_fast_labels_online_learning_takes_a_new_tactics_gain_back_faster_than_weekly_batch(tmp_path):
    """Bandit crews find a new tactic (travel card-not-present, €300–900) that appears on day 8,
    the day after the weekly batch model's retrain. Cardholders report 90 % of fraud within hours.
    Per replication, daily fraud loss rises from days 0–7 to days 8–13 in both arms; the online
    learner, learning from each report as it arrives, lets it rise less than the batch model,
    which cannot learn the tactic before day 14. Same seeds for both arms: if neither learned
    faster, each of the 6 paired comparisons would go either way and all 6 favouring online
    would happen with probability 2⁻⁶ ≈ 1.6 %."""
    from sim.schema import DEFAULT_TACTICS

    tactics = [t.model_dump(mode="json", exclude_none=True) for t in DEFAULT_TACTICS]
    tactics.append(
        {
            "name": "travel-new",
            "category": "travel",
            "channel": "cnp",
            "amount_min": 300,
            "amount_max": 900,
            "available_from": "8d",
            "weight": 2.0,
        }
    )
    world = {
        "name": "new-tactic",
        "seed": 9,
        "horizon": "14d",
        "history": "14d",
        "warmup": "40d",
        "tick": "1h",
        "replications": 6,
        "population": {"customers": 6000, "merchants": 600},
        "labels": {
            "customer_report": {"share": 0.9, "delay": {"dist": "lognormal", "median": "3h", "sigma": 0.8}},
            "chargeback": {"share": 0.05, "window": "20d"},
            "maturity": {"window": "20d"},
            "investigators": {"count": 0},
        },
        "crews": [{"name": "c", "strategy": "bandit", "count": 4, "cards_per_day": 1.5, "tactics": tactics}],
        "innovation": {"enabled": False},  # the one new tactic is the whole story
        "arms": [
            {"name": "online", "learner": "online"},
            {"name": "batch-weekly", "learner": "batch", "every": "7d", "window": "30d"},
        ],
    }
    daily = pl.read_parquet(_run(tmp_path, world) / "daily.parquet")
    per_day = (
        daily.with_columns(after=pl.col("day") >= 8)
        .group_by("arm", "replication", "after")
        .agg(pl.col("fraud_loss").mean())
        .pivot(on="after", index=["arm", "replication"], values="fraud_loss")
        .with_columns(rise=pl.col("true") - pl.col("false"))
        .sort("replication")
    )
    rise = {arm: per_day.filter(pl.col("arm") == arm)["rise"].to_numpy() for arm in ("online", "batch-weekly")}
    assert np.all(rise["batch-weekly"] > 0), rise  # the new tactic pays against both
    assert np.all(rise["online"] < rise["batch-weekly"]), rise
