"""Shared fixtures: a tiny scenario that runs in seconds, and one run of it with a ledger."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import tomli_w
from hypothesis import settings

os.environ.setdefault("MPLBACKEND", "Agg")

# Property tests: derandomized by default, so a green run here is a green run on CI (`make test`);
# HYPOTHESIS_PROFILE=explore draws fresh examples each run, to look for new failures locally.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parent.parent

TINY = {
    "name": "tiny",
    "description": "A tiny world for tests <b>escaped</b>.",
    "seed": 3,
    "horizon": "6d",
    "history": "7d",
    "tick": "1h",
    "replications": 2,
    "population": {"customers": 2000, "merchants": 200},
    "crews": [
        {"name": "static", "count": 2, "cards_per_day": 4},
        {"name": "testers", "strategy": "card_testing", "count": 1, "cards_per_day": 3},
        {
            "name": "bandits",
            "strategy": "bandit",
            "count": 2,
            "cards_per_day": 2,
            "dynamics": {"max_count": 4, "min_count": 1, "entry_per_month": 10.0, "leave_after": 3},
        },
    ],
    "labels": {
        "chargeback": {"share": 0.5, "delay": {"dist": "lognormal", "median": "3d", "sigma": 0.5}, "window": "15d"},
        "customer_report": {"share": 0.4, "delay": {"dist": "exponential", "mean": "1d"}},
        "maturity": {"window": "10d"},
    },
    "arms": [
        {"name": "online", "learner": "online"},
        {"name": "batch", "learner": "batch", "every": "2d", "window": "7d"},
        {"name": "static", "learner": "static"},
        {"name": "rules", "learner": "rules"},
        {"name": "oracle", "learner": "oracle"},
    ],
}


def write_scenario(path: Path, data: dict) -> Path:
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tiny_file(tmp_path_factory) -> Path:
    return write_scenario(tmp_path_factory.mktemp("scenario") / "tiny.toml", TINY)


@pytest.fixture(scope="session")
def tiny_run(tiny_file, tmp_path_factory) -> Path:
    """One run of the tiny scenario with the full ledger."""
    from sim.cli import main

    out = tmp_path_factory.mktemp("runs") / "tiny"
    assert main(["run", str(tiny_file), "--ledger", "--out", str(out), "--quiet", "--workers", "1"]) == 0
    return out


# The longest test files first, so that `make test`'s two processes (pytest-xdist, whole files
# each) do not end with one of them running the science fixtures alone; the rest keep their order.
LONGEST_FIRST = ("test_science.py", "test_any_scenario.py", "test_ab.py", "test_determinism.py", "test_notebooks.py")


def pytest_collection_modifyitems(items):
    def rank(item) -> int:
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)
