"""``sim.replay``: a recorded stream (a file, or a polars or pandas DataFrame) through the
learners with its label delays, into a :class:`ReplayResult` (docs/replay.md)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

import polars as pl

from ..console import progress_bar
from ..outputs import (
    REPLAY_MARKERS,
    ReportError,
    atomic_directory,
    build_kept,
    output_list,
    scratch_directory,
    write_json,
)
from ..report.findings import Finding
from . import display

FRAME_NAME = "dataframe.parquet"  # what a DataFrame is called in the outputs and in error messages


def replay(
    stream: str | Path | pl.DataFrame | Any,
    *,
    time: str | None = None,
    label: str | None = None,
    delay: str | None = None,
    delay_column: str | None = None,
    amount: str | None = None,
    card: str | None = None,
    features: str | list[str] | None = None,
    learner: str | None = None,
    name: str | None = None,
    arms: str | Path | None = None,
    history: str | None = None,
    batch: bool = False,
    tick: str | None = None,
    top_k: int | None = None,
    score_from: str | None = None,
    score_until: str | None = None,
    skip_known_cards: bool = False,
    threshold: float | None = None,
    seed: int | None = None,
    fraud_fee: float | None = None,
    decline_fixed: float | None = None,
    decline_rate: float | None = None,
    currency: str | None = None,
    progress: bool = True,
    **learner_options: Any,
) -> ReplayResult:
    """Replay ``stream`` (a CSV or Parquet file, or a polars or pandas DataFrame) through the
    learners with its label delays: ``fraudsim replay``'s options as keywords (``--delay-column``
    is ``delay_column``, ``--arms FILE`` is ``arms``; the learner's own options, such as
    ``lr=0.01`` or ``every="7d"``, follow ``learner``). Options left as None take the command's
    defaults; a stream fraudsim wrote (``streams/`` of a run with a ledger) names its own columns,
    so ``time`` and ``label`` and the other columns can be left out. Held in memory and a scratch
    folder until :meth:`ReplayResult.save`.

    Raises :class:`sim.ReplayError` with the command line's message.
    """
    options = {key: value for key, value in locals().items() if key not in ("stream", "progress")}
    from ..replays.options import prepare

    options["arms"] = None if arms is None else str(arms)
    options["stream"] = stream if isinstance(stream, str | Path) else None
    return replay_prepared(stream, prepare(**options), progress=progress)


def replay_prepared(
    stream, prepared, *, progress: bool = True, announce: Callable[[str], None] | None = None
) -> ReplayResult:
    """The replay of ``stream`` with checked options (:func:`sim.replays.options.prepare`);
    ``announce`` is told the features chosen once the stream is read."""
    from ..replays import ReplayError
    from ..replays.run import replay as replay_stream

    scratch = scratch_directory()
    work = Path(scratch.name)
    if isinstance(stream, str | Path):
        path, label = Path(stream), Path(stream).name
    else:
        path, label = work / FRAME_NAME, "the DataFrame"
        _frame(stream).write_parquet(path)
    try:
        with progress_bar(not progress) as bar:
            task = bar.add_task(f"replay {label}", total=None)
            summary = replay_stream(
                path,
                prepared.spec,
                prepared.arms,
                prepared.settings,
                work / "replay",
                report=False,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
                announce=announce,
                source=None if path.parent != work else FRAME_NAME,
            )
    except ReplayError as error:
        if path.parent == work and error.file == str(path):  # name the DataFrame, not the scratch file
            raise ReplayError(FRAME_NAME, error.message, error.column, error.row) from None
        raise
    return ReplayResult(work / "replay", summary, scratch)


def _frame(stream) -> pl.DataFrame:
    if isinstance(stream, pl.DataFrame):
        return stream
    if type(stream).__module__.startswith("pandas"):
        return pl.from_pandas(stream)
    raise TypeError(f"stream: a path or a polars or pandas DataFrame, not {type(stream).__name__}")


class ReplayResult(display.Shown):
    """A replay's outcome: its summary (``replay.json``), metrics tables and warnings, and
    :meth:`save` to write what ``fraudsim replay`` writes."""

    def __init__(self, directory: Path, summary: dict, scratch) -> None:
        self._directory = directory
        self._scratch = scratch  # removed with this object
        self.summary = summary
        """The content of ``replay.json``: the stream, the learners, each one's metrics, the
        rankings with intervals, the baselines and the warnings (docs/replay.md)."""

    @cached_property
    def metrics(self) -> pl.DataFrame:
        """One row per learner: log loss, ROC AUC, average precision, recall, calibration, money."""
        return pl.read_parquet(self._directory / "metrics.parquet")

    @cached_property
    def daily(self) -> pl.DataFrame:
        """One row per learner and day of the scored part (``metrics_daily.parquet``)."""
        return pl.read_parquet(self._directory / "metrics_daily.parquet")

    @cached_property
    def predictions(self) -> pl.DataFrame:
        """Every scored row's score from every learner (``predictions.parquet``)."""
        return pl.read_parquet(self._directory / "predictions.parquet")

    @property
    def warnings(self) -> list[str]:
        """What the replay warns of (a learner costlier than approving everything, leakage…)."""
        return list(self.summary["warnings"])

    @cached_property
    def findings(self) -> list[Finding]:
        """The report's rankings: which learner ranks fraud best, has the lowest log loss and
        (with amounts) would have cost least, and whether the intervals say so clearly
        (``str(finding)`` in words; ``arm``, ``value`` and ``facts`` the numbers)."""
        from ..report.replay import ranking_findings

        return list(ranking_findings(self.summary).values())

    def save(self, out: str | Path, *, report: bool = True) -> Path:
        """Write the replay's directory to ``out`` (atomically): the files ``fraudsim replay``
        writes, with ``report`` its report. Returns the directory."""
        from ..report.replay import build_replay_report

        target = Path(out)
        with atomic_directory(target, REPLAY_MARKERS) as work:
            shutil.copytree(self._directory, work, dirs_exist_ok=True)
            seconds, error = build_kept(work, build_replay_report) if report else (0.0, None)
            info = json.loads((work / "run_info.json").read_text(encoding="utf-8"))
            info.pop("outputs", None)
            info["report_seconds"] = round(seconds, 3)
            write_json(
                work / "run_info.json",
                {**info, **({"report_error": error} if error else {}), "outputs": output_list(work)},
            )
        if error:
            raise ReportError(target, error)
        return target

    def _notes(self) -> list[str]:
        return [str(finding) for finding in self.findings] + self.warnings

    def _table(self) -> tuple[str, str, list[str], list[display.Row]]:
        from ..report.figures import arm_colors

        metrics = self.summary["metrics"]
        colors = arm_colors(list(metrics))

        def number(value) -> str:
            return "–" if value is None else f"{value:.3f}"

        rows = [
            display.Row(
                name, colors[name], [f"{m['log_loss']:.4f}", number(m["roc_auc"]), number(m["average_precision"])]
            )
            for name, m in metrics.items()
        ]
        stream = self.summary["stream"]
        subtitle = f"{stream['scored_rows']:,} rows scored ({self.summary['mode']})"
        return "replay", subtitle, ["learner", "log loss", "ROC AUC", "AP"], rows


__all__ = ["ReplayResult", "replay", "replay_prepared"]
