"""The files a run writes match docs/outputs.md, column for column."""

from __future__ import annotations

import json
import re

import polars as pl
import pytest

from sim.docgen import reference
from sim.schema.features import FEATURES

from .conftest import ROOT

DOCS = (ROOT / "docs" / "outputs.md").read_text(encoding="utf-8")
STREAMS = "streams/ARM-rN.parquet"  # one file per arm and replication
OPTIONAL = {"ab_daily.parquet"}  # written only by scenarios with an [ab] test (checked in test_ab.py)


def documented_tables() -> dict[str, list[tuple[str, str]]]:
    """``## file`` headings with a ``| column | type | meaning |`` table beneath."""
    tables: dict[str, list[tuple[str, str]]] = {}
    for section in re.split(r"^## ", DOCS, flags=re.M)[1:]:
        title, _, body = section.partition("\n")
        rows = re.findall(r"^\| `([^`]+)` \| ([^|]+) \|", body, flags=re.M)
        if title.strip().endswith(".parquet"):
            tables[title.strip()] = [(name, kind.strip()) for name, kind in rows]
    return tables


def test_every_parquet_file_matches_its_documentation(tiny_run):
    tables = documented_tables()
    assert {"daily.parquet", "arms.parquet", "transactions.parquet", "labels.parquet"} <= set(tables)
    streams = tables.pop(STREAMS)
    written = sorted(p.name for p in tiny_run.glob("*.parquet"))
    assert written == sorted(set(tables) - OPTIONAL), (
        "a file is written but not documented, or documented but not written"
    )
    for name, columns in tables.items():
        if name in OPTIONAL:
            continue
        check_columns(tiny_run / name, columns)
    for path in (tiny_run / "streams").iterdir():  # the features follow the documented columns
        check_columns(path, streams + [(name, "float32") for name in FEATURES])


def check_columns(path, columns: list[tuple[str, str]]) -> None:
    """The file's columns are the documented ones, in order, with the documented types."""
    name, schema = path.name, pl.read_parquet_schema(path)
    fixed = [c for c, _ in columns if not c.endswith("*")]
    patterns = [c[:-1] for c, _ in columns if c.endswith("*")]
    assert [c for c in schema if not any(c.startswith(p) for p in patterns)] == fixed, name
    for column, kind in columns:
        matching = [c for c in schema if c == column or (column.endswith("*") and c.startswith(column[:-1]))]
        assert matching, (name, column)
        for actual in matching:
            assert str(schema[actual]).lower().startswith(kind.split()[0].replace("string", "str")), (name, actual)


def test_summary_keys_are_documented(tiny_run):
    summary = json.loads((tiny_run / "summary.json").read_text())
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", DOCS.split("## summary.json")[1].split("## ")[0], re.M))
    # `ab` only with an [ab] test; no warnings here; `changes` only when the run changed its file
    assert set(summary) == documented - {"ab", "warnings", "changes"}
    arm = next(iter(summary["arms"].values()))
    for key in ("learner", "rank", "fraud_loss", "friction", "review_cost", "total_cost", "counts"):
        assert key in arm
    assert set(arm["total_cost"]) == {"mean", "ci_low", "ci_high"}
    assert summary["replications"] == 2 and arm["total_cost"]["ci_low"] <= arm["total_cost"]["ci_high"]


def test_run_info_and_report_are_written(tiny_run):
    info = json.loads((tiny_run / "run_info.json").read_text())
    assert info["transactions"] > 0 and info["transactions_per_second"] > 0
    page = (tiny_run / "index.html").read_text()
    assert "data:image/png;base64," in page
    assert "&lt;b&gt;escaped&lt;/b&gt;" in page and "<b>escaped</b>" not in page
    for figure in tiny_run.glob("*.png"):
        assert figure.stat().st_size > 1000, figure.name
    assert not list(tiny_run.parent.glob(".tiny.tmp-*"))


def test_the_run_page_escapes_the_scenario_exactly_once(tiny_run, tmp_path):
    """A description with markup, an entity and quotes reads back exactly as written: neither
    taken as markup nor escaped twice; the report's own words (with apostrophes) are not escaped
    twice either."""
    import shutil
    import tomllib

    import tomli_w

    from sim.report.html import build_report

    from .pages import MARKUP, assert_escaped_once

    run = shutil.copytree(tiny_run, tmp_path / "run")
    scenario = tomllib.loads((run / "scenario.resolved.toml").read_text(encoding="utf-8"))
    (run / "scenario.resolved.toml").write_text(tomli_w.dumps(scenario | {"description": MARKUP}), encoding="utf-8")
    parsed = assert_escaped_once(build_report(run).read_text(encoding="utf-8"), MARKUP)
    assert parsed.by_tag["p"][0] == MARKUP and parsed.by_tag["h1"] == ["fraudsim report: tiny"]
    words = parsed.by_tag["li"] + parsed.by_tag["figcaption"]
    assert any("'" in text for text in words)  # so that escaping them twice would show


def documented_figures() -> dict[str, str]:
    """The PNGs listed under "The report", in order, with when each is left out."""
    section = DOCS.split("## The report")[1].split("\n## ")[0]
    return dict(re.findall(r"^\| `([^`]+\.png)` \| [^|]+ \| ([^|]+) \|$", section, flags=re.M))


def test_report_figures_are_documented(tiny_run):
    """Every figure the report can draw is listed, in the page's order; the run writes the ones
    documented as always there, and none that is not listed."""
    from types import SimpleNamespace

    from sim.report.html import SECTIONS, ab_sections

    figures = documented_figures()
    ab_run = SimpleNamespace(ab_daily=object(), summary=SimpleNamespace(ab=object()), currency="EUR")
    assert list(figures) == [s.filename for s in ab_sections(ab_run) + SECTIONS]
    written = {p.name for p in tiny_run.glob("*.png")}
    assert written <= set(figures), "a PNG is written but not documented"
    assert {name for name, when in figures.items() if when.strip() == "never"} <= written
    # the tiny scenario has no [ab] test and no exploration: those, and only those, are left out
    assert set(figures) - written == {"ab_estimate.png", "ab_bias.png", "ab_crews.png", "exploration.png"}
    page = (tiny_run / "index.html").read_text()
    assert "Left out: No exploration" in page


def test_scenario_reference_is_up_to_date():
    current = (ROOT / "docs" / "scenario-reference.md").read_text(encoding="utf-8")
    assert current == reference(), "run `make reference` to regenerate docs/scenario-reference.md"


@pytest.mark.parametrize(
    "key", ["population.customers", "labels.chargeback.window", "arms[].every", "policy.fraud_fee"]
)
def test_reference_lists_keys(key):
    assert f"`{key}`" in reference()


def test_paired_differences_match_the_per_replication_totals(tiny_run):
    summary = json.loads((tiny_run / "summary.json").read_text())
    totals = pl.read_parquet(tiny_run / "arms.parquet").sort("replication")
    entry = summary["differences"][0]
    a = totals.filter(pl.col("arm") == entry["arm"])["total_cost"].to_numpy()
    b = totals.filter(pl.col("arm") == entry["baseline"])["total_cost"].to_numpy()
    assert entry["total_cost"]["mean"] == pytest.approx((a - b).mean(), abs=1e-5)
    assert entry["total_cost_relative"]["mean"] == pytest.approx((a - b).mean() / b.mean(), abs=1e-6)
    arms = len(summary["arms"])
    assert len(summary["differences"]) == arms * (arms - 1) // 2


def test_temporary_directories_of_killed_runs_are_removed_at_the_next_start(tmp_path):
    import os
    import subprocess
    import sys

    from sim.outputs import atomic_directory

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)  # a process that has exited
    target = tmp_path / "run"
    stale = [tmp_path / f".run.tmp-{pid}-abc", tmp_path / f".run.old-{pid}"]
    live = tmp_path / f".run.tmp-{os.getppid()}-xyz"  # a live process's: left alone
    other = tmp_path / f".runs.tmp-{pid}-abc"  # another output's
    for path in (*stale, live, other):
        path.mkdir()
        (path / "daily.parquet").write_text("half")
    with atomic_directory(target) as work:
        (work / "summary.json").write_text("{}")
    assert not any(p.exists() for p in stale)
    assert live.exists() and other.exists() and (target / "summary.json").exists()


def test_a_full_disk_is_one_line_and_keeps_the_previous_output(tmp_path):
    import errno
    import os

    from sim.outputs import OutputError, atomic_directory

    target = tmp_path / "out"
    with atomic_directory(target) as work:
        (work / "summary.json").write_text("{}", encoding="utf-8")
    full = pytest.raises(OutputError, match=r"could not be written \(No space left on device\); the previous output")
    with full, atomic_directory(target) as work:
        (work / "summary.json").write_text('{"new": 1}', encoding="utf-8")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert (target / "summary.json").read_text(encoding="utf-8") == "{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary directory left


def test_an_unwritable_output_is_refused_before_running(tiny_file, tmp_path, capsys, monkeypatch):
    import os

    from sim import outputs
    from sim.cli import main

    real = os.access  # as if read-only (root writes anywhere)
    monkeypatch.setattr(outputs.os, "access", lambda path, mode: not mode & os.W_OK and real(path, mode))
    assert main(["run", str(tiny_file), "--out", str(tmp_path / "ro" / "x"), "--quiet"]) == 2
    assert "is not writable" in capsys.readouterr().err


def test_what_was_run_is_what_is_described(tiny_file, tiny_run, tmp_path):
    """Every value a run changed of its file is said at the top of the report, in summary.json and
    in the resolved scenario's header; the description is marked as written for the file."""
    from sim.cli import main

    out = tmp_path / "changed"
    args = ["--set", "labels.chargeback.delay.median=9d", "--set", "arms.online.lr=0.05", "-r", "1"]
    assert main(["run", str(tiny_file), *args, "--set", "horizon=2d", "--out", str(out), "-q", "--workers", "1"]) == 0
    expected = [
        'horizon = "2d" (was "6d")',
        "replications = 1 (was 2)",
        "arms.online.lr = 0.05 (was the default)",
        'labels.chargeback.delay.median = "9d" (was "3d")',
    ]
    assert sorted(json.loads((out / "summary.json").read_text())["changes"]) == sorted(expected)
    header = (out / "scenario.resolved.toml").read_text().split("\nname = ")[0]
    assert all(f"#   {line}" in header for line in expected)
    page = (out / "index.html").read_text()
    assert "differs from the scenario&#39;s file" in page or "differs from the scenario's file" in page
    assert "written for the file&#39;s settings" in page or "written for the file's settings" in page
    assert "labels.chargeback.delay.median = &#34;9d&#34;" in page or 'labels.chargeback.delay.median = "9d"' in page
    # a run of the file as it is says nothing of the kind
    assert "changes" not in json.loads((tiny_run / "summary.json").read_text())
    assert "differs from the scenario" not in (tiny_run / "index.html").read_text()
