"""The A/B test of one replication: the test world, its variants, and the truth beside them.

Every variant starts from the replication's warmed-up world, like the arms:

- ``test`` — the test as configured (`[ab] labels`, the scenario's crews);
- ``pooled`` — the same with pooled labels (only when the test uses its own labels): what the
  smaller arm's learner loses by seeing only its own cards' labels;
- ``static`` — pooled labels and crews frozen to their tactic mix at t = 0, so no crew follows
  the weaker arm's cards; with ``truth_static``, arms `a` and `b` each alone in that frozen
  world, it shows what is left of the bias once crews stop adapting.

The truth of ``test`` and ``pooled`` is the replication's own separate worlds of arms `a` and
`b` (the scenario's comparison, with common random numbers).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from ..engine import Engine, arm_learner, run_arm
from ..learn.learners import History
from ..results import ArmRecorder
from ..rng import Streams
from ..schema import Scenario
from ..units import DAY
from ..warmup import arm_retention, transactions_per_day
from ..world.state import World
from .world import ABLearner, ABRecorder


@dataclass
class ABReplication:
    """The A/B test's results in one replication (plain data: picklable)."""

    daily: pl.DataFrame  # ABRecorder rows of every variant
    truth: dict[str, dict[str, float]]  # variant -> {"fraud_loss": B − A per transaction, "total_cost": ...}
    card_loss: np.ndarray  # arm a's cards in the test: true fraud loss
    card_transactions: np.ndarray
    known_share: float  # share of arm a's fraud loss known at the horizon
    transactions_per_day: float


def per_transaction(daily: pl.DataFrame) -> dict[str, float]:
    """An arm's fraud loss and total cost per transaction over the horizon."""
    n = max(float(daily["transactions"].sum()), 1.0)
    return {figure: float(daily[figure].sum()) / n for figure in ("fraud_loss", "total_cost")}


def truth_of(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    return {figure: b[figure] - a[figure] for figure in a}


def variants(scenario: Scenario) -> list[tuple[str, bool, bool]]:
    """The test's variants: (name, pooled labels, static crews)."""
    ab = scenario.ab
    found = [("test", ab.labels == "pooled", False)]
    if ab.decompose:
        if ab.labels == "own":
            found.append(("pooled", True, False))
        found.append(("static", True, True))
    return found


def world_runs(scenario: Scenario) -> int:
    """Horizons the A/B test simulates per replication (its variants and the static truth)."""
    if scenario.ab is None:
        return 0
    return sum(1 + 2 * static for _, _, static in variants(scenario))


def run_ab(
    scenario: Scenario,
    streams: Streams,
    world: World,
    history: History,
    replication: int,
    separate: dict[str, dict[str, float]],
    progress: Callable[[float], None] | None = None,
) -> ABReplication:
    """Every variant of the test in copies of the warmed-up ``world``; ``separate`` holds arms a
    and b's per-transaction figures from their own worlds (the truth). ``progress`` receives the
    simulated days done, over every world the test runs."""
    ab = scenario.ab
    truth = {name: truth_of(separate[ab.a], separate[ab.b]) for name, _, static in variants(scenario) if not static}
    runs = iter(range(world_runs(scenario)))

    def ticker() -> Callable[[float], None] | None:
        if progress is None:
            return None
        offset = next(runs) * scenario.horizon / DAY
        return lambda now: progress(offset + now / DAY)

    tables, main = [], None
    for name, pooled, static in variants(scenario):
        recorder = _run_test_world(scenario, streams, world, history, replication, name, pooled, static, ticker())
        tables.append(recorder.table())
        main = main or recorder
        if static:
            truth[name] = truth_of(
                *(_static_alone(scenario, streams, world, history, arm, ticker()) for arm in (ab.a, ab.b))
            )
    card_loss, card_transactions = main.card_history()
    return ABReplication(
        pl.concat(tables),
        truth,
        card_loss,
        card_transactions,
        main.known_share(),
        float(card_transactions.sum() / (1 - ab.share_b)) / (scenario.horizon / DAY),
    )


def _run_test_world(
    scenario: Scenario,
    streams: Streams,
    world: World,
    history: History,
    replication: int,
    variant: str,
    pooled: bool,
    static: bool,
    progress: Callable[[float], None] | None,
) -> ABRecorder:
    """One run of the test: arms a and b in one copy of the world, cards split between them."""
    ab = scenario.ab
    world = _copy_world(scenario, world, static)
    arms = {arm.name: arm for arm in scenario.arms}
    recorder = ABRecorder(scenario, world.population.customers, variant, replication)
    shares = (1.0, 1.0) if pooled else (1 - ab.share_b, ab.share_b)  # of the labels each learner gets
    learners = [
        arm_learner(scenario, arms[name], streams, transactions_per_day(scenario) * share)
        for name, share in zip((ab.a, ab.b), shares, strict=True)
    ]
    learner = ABLearner(*learners, recorder.is_b, pooled)
    learner.start(history)
    engine = Engine(scenario, streams, world, learner, recorder, 0.0, scenario.horizon, progress, f"ab:{variant}")
    engine.run()
    recorder.finish()
    return recorder


def _static_alone(
    scenario: Scenario,
    streams: Streams,
    world: World,
    history: History,
    arm: str,
    progress: Callable[[float], None] | None,
) -> dict[str, float]:
    """One arm alone in the world whose crews were frozen at t = 0: the static variant's truth."""
    recorder = ArmRecorder(scenario, arm, 0)
    frozen = _copy_world(scenario, world, static=True)
    run_arm(scenario, scenario.arm(arm), streams, frozen, history, recorder, progress, copy_world=False)
    return per_transaction(recorder.daily())


def _copy_world(scenario: Scenario, world: World, static: bool) -> World:
    world = copy.deepcopy(world)
    world.store.retention_s = arm_retention(scenario)
    if static:
        world.crews.freeze()
    return world
