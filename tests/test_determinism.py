"""Same scenario, same seed: byte-identical results, whichever way the work is split."""

from __future__ import annotations

import pytest

from sim.cli import main


def _run(tiny_file, out, *extra):
    assert main(["run", str(tiny_file), "--out", str(out), "--quiet", "--no-report", *extra]) == 0
    return {name: (out / name).read_bytes() for name in ("daily.parquet", "summary.json", "arms.parquet",
                                                         "model_events.parquet", "scenario.resolved.toml")}  # fmt: skip


@pytest.mark.slow
def test_same_seed_same_bytes_serial_and_parallel(tiny_file, tiny_run, tmp_path):
    first = _run(tiny_file, tmp_path / "a", "--workers", "1")
    second = _run(tiny_file, tmp_path / "b", "--workers", "2")
    assert first == second
    for name in ("daily.parquet", "summary.json"):
        assert (tiny_run / name).read_bytes() == first[name]


def test_a_different_seed_changes_results(tiny_file, tiny_run, tmp_path):
    other = _run(tiny_file, tmp_path / "c", "--workers", "1", "--set", "seed=4", "--set", "replications=1",
                 "--set", "horizon=2d")  # fmt: skip
    assert other["summary.json"] != (tiny_run / "summary.json").read_bytes()


def test_resolved_file_reproduces_the_run(tiny_run, tmp_path):
    again = _run(tiny_run / "scenario.resolved.toml", tmp_path / "d", "--workers", "1")
    assert again["summary.json"] == (tiny_run / "summary.json").read_bytes()
    assert again["daily.parquet"] == (tiny_run / "daily.parquet").read_bytes()
