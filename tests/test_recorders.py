"""The Recorder protocol: what the engine tells a recorder, and the two recorders that implement it."""

from __future__ import annotations

import copy
from collections import Counter

import numpy as np
import pytest

from sim.ab.world import ABRecorder
from sim.engine import Engine, arm_learner, arm_retention, transactions_per_day, warm_up
from sim.results import ArmRecorder, Recorder
from sim.rng import Streams
from sim.scenario import validate

from .conftest import TINY

PROTOCOL = {name for name, value in vars(Recorder).items() if callable(value) and not name.startswith("_")}
REQUIRED = {"tick", "labels", "review"}
OPTIONAL = PROTOCOL - REQUIRED


class Watched:
    """A recorder seen only through the protocol: asking for anything else fails the test."""

    def __init__(self, inner: Recorder):
        self._inner = inner
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str):
        assert name in PROTOCOL, f"the engine asked its recorder for {name!r}, which Recorder does not declare"
        self.calls[name] += 1
        return getattr(self._inner, name)


def test_the_protocol_has_three_required_hooks_and_three_optional_ones():
    assert REQUIRED <= PROTOCOL and {"labels_created", "maturity_withdrawn", "blocked"} == OPTIONAL
    assert Recorder.__abstractmethods__ == frozenset(REQUIRED)


@pytest.mark.parametrize("recorder", [ArmRecorder, ABRecorder])
def test_both_recorders_implement_it_explicitly(recorder):
    assert Recorder in recorder.__mro__
    assert all(name in vars(recorder) for name in REQUIRED)


def test_the_ab_recorder_keeps_no_methods_that_do_nothing():
    """It records neither label scheduling, withdrawals nor blocks: it says so by inheriting the
    protocol's defaults, not with stubs of its own, and has no ledger to pretend about."""
    assert not OPTIONAL & set(vars(ABRecorder))
    scenario = validate({**TINY, "ab": {"a": "online", "b": "static"}}, "tiny")
    recorder = ABRecorder(scenario, 100, "test", 0)
    assert not hasattr(recorder, "ledger")
    assert recorder.blocked(0.0, 3) is None and recorder.maturity_withdrawn(0.0) is None


def test_a_recorder_without_a_required_hook_cannot_be_made():
    class TicksOnly(Recorder):
        def tick(self, now, tx, ids, p, decisions, staleness=np.nan, falling_back=False) -> None:
            pass

    with pytest.raises(TypeError, match="abstract"):
        TicksOnly()


def test_the_engine_asks_a_recorder_only_for_what_the_protocol_declares():
    scenario = validate({**TINY, "replications": 1, "horizon": "2d"}, "tiny")
    streams = Streams(scenario.seed, 0)
    world, history = warm_up(scenario, streams)
    world = copy.deepcopy(world)
    world.store.retention_s = arm_retention(scenario)
    arm = scenario.arm("online")
    learner = arm_learner(scenario, arm, streams, transactions_per_day(scenario))
    learner.start(history)
    inner = ArmRecorder(scenario, arm.name, 0)
    watched = Watched(inner)
    Engine(scenario, streams, world, learner, watched, 0.0, scenario.horizon, None, arm.name).run()
    assert {"tick", "labels", "labels_created"} <= set(watched.calls)
    assert watched.calls["tick"] == 48  # hourly ticks over two days
    assert inner.daily()["transactions"].sum() > 0  # and the calls reached the recorder
