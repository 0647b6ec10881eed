"""Every scenario in scenarios/ runs at a short horizon and its report builds."""

from __future__ import annotations

import json

import pytest

from sim.cli import main

from .conftest import ROOT

SCENARIOS = sorted(p for p in (ROOT / "scenarios").glob("*.toml"))
SHORT = [
    "--set",
    "horizon=3d",
    "--set",
    "replications=1",
    "--set",
    "population.customers=2000",
    "--set",
    "population.merchants=300",
]


def test_there_are_scenarios():
    assert {"quickstart.toml", "labels.toml", "crews.toml"} <= {p.name for p in SCENARIOS}


@pytest.mark.slow
@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_runs_and_reports(path, tmp_path):
    out = tmp_path / path.stem
    assert main(["run", str(path), "--out", str(out), "--quiet", "--workers", "1", *SHORT]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["horizon_days"] == 3 and summary["ranking"]
    page = (out / "index.html").read_text()
    assert page.count("data:image/png;base64,") >= 4
