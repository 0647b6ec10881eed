"""The scenario: everything one simulation needs."""

from __future__ import annotations

from typing import Any

from pydantic import Field, PrivateAttr, model_validator

from ..units import DAY, format_duration
from .arms import DEFAULT_ARMS, Arm
from .base import (
    MAX_HISTORY,
    MAX_HORIZON,
    MAX_TRANSACTIONS_PER_RUN,
    MAX_WARMUP,
    Currency,
    Duration,
    Name,
    Strict,
    Warmup,
)
from .detector import ABTest, Fault, Metrics, Monitoring, Policy, Rules
from .labels import Blocking, Labels
from .world import DEFAULT_STRATEGY, Compromise, Crew, Innovation, Population, Skimming, StaticCrew


class Scenario(Strict):
    """Everything one simulation needs."""

    _changes: tuple[str, ...] = PrivateAttr(default=())  # what the run changed of its file: see `changes`

    def __eq__(self, other: object) -> bool:
        """Equal when they run the same: what each changed of a file does not count."""
        if not isinstance(other, Scenario):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # mutable, as pydantic models are

    name: Name = Field(description="the scenario's name; outputs go to `reports/<name>/`")
    description: str = Field("", description="what the scenario shows, in a sentence or two")
    seed: int = Field(0, ge=0, le=2**63 - 1, description="the one seed every random stream derives from")
    horizon: Duration = Field("60d", description="simulated time after t = 0, where money is counted")
    history: Duration = Field(
        "60d", description="labelled period before t = 0 under the `rules` policy; trains every first model"
    )
    history_rows: int = Field(
        1_000_000,
        ge=1_000,
        le=100_000_000,
        description="cap on the history's rows kept for the first models: above it legitimate rows are "
        "subsampled and reweighted (fraud rows all kept), so the history's memory is bounded by the cap",
    )
    warmup: Warmup = Field(
        "auto",
        description="time the world runs under `rules` before t = 0 so the label stream is in steady "
        "state; `auto` = longest label delay + history + 30 days (never depends on the arms); at most 3y",
    )
    tick: Duration = Field(
        "15m", description="micro-batch length: the model is constant within a tick; must divide a day"
    )
    currency: Currency = Field("EUR", description="currency of every amount")
    population: Population = Field(default_factory=Population, description="customers and merchants")
    crews: list[Crew] = Field(default_factory=lambda: [StaticCrew(name="crews-1")], description="fraud crews")
    innovation: Innovation = Field(default_factory=Innovation, description="crews inventing new tactics")
    compromises: list[Compromise] = Field(default_factory=list, description="skimmed merchants leaking cards")
    skimming: Skimming = Field(default_factory=Skimming, description="merchants compromised at random")
    labels: Labels = Field(default_factory=Labels, description="label sources and delays")
    blocking: Blocking = Field(default_factory=Blocking, description="when stolen cards are blocked")
    policy: Policy = Field(default_factory=Policy, description="decision rule and costs")
    rules: Rules = Field(default_factory=Rules, description="the rules baseline")
    metrics: Metrics = Field(default_factory=Metrics, description="model-quality measurement")
    monitoring: Monitoring = Field(default_factory=Monitoring, description="drift detection and fallback")
    faults: list[Fault] = Field(default_factory=list, description="injected faults")
    ab: ABTest | None = Field(None, description="an A/B test of two of the arms in one world (see docs/abtests.md)")
    arms: list[Arm] = Field(
        default_factory=lambda: list(DEFAULT_ARMS), min_length=1, description="the detectors compared"
    )
    replications: int = Field(
        1, ge=1, le=10_000, description="independent worlds per arm, each from a seed derived from `seed`"
    )
    fraudsim_version: str | None = Field(
        None, description="written into `scenario.resolved.toml`; informational when read back"
    )

    @model_validator(mode="before")
    @classmethod
    def _name_crews(cls, data: Any) -> Any:
        """Crew groups get a default name and strategy before validation, so both are in the resolved file."""
        if isinstance(data, dict) and isinstance(data.get("crews"), list):
            crews = [
                {"name": f"crews-{i + 1}", "strategy": DEFAULT_STRATEGY, **crew} if isinstance(crew, dict) else crew
                for i, crew in enumerate(data["crews"])
            ]
            data = {**data, "crews": crews}
        return data

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        tick = self.tick
        if tick < 1.0 or DAY % tick != 0:
            raise ValueError(f"tick: {format_duration(tick)} does not divide one day evenly; use e.g. 1m, 5m, 15m, 1h")
        if self.horizon < tick or self.horizon % tick != 0 or self.horizon > MAX_HORIZON:
            raise ValueError(
                f"horizon: must be a whole number of ticks ({format_duration(tick)}) between one tick and 5y"
            )
        if self.history < DAY or self.history % tick != 0 or self.history > MAX_HISTORY:
            raise ValueError(f"history: must be a whole number of ticks ({format_duration(tick)}) from 1d to 365d")
        if self.warmup != "auto" and (
            self.warmup < self.history or self.warmup % tick != 0 or self.warmup > MAX_WARMUP
        ):
            raise ValueError(
                'warmup: must be "auto" or a whole number of ticks from the history '
                f"({format_duration(self.history)}) to 3y"
            )
        names = [arm.name for arm in self.arms]
        if len(set(names)) != len(names):
            raise ValueError("arms: arm names must be unique")
        crew_names = [crew.name for crew in self.crews]
        if len(set(crew_names)) != len(crew_names):
            raise ValueError("crews: crew group names must be unique")
        if self.ab is not None:
            self._check_ab(names)
        for fault in self.faults:
            unknown = [name for name in fault.arms or [] if name not in names]
            if unknown:
                raise ValueError(f"faults: no arm named {unknown[0]!r}; arms are: {', '.join(names)}")
        for compromise in self.compromises:
            if compromise.crews not in crew_names:
                raise ValueError(
                    f"compromises: {compromise.name} sends cards to crew group {compromise.crews!r}; "
                    f"the groups are: {', '.join(crew_names) or 'none'}"
                )
        days = (self.history + self.horizon) / DAY
        expected = self.population.customers * self.population.tx_per_customer_day * days
        if expected > MAX_TRANSACTIONS_PER_RUN:
            raise ValueError(
                f"population: about {expected:.3g} honest transactions per run exceeds the "
                f"limit of {MAX_TRANSACTIONS_PER_RUN:.0e}; reduce customers, tx_per_customer_day, "
                "history or horizon"
            )
        return self

    def _check_ab(self, names: list[str]) -> None:
        """The A/B test names two learning arms, in a world without per-detector monitoring or faults."""
        ab = self.ab
        for role in ("a", "b"):
            name = getattr(ab, role)
            if name not in names:
                raise ValueError(f"ab: {role} = {name!r} is not an arm; arms are: {', '.join(names)}")
            if self.arms[names.index(name)].learner == "oracle":
                raise ValueError(
                    f"ab: {role} = {name!r} is an oracle, which sees every label at once; "
                    "an A/B test compares detectors that learn from labels"
                )
        if self.policy.target_decline_rate is not None:
            raise ValueError(
                "ab: an A/B test decides with the expected-cost rule; `policy.target_decline_rate` "
                "(one score threshold for the whole world) would mix the two arms' scores"
            )
        if self.monitoring.detectors or self.faults:
            raise ValueError(
                "ab: an A/B test's world has one policy for both arms, so it runs without drift "
                "`monitoring` detectors and `faults`; remove them from this scenario"
            )

    def arm(self, name: str) -> Arm:
        """The arm called `name`."""
        for arm in self.arms:
            if arm.name == name:
                return arm
        raise KeyError(name)

    @property
    def changes(self) -> tuple[str, ...]:
        """What this run changed of the scenario as its file gives it (``--set``, ``--replications``,
        Python's overrides and arms), one ``key = value (was …)`` line each; empty if nothing."""
        return self._changes

    def with_changes(self, changes: tuple[str, ...]) -> Scenario:
        """This scenario, recording ``changes`` after those it has: a key changed again keeps what
        the file had (its first line's ``(was …)``)."""
        earlier = {line.split(" ", 1)[0]: line for line in self._changes}
        kept = [line for key, line in earlier.items() if key not in {c.split(" ", 1)[0] for c in changes}]
        for line in changes:
            key = line.split(" ", 1)[0]
            if key in earlier and " (was " in line and " (was " in earlier[key]:
                line = line.split(" (was ")[0] + " (was " + earlier[key].split(" (was ", 1)[1]
            kept.append(line)
        copy = self.model_copy()
        copy._changes = tuple(kept)
        return copy
