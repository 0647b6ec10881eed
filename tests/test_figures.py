"""Figures that show their numbers as they are: read back from the drawn matplotlib objects."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from matplotlib.collections import PolyCollection

from sim.report import figures
from sim.report.data import load_run


@pytest.fixture(scope="module")
def run(tiny_run):
    return load_run(tiny_run)


def test_the_cost_split_legend_sits_below_the_bars(run):
    fig = figures.cost_split_figure(run.arms, run.ranking, run.currency)
    ax = fig.axes[0]
    fig.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    assert legend.y1 <= ax.get_window_extent().y0  # below the axes: over no bar


def test_coverage_is_drawn_in_steps_not_ramps(run):
    """Maturity labels all arrive at its window: a step, not a line from the previous age."""
    fig = figures.coverage_figure(run.label_coverage, run.ranking)
    lines = [line for line in fig.axes[0].get_lines() if len(line.get_xdata()) > 1]
    assert lines and all(line.get_drawstyle() == "steps-post" for line in lines)


def test_label_sources_on_a_log_scale_are_lines_not_stacked_areas(run):
    fig = figures.label_sources_figure(run.labels_daily, run.ranking)
    for ax in fig.axes:
        assert ax.get_yscale() == "symlog"
        assert not [c for c in ax.collections if isinstance(c, PolyCollection)]


def test_the_class_mix_axes_say_what_they_show(run):
    ax = figures.class_mix_figure(run.daily, run.ranking).axes[0]
    assert ax.get_xlabel() == "day" and "fraud share" in ax.get_ylabel()


def test_exploration_shares_carry_their_interval_and_count():
    totals = pl.DataFrame({"arm": ["online"], "explored": [54], "explored_fraud": [9], "explored_score": [20.0]})
    ax = figures.exploration_figure(totals, ["online"]).axes[0]
    low, high = figures.metrics.wilson(9, 54)
    bars = [c for c in ax.containers if getattr(c, "errorbar", None) is not None]
    assert len(bars) == 1
    (segments,) = bars[0].errorbar.lines[2]
    (x0, _), (x1, _) = segments.get_segments()[0]
    assert np.isclose(x0, low) and np.isclose(x1, high)
    assert "54 explored" in ax.get_yticklabels()[0].get_text()


def test_timeline_rows_are_clear_of_the_axes_and_markers_do_not_overlap(run):
    events = run.model_events
    fig = figures.timeline_figure(events, run.ranking, run.summary.horizon_days)
    ax = fig.axes[0]
    low, high = ax.get_ylim()
    assert low < -0.4 and high > len(run.ranking) - 1 + 0.4
    batch = run.ranking.index("batch")
    heights = {round(float(y) - batch, 2) for c in ax.collections for _, y in c.get_offsets() if abs(y - batch) < 0.5}
    assert heights == {0.18, -0.18}  # the batch arm's retrains above its row, its deploys below
