"""``sim.load`` and ``sim.run``: a scenario from its file with overrides, and every arm and
replication of it run into a :class:`Result` held in memory."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import polars as pl
from matplotlib.figure import Figure

from ..console import progress_bar
from ..outputs import scratch_directory
from ..report.figures import STYLE
from ..report.findings import Finding
from ..rundir import SimulatedRun, save_run, simulate
from ..schema import Arm, Scenario
from ..summary import Interval, Summary
from . import display

Overrides = Mapping[str, Any] | Iterable[str] | None


def override_lines(overrides: Overrides) -> list[str]:
    """``--set`` lines from a mapping of key paths to values (a string is taken as the text after
    ``=``, as on the command line; other values are written as TOML) or from ``key=value`` lines.

    >>> override_lines({"horizon": "30d", "population.customers": 5000, "labels.investigators.days": ["mon"]})
    ['horizon=30d', 'population.customers=5000', 'labels.investigators.days=["mon"]']
    """
    if overrides is None:
        return []
    if isinstance(overrides, str):
        return [overrides]
    if isinstance(overrides, Mapping):
        return [f"{key}={value if isinstance(value, str) else toml_value(value)}" for key, value in overrides.items()]
    return [str(line) for line in overrides]


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def toml_value(value: Any) -> str:
    """A Python value as an inline TOML value.

    >>> toml_value({"name": "online", "lr": 0.1, "warm": True})
    '{name = "online", lr = 0.1, warm = true}'
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if math.isfinite(value) else ("nan" if value != value else ("inf" if value > 0 else "-inf"))
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        items = (f"{k if _BARE_KEY.fullmatch(k) else json.dumps(k)} = {toml_value(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"{type(value).__name__} is not a TOML value")


def load(path: str | Path, overrides: Overrides = None) -> Scenario:
    """The scenario in the TOML file ``path``, with ``overrides`` applied (the paths and values of
    ``fraudsim run --set``): validated, every default filled in.

    Raises :class:`sim.ScenarioError` with the command line's one-line message.
    """
    from ..scenario import load_scenario

    return load_scenario(path, override_lines(overrides))


def run(
    scenario: Scenario | str | Path,
    *,
    arms: Sequence[Arm] | None = None,
    replications: int | None = None,
    workers: int | None = None,
    dask: str | None = None,
    ledger: bool = False,
    progress: bool = True,
) -> Result:
    """Run every arm and replication of ``scenario`` (a :func:`load`-ed scenario or a file) and
    return the :class:`Result`, held in memory: nothing is written until :meth:`Result.save`.

    ``arms`` replaces the scenario's arms (built with :mod:`sim.arms`, users' own models among
    them: docs/own-model.md).

    ``workers`` processes on this machine (default: one per core, at most one per task), or with
    ``dask`` a Dask cluster (``"local"`` or a scheduler's address). ``ledger`` keeps every
    transaction, label event and alert, and each arm's stream with its features (``streams/``),
    for :meth:`Result.save` (in a scratch folder until then).
    ``progress`` shows a progress bar (in a terminal and in a notebook cell).
    """
    from ..experiment import executor_for

    if not isinstance(scenario, Scenario):
        scenario = load(scenario)
    if arms is not None:
        scenario = with_arms(scenario, arms)
    if replications is not None:
        scenario = with_overrides(scenario, {"replications": replications})
    executor = executor_for(scenario, workers, dask)
    scratch = scratch_directory() if ledger else None
    with progress_bar(not progress) as bar:
        task = bar.add_task(scenario.name, total=None)
        simulated = simulate(
            scenario,
            executor=executor,
            ledger_dir=None if scratch is None else Path(scratch.name),
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    return Result(simulated, scratch)


def with_overrides(scenario: Scenario, overrides: Overrides) -> Scenario:
    """``scenario`` with ``overrides`` applied and validated again, as its file with them would be."""
    from ..scenario import validate
    from ..scenario.overrides import apply_overrides, changes

    before = scenario.model_dump(mode="json", exclude_none=True)
    raw = apply_overrides(before, override_lines(overrides), scenario.name)
    validated = validate(_own_models_restored(raw, scenario), scenario.name)
    return validated.with_changes(scenario.changes).with_changes(changes(before, raw))


def with_arms(scenario: Scenario, arms: Sequence[Arm]) -> Scenario:
    """``scenario`` with ``arms`` (from :mod:`sim.arms`) instead of its own, validated again."""
    from ..scenario import validate

    raw = scenario.model_dump(mode="json", exclude_none=True)
    validated = validate({**raw, "arms": list(arms)}, scenario.name)
    names = ", ".join(arm.name for arm in validated.arms)
    return validated.with_changes(scenario.changes).with_changes((f"arms = {names} (given from Python)",))


def _own_models_restored(raw: dict[str, Any], scenario: Scenario) -> dict[str, Any]:
    """``raw`` (``scenario`` dumped, then changed) with users' model objects back where the dump
    wrote their descriptions (a model object has no file form)."""
    from ..schema.own import describe, is_own

    own = {arm.name: arm.model for arm in scenario.arms if is_own(getattr(arm, "model", ""))}
    for entry in raw.get("arms", []) if own else ():
        model = own.get(entry.get("name")) if isinstance(entry, dict) else None
        if model is not None and entry.get("model") == describe(model):
            entry["model"] = model
    return raw


def _sections(data) -> dict[str, Any]:
    """The report's sections of the run ``data`` (its A/B test's first, when it has one), by figure name."""
    from ..report.html import SECTIONS, ab_sections

    return {Path(section.filename).stem: section for section in (*ab_sections(data), *SECTIONS)}


class Result(display.Shown):
    """A run of every arm and replication, in memory: the same tables, summary, findings and
    figures as the run's report, and :meth:`save` to write the run directory ``fraudsim run``
    writes, byte for byte."""

    def __init__(self, simulated: SimulatedRun, scratch=None) -> None:
        self._run = simulated
        self._scratch = scratch  # the ledger's parts, removed with this object

    @property
    def scenario(self) -> Scenario:
        """The scenario as run (overrides applied)."""
        return self._run.scenario

    @property
    def failures(self) -> list[str]:
        """The arms whose learner broke its contract during the run (an exception, or scores that
        are not probabilities), each in words: they are left out of every table; empty if none."""
        return list(self._run.experiment.failures)

    @property
    def summary(self) -> Summary:
        """The typed content of ``summary.json``: each arm's money with intervals, the ranking,
        the paired differences and the value of fresh labels."""
        return self._run.summary

    @cached_property
    def _data(self):
        from .. import __version__
        from ..experiment import totals
        from ..report.data import RunData
        from ..scenario import resolved_dict

        experiment = self._run.experiment
        daily = experiment.daily()
        ab = None
        if self.scenario.ab is not None:
            from ..ab.summary import ab_daily

            ab = ab_daily([run.ab for run in experiment.runs])
        return RunData(
            directory=Path("."),
            summary=self.summary,
            scenario=resolved_dict(self.scenario, __version__),
            daily=daily,
            arms=totals(daily),
            labels_daily=experiment.labels_daily(),
            label_coverage=experiment.label_coverage(),
            quality_daily=experiment.quality_daily(),
            model_events=experiment.model_events(),
            crews=experiment.crews_daily(),
            reliability=experiment.reliability(),
            ab_daily=ab,
        )

    @property
    def daily(self) -> pl.DataFrame:
        """One row per arm, replication and day (``daily.parquet``; docs/outputs.md)."""
        return self._data.daily

    @property
    def arms(self) -> pl.DataFrame:
        """One row per arm and replication: the horizon's totals (``arms.parquet``)."""
        return self._data.arms

    @cached_property
    def ranking(self) -> pl.DataFrame:
        """The arms from lowest mean total cost: rank, arm, learner, then each money figure's mean
        and 95 % interval (``*_low``, ``*_high``; null with one replication)."""
        rows = []
        for arm in self.summary.ranking:
            entry = self.summary.arms[arm]
            row = {"rank": entry.rank, "arm": arm, "learner": entry.learner}
            for name in entry.MONEY:
                row |= _interval_columns(name, entry.money(name))
            rows.append(row)
        return pl.DataFrame(rows, schema=_schema(["rank", "arm", "learner"], _money_columns()))

    @cached_property
    def differences(self) -> pl.DataFrame:
        """Paired differences (arm − baseline, per replication): in money and as a share of the
        baseline's own figure, by total cost and by fraud loss, each with its 95 % interval."""
        names = ("total_cost", "total_cost_relative", "fraud_loss", "fraud_loss_relative")
        rows = []
        for entry in self.summary.differences:
            row = {"arm": entry.arm, "baseline": entry.baseline}
            for name in names:
                row |= _interval_columns(name, getattr(entry, name))
            rows.append(row)
        columns = [c for name in names for c in (name, f"{name}_low", f"{name}_high")]
        return pl.DataFrame(rows, schema=_schema(["arm", "baseline"], columns))

    @cached_property
    def findings(self) -> list[Finding]:
        """The report's findings, each computed from this run's numbers: ``str(finding)`` is its
        sentence, and its ``arm``, ``baseline``, ``measure``, ``value`` (with the 95 % interval),
        ``clear`` and ``facts`` are the numbers the sentence rests on."""
        from ..report import ab as ab_report
        from ..report import narrative

        data = self._data
        found = narrative.findings(data.summary, data.daily, data.label_coverage, data.crews, data.quality_daily)
        if data.summary.ab is not None:
            found.insert(0, ab_report.finding(data.summary.ab, data.currency))
        return found

    @property
    def figures(self) -> tuple[str, ...]:
        """The names :meth:`figure` draws: the report's figures, by file name without ``.png``."""
        return tuple(_sections(self._data))

    def figure(self, name: str) -> Figure:
        """The report's figure ``name`` (one of :attr:`figures`, e.g. ``"cost_split"``), as a
        matplotlib Figure; its caption is the figure's ``fraudsim_caption`` attribute.

        Raises ``KeyError`` for another name and ``ValueError`` (saying why) for a figure the run
        has no data for."""
        sections = _sections(self._data)
        if name not in sections:
            raise KeyError(f"{name!r}: no such figure; the figures are {', '.join(sections)}")
        with plt.rc_context(STYLE):
            built = sections[name].build(self._data)
        if isinstance(built, str):
            raise ValueError(f"{name}: {built}")
        figure, caption = built
        figure.fraudsim_caption = caption
        plt.close(figure)  # the caller's to show: pyplot does not hold it (nor show it twice)
        return figure

    def save(self, out: str | Path, *, report: bool = True, pdf: bool = False) -> Path:
        """Write the run directory to ``out`` (replacing a previous run there, atomically): the
        files ``fraudsim run`` writes, byte for byte; with ``report`` the HTML report, with
        ``pdf`` ``report.pdf`` too. Returns the directory."""
        return save_run(self._run, Path(out), report=report, pdf=pdf)

    def _table(self) -> tuple[str, str, list[str], list[display.Row]]:
        from ..report.figures import arm_colors
        from ..units import short_money

        summary = self.summary
        colors = arm_colors(list(summary.ranking))
        currency = summary.currency

        def cell(entry: Interval) -> str:
            text = short_money(entry.mean, currency)
            if entry.ci_low is not None:
                text += f" ({short_money(entry.ci_low, currency)}–{short_money(entry.ci_high, currency)})"
            return text

        rows = [
            display.Row(
                arm,
                colors[arm],
                [cell(summary.arms[arm].total_cost), cell(summary.arms[arm].fraud_loss)],
            )
            for arm in summary.ranking
        ]
        plural = "s" if summary.replications != 1 else ""
        subtitle = f"{summary.replications} replication{plural}, {summary.horizon_days:g} days"
        return summary.scenario, subtitle, ["arm", "total cost (95% CI)", "fraud loss (95% CI)"], rows


def _money_columns() -> list[str]:
    from ..summary import ArmSummary

    return [c for name in ArmSummary.MONEY for c in (name, f"{name}_low", f"{name}_high")]


def _interval_columns(name: str, entry: Interval) -> dict[str, float | None]:
    return {name: entry.mean, f"{name}_low": entry.ci_low, f"{name}_high": entry.ci_high}


def _schema(text: list[str], numbers: list[str]) -> dict[str, Any]:
    kinds = {"rank": pl.Int64}
    return {name: kinds.get(name, pl.String) for name in text} | {name: pl.Float64 for name in numbers}


__all__ = ["Result", "load", "run", "with_overrides"]
