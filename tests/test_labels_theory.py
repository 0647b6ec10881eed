"""Label delays, pending labels and the investigators' queue against theory (fixed seeds)."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from scipy import stats

from sim.cli import main
from sim.feedback.delays import build_delay
from sim.rng import Streams
from sim.scenario import load_scenario, set_path, validate
from sim.schema import Delay
from sim.units import DAY
from sim.world.population import build_population

from .conftest import write_scenario

DELAYS = [
    {"dist": "fixed", "value": "2h"},
    {"dist": "exponential", "mean": "3d"},
    {"dist": "exponential", "median": "15m"},
    {"dist": "lognormal", "median": "30d", "sigma": 0.67},
    {"dist": "lognormal", "mean": "2d", "sigma": 1.0},
    {"dist": "gamma", "shape": 3.0, "mean": "7d"},
    {"dist": "gamma", "shape": 0.7, "median": "90m"},
    {
        "dist": "mixture",
        "components": [{"dist": "lognormal", "median": "1h", "sigma": 0.5}, {"dist": "exponential", "mean": "45d"}],
        "weights": [3, 1],
    },
]


def _delay(spec):
    from pydantic import TypeAdapter

    return build_delay(TypeAdapter(Delay).validate_python(spec))


@pytest.mark.parametrize("spec", DELAYS, ids=[f"{d['dist']}-{i}" for i, d in enumerate(DELAYS)])
def test_sampled_quantiles_match_the_quantile_function(spec):
    """DKW: sup |F_n − F| <= sqrt(ln(2/α) / 2n) with probability 1 − α (α = 1e-6)."""
    delay = _delay(spec)
    n = 40_000
    sample = delay.sample(np.random.default_rng(11), n)
    epsilon = math.sqrt(math.log(2 / 1e-6) / (2 * n))
    for q in (0.05, 0.25, 0.5, 0.75, 0.95):
        x = delay.quantile(q)
        assert abs(float(np.mean(sample <= x)) - q) <= epsilon + (1.0 if spec["dist"] == "fixed" else 0.0)
        assert float(delay.cdf(np.array([x]))[0]) == pytest.approx(q, abs=1e-6) or spec["dist"] == "fixed"
    assert np.mean(sample) == pytest.approx(delay.mean, rel=8 * np.std(sample) / np.sqrt(n) / delay.mean + 1e-9)


SCIPY = [  # each family against scipy.stats' own distribution with the same parameters (seconds)
    ({"dist": "exponential", "mean": "3d"}, stats.expon(scale=3 * DAY)),
    ({"dist": "lognormal", "median": "30d", "sigma": 0.67}, stats.lognorm(0.67, scale=30 * DAY)),
    ({"dist": "lognormal", "mean": "2d", "sigma": 1.0}, stats.lognorm(1.0, scale=2 * DAY * math.exp(-0.5))),
    ({"dist": "gamma", "shape": 3.0, "mean": "7d"}, stats.gamma(3.0, scale=7 * DAY / 3.0)),
    ({"dist": "gamma", "shape": 0.7, "median": "90m"}, stats.gamma(0.7, scale=5400 / stats.gamma(0.7).median())),
]


@pytest.mark.parametrize(("spec", "reference"), SCIPY, ids=[f"{d['dist']}-{i}" for i, (d, _) in enumerate(SCIPY)])
def test_delay_families_match_scipy_stats(spec, reference):
    """cdf, quantile and mean against scipy.stats, and the sampler against the cdf (a
    Kolmogorov–Smirnov test at a fixed seed: p > 0.001 holds for a correct sampler but for a one in
    a thousand draw)."""
    delay = _delay(spec)
    grid = reference.ppf(np.linspace(0.01, 0.99, 25))
    np.testing.assert_allclose(delay.cdf(grid), reference.cdf(grid), rtol=1e-9, atol=1e-12)
    for q in (0.05, 0.5, 0.95):
        assert delay.quantile(q) == pytest.approx(reference.ppf(q), rel=1e-9)
    assert delay.mean == pytest.approx(reference.mean(), rel=1e-9)
    sample = delay.sample(np.random.default_rng(11), 4000)
    assert stats.kstest(sample, reference.cdf).pvalue > 1e-3


def test_given_median_or_mean_is_honoured():
    assert _delay({"dist": "exponential", "median": "1d"}).quantile(0.5) == pytest.approx(DAY)
    assert _delay({"dist": "lognormal", "mean": "10d", "sigma": 0.8}).mean == pytest.approx(10 * DAY)
    assert _delay({"dist": "gamma", "shape": 2.0, "median": "1h"}).quantile(0.5) == pytest.approx(3600)
    assert _delay({"dist": "gamma", "shape": 2.0, "mean": "1h"}).mean == pytest.approx(3600)


def test_empirical_table_frequencies():
    delay = _delay({"dist": "empirical", "delays": ["1h", "1d", "30d"], "probabilities": [1, 2, 1]})
    n = 40_000
    sample = delay.sample(np.random.default_rng(5), n)
    for value, p in ((3600, 0.25), (DAY, 0.5), (30 * DAY, 0.25)):
        share = float(np.mean(sample == value))
        assert abs(share - p) < 5 * math.sqrt(p * (1 - p) / n)
    assert delay.quantile(0.5) == DAY


def _flat_world(**changes):
    world = {
        "name": "flat",
        "seed": 21,
        "tick": "1h",
        "history": "2d",
        "warmup": "2d",
        "replications": 1,
        "population": {"customers": 2000, "merchants": 100, "diurnal": "flat", "weekly": "flat"},
        "crews": [],
        "rules": {"max_amount": 1e9, "max_cnp_amount": 1e9, "max_risky_amount": 1e9, "max_velocity": 1e6},
        "arms": [{"name": "rules", "learner": "rules"}],
    }
    for key, value in changes.items():
        set_path(world, key.split("."), value)
    return world


def _run(tmp_path, world) -> tuple[object, object]:
    path = write_scenario(tmp_path / "flat.toml", world)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--ledger", "--quiet", "--no-report", "--workers", "1"]) == 0
    return load_scenario(path), out


def _total_rate_per_day(scenario) -> float:
    population = build_population(scenario.population, Streams(scenario.seed, 0).get("population"))
    return float(population.rate.sum())


@pytest.mark.slow
def test_daily_counts_and_pending_labels_match_poisson_theory(tmp_path):
    """Honest arrivals are Poisson(Σ rates) per day; labels pending at the horizon are
    Poisson(λ ∫ S(u) du) (an M/G/∞ system), ≈ λ × mean delay."""
    world = _flat_world(
        **{
            "horizon": "20d",
            "labels.friendly_fraud": 1.0,
            "labels.customer_report.share": 0.0,
            "labels.chargeback.share": 0.0,
            "labels.chargeback.window": "200d",
            "labels.maturity.window": "300d",
            "labels.chargeback.delay": {"dist": "lognormal", "median": "1d", "sigma": 0.5},
            "labels.investigators.count": 0,
        }
    )
    scenario, out = _run(tmp_path, world)
    rate = _total_rate_per_day(scenario)
    daily = pl.read_parquet(out / "daily.parquet")["transactions"].to_numpy()
    assert np.all(np.abs(daily - rate) < 5 * np.sqrt(rate))
    assert abs(daily.sum() - rate * len(daily)) < 4 * np.sqrt(rate * len(daily))

    labels = pl.read_parquet(out / "labels.parquet")
    pending = labels.filter(pl.col("delivered_at").is_null() & (pl.col("source") == "chargeback")).height
    delay = _delay(world["labels"]["chargeback"]["delay"])
    horizon_days = scenario.horizon / DAY
    grid = np.linspace(0, horizon_days, 20_001)
    survival = 1 - delay.cdf(grid * DAY)
    expected = rate * float(np.sum((survival[1:] + survival[:-1]) / 2 * np.diff(grid)))
    assert expected == pytest.approx(rate * delay.mean / DAY, rel=0.01)
    assert abs(pending - expected) < 5 * math.sqrt(expected)


def erlang_c(servers: int, offered: float) -> float:
    """Probability an arrival waits in an M/M/c queue with offered load a = λ/μ."""
    terms = sum(offered**k / math.factorial(k) for k in range(servers))
    last = offered**servers / math.factorial(servers) * servers / (servers - offered)
    return last / (terms + last)


@pytest.mark.slow
def test_investigator_queue_matches_erlang_c(tmp_path):
    """Flat Poisson traffic, every approved transaction alerted, c investigators 24/7 with
    exponential reviews: mean wait C(c, a) / (cμ − λ) and P(wait > 0) = C(c, a).
    Batch means over days give the standard error of the simulated averages."""
    servers, load = 3, 0.8
    probe = validate(_flat_world(horizon="24d"), "probe")
    rate_per_s = _total_rate_per_day(probe) / DAY
    mean_review = servers * load / rate_per_s
    world = _flat_world(
        **{
            "horizon": "24d",
            "policy.alert_threshold": 0.0,
            "labels.investigators.count": servers,
            "labels.investigators.hours": "24/7",
            "labels.investigators.queue_limit": 1_000_000,
            "labels.investigators.review_time": {"dist": "exponential", "mean": f"{mean_review:.3f}s"},
        }
    )
    _, out = _run(tmp_path, world)
    alerts = pl.read_parquet(out / "alerts.parquet").filter(
        (pl.col("outcome") == "reviewed") & (pl.col("alerted_at") >= DAY)  # one day of burn-in
    )
    wait = (alerts["review_started_at"] - alerts["alerted_at"]).to_numpy()
    day = (alerts["alerted_at"].to_numpy() // DAY).astype(int)
    offered = rate_per_s * mean_review
    mu = 1 / mean_review
    c_prob = erlang_c(servers, offered)
    expected_wait = c_prob / (servers * mu - rate_per_s)
    for values, expected in ((wait, expected_wait), ((wait > 1e-9).astype(float), c_prob)):
        batches = np.array([values[day == d].mean() for d in np.unique(day)])
        standard_error = batches.std(ddof=1) / np.sqrt(len(batches))
        t = stats.t.ppf(1 - 1e-4, len(batches) - 1)
        assert abs(values.mean() - expected) < t * standard_error, (values.mean(), expected, standard_error)


@pytest.mark.slow
def test_censoring_and_blocked_cards(tmp_path):
    """A declined transaction never gets a chargeback or report; a crew never uses a card
    after the issuer blocked it (from the next tick on)."""
    world = _flat_world(
        **{
            "horizon": "10d",
            "crews": [{"name": "c", "count": 3, "cards_per_day": 10, "spree": "5d"}],
            "arms": [{"name": "rules", "learner": "rules"}],
            "rules": {"max_amount": 150.0, "max_cnp_amount": 100.0, "max_risky_amount": 80.0, "max_velocity": 50.0},
            "labels.customer_report.delay": {"dist": "exponential", "mean": "6h"},
            "labels.decline_confirmation.share": 0.5,
            "policy.alert_threshold": 0.05,
            "labels.investigators.hours": "24/7",
            # blocking tied to the labels (the ledger records them), not to cardholders noticing (it does not)
            "blocking.labels": ["customer_report", "chargeback", "decline_confirmation"],
            "blocking.cardholder.share": 0.0,
        }
    )
    scenario, out = _run(tmp_path, world)
    tx = pl.read_parquet(out / "transactions.parquet")
    labels = pl.read_parquet(out / "labels.parquet")
    declined = tx.filter(pl.col("decision") == "decline").select("tx_id")
    assert declined.height > 100
    on_declined = labels.join(declined, on="tx_id")
    assert on_declined.height > 0 and set(on_declined["source"].unique()) == {"decline_confirmation"}

    tick = scenario.tick
    fraud = tx.filter(pl.col("is_fraud")).select("tx_id", "t", "customer", "stolen_card")
    blocks = (
        labels.filter(
            (pl.col("value") == 1)
            & pl.col("source").is_in(["customer_report", "chargeback", "decline_confirmation"])
            & pl.col("delivered_at").is_not_null()
        )
        .join(fraud, on="tx_id")
        .select("customer", "stolen_card", blocked_at=pl.col("delivered_at"))
    )
    alerts = (
        pl.read_parquet(out / "alerts.parquet")
        .filter(pl.col("verdict") == 1)
        .join(fraud, on="tx_id")
        .select("customer", "stolen_card", blocked_at=(pl.col("review_done_at") / tick).ceil() * tick)
    )
    all_blocks = pl.concat([blocks, alerts]).group_by("customer", "stolen_card").agg(pl.col("blocked_at").min())
    assert all_blocks.height > 20
    after = fraud.join(all_blocks, on=["customer", "stolen_card"]).filter(pl.col("t") >= pl.col("blocked_at"))
    assert after.height == 0
