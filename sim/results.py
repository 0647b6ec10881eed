"""What is recorded about one arm in one replication: daily sums always, the ledger on request.

The engine hands each tick's arrays, label events and alert reviews to a
:class:`Recorder`; it never formats output. :class:`ArmRecorder` is the arm's:
daily sums are added per tick (a tick never spans two days), and every table a
report needs is built here from those sums, so reports never need the ledger.
The A/B test's recorder (:class:`sim.ab.world.ABRecorder`) is the other.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import polars as pl
import pyarrow as pa

from . import metrics
from .coverage import COVERAGE_SAMPLE, CoverageTracker
from .detect.policy import decline_cost
from .feedback.delays import build_delay
from .feedback.investigators import Review, Shift
from .feedback.labels import SOURCE_CODE, SOURCES, LabelEvents
from .ledger import Ledger, nullable
from .quality import DailyRanking, QualityTracker
from .schema import Scenario
from .schema.features import FEATURES
from .units import DAY
from .world.traffic import Transactions

if TYPE_CHECKING:
    from .detect.policy import Decisions
    from .feedback.investigators import Alert
    from .learn.history import History

# Daily sums, in order; docs/outputs.md documents each. Counts are integers.
COUNTS = (
    "transactions",
    "fraud_attempts",
    "fraud_approved",
    "declines",
    "legit_declined",
    "explored",
    "explored_fraud",
    "alerts",
    "alerts_dropped",
    "reviews",
    "frauds_confirmed",
    "investigator_misses",
    "investigator_false_alarms",
    "cards_blocked",
    "labels_arrived",
    "fraud_labels_arrived",
    "friendly_fraud_labels",
    "fraud_labelled_legit",
    "fallback_transactions",
)
AMOUNTS = (
    "explored_score",
    "fraud_amount_attempted",
    "fraud_amount_approved",
    "fraud_loss",
    "friction",
    "review_cost",
    "total_cost",
    "predicted_fraud",
    "review_wait_s",
    "investigator_busy_s",
    "investigator_duty_s",
)
DAILY_SUMS = COUNTS + AMOUNTS
_COL = {name: i for i, name in enumerate(DAILY_SUMS)}
NOT_SUMMED = ("investigator_duty_s", "model_staleness_s", "average_precision", "card_precision")  # not sums
RELIABILITY_BINS = 10
_RELIABILITY_EDGES = np.arange(RELIABILITY_BINS + 1) / RELIABILITY_BINS
# The daily sums each tick adds to, in the order the engine has always added them.
_TICK_SUMS = (
    "transactions",
    "fraud_attempts",
    "fraud_approved",
    "declines",
    "legit_declined",
    "explored",
    "explored_fraud",
    "explored_score",
    "fallback_transactions",
    "alerts",
    "fraud_amount_attempted",
    "fraud_amount_approved",
    "fraud_loss",
    "friction",
    "total_cost",
    "predicted_fraud",
)
_TICK_COLUMNS = np.array([_COL[name] for name in _TICK_SUMS])

# Strings for the ledger, taken by code in Arrow (numpy would build a wide unicode array first).
_SOURCE_NAMES = pa.array(SOURCES)
_DECISIONS = pa.array(["approve", "decline"])


def review_capacity(scenario: Scenario) -> int | None:
    """Cards the investigators can review in a working day (count × shift hours ÷ the mean review
    time): the k of card precision@k; None without investigators."""
    investigators = scenario.labels.investigators
    if investigators.count == 0:
        return None
    shift = Shift(investigators.hours, investigators.days)
    duty = max(shift.duty_seconds(day) for day in range(7))
    return max(1, round(investigators.count * duty / build_delay(investigators.review_time).mean))


class Recorder(Protocol):
    """What the engine tells a recorder while a world runs, in the order it happens.

    Recorders subclass it explicitly. A recorder must take the ticks, the label deliveries and
    the alert reviews; the other observations (label events scheduled, maturity labels
    withdrawn, cards blocked) are recorded only by those that need them, and ignored by default.
    """

    @abstractmethod
    def tick(
        self,
        now: float,
        tx: Transactions,
        ids: np.ndarray,
        X: np.ndarray,
        p: np.ndarray,
        decisions: Decisions,
        staleness: float = np.nan,
        falling_back: bool = False,
    ) -> None:
        """A tick's transactions (ids ``ids``), the features ``X`` and scores ``p`` they were
        scored with and the decisions taken at ``now``; ``staleness`` is the age of the newest
        fraud the model learnt from, ``falling_back`` whether the rules decided because monitoring said
        the model was broken."""

    @abstractmethod
    def labels(self, events: LabelEvents, delivered_at: float | None) -> None:
        """Label events handed to the learner at ``delivered_at`` (None: still pending at the end)."""

    @abstractmethod
    def review(self, review: Review, now: float) -> None:
        """An alert reviewed, dropped because the queue was full, or still pending."""

    def labels_created(self, events: LabelEvents, first_id: int, is_fraud: np.ndarray) -> None:
        """Label events scheduled for the transactions of the tick just recorded (ids from
        ``first_id``; ``is_fraud`` their truth), long before they are delivered."""

    def maturity_withdrawn(self, tx_time: float) -> None:
        """A fraud (at ``tx_time``) whose maturity label was withdrawn: an investigator's fraud
        verdict came first, so it no longer matures as legitimate."""

    def blocked(self, now: float, crew_cards: int) -> None:
        """Stolen cards the crews lost at ``now`` because the issuer blocked them."""


class ArmRecorder(Recorder):
    """Everything recorded about one arm in one replication."""

    def __init__(self, scenario: Scenario, arm: str, replication: int, ledger_dir: Path | None = None):
        self.scenario = scenario
        self.arm = arm
        self.replication = replication
        self.days = int(np.ceil(scenario.horizon / DAY))
        self.sums = np.zeros((self.days, len(DAILY_SUMS)))
        self.label_sums = np.zeros((self.days, len(SOURCES), 2))  # events, fraud events
        investigators = scenario.labels.investigators
        shift = Shift(investigators.hours, investigators.days)
        self.sums[:, _COL["investigator_duty_s"]] = [
            investigators.count * shift.duty_seconds(d) for d in range(self.days)
        ]
        expected = max(scenario.population.customers * scenario.population.tx_per_customer_day * self.days, 1.0)
        self.coverage = CoverageTracker(min(1.0, COVERAGE_SAMPLE / expected))
        self.quality = QualityTracker(scenario.metrics.window, expected / self.days)
        self.staleness = np.full(self.days, np.nan)  # age of the newest fraud the model learnt from, at day end
        self.ranking = DailyRanking(self.days, review_capacity(scenario))
        self.reliability = np.zeros((2, 4, RELIABILITY_BINS))  # (count, amount) × (rows, weight, Σp, Σy)
        self._open_day = 0  # the first day whose quality is not yet measured
        self.first_tx_id: int | None = None  # the ledger covers transactions from t = 0
        self.ledger = Ledger(ledger_dir, arm, replication) if ledger_dir is not None else None

    def _close_days(self, today: int) -> None:
        """Measure model quality for every finished day before ``today``."""
        while self._open_day < min(today, self.days):
            self.quality.close_day(self._open_day)
            self.ranking.close_day(self._open_day)
            self._open_day += 1

    def _row(self, time: float) -> np.ndarray | None:
        day = int(time // DAY)
        return self.sums[day] if 0 <= day < self.days else None

    # ----------------------------------------------------------------- transactions

    def tick(
        self,
        now: float,
        tx: Transactions,
        ids: np.ndarray,
        X: np.ndarray,
        p: np.ndarray,
        decisions: Decisions,
        staleness: float = np.nan,
        falling_back: bool = False,
    ) -> None:
        policy = self.scenario.policy
        declined, explored, amount = decisions.declined, decisions.explored, tx.amount
        fraud = tx.is_fraud
        approved = ~declined
        self._close_days(int(now // DAY))
        row = self.sums[int(now // DAY)]
        n = len(tx)
        values = dict.fromkeys(_TICK_SUMS, 0.0)
        values["transactions"] = n
        values["declines"] = np.count_nonzero(declined)
        values["alerts"] = np.count_nonzero(decisions.alerted)
        values["fallback_transactions"] = n * falling_back
        legit_declined = declined
        if fraud.any():  # sums over fraud only where there is some (each sum as the columns define it)
            approved_fraud = fraud & approved
            fraud_amount_approved = float(amount[approved_fraud].sum())
            values["fraud_attempts"] = np.count_nonzero(fraud)
            values["fraud_approved"] = np.count_nonzero(approved_fraud)
            values["fraud_amount_attempted"] = amount[fraud].sum()
            values["fraud_amount_approved"] = fraud_amount_approved
            values["fraud_loss"] = fraud_amount_approved + policy.fraud_fee * int(np.count_nonzero(approved_fraud))
            legit_declined = declined & ~fraud
        values["legit_declined"] = np.count_nonzero(legit_declined)
        if values["legit_declined"]:
            values["friction"] = float(decline_cost(amount[legit_declined], policy).sum())
        if explored.any():
            values["explored"] = np.count_nonzero(explored)
            values["explored_fraud"] = np.count_nonzero(explored & fraud)
            values["explored_score"] = p[explored].sum()
        values["total_cost"] = values["fraud_loss"] + values["friction"]
        values["predicted_fraud"] = np.dot(p[approved], amount[approved])
        row[_TICK_COLUMNS] += np.array([float(values[name]) for name in _TICK_SUMS])
        self.staleness[int(now // DAY)] = staleness if np.isfinite(staleness) else np.nan
        self._add_reliability(fraud, p, amount)
        if self.first_tx_id is None:
            self.first_tx_id = int(ids[0])
        self.coverage.track(ids, tx.t, fraud)
        self.quality.add(ids, tx.t, p, tx.amount, fraud, declined)
        self.ranking.add(tx.card.copy(), p.copy(), fraud.copy())
        if self.ledger is not None:
            self.ledger.append(
                "transactions",
                {
                    "tx_id": ids,
                    "t": tx.t,
                    "customer": tx.card,
                    "merchant": tx.merchant,
                    "amount": tx.amount,
                    "cnp": tx.cnp,
                    "is_fraud": fraud,
                    "crew": tx.crew,
                    "tactic": tx.tactic,
                    "stolen_card": tx.stolen_card,
                    "score": p,
                    "decision": _DECISIONS.take(declined.view(np.int8)),
                    "explored": decisions.explored,
                    "propensity": decisions.propensity,
                    "alerted": decisions.alerted,
                },
            )
            self.ledger.append("features", {"tx_id": ids, **dict(zip(FEATURES, X.T, strict=True))})

    def _add_reliability(self, fraud: np.ndarray, p: np.ndarray, amount: np.ndarray) -> None:
        """This tick's :func:`metrics.bin_sums` by count and by amount, without re-validating its inputs."""
        bins = RELIABILITY_BINS
        index = metrics.bin_index(_RELIABILITY_EDGES, p)
        rows = np.bincount(index, minlength=bins).astype(np.float64)
        fraud_index = index[fraud]
        fraud_rows = np.bincount(fraud_index, minlength=bins).astype(np.float64)
        # Weighted by 1 (the count) and by amount; Σ w·y only over fraud, where y = 1.
        self.reliability[0] += np.stack([rows, rows, np.bincount(index, p, bins), fraud_rows])
        self.reliability[1] += np.stack(
            [
                rows,
                np.bincount(index, amount, bins),
                np.bincount(index, amount * p, bins),
                np.bincount(fraud_index, amount[fraud], bins),
            ]
        )

    # ----------------------------------------------------------------- labels

    def labels_created(self, events: LabelEvents, first_id: int, is_fraud: np.ndarray) -> None:
        """Label events scheduled for a tick's transactions: noise counts and coverage."""
        if len(events) == 0:
            return
        truth = is_fraud[events.tx_id - first_id]
        row = self.sums[int(events.tx_time[0] // DAY)] if len(events) else None
        if row is not None:
            row[_COL["friendly_fraud_labels"]] += int(((events.value == 1) & ~truth).sum())
            maturity = events.source == SOURCE_CODE["maturity"]
            row[_COL["fraud_labelled_legit"]] += int((maturity & truth).sum())
        self.coverage.label_created(events.tx_id, events.value, events.label_at)

    def maturity_withdrawn(self, tx_time: float) -> None:
        if (row := self._row(tx_time)) is not None:
            row[_COL["fraud_labelled_legit"]] -= 1

    def labels(self, events: LabelEvents, delivered_at: float | None) -> None:
        if delivered_at is not None and (row := self._row(delivered_at)) is not None:
            day = int(delivered_at // DAY)
            row[_COL["labels_arrived"]] += len(events)
            row[_COL["fraud_labels_arrived"]] += int(events.value.sum())
            self.label_sums[day, :, 0] += np.bincount(events.source, minlength=len(SOURCES))
            self.label_sums[day, :, 1] += np.bincount(events.source, events.value, minlength=len(SOURCES))
            self.quality.label(events.tx_id, events.value)
        if self.ledger is not None and self.first_tx_id is not None:
            mine = events.take(events.tx_id >= self.first_tx_id)
            delivered = np.full(len(mine), np.nan if delivered_at is None else delivered_at)
            self.ledger.append(
                "labels",
                {
                    "tx_id": mine.tx_id,
                    "source": _SOURCE_NAMES.take(mine.source),
                    "value": mine.value,
                    "label_at": mine.label_at,
                    "delivered_at": nullable(delivered),
                },
            )

    # ----------------------------------------------------------------- investigators and blocks

    def review(self, review: Review, now: float) -> None:
        alert = review.alert
        if review.outcome == "reviewed":
            if (row := self._row(review.done_at)) is not None:
                row[_COL["reviews"]] += 1
                row[_COL["review_cost"]] += self.scenario.policy.review_cost
                row[_COL["total_cost"]] += self.scenario.policy.review_cost
                row[_COL["frauds_confirmed"]] += int(alert.is_fraud and review.verdict == 1)
                row[_COL["investigator_misses"]] += int(alert.is_fraud and review.verdict == 0)
                row[_COL["investigator_false_alarms"]] += int(not alert.is_fraud and review.verdict == 1)
            if (row := self._row(review.started_at)) is not None:
                row[_COL["review_wait_s"]] += review.started_at - alert.t
                row[_COL["investigator_busy_s"]] += review.done_at - review.started_at
            self.coverage.label(np.array([alert.tx_id]), np.array([review.verdict]), np.array([review.done_at]))
        elif review.outcome == "dropped" and (row := self._row(now)) is not None:
            row[_COL["alerts_dropped"]] += 1
        if self.ledger is not None:
            self._ledger_alert(review)

    def _ledger_alert(self, review: Review) -> None:
        alert = review.alert
        self.ledger.append(
            "alerts",
            {
                "tx_id": np.array([alert.tx_id], np.int64),
                "alerted_at": np.array([alert.t]),
                "expected_loss": np.array([alert.expected_loss]),
                "is_fraud": np.array([alert.is_fraud]),
                "outcome": np.array([review.outcome]),
                "review_started_at": nullable(np.array([review.started_at])),
                "review_done_at": nullable(np.array([review.done_at])),
                "verdict": np.array([review.verdict], np.int8),
            },
        )

    def blocked(self, now: float, crew_cards: int) -> None:
        if crew_cards and (row := self._row(now)) is not None:
            row[_COL["cards_blocked"]] += crew_cards

    def finish(self, pending_labels: Iterable[LabelEvents], pending_alerts: list[Alert], history: History) -> None:
        """Record what is still pending at the horizon (the labels in parts, in arrival order) and
        close the ledger (its stream begins with the ``history`` the arm started from)."""
        self._close_days(self.days)
        for events in pending_labels:
            self.labels(events, None)
        if self.ledger is not None:
            for alert in pending_alerts:
                self._ledger_alert(Review(alert, "pending"))
            self.ledger.close(history)

    # ----------------------------------------------------------------- tables

    def _keys(self, n: int) -> dict[str, object]:
        return {"arm": [self.arm] * n, "replication": np.full(n, self.replication, np.int32)}

    def daily(self) -> pl.DataFrame:
        """One row per day of the horizon."""
        columns: dict[str, object] = {**self._keys(self.days), "day": np.arange(self.days, dtype=np.int32)}
        for name, i in _COL.items():
            values = self.sums[:, i]
            columns[name] = values.astype(np.int64) if name in COUNTS else values
        columns["model_staleness_s"] = self.staleness
        columns["average_precision"] = self.ranking.average_precision
        columns["card_precision"] = self.ranking.card_precision
        return pl.DataFrame(columns)

    def reliability_table(self) -> pl.DataFrame:
        """Calibration over the horizon against the truth, by count and by amount."""
        edges = np.arange(RELIABILITY_BINS + 1) / RELIABILITY_BINS
        frames = []
        for k, weighting in enumerate(("count", "amount")):
            rows, weight, sum_p, sum_y = self.reliability[k]
            table = metrics.reliability_from_sums(edges, rows, weight, sum_p, sum_y)
            frames.append(
                pl.DataFrame({**self._keys(table.height), "weighting": [weighting] * table.height}).hstack(table)
            )
        return pl.concat(frames)

    def labels_daily(self) -> pl.DataFrame:
        """Label events delivered per day and source."""
        n = self.days * len(SOURCES)
        return pl.DataFrame(
            {
                **self._keys(n),
                "day": np.repeat(np.arange(self.days, dtype=np.int32), len(SOURCES)),
                "source": list(SOURCES) * self.days,
                "events": self.label_sums[:, :, 0].reshape(-1).astype(np.int64),
                "fraud_events": self.label_sums[:, :, 1].reshape(-1).astype(np.int64),
            }
        )

    def crews(self, rows: list[dict], tactics: dict[str, tuple[str, ...]]) -> None:
        """Every crew's daily books: attempts, approvals, profit and the share of each tactic."""
        names = sorted({name for group in tactics.values() for name in group})
        self._crew_columns = ["tactic_" + name.replace("-", "_") for name in names]
        records = []
        for row in rows:
            record = {key: value for key, value in row.items() if key != "tactic_attempts"}
            shares = row["tactic_attempts"] / max(row["attempts"], 1)
            by_name = dict(zip(tactics[row["group"]], shares, strict=True))
            for name, column in zip(names, self._crew_columns, strict=True):
                record[column] = float(by_name.get(name, 0.0))
            records.append(record)
        self._crew_rows = records

    def crews_daily(self) -> pl.DataFrame:
        schema = {
            "day": pl.Int32,
            "crew": pl.Int32,
            "group": pl.String,
            "strategy": pl.String,
            "attempts": pl.Int64,
            "approved": pl.Int64,
            "amount_approved": pl.Float64,
            "cards_received": pl.Int64,
            "profit": pl.Float64,
        } | {c: pl.Float64 for c in getattr(self, "_crew_columns", [])}
        table = pl.DataFrame(getattr(self, "_crew_rows", []), schema=schema, orient="row")
        return pl.DataFrame(self._keys(table.height)).hstack(table).sort(["day", "crew"])

    def quality_daily(self) -> pl.DataFrame:
        table = self.quality.table()
        return pl.DataFrame(self._keys(table.height)).hstack(table)

    def label_coverage(self) -> pl.DataFrame:
        table = self.coverage.table()
        return pl.DataFrame(self._keys(table.height)).hstack(table)
