"""Saved results of a sweep: one Parquet file per (point, replication), written atomically."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ..outputs import atomic_write, write_parquet
from ..scenario import resolved_toml
from ..schema import Scenario
from .points import SweepError, Task


@dataclass(frozen=True)
class ResultStore:
    """Saved results, one file per point key and replication: ``<key>/replication-<r>.parquet``."""

    root: Path

    def path(self, key: str, replication: int) -> Path:
        return self.root / key / f"replication-{replication}.parquet"

    def load(self, task: Task) -> pl.DataFrame | None:
        """The saved rows of ``task``, or None if there are none (or they cannot be trusted)."""
        path = self.path(task.key, task.replication)
        if not path.is_file():
            return None
        try:
            rows = pl.read_parquet(path)
        except Exception:  # unreadable (e.g. a disk that lost it): compute it again
            return None
        arms = sorted(arm.name for arm in task.scenario.arms)
        if sorted(rows["arm"].to_list()) != arms or set(rows["replication"].to_list()) != {task.replication}:
            return None
        return rows

    def save(self, task: Task, rows: pl.DataFrame) -> None:
        atomic_write(self.path(task.key, task.replication), lambda temporary: write_parquet(temporary, rows))

    def save_scenario(self, key: str, scenario: Scenario, version: str) -> None:
        """``<key>/scenario.resolved.toml``: ``fraudsim run`` on it reproduces the point."""
        target = self.root / key / "scenario.resolved.toml"
        text = resolved_toml(scenario, version)
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            atomic_write(target, lambda temporary: temporary.write_text(text, encoding="utf-8"))

    def clean(self) -> None:
        """Remove temporary files left by a sweep that was killed while writing."""
        if self.root.is_dir():
            for leftover in self.root.glob("*/.*.tmp"):
                leftover.unlink(missing_ok=True)


@contextlib.contextmanager
def _exclusive(out_dir: Path) -> Iterator[None]:
    """Hold ``<out>/.lock`` for the sweep: two sweeps writing one directory would race."""
    import fcntl

    created = not out_dir.exists()
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / ".lock", "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SweepError(f"{out_dir}: another sweep is writing there; wait for it or use --out") from None
        try:
            yield
        finally:
            if created and [p.name for p in out_dir.iterdir()] == [".lock"]:  # failed before writing anything
                (out_dir / ".lock").unlink()
                out_dir.rmdir()
            fcntl.flock(lock, fcntl.LOCK_UN)
