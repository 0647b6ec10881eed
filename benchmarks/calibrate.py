"""Measure a world against the calibration targets of docs/calibration.md.

Runs a scenario (with ``--set`` overrides) and prints, per arm, its saving over the ``static``
arm by total cost and by fraud loss (paired over replications, Student-t 95 % intervals), its
friction, the share of fraud it declined, the fraud share of transactions, and the eventual-truth
ROC AUC of its model over the first and last 10 days.

    .venv/bin/python benchmarks/calibrate.py scenarios/quickstart.toml --seed 4242 --replications 4
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sim.metrics import t_interval  # noqa: E402


def measure(out: Path, baseline: str = "static") -> dict:
    """The targets' measurements from a finished run's tables."""
    arms = pl.read_parquet(out / "arms.parquet").sort("arm", "replication")
    quality = pl.read_parquet(out / "quality_daily.parquet").filter(pl.col("view") == "eventual")
    base = arms.filter(pl.col("arm") == baseline)
    horizon = int(quality["day"].max()) + 1 if len(quality) else 0
    rows = {}
    for name in arms["arm"].unique(maintain_order=True).to_list():
        mine = arms.filter(pl.col("arm") == name)
        row = {
            "total_cost": float(mine["total_cost"].mean()),
            "fraud_loss": float(mine["fraud_loss"].mean()),
            "friction": float(mine["friction"].mean()),
            "fraud_share_of_tx": float((mine["fraud_attempts"] / mine["transactions"]).mean()),
            "fraud_declined": float((1 - mine["fraud_approved"] / mine["fraud_attempts"]).mean()),
        }
        if len(base) == len(mine) and name != baseline:
            for key in ("total_cost", "fraud_loss"):
                saving = (base[key].to_numpy() - mine[key].to_numpy()) / base[key].to_numpy()
                mean, low, high = t_interval(saving)
                row[f"saving_{key}"] = {"mean": float(mean), "ci_low": float(low), "ci_high": float(high)}
        auc = quality.filter(pl.col("arm") == name)
        for label, days in (("auc_first10", (0, 10)), ("auc_last10", (horizon - 10, horizon))):
            window = auc.filter(pl.col("day").is_between(days[0], days[1] - 1))["roc_auc"].drop_nulls()
            row[label] = float(window.mean()) if len(window) else None
        rows[name] = row
    return rows


def _fmt(interval) -> str:
    mean, low, high = (interval.get(k) for k in ("mean", "ci_low", "ci_high"))
    if low == high:
        return f"{100 * mean:+.1f}"
    return f"{100 * mean:+.1f} [{100 * low:+.1f}, {100 * high:+.1f}]"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--seed", type=int)
    parser.add_argument("--replications", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", help="also write the measurements here")
    parser.add_argument("--keep", help="keep the run's output directory here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(args.keep) if args.keep else Path(scratch) / "run"
        command = [
            str(Path(sys.executable).parent / "fraudsim"),
            "run",
            args.scenario,
            "--no-report",
            "--replications",
            str(args.replications),
            "--workers",
            str(args.workers),
            "--out",
            str(out),
        ]
        for item in args.overrides + ([f"seed={args.seed}"] if args.seed is not None else []):
            command += ["--set", item]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        rows = measure(out)
    print(
        f"{'arm':16} {'saving total (95% CI)':>26} {'saving fraud loss':>26} {'friction':>9} "
        f"{'fraud%':>7} {'declined':>8} {'AUC first→last 10d':>19}"
    )
    for name, row in rows.items():
        total = _fmt(row["saving_total_cost"]) if "saving_total_cost" in row else "—"
        fraud = _fmt(row["saving_fraud_loss"]) if "saving_fraud_loss" in row else "—"
        auc = (
            f"{row['auc_first10']:.3f} → {row['auc_last10']:.3f}"
            if row["auc_first10"] is not None and row["auc_last10"] is not None
            else "—"
        )
        print(
            f"{name:16} {total:>26} {fraud:>26} {row['friction'] / 1000:8.1f}k "
            f"{100 * row['fraud_share_of_tx']:6.2f}% {100 * row['fraud_declined']:7.1f}% {auc:>19}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
