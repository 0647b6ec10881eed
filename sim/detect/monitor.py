"""Monitoring: river drift detectors on an arm's model, and the fallback to the rules.

Each tick :class:`sim.detect.deployed.Deployed` measures the watched signals of the deployed
model — its median score, a feature's mean or spread, the log loss of the labels arriving —
and feeds them, in standard deviations from their healthy level, to river
detectors (ADWIN, Page-Hinkley, KSWIN). The healthy level is a running mean
and variance of past values, each admitted only after `recover_after` without
an alarm (so a fault's first hours do not widen the band it is judged by);
detectors start once it holds a day of ticks. An alarm makes the policy fall
back to the rules. While falling back, the model keeps scoring in the shadow;
it returns when, over the last `recover_after`, every watched signal has been
within 3 standard deviations of its healthy level on average, with nine
ticks in ten within 6.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from ..schema import DriftDetector, Monitoring
from ..schema.features import COLUMN

HEALTHY_HALFLIFE_TICKS = 7 * 24.0  # the healthy reference forgets over about a week of hourly ticks
MIN_REFERENCE_TICKS = 24
RECOVERED_MEAN_SD = 3.0  # the recovery window's mean may be this far from the healthy level (faults sit 20+ away)
RECOVERED_BAND_SD = 6.0  # and nine ticks in ten within this
CLIP_SD = 10.0  # detectors see at most this: a few noisy night ticks cannot add up fast; a fault stays there
DEFAULT_SENSITIVITY = {"adwin": 0.002, "page_hinkley": 50.0, "kswin": 0.005}


def _detector(config: DriftDetector):
    from river import drift  # here, not at start-up: river's package imports take a while

    sensitivity = config.sensitivity or DEFAULT_SENSITIVITY[config.method]
    if config.method == "adwin":
        return drift.ADWIN(delta=sensitivity, clock=1, grace_period=MIN_REFERENCE_TICKS)
    if config.method == "page_hinkley":
        return drift.PageHinkley(min_instances=MIN_REFERENCE_TICKS, delta=1.0, threshold=sensitivity)
    return drift.KSWIN(alpha=sensitivity, window_size=100, stat_size=12, seed=0)


def signal_value(signal: str, X: np.ndarray, p: np.ndarray) -> float:
    """A tick's value of a per-tick signal computed from scores and features."""
    base, _, feature = signal.partition(":")
    if base == "score":  # the median: one crew attempt in a quiet night tick does not move it
        return float(np.median(p))
    if base == "score_sd":
        return float(p.std())
    column = X[:, COLUMN[feature]].astype(np.float64)
    return float(column.mean() if base == "feature" else column.std())


@dataclass
class _Watch:
    config: DriftDetector
    detector: object
    mean: float = np.nan  # running mean and variance of the signal while healthy
    var: float = 0.0
    count: int = 0
    recent: deque = field(default_factory=deque)  # (time, value) not yet vouched for
    shadow: deque = field(default_factory=deque)  # (time, z) while falling back

    def remember(self, now: float, value: float, delay: float) -> None:
        """Values join the healthy reference only after ``delay`` without an alarm, so the
        first hours of a fault, before its alarm, do not widen the band it is judged by."""
        self.recent.append((now, value))
        while self.recent and self.recent[0][0] <= now - delay:
            self._update_reference(self.recent.popleft()[1])

    def _update_reference(self, value: float) -> None:
        self.count += 1
        if np.isnan(self.mean):
            self.mean = value
            return
        alpha = 1 - 0.5 ** (1 / HEALTHY_HALFLIFE_TICKS)
        delta = value - self.mean
        self.mean += alpha * delta
        self.var = (1 - alpha) * (self.var + alpha * delta * delta)

    def z(self, value: float) -> float:
        """Standard deviations from the healthy level."""
        return (value - self.mean) / max(np.sqrt(self.var), 1e-9 + 1e-6 * abs(self.mean))

    @property
    def ready(self) -> bool:
        return self.count >= MIN_REFERENCE_TICKS

    def recovered(self, now: float, window: float) -> bool:
        """Over the last ``window`` of shadow scoring: near the healthy level on average, and nine
        ticks in ten within a band (single night-time ticks are noisy; a fault is not)."""
        while self.shadow and self.shadow[0][0] < now - window:
            self.shadow.popleft()
        if not self.ready:
            return True
        if not self.shadow or now - self.shadow[0][0] < window - 1e-9 or len(self.shadow) < 2:
            return False
        z = np.array([value for _, value in self.shadow])
        return abs(float(z.mean())) <= RECOVERED_MEAN_SD and float(np.mean(np.abs(z) <= RECOVERED_BAND_SD)) >= 0.9


@dataclass
class Monitor:
    """Watches one arm's model; says whether the policy should fall back to the rules."""

    config: Monitoring
    watches: list[_Watch] = field(default_factory=list)
    falling_back: bool = False
    events: list[tuple[float, str, str]] = field(default_factory=list)  # (time, kind, detail)
    _since: float = 0.0

    def __post_init__(self) -> None:
        self.watches = [_Watch(c, _detector(c)) for c in self.config.detectors]

    @property
    def active(self) -> bool:
        return bool(self.watches)

    def observe(self, now: float, values: dict[str, float]) -> None:
        """Feed one tick's signal values; raise alarms, start or end a fallback."""
        for watch in self.watches:
            value = values.get(watch.config.signal)
            if value is None or not np.isfinite(value):
                continue
            if self.falling_back:
                if watch.ready:
                    watch.shadow.append((now, float(watch.z(value))))
                continue
            if watch.ready:
                watch.detector.update(float(np.clip(watch.z(value), -CLIP_SD, CLIP_SD)))
                if watch.detector.drift_detected:
                    self.events.append((now, "drift", watch.config.signal))
                    if self.config.fallback:
                        self._fall_back(now, watch.config.signal)
                        continue
            watch.remember(now, value, self.config.recover_after)
        window = self.config.recover_after
        if self.falling_back and now - self._since >= window and all(w.recovered(now, window) for w in self.watches):
            self.falling_back = False
            self.events.append((now, "recover", ""))
            for watch in self.watches:
                watch.detector = _detector(watch.config)
                watch.shadow.clear()

    def _fall_back(self, now: float, signal: str) -> None:
        self.falling_back = True
        self._since = now
        self.events.append((now, "fallback", signal))
        for watch in self.watches:
            watch.recent.clear()  # values since the last vouched-for one may be the fault's
