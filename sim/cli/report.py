"""``fraudsim report``: rebuild a run's, replay's or sweep's report from its saved tables."""

from __future__ import annotations

from pathlib import Path

import click

from ..console import UserError, out
from ..outputs import REPORT_ERROR


@click.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--pdf", is_flag=True, help="Also write report.pdf: every figure with its caption, one per page.")
def report(directory, pdf) -> None:
    """Rebuild the report of a run, replay or sweep DIRECTORY from its saved tables, without re-running."""
    import json
    import tomllib

    import polars as pl

    from ..report.data import REQUIRED, DamagedOutput
    from ..report.html import build_report

    damaged = (pl.exceptions.PolarsError, OSError, json.JSONDecodeError, tomllib.TOMLDecodeError, DamagedOutput)
    folder = Path(directory)
    sweep = (folder / "results.parquet").exists() and (folder / "sweep.json").exists()
    replay = (folder / "replay.json").exists()
    missing = [name for name in REQUIRED if not (folder / name).exists()]
    if missing and not (sweep or replay):
        raise UserError(f"{directory}: not a fraudsim run, replay or sweep directory (missing {', '.join(missing)})")
    try:
        if sweep:
            from ..report.sweep import build_sweep_report

            target = build_sweep_report(folder, pdf=pdf)
        elif replay:
            from ..report.replay import build_replay_report

            if pdf:
                raise UserError(f"{directory}: --pdf is for run and sweep reports; a replay's report is one page")
            target = build_replay_report(folder)
        else:
            target = build_report(folder, pdf=pdf)
    except damaged as error:
        reason = (str(error).splitlines() or [""])[0]
        raise UserError(
            f"{directory}: a saved table cannot be read, so the report was not rebuilt "
            f"({type(error).__name__}: {reason})"
        ) from None
    (folder / REPORT_ERROR).unlink(missing_ok=True)  # the failure it recorded is mended
    out.print(f"Wrote [bold]{target}[/]" + (f" and [bold]{folder / 'report.pdf'}[/]" if pdf else ""), soft_wrap=True)
