"""``summary.json`` as frozen records: the run's figures with their intervals, typed.

Each record's fields are in the order ``summary.json`` writes its keys, so
``Summary.to_json()`` gives the file's content byte for byte (written by
:func:`sim.outputs.write_json`), and ``Summary.from_json()`` reads it back, from
this fraudsim or an older one of the same ``schema_version``. Reports and the
command line read these records, never the nested dicts (docs/outputs.md
documents every key).

>>> cost = Interval(100.0, 90.0, 110.0)
>>> Interval.from_json(cost.to_json()) == cost
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, ClassVar

SCHEMA_VERSION = 1


def _json(value: Any) -> Any:
    if is_dataclass(value):
        return value.to_json()
    if isinstance(value, tuple | list):
        return [_json(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _json(item) for key, item in value.items()}
    return value


class _Record:
    """``to_json`` for a frozen dataclass: its fields in order, nested records as their JSON;
    the fields named in ``OPTIONAL`` are left out when None or empty (the file omits them)."""

    OPTIONAL: ClassVar[frozenset[str]] = frozenset()

    def to_json(self) -> dict[str, Any]:
        out = {}
        for field in fields(self):  # type: ignore[arg-type]
            value = getattr(self, field.name)
            if field.name in self.OPTIONAL and (value is None or value == ()):
                continue
            out[field.name] = _json(value)
        return out


@dataclass(frozen=True)
class Interval(_Record):
    """A mean over replications and its 95 % Student-t interval (null bounds with one
    replication; a null mean where the figure is undefined, as a share of no headroom)."""

    mean: float | None
    ci_low: float | None
    ci_high: float | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Interval:
        return cls(data["mean"], data["ci_low"], data["ci_high"])

    @property
    def bounded(self) -> bool:
        """True when the interval has bounds (more than one replication)."""
        return self.ci_low is not None


@dataclass(frozen=True)
class Counts(_Record):
    """Means over replications of an arm's counts."""

    transactions: float
    fraud_attempts: float
    fraud_approved: float
    declines: float
    legit_declined: float

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Counts:
        return cls(*(data[field.name] for field in fields(cls)))


@dataclass(frozen=True)
class ArmSummary(_Record):
    """One arm: its money with intervals, its mean counts and its rank by mean total cost."""

    learner: str
    fraud_loss: Interval
    friction: Interval
    review_cost: Interval
    total_cost: Interval
    counts: Counts
    rank: int

    MONEY: ClassVar[tuple[str, ...]] = ("fraud_loss", "friction", "review_cost", "total_cost")

    def money(self, name: str) -> Interval:
        """One of :attr:`MONEY` by name."""
        if name not in self.MONEY:
            raise KeyError(name)
        return getattr(self, name)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ArmSummary:
        money = {name: Interval.from_json(data[name]) for name in cls.MONEY}
        return cls(data["learner"], **money, counts=Counts.from_json(data["counts"]), rank=data["rank"])


@dataclass(frozen=True)
class Difference(_Record):
    """``arm`` − ``baseline`` per replication (paired by seed); ``*_relative`` as shares of the
    baseline's own figure."""

    arm: str
    baseline: str
    total_cost: Interval
    total_cost_relative: Interval
    fraud_loss: Interval
    fraud_loss_relative: Interval

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Difference:
        return cls(data["arm"], data["baseline"], *_intervals(cls, data, start=2))


@dataclass(frozen=True)
class Headroom(_Record):
    """What instant truth saves over never learning again: static − oracle per replication."""

    total_cost: Interval
    total_cost_relative: Interval
    fraud_loss: Interval
    fraud_loss_relative: Interval

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Headroom:
        return cls(*_intervals(cls, data))


@dataclass(frozen=True)
class Recovered(_Record):
    """The share of the headroom an arm recovers, by total cost and by fraud loss."""

    total_cost: Interval
    fraud_loss: Interval

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Recovered:
        return cls(*_intervals(cls, data))


@dataclass(frozen=True)
class FreshLabels(_Record):
    """The value of fresh labels: the static and oracle arms, the headroom between them and
    what each other arm recovers of it."""

    static: str
    oracle: str
    headroom: Headroom
    recovered: Mapping[str, Recovered]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FreshLabels:
        recovered = {arm: Recovered.from_json(entry) for arm, entry in data["recovered"].items()}
        return cls(data["static"], data["oracle"], Headroom.from_json(data["headroom"]), recovered)


@dataclass(frozen=True)
class BiasSources(_Record):
    """The A/B read-out's bias in parts that add up; the parts after ``label_delay`` only when
    the test was decomposed (``own_labels`` only when the test used its own labels)."""

    label_delay: Interval
    own_labels: Interval | None = None
    crews: Interval | None = None
    other: Interval | None = None

    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"own_labels", "crews", "other"})

    def parts(self) -> dict[str, Interval]:
        """The parts measured, by name, in order."""
        return {field.name: getattr(self, field.name) for field in fields(self) if getattr(self, field.name)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BiasSources:
        return cls(**{name: Interval.from_json(entry) for name, entry in data.items()})


@dataclass(frozen=True)
class ABFigure(_Record):
    """One figure of the A/B test (B − A per transaction): truth, read-out, eventual, bias."""

    estimand: str
    truth: Interval
    estimate: Interval
    eventual: Interval
    bias: Interval
    interval_half_width: float
    covers_truth: float
    bias_sources: BiasSources

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ABFigure:
        return cls(
            data["estimand"],
            *(Interval.from_json(data[name]) for name in ("truth", "estimate", "eventual", "bias")),
            data["interval_half_width"],
            data["covers_truth"],
            BiasSources.from_json(data["bias_sources"]),
        )


@dataclass(frozen=True)
class ABPlan(_Record):
    """The power analysis a team would do before the test, against what the tests showed."""

    min_effect: float
    per_transaction_sd: float
    label_coverage: float
    transactions_needed: int
    days_needed: float
    transactions_per_day: int
    planned_half_width: float
    observed_half_width: float
    settled_on_day: tuple[int | None, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ABPlan:
        values = {field.name: data[field.name] for field in fields(cls)}
        return cls(**(values | {"settled_on_day": tuple(data["settled_on_day"])}))


@dataclass(frozen=True)
class ABSummary(_Record):
    """The ``ab`` entry: the test's set-up, each figure's verdict, the crews and the plan."""

    a: str
    b: str
    share_b: float
    labels: str
    min_effect: float
    read_out_day: int
    replications: int
    fraud_loss: ABFigure
    total_cost: ABFigure
    crews: Mapping[str, Interval]  # per variant: the crews' share of attempts on b's cards
    plan: ABPlan

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ABSummary:
        head = [data[name] for name in ("a", "b", "share_b", "labels", "min_effect", "read_out_day", "replications")]
        return cls(
            *head,
            ABFigure.from_json(data["fraud_loss"]),
            ABFigure.from_json(data["total_cost"]),
            {variant: Interval.from_json(entry) for variant, entry in data["crews"].items()},
            ABPlan.from_json(data["plan"]),
        )


@dataclass(frozen=True)
class Summary(_Record):
    """The content of ``summary.json``."""

    schema_version: int
    scenario: str
    seed: int
    replications: int
    horizon_days: float
    warmup_days: float
    currency: str
    ranking: tuple[str, ...]  # lowest mean total cost first
    arms: Mapping[str, ArmSummary]  # in the scenario's order
    differences: tuple[Difference, ...] = ()
    fresh_labels: FreshLabels | None = None
    ab: ABSummary | None = None
    warnings: tuple[str, ...] = ()
    changes: tuple[str, ...] = ()  # what the run changed of the scenario's file

    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"fresh_labels", "ab", "warnings", "changes"})

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Summary:
        """Read a ``summary.json`` of this ``schema_version`` (one written before ``differences``
        existed reads as having none). Raises ``ValueError`` for another version and ``KeyError``
        or ``TypeError`` for a file of another shape."""
        if data.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(f"schema_version {data.get('schema_version')!r}; this fraudsim reads {SCHEMA_VERSION}")
        fresh, ab = data.get("fresh_labels"), data.get("ab")
        return cls(
            *(data[name] for name in ("schema_version", "scenario", "seed", "replications", "horizon_days")),
            data["warmup_days"],
            data["currency"],
            tuple(data["ranking"]),
            {arm: ArmSummary.from_json(entry) for arm, entry in data["arms"].items()},
            tuple(Difference.from_json(entry) for entry in data.get("differences", ())),
            None if fresh is None else FreshLabels.from_json(fresh),
            None if ab is None else ABSummary.from_json(ab),
            tuple(data.get("warnings", ())),
            tuple(data.get("changes", ())),
        )

    def difference(self, baseline: str, arm: str) -> Difference | None:
        """The paired difference of ``arm`` against ``baseline``, if the summary has it."""
        return next((d for d in self.differences if (d.baseline, d.arm) == (baseline, arm)), None)


def _intervals(cls: type, data: Mapping[str, Any], start: int = 0) -> list[Interval]:
    """The record's interval fields from ``start`` on, read from ``data`` by name."""
    return [Interval.from_json(data[field.name]) for field in fields(cls)[start:]]
