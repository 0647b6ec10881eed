"""The saved tables a report is drawn from. Reports never need the ledger or the engine."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ..summary import Summary


@dataclass(frozen=True)
class RunData:
    """A run directory's tables; optional ones are None when the run did not write them."""

    directory: Path
    summary: Summary
    scenario: dict
    daily: pl.DataFrame
    arms: pl.DataFrame
    labels_daily: pl.DataFrame | None
    label_coverage: pl.DataFrame | None
    quality_daily: pl.DataFrame | None
    model_events: pl.DataFrame | None
    crews: pl.DataFrame | None
    reliability: pl.DataFrame | None
    ab_daily: pl.DataFrame | None = None

    @property
    def currency(self) -> str:
        return self.summary.currency

    @property
    def ranking(self) -> list[str]:
        return list(self.summary.ranking)


class DamagedOutput(ValueError):
    """A saved file fraudsim wrote that no longer has the shape it wrote."""


def read_json(path: Path, keys: tuple[str, ...]) -> dict:
    """A JSON object fraudsim wrote, with at least ``keys`` (else :class:`DamagedOutput`)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    missing = [key for key in keys if key not in data] if isinstance(data, dict) else list(keys)
    if missing:
        raise DamagedOutput(f"{path.name} is not the file fraudsim wrote (no {', '.join(missing)})")
    return data


def read_summary(path: Path) -> Summary:
    """A run's ``summary.json`` as typed records (else :class:`DamagedOutput`)."""
    data = read_json(path, ("ranking", "arms", "currency", "horizon_days"))
    try:
        return Summary.from_json(data)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        reason = f"no {error}" if isinstance(error, KeyError) else str(error)
        raise DamagedOutput(f"{path.name} is not the file fraudsim wrote ({reason})") from None


REQUIRED = ("summary.json", "scenario.resolved.toml", "daily.parquet", "arms.parquet")


def _optional(directory: Path, name: str) -> pl.DataFrame | None:
    path = directory / name
    return pl.read_parquet(path) if path.exists() else None


def load_run(directory: Path) -> RunData:
    directory = Path(directory)
    return RunData(
        directory=directory,
        summary=read_summary(directory / "summary.json"),
        scenario=tomllib.loads((directory / "scenario.resolved.toml").read_text(encoding="utf-8")),
        daily=pl.read_parquet(directory / "daily.parquet"),
        arms=pl.read_parquet(directory / "arms.parquet"),
        labels_daily=_optional(directory, "labels_daily.parquet"),
        label_coverage=_optional(directory, "label_coverage.parquet"),
        quality_daily=_optional(directory, "quality_daily.parquet"),
        model_events=_optional(directory, "model_events.parquet"),
        crews=_optional(directory, "crews.parquet"),
        reliability=_optional(directory, "reliability.parquet"),
        ab_daily=_optional(directory, "ab_daily.parquet"),
    )
