"""Investigators: alerts wait in a priority queue for analysts on shift (DESIGN §4, DOMAIN §3).

An approved transaction whose expected loss passes the policy's threshold
raises an alert at its own time. Alerts wait in a bounded SimPy
``PriorityStore``, highest expected loss first; when it is full the lowest
alert is dropped. Each investigator is a process: on duty, take the top
alert, review it for its drawn review time, give a verdict (wrong at the
configured error rates). The verdict is a label event at the end of the
review; a fraud verdict blocks the card at once.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import simpy

from ..schema import WEEKDAYS, Investigators
from ..units import DAY, HOUR


@dataclass(frozen=True)
class Alert:
    tx_id: int
    t: float  # when the transaction (and its alert) happened
    expected_loss: float
    card: int
    is_fraud: bool
    review_time: float
    verdict_draw: float  # uniform: compared with the error rates


@dataclass(frozen=True)
class Review:
    """What happened to an alert."""

    alert: Alert
    outcome: str  # "reviewed", "dropped" (queue full) or "pending" (horizon reached)
    started_at: float = np.nan
    done_at: float = np.nan
    verdict: int = -1  # 1 fraud, 0 legitimate, -1 none


class Shift:
    """When investigators work. t = 0 is Monday 00:00.

    >>> shift = Shift((9, 17), ["mon", "tue", "wed", "thu", "fri"])
    >>> shift.on_duty(9 * 3600), shift.on_duty(17 * 3600), shift.wait(5 * 86400)  # Saturday 00:00
    (True, False, 205200.0)
    """

    def __init__(self, hours, days):
        self.always = hours == "24/7"
        if not self.always:
            self.start, self.end = hours[0] * HOUR, hours[1] * HOUR
            self.days = {WEEKDAYS.index(d) for d in days}

    def on_duty(self, t: float) -> bool:
        if self.always:
            return True
        day = int(np.floor(t / DAY))
        return day % 7 in self.days and self.start <= t - day * DAY < self.end

    def wait(self, t: float) -> float:
        """Seconds until the next moment on duty (0 if on duty now)."""
        if self.on_duty(t):
            return 0.0
        day = int(np.floor(t / DAY))
        for ahead in range(8):
            candidate = (day + ahead) * DAY + self.start
            if candidate >= t and (day + ahead) % 7 in self.days:
                return candidate - t
        raise AssertionError("a shift with working days always has a next start")

    def duty_seconds(self, day: int) -> float:
        """Seconds on duty in ``day``, per investigator."""
        if self.always:
            return DAY
        return self.end - self.start if day % 7 in self.days else 0.0


class AlertDesk:
    """The alert queue (a SimPy ``PriorityStore``) and the investigators working it."""

    def __init__(
        self,
        env: simpy.Environment,
        config: Investigators,
        on_review: Callable[[Review], None],
    ):
        self.env = env
        self.config = config
        self.shift = Shift(config.hours, config.days)
        self.on_review = on_review
        self.queue = simpy.PriorityStore(env)
        for _ in range(config.count):
            env.process(self._investigator())

    @property
    def active(self) -> bool:
        return self.config.count > 0

    def submit(self, alerts: list[Alert]) -> None:
        """Alerts of one tick, in time order: each joins the queue at its own time."""
        if alerts:
            self.env.process(self._arrivals(alerts))

    def _arrivals(self, alerts: list[Alert]) -> Iterator[simpy.Event]:
        for alert in alerts:
            if alert.t > self.env.now:
                yield self.env.timeout(alert.t - self.env.now)
            self._enqueue(alert)

    def _enqueue(self, alert: Alert) -> None:
        item = simpy.PriorityItem((-alert.expected_loss, alert.tx_id), alert)
        waiting = self.queue.items
        if len(waiting) >= self.config.queue_limit:
            worst = max(waiting, key=lambda queued: queued.priority)
            if item.priority >= worst.priority:
                self.on_review(Review(alert, "dropped"))
                return
            waiting.remove(worst)
            heapq.heapify(waiting)
            self.on_review(Review(worst.item, "dropped"))
        self.queue.put(item)

    def _investigator(self) -> Iterator[simpy.Event]:
        env, config = self.env, self.config
        while True:
            wait = self.shift.wait(env.now)
            if wait > 0:
                yield env.timeout(wait)
            item = yield self.queue.get()
            if not self.shift.on_duty(env.now):  # it came after the shift ended: back it goes
                self.queue.put(item)
                continue
            alert = item.item
            started = env.now
            yield env.timeout(alert.review_time)
            if alert.is_fraud:
                verdict = int(alert.verdict_draw >= config.miss_rate)
            else:
                verdict = int(alert.verdict_draw < config.false_alarm_rate)
            self.on_review(Review(alert, "reviewed", started, env.now, verdict))

    def pending(self) -> list[Alert]:
        """Alerts still waiting (for the record at the horizon)."""
        return [queued.item for queued in sorted(self.queue.items, key=lambda queued: queued.priority)]
