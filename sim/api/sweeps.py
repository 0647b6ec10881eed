"""``sim.sweep``: a sweep file's grid of points × arms × replications, into a :class:`SweepResult`."""

from __future__ import annotations

import dataclasses
import shutil
from functools import cached_property
from pathlib import Path

import matplotlib.pyplot as plt
import polars as pl
from matplotlib.figure import Figure

from ..console import progress_bar
from ..outputs import SWEEP_MARKERS, atomic_directory, check_output_dir, scratch_directory
from ..report.figures import STYLE
from ..report.findings import Finding
from . import display
from .results import Overrides, override_lines


def sweep(
    path: str | Path,
    overrides: Overrides = None,
    *,
    replications: int | None = None,
    workers: int | None = None,
    dask: str | None = None,
    out: str | Path | None = None,
    force: bool = False,
    progress: bool = True,
) -> SweepResult:
    """Run the sweep in the file ``path`` (``overrides`` set keys of its base scenario, before the
    grid, as ``fraudsim sweep --set`` does) and return its :class:`SweepResult`.

    Without ``out`` the runs are kept in a scratch folder until :meth:`SweepResult.save`; with
    ``out`` each run is saved there as it finishes, and a stopped sweep resumes from them (what
    ``fraudsim sweep`` does; ``force`` recomputes them). ``replications`` replaces the sweep's
    own. ``workers``, ``dask`` and ``progress`` are those of :func:`sim.run`.

    Raises :class:`sim.ScenarioError` for a bad file or override, ``sim.sweeps.SweepError`` when
    the saved runs cannot be used.
    """
    from ..executors import make_executor
    from ..scenario import ScenarioError, load_sweep
    from ..sweeps import plan_sweep, run_sweep

    spec = load_sweep(path, override_lines(overrides))
    if replications is not None:
        if isinstance(replications, bool) or not isinstance(replications, int) or not 1 <= replications <= 10_000:
            raise ScenarioError(path, "replications", f"{replications!r} is not a whole number from 1 to 10000")
        spec = dataclasses.replace(spec, replications=replications)
    plan = plan_sweep(spec)
    scratch = None
    if out is None:
        scratch = scratch_directory()
        target = Path(scratch.name) / plan.sweep.name
    else:
        target = Path(out)
        check_output_dir(target, SWEEP_MARKERS)
    executor = make_executor(workers, dask)
    with progress_bar(not progress) as bar:
        task = bar.add_task(plan.sweep.name, total=None)

        def advance(state) -> None:
            bar.update(
                task,
                completed=state.days_done,
                total=state.days or None,
                description=f"{plan.sweep.name} {state.runs_done}/{state.runs} runs",
            )

        outcome = run_sweep(plan, target, executor, force=force, progress=advance)
    return SweepResult(plan, outcome, scratch)


class SweepResult(display.Shown):
    """A sweep's results: ``results`` (one row per point, arm and replication), its findings and
    figures, and :meth:`save` to write what ``fraudsim sweep`` writes."""

    def __init__(self, plan, outcome, scratch=None) -> None:
        self.plan = plan
        self.outcome = outcome  # runs computed and reused, wall time, executor
        self._scratch = scratch  # the runs, when no ``out`` was given; removed with this object

    @property
    def results(self) -> pl.DataFrame:
        """One row per point, arm and replication (``results.parquet``; docs/sweeps.md)."""
        return self.outcome.results

    @cached_property
    def _sweep(self) -> dict:
        from ..sweeps import describe

        return describe(self.plan)

    @cached_property
    def _report(self) -> tuple[list[Finding], dict[str, tuple]]:
        from ..report.sweep import sweep_sections

        with plt.rc_context(STYLE):  # the A/B sections draw their figures here
            findings, sections = sweep_sections(self.results, self._sweep)
        return findings, {Path(filename).stem: (draw, caption) for _, draw, filename, caption in sections}

    @property
    def findings(self) -> list[Finding]:
        """The report's findings, computed from the results: ``str(finding)`` in words; ``arm``,
        ``baseline``, ``measure`` and ``facts`` (the paired difference at every swept value) the
        numbers."""
        return self._report[0]

    @property
    def figures(self) -> tuple[str, ...]:
        """The names :meth:`figure` draws (the report's figures, by file name without ``.png``)."""
        return tuple(self._report[1])

    def figure(self, name: str) -> Figure:
        """The report's figure ``name`` (one of :attr:`figures`), its caption in ``fraudsim_caption``."""
        sections = self._report[1]
        if name not in sections:
            raise KeyError(f"{name!r}: no such figure; the figures are {', '.join(sections)}")
        draw, caption = sections[name]
        with plt.rc_context(STYLE):
            figure = draw()
        figure.fraudsim_caption = caption
        plt.close(figure)  # the caller's to show: pyplot does not hold it (nor show it twice)
        return figure

    def save(self, out: str | Path | None = None, *, report: bool = True, pdf: bool = False) -> Path:
        """Write the sweep's directory to ``out`` (atomically; without ``out``, where the sweep
        ran when :func:`sweep` was given one): the files ``fraudsim sweep`` writes, with ``report``
        its report. Returns the directory."""
        from ..report.sweep import build_sweep_report

        here = self.outcome.out_dir
        if out is None:
            if self._scratch is not None:
                raise ValueError("the sweep ran in a scratch folder: say where to save it, save(out)")
            target = here
        else:
            target = Path(out)
        if target.resolve() != here.resolve():
            with atomic_directory(target, SWEEP_MARKERS) as work:
                shutil.copytree(here, work, dirs_exist_ok=True)
                if report:
                    build_sweep_report(work, pdf=pdf)
        elif report:
            build_sweep_report(target, pdf=pdf)
        return target

    def _table(self) -> tuple[str, str, list[str], list[display.Row]]:
        from ..report.figures import arm_colors
        from ..units import short_money

        results = self.results
        currency = self._sweep.get("currency", "EUR")
        means = results.group_by("arm", maintain_order=True).agg(pl.col("total_cost", "fraud_loss").mean())
        colors = arm_colors(means["arm"].to_list())
        rows = [
            display.Row(arm, colors[arm], [short_money(cost, currency), short_money(loss, currency)])
            for arm, cost, loss in means.sort("total_cost").iter_rows()
        ]
        points, replications = len(self.plan.points), self.plan.sweep.replications
        subtitle = f"{points} point(s) × {means.height} arm(s) × {replications} replication(s)"
        head = ["arm", "total cost, mean over points", "fraud loss, mean over points"]
        return self.plan.sweep.name, subtitle, head, rows


__all__ = ["SweepResult", "sweep"]
