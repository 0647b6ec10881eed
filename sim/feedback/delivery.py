"""Label delivery and card blocking: what reaches the world at a tick boundary, and the
investigators' verdicts between ticks (docs/concepts.md, "Time and ticks" and "Card blocking")."""

from __future__ import annotations

import numpy as np
import simpy

from ..schema import Scenario
from ..world.state import World
from .investigators import Alert, AlertDesk, Review
from .labels import SOURCE_CODE, LabelEvents


class Delivery:
    """Blocks the cards whose block is due, hands the features the label events that have
    arrived, and turns the investigators' verdicts into label events and blocks. ``recorder``
    (None in the warm-up) records what was delivered and blocked."""

    def __init__(self, env: simpy.Environment, scenario: Scenario, world: World, recorder):
        self.env = env
        self.scenario = scenario
        self.world = world
        self.recorder = recorder
        self.desk = AlertDesk(env, scenario.labels.investigators, self.reviewed)

    def deliver(self, now: float) -> LabelEvents:
        """Advance the features to ``now``, block the cards due, and return the label events
        that have arrived (the features have learnt their fraud labels)."""
        world, recorder = self.world, self.recorder
        world.features.advance(now)
        noticed = world.blocks.pop_due(now)
        blocked = world.crews.block(noticed) if len(noticed) else 0
        due = world.queue.pop_due(now)
        if len(due) == 0:
            if blocked and recorder is not None:
                recorder.blocked(now, blocked)
            return due
        fraud = np.flatnonzero(due.value == 1)
        if len(fraud):
            fraud_ids = due.tx_id[fraud]
            world.features.learn_labels(
                fraud_ids,
                world.store.merchant(fraud_ids),
                due.value[fraud],
                due.label_at[fraud],
                oldest_id=world.store.live_from,
            )
            blocking = world.blocks.blocks_on(due.source[fraud])
            if blocking.any():
                blocked += world.crews.block(world.store.card(fraud_ids[blocking]))
        if recorder is not None:
            recorder.labels(due, now)
            recorder.blocked(now, blocked)
        return due

    def alert(self, alerts: list[Alert]) -> None:
        """Alerts raised this tick join the investigators' queue, each at its own time."""
        self.desk.submit(alerts)

    def reviewed(self, review: Review) -> None:
        """An investigator's verdict (or a dropped alert), at its own time between ticks."""
        now, recorder = self.env.now, self.recorder
        if review.outcome == "reviewed":
            alert = review.alert
            self.world.queue.push(
                LabelEvents(
                    np.array([alert.tx_id], np.int64),
                    np.array([SOURCE_CODE["investigator"]], np.int8),
                    np.array([review.verdict], np.int8),
                    np.array([now]),
                    np.array([alert.t]),
                )
            )
            if review.verdict == 1:  # a fraud label before maturity: the transaction won't mature as legitimate
                due = alert.t + self.scenario.labels.maturity.window
                waiting = self.world.queue.withdraw_maturity(alert.tx_id, due)
                if waiting and alert.is_fraud and recorder is not None:
                    recorder.maturity_withdrawn(alert.t)
                if self.scenario.blocking.investigator:
                    blocked = self.world.crews.block(np.array([alert.card]))
                    if recorder is not None:
                        recorder.blocked(now, blocked)
        if recorder is not None:
            recorder.review(review, now)
