"""Same scenario, same seed: byte-identical results, whichever way the work is split."""

from __future__ import annotations

import pytest

from sim.cli import main

TABLES = (
    "daily.parquet",
    "summary.json",
    "arms.parquet",
    "model_events.parquet",
    "scenario.resolved.toml",
    "labels_daily.parquet",
    "crews.parquet",
    "label_coverage.parquet",
    "quality_daily.parquet",
    "reliability.parquet",
)


def _run(tiny_file, out, *extra):
    assert main(["run", str(tiny_file), "--out", str(out), "--quiet", "--no-report", *extra]) == 0
    return {name: (out / name).read_bytes() for name in TABLES}


@pytest.mark.slow
def test_same_seed_same_bytes_serial_and_parallel(tiny_file, tiny_run, tmp_path):
    first = _run(tiny_file, tmp_path / "a", "--workers", "1")
    second = _run(tiny_file, tmp_path / "b", "--workers", "2")
    assert first == second
    for name in ("daily.parquet", "summary.json"):
        assert (tiny_run / name).read_bytes() == first[name]


@pytest.mark.slow
def test_replications_split_into_warm_up_and_arm_tasks_give_the_same_bytes(tiny_file, tmp_path):
    """Three replications on two workers do not share out evenly, so each warm-up and each arm
    is a task of its own (worlds saved and loaded between processes): nothing may change."""
    serial = _run(tiny_file, tmp_path / "serial", "--workers", "1", "--set", "replications=3", "--ledger")
    split = _run(tiny_file, tmp_path / "split", "--workers", "2", "--set", "replications=3", "--ledger")
    assert serial == split
    ledger = sorted(p.relative_to(tmp_path / "serial") for p in (tmp_path / "serial").rglob("*.parquet"))
    assert ledger == sorted(p.relative_to(tmp_path / "split") for p in (tmp_path / "split").rglob("*.parquet"))
    for path in ledger:
        assert (tmp_path / "serial" / path).read_bytes() == (tmp_path / "split" / path).read_bytes(), path


@pytest.mark.slow
def test_a_run_on_a_local_dask_cluster_gives_the_same_bytes(tiny_file, tiny_run, tmp_path):
    """Whole replications (two on two workers) and split ones (three on two, worlds passed
    through scratch files, the ledger written by the workers) alike."""
    even = _run(tiny_file, tmp_path / "even", "--dask", "local", "--workers", "2")
    for name in TABLES:
        assert (tiny_run / name).read_bytes() == even[name], name
    serial = _run(tiny_file, tmp_path / "serial", "--workers", "1", "--set", "replications=3", "--ledger")
    split = _run(
        tiny_file, tmp_path / "split", "--dask", "local", "--workers", "2", "--set", "replications=3", "--ledger"
    )
    assert serial == split
    for name in ("transactions.parquet", "labels.parquet", "alerts.parquet"):
        assert (tmp_path / "serial" / name).read_bytes() == (tmp_path / "split" / name).read_bytes(), name


def test_a_different_seed_changes_results(tiny_file, tiny_run, tmp_path):
    other = _run(
        tiny_file, tmp_path / "c", "--workers", "1", "--set", "seed=4", "--set", "replications=1", "--set", "horizon=2d"
    )
    assert other["summary.json"] != (tiny_run / "summary.json").read_bytes()


def test_resolved_file_reproduces_the_run(tiny_run, tmp_path):
    again = _run(tiny_run / "scenario.resolved.toml", tmp_path / "d", "--workers", "1")
    assert again["summary.json"] == (tiny_run / "summary.json").read_bytes()
    assert again["daily.parquet"] == (tiny_run / "daily.parquet").read_bytes()


def test_an_arm_gives_the_same_bytes_alone_or_beside_others(tmp_path):
    """The world never depends on the arm list: the warm-up does not follow the longest batch
    window, and a learner's seed follows its name, not its place (a long-window batch arm and
    a seeded gradient-boosting arm beside it change nothing for the others)."""
    import polars as pl

    from tests.conftest import TINY, write_scenario

    base = {**TINY, "replications": 1, "horizon": "3d"}
    gbm = {"name": "gbm", "learner": "batch", "model": "gbm", "every": "1d", "window": "7d"}
    others = [
        {"name": "long", "learner": "batch", "every": "1d", "window": "40d"},
        {"name": "online", "learner": "online"},
    ]
    alone = write_scenario(tmp_path / "alone.toml", {**base, "arms": [gbm]})
    beside = write_scenario(tmp_path / "beside.toml", {**base, "arms": [*others, gbm]})
    for path in (alone, beside):
        assert (
            main(["run", str(path), "--out", str(tmp_path / path.stem), "--quiet", "--no-report", "--workers", "1"])
            == 0
        )
    for table in ("daily.parquet", "quality_daily.parquet", "crews.parquet", "arms.parquet"):
        mine = pl.read_parquet(tmp_path / "alone" / table)
        theirs = pl.read_parquet(tmp_path / "beside" / table).filter(pl.col("arm") == "gbm")
        assert mine.equals(theirs), table


@pytest.mark.slow
def test_the_report_is_byte_identical_however_often_it_is_rebuilt(tiny_run, tmp_path):
    """Every output of a seeded run, the page and its figures included: captions must not depend on
    the order a hash-based group_by happens to return tied rows in."""
    import shutil

    from sim.report.html import build_report

    pages = []
    for k in range(2):
        copy = shutil.copytree(tiny_run, tmp_path / f"copy{k}")
        build_report(copy)
        pages.append({p.name: p.read_bytes() for p in sorted(copy.iterdir()) if p.suffix in (".html", ".png")})
    assert len(pages[0]) > 5
    assert all(page == pages[0] for page in pages[1:])
    assert pages[0]["index.html"] == (tiny_run / "index.html").read_bytes()
