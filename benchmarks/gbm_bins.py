"""The bundled gradient boosting's fit with its own bins against scikit-learn binning the raw features.

    .venv/bin/python benchmarks/gbm_bins.py [--rows 20000,100000] [--repeats 3]

Fits ``SklearnModel("gbm")`` (the bundled model: ``QuantileBins``, then scikit-learn's
``HistGradientBoostingClassifier`` on the bin numbers) and the same estimator on the raw features,
both with the unequal sample weights a batch window gives (subsampled legitimate rows weighted
back), on made-up rows of the simulator's features; one thread, medians of ``--repeats`` CPU
seconds, and whether the two score alike. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.base import clone
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim.detect.models import SklearnModel  # noqa: E402
from sim.schema.features import FEATURES  # noqa: E402


def rows(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, len(FEATURES))).astype(np.float32)
    y = (rng.random(n) < 1 / (1 + np.exp(5.0 - X[:, 0]))).astype(np.int8)
    weight = np.where(y == 1, 1.0, 4.0)  # a quarter of the legitimate rows kept, weighted back
    return X, y, weight


def _cpu(call) -> float:
    started = time.process_time()
    call()
    return time.process_time() - started


def measure(n: int, repeats: int) -> dict:
    X, y, weight = rows(n)
    ours = SklearnModel("gbm", seed=1)
    theirs = clone(ours.estimator)
    with threadpool_limits(1):
        binned = statistics.median(_cpu(lambda: ours.fit(X, y, weight)) for _ in range(repeats))
        raw = statistics.median(
            _cpu(lambda: theirs.fit(X.astype(np.float64), y, sample_weight=weight)) for _ in range(repeats)
        )
    same = np.allclose(ours.predict_proba(X), theirs.predict_proba(X.astype(np.float64))[:, 1], atol=1e-12)
    return {"rows": n, "raw": raw, "binned": binned, "same": same}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="20000,100000", help="comma-separated training set sizes")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    print("| rows | scikit-learn bins the raw features | bundled bins first | ratio | same scores |")
    print("| ---: | ---: | ---: | ---: | --- |")
    for n in (int(v) for v in args.rows.split(",")):
        r = measure(n, args.repeats)
        ratio = r["raw"] / r["binned"]
        same = "yes" if r["same"] else "no"
        print(f"| {n:,} | {r['raw']:.2f} s | {r['binned']:.2f} s | {ratio:.1f}× | {same} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
