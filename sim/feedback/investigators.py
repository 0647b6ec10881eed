"""Investigators: alerts wait in a priority queue for analysts on shift (docs/concepts.md, "Labels"; domain-facts §3).

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


class AlertQueue(simpy.PriorityStore):
    """The waiting alerts: a SimPy ``PriorityStore`` (highest expected loss out first) that also
    finds its lowest alert in O(log n). A dropped alert stays in the heap, skipped when it comes up.

    >>> env = simpy.Environment()
    >>> queue = AlertQueue(env)
    >>> for tx_id, loss in ((1, 50.0), (2, 20.0), (3, 90.0)):
    ...     _ = queue.put(simpy.PriorityItem((-loss, tx_id), Alert(tx_id, 0.0, loss, 0, True, 60.0, 0.5)))
    >>> queue.drop(queue.lowest()); len(queue), [queue.items[0].item.tx_id, queue.lowest().item.tx_id]
    (2, [3, 1])
    """

    def __init__(self, env: simpy.Environment):
        super().__init__(env)
        self._lowest: list[tuple[float, int, simpy.PriorityItem]] = []  # min-heap: the lowest alert first
        self._waiting: set[int] = set()  # tx ids in the queue
        self._dropped: set[int] = set()  # tx ids dropped but still in the heap

    def __len__(self) -> int:
        return len(self._waiting)

    def _do_put(self, event):
        item = event.item
        heapq.heappush(self.items, item)
        alert = item.item
        self._waiting.add(alert.tx_id)
        self._dropped.discard(alert.tx_id)
        heapq.heappush(self._lowest, (alert.expected_loss, -alert.tx_id, item))
        event.succeed()

    def _do_get(self, event):
        while self.items:
            item = heapq.heappop(self.items)
            tx_id = item.item.tx_id
            if tx_id in self._dropped:
                self._dropped.discard(tx_id)
                continue
            self._waiting.discard(tx_id)
            event.succeed(item)
            return

    def lowest(self) -> simpy.PriorityItem:
        """The waiting alert with the lowest expected loss (the latest transaction among ties)."""
        heap = self._lowest
        while -heap[0][1] not in self._waiting:
            heapq.heappop(heap)
        return heap[0][2]

    def drop(self, item: simpy.PriorityItem) -> None:
        """Take a waiting alert out of the queue."""
        self._waiting.discard(item.item.tx_id)
        self._dropped.add(item.item.tx_id)
        if len(self.items) > 2 * len(self._waiting) + 1024:  # forget the dropped ones now and then
            self.items = [queued for queued in self.items if queued.item.tx_id not in self._dropped]
            heapq.heapify(self.items)
            self._dropped.clear()
        if len(self._lowest) > 2 * len(self._waiting) + 1024:  # and the reviewed ones
            self._lowest = [entry for entry in self._lowest if -entry[1] in self._waiting]
            heapq.heapify(self._lowest)

    def waiting(self) -> list[simpy.PriorityItem]:
        """The waiting alerts, highest expected loss first."""
        return sorted(
            (queued for queued in self.items if queued.item.tx_id not in self._dropped),
            key=lambda queued: queued.priority,
        )


class AlertDesk:
    """The alert queue (an :class:`AlertQueue`) and the investigators working it."""

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
        self.queue = AlertQueue(env)
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
        if len(self.queue) >= self.config.queue_limit:
            worst = self.queue.lowest()
            if item.priority >= worst.priority:
                self.on_review(Review(alert, "dropped"))
                return
            self.queue.drop(worst)
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
        return [queued.item for queued in self.queue.waiting()]
