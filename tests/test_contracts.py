"""Contract tests over every pluggable part, in the spirit of river's ``check_estimator``: every
learner (and the wrappers the engine puts around them), every crew strategy, every delay family."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from pydantic import TypeAdapter

from sim.ab.world import ABLearner
from sim.detect.deployed import Deployed
from sim.detect.faults import Faults
from sim.feedback.delays import build_delay
from sim.learn.checks import check_learner, toy_batch, toy_history
from sim.learn.learners import from_arm
from sim.rng import Streams
from sim.schema import STRATEGY_NAMES, Arm, Delay, Fault, Monitoring, Rules
from sim.world.strategies import make_strategy, tactic_table

from .test_crews import _config, _context
from .test_labels_theory import DELAYS

ARMS = [
    {"name": "online-laplace", "learner": "online"},
    {"name": "online-laplace-prior", "learner": "online", "reweight": "prior"},
    {"name": "online-logistic", "learner": "online", "model": "logistic"},
    {"name": "online-adam", "learner": "online", "model": "logistic", "optimizer": "adam"},
    {"name": "online-tree", "learner": "online", "model": "hoeffding_tree", "negative_share": 0.2},
    {"name": "online-forest", "learner": "online", "model": "forest", "trees": 2, "negative_share": 0.2},
    {"name": "batch-logistic", "learner": "batch", "every": "1d", "min_labels": 5},
    {"name": "hybrid", "learner": "hybrid", "every": "1d", "deploy_lag": "1h"},
    {"name": "split", "learner": "split", "every": "1d", "feedback_window": "7d"},
    {"name": "static", "learner": "static"},
    {"name": "static-gbm", "learner": "static", "model": "gbm"},
    {"name": "oracle", "learner": "oracle"},
    {"name": "oracle-censored", "learner": "oracle", "censored": True},
    {"name": "oracle-refit", "learner": "oracle", "model": "logistic"},
    {"name": "rules", "learner": "rules"},
]
LATER = 86400.0  # a day after the history: every batch learner retrains
# Gradient boosting retrains too slowly for the fast tier: the slow tier's contract runs it
# (tests/test_learners.py); here it serves as the static learner's model.
HISTORY = toy_history()
BATCH = toy_batch()


def _arm(spec: dict) -> Arm:
    return TypeAdapter(Arm).validate_python(spec)


@pytest.mark.parametrize("spec", ARMS, ids=[arm["name"] for arm in ARMS])
def test_every_learner_passes_the_contract(spec):
    arm = _arm(spec)
    check_learner(lambda: from_arm(arm, Rules(), 1000.0, seed=3), HISTORY, BATCH, LATER)


def test_the_ab_learner_passes_the_contract():
    is_b = np.arange(100) % 3 == 0
    online, batch = _arm(ARMS[0]), _arm(ARMS[6])  # laplace and batch-logistic
    for pooled in (False, True):
        check_learner(
            lambda pooled=pooled: ABLearner(
                from_arm(online, Rules(), 1000.0), from_arm(batch, Rules(), 1000.0), is_b, pooled
            ),
            HISTORY,
            BATCH,
            LATER,
        )


def test_the_deployed_learner_passes_the_contract():
    """Faults and monitoring around a learner keep its contract (scores in [0, 1], seeded, clonable)."""
    faults = [Fault(kind="garbage_scores", start="0s", end="1d"), Fault(kind="feature_missing", feature="cnp", start=0)]
    monitoring = Monitoring(detectors=[{"method": "page_hinkley", "signal": "label_error"}])
    online = _arm(ARMS[0])
    check_learner(
        lambda: Deployed(
            from_arm(online, Rules(), 1000.0),
            Faults(faults, online.name, Streams(1, 0), 3600.0),
            monitoring,
            Rules(),
            [].append,  # the model events (picklable, as the engine's list's append is)
        ),
        HISTORY,
        BATCH,
        LATER,
    )


@pytest.mark.parametrize("strategy", STRATEGY_NAMES)
def test_every_crew_strategy_is_seeded_and_leaves_its_context_alone(strategy):
    """The crews' own contract (tests/test_crews.py) with a fresh copy of the context per run:
    two strategies built alike plan alike, over a day of ticks with the same decisions."""
    config = _config(strategy)
    plans = []
    for _ in range(2):
        crew, rng = make_strategy(config, tactic_table(config)), np.random.default_rng(5)
        columns = []
        for hour in range(24):
            context = _context(config, now=hour * 3600.0)
            snapshot = copy.deepcopy(context)
            plan = crew.choose(rng, context)
            crew.observe(plan, np.arange(len(plan)) % 4 == 0)
            columns.append(plan.columns())
            for before, after in zip(vars(snapshot).values(), vars(context).values(), strict=True):
                if isinstance(before, np.ndarray):
                    np.testing.assert_array_equal(before, after)
        plans.append(columns)
    for first, second in zip(*plans, strict=True):
        for a, b in zip(first, second, strict=True):
            np.testing.assert_array_equal(a, b)


FAMILIES = DELAYS + [{"dist": "empirical", "delays": ["1h", "2d", "30d"], "probabilities": [1, 2, 1]}]


@pytest.mark.parametrize("spec", FAMILIES, ids=[f"{d['dist']}-{i}" for i, d in enumerate(FAMILIES)])
def test_every_delay_family_passes_the_contract(spec):
    """Seeded; delays finite and non-negative; the cdf a distribution function; quantiles its inverse."""
    delay = build_delay(TypeAdapter(Delay).validate_python(spec))
    first, second = (delay.sample(np.random.default_rng(11), 2000) for _ in range(2))
    np.testing.assert_array_equal(first, second)
    assert first.shape == (2000,) and np.all(np.isfinite(first)) and np.all(first >= 0)
    assert len(delay.sample(np.random.default_rng(11), 0)) == 0
    x = np.sort(np.concatenate([first, [0.0, 1e12]]))
    cdf = delay.cdf(x)
    assert np.all((cdf >= 0) & (cdf <= 1)) and np.all(np.diff(cdf) >= 0) and cdf[-1] == pytest.approx(1.0)
    for q in (0.1, 0.5, 0.9):
        assert delay.cdf(np.array([delay.quantile(q)]))[0] >= q - 1e-9
    assert np.isfinite(delay.mean) and delay.mean >= 0
