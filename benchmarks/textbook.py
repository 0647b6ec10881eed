"""Replay's worked example (docs/replay.md, "Reproducing a textbook experiment"): the Fraud
Detection Handbook's baseline experiment on a stream in the manner of its simulator, run with
``fraudsim replay`` and, on its own, with scikit-learn; prints the command and the table.

    .venv/bin/python benchmarks/textbook.py [--out reports/textbook] [--customers 5000] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim.replays.cli import main  # noqa: E402
from sim.replays.textbook import generate, handbook_protocol, replay_arguments  # noqa: E402


def run(out: Path, customers: int, seed: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    stream = generate(customers=customers, terminals=2 * customers, days=21, seed=seed)
    path = out / "stream.parquet"
    stream.write_parquet(path)
    arguments = replay_arguments(str(path), str(out / "replay"))
    started = time.perf_counter()
    if main([*arguments, "--quiet"]) != 0:
        raise SystemExit("the replay failed")
    seconds = time.perf_counter() - started
    summary = json.loads((out / "replay" / "replay.json").read_text())
    fraudsim = pl.read_parquet(out / "replay" / "metrics.parquet").row(0, named=True)
    reference = handbook_protocol(stream)
    print(
        f"stream: {stream.height:,} transactions over 21 days, {int(stream['is_fraud'].sum()):,} fraud "
        f"({stream['is_fraud'].mean():.2%}); {customers:,} customers, seed {seed}"
    )
    print(f"fraudsim replay {shlex.join(arguments)}   # {seconds:.1f} s")
    print(f"warnings: {summary['warnings'] or 'none'}\n")
    print("| measure | scikit-learn, the handbook's protocol | fraudsim replay |\n| --- | --- | --- |")
    names = {
        "rows": "test rows",
        "frauds": "test frauds",
        "roc_auc": "ROC AUC",
        "average_precision": "average precision",
        "card_precision": "card precision@100",
    }
    for key, name in names.items():
        if key in ("rows", "frauds"):
            print(f"| {name} | {int(reference[key]):,} | {int(fraudsim[key]):,} |")
        else:
            print(f"| {name} | {reference[key]:.6f} | {fraudsim[key]:.6f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("reports/textbook"))
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args()
    run(options.out, options.customers, options.seed)
