"""The Python API as a contract (docs/python.md): what ``sim.run(...).save(d)`` writes is what
``fraudsim run`` writes, byte for byte; errors are the command line's; every documented name
exists with a docstring; nothing is written until ``save``; notebook output is escaped."""

from __future__ import annotations

import difflib
import inspect
import json
from pathlib import Path

import polars as pl
import pytest
from markupsafe import escape
from matplotlib.figure import Figure

import sim
from sim.api.display import Row, html
from sim.cli import main

from .conftest import ROOT, TINY, write_scenario

# Timings and the machine: the only files two runs of one scenario may differ in.
TIMED = {"run_info.json", "sweep_info.json"}


def _files(directory: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file() and path.name not in TIMED
    }


def assert_same_files(mine: Path, theirs: Path) -> None:
    """The two directories hold the same files with the same bytes; a text file that differs is
    shown as a diff."""
    a, b = _files(mine), _files(theirs)
    assert sorted(a) == sorted(b)
    for name in a:
        if a[name] != b[name]:
            if name.endswith((".html", ".json", ".toml")):
                lines = [t.decode("utf-8").replace("><", ">\n<").splitlines() for t in (b[name], a[name])]
                diff = "\n".join(difflib.unified_diff(*lines, lineterm="", n=1))
                raise AssertionError(f"{name} differs:\n{diff[:5000]}")
            raise AssertionError(f"{name} differs")


@pytest.fixture(scope="module")
def tiny_result(tiny_file):
    return sim.run(tiny_file, workers=1, ledger=True, progress=False)


def test_every_public_name_exists_and_says_what_it_does():
    for name in sim.__all__:
        value = getattr(sim, name)
        assert inspect.getdoc(value), name
    for cls in (sim.Result, sim.SweepResult):
        for name, member in vars(cls).items():
            if not name.startswith("_"):
                assert inspect.getdoc(member), f"{cls.__name__}.{name}"


def test_saving_a_result_writes_what_the_command_line_writes(tiny_result, tiny_run, tmp_path):
    saved = tiny_result.save(tmp_path / "saved")
    assert_same_files(saved, tiny_run)
    assert (saved / "transactions.parquet").exists()
    again = tiny_result.save(tmp_path / "again")  # the ledger's parts serve every save
    assert_same_files(again, tiny_run)


def test_overrides_are_the_command_lines_set(tiny_file, tmp_path):
    overrides = {"horizon": "2d", "population.customers": 1500, "replications": 1}
    scenario = sim.load(tiny_file, overrides)
    assert (scenario.horizon, scenario.population.customers, scenario.replications) == (2 * 86400, 1500, 1)
    assert sim.load(tiny_file, ["horizon=2d", "population.customers=1500", "replications=1"]) == scenario
    assert (
        sim.with_overrides(sim.load(tiny_file, {"horizon": "2d", "population.customers": 1500}), {"replications": 1})
        == scenario
    )
    sim.run(scenario, workers=1, progress=False).save(tmp_path / "api", report=False)
    sets = [a for key, value in overrides.items() for a in ("--set", f"{key}={value}")]
    assert main(["run", str(tiny_file), *sets, "--out", str(tmp_path / "cli"), "--quiet", "--no-report"]) == 0
    assert_same_files(tmp_path / "api", tmp_path / "cli")


def test_a_bad_override_raises_the_command_lines_message(tiny_file, capsys):
    with pytest.raises(sim.ScenarioError) as raised:
        sim.load(tiny_file, {"horizon": "2 days"})
    assert main(["validate", str(tiny_file), "--set", "horizon=2 days"]) == 2
    line = capsys.readouterr().err.strip()
    assert line == f"error: {raised.value}"


def test_replications_given_to_run_are_validated_like_the_file(tiny_file):
    with pytest.raises(sim.ScenarioError, match="replications"):
        sim.run(tiny_file, replications=0, progress=False)


def test_the_results_tables_are_the_runs(tiny_result, tiny_run):
    summary = tiny_result.summary
    ranking = tiny_result.ranking
    assert ranking["arm"].to_list() == list(summary.ranking)
    best = summary.arms[summary.ranking[0]]
    row = ranking.row(0, named=True)
    assert (row["total_cost"], row["total_cost_low"], row["total_cost_high"]) == (
        best.total_cost.mean,
        best.total_cost.ci_low,
        best.total_cost.ci_high,
    )
    assert tiny_result.daily.equals(pl.read_parquet(tiny_run / "daily.parquet"))
    assert tiny_result.arms.equals(pl.read_parquet(tiny_run / "arms.parquet"))
    differences = tiny_result.differences
    assert differences.height == len(summary.differences)
    first = summary.differences[0]
    assert differences.row(0, named=True)["fraud_loss_relative"] == first.fraud_loss_relative.mean


def test_findings_carry_the_summary_s_own_numbers(tiny_result):
    """The findings' values are the summary's, not numbers parsed back from words."""
    summary = tiny_result.summary
    found = {}
    for finding in tiny_result.findings:
        found.setdefault(finding.kind, []).append(finding)
    (ranking,) = found["ranking"]
    assert (ranking.arm, ranking.value) == (summary.ranking[0], summary.arms[summary.ranking[0]].total_cost)
    assert ranking.facts["worst"] == summary.ranking[-1]
    assert [f.arm for f in found["difference"]] == list(summary.ranking[1:4])
    for finding in found["difference"]:
        entry = summary.difference(finding.baseline, finding.arm)
        assert finding.baseline == summary.ranking[0] and finding.value == entry.total_cost_relative
        assert finding.facts["fraud_loss"] == entry.fraud_loss_relative
    (fresh,) = found["fresh_labels"]
    assert fresh.value == summary.fresh_labels.headroom.total_cost_relative
    assert set(fresh.facts["recovered"]) <= set(summary.fresh_labels.recovered)


def test_findings_and_figures_are_the_reports(tiny_result, tiny_run):
    page = (tiny_run / "index.html").read_text(encoding="utf-8")
    assert tiny_result.findings
    for finding in tiny_result.findings:
        assert str(escape(finding.text)) in page  # escaped as the page's template escapes it
        assert json.loads(json.dumps(finding.to_json()))["text"] == finding.text
    figure = tiny_result.figure("cost_split")
    assert isinstance(figure, Figure) and str(escape(figure.fraudsim_caption)) in page
    assert set(tiny_result.figures) >= {p.stem for p in tiny_run.glob("*.png")}
    with pytest.raises(KeyError, match="cost_split"):
        tiny_result.figure("no_such_figure")


def test_nothing_is_written_until_save(tiny_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = sim.run(tiny_file, replications=1, workers=1, ledger=True, progress=False)
    assert list(tmp_path.iterdir()) == []
    result.save("out", report=False)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_result_shows_itself_in_a_terminal_and_in_a_notebook(tiny_result):
    text = repr(tiny_result)
    assert text.splitlines()[0].startswith("tiny: 2 replications")
    assert len(text.splitlines()) <= 24
    for arm in tiny_result.summary.ranking:
        assert arm in text and f"&#9632;</span> {arm}</td>" in tiny_result._repr_html_()


def test_notebook_output_escapes_every_text():
    block = html("<b>name</b>", "a & b", ["<script>alert(1)</script>"], ["arm", "cost"], [Row("x<y", "red", ["<i>"])])
    assert "<script>" not in block and "&lt;script&gt;" in block
    assert "<b>name" not in block and "&lt;b&gt;name" in block
    assert "x&lt;y" in block and "&lt;i&gt;" in block and "a &amp; b" in block


@pytest.mark.slow
def test_a_saved_sweep_is_what_the_command_line_writes(tmp_path):
    sweep_file = write_scenario(
        tmp_path / "sweep.toml",
        {
            "name": "tiny-sweep",
            "base": str(write_scenario(tmp_path / "tiny.toml", TINY | {"horizon": "3d", "replications": 2})),
            "replications": 2,
            "grid": {"labels.chargeback.delay.median": ["1d", "5d"]},
        },
    )
    result = sim.sweep(sweep_file, {"population.customers": 1500}, workers=1, progress=False)
    assert result.results.height == 2 * 2 * len(TINY["arms"])
    assert result.findings and "heat_map" in result.figures
    assert isinstance(result.figure("tradeoff_total_cost"), Figure)
    saved = result.save(tmp_path / "api")
    command = ["sweep", str(sweep_file), "--set", "population.customers=1500", "--workers", "1"]
    assert main([*command, "--out", str(tmp_path / "cli"), "--quiet"]) == 0
    assert_same_files(saved, tmp_path / "cli")
    assert repr(result).startswith("tiny-sweep: 2 point(s)")


def test_the_quickstart_loads_with_the_readmes_overrides():
    scenario = sim.load(ROOT / "scenarios" / "quickstart.toml", {"labels.chargeback.delay.median": "90d"})
    assert scenario.labels.chargeback.delay.median == 90 * 86400


# --------------------------------------------------------------------------- replay


def _stream() -> pl.DataFrame:
    from .test_replay import drifting_stream

    return drifting_stream(rows=1500, days=6.0)


def test_a_replayed_dataframe_is_its_file_replayed(tmp_path):
    frame = _stream()
    path = tmp_path / "dataframe.parquet"
    frame.write_parquet(path)
    options = {"time": "ts", "label": "is_fraud", "delay_column": "delay_s", "amount": "amount", "progress": False}
    from_frame = sim.replay(frame, **options).save(tmp_path / "frame")
    from_pandas = sim.replay(frame.to_pandas(), **options).save(tmp_path / "pandas")
    command = ["replay", str(path), "--time", "ts", "--label", "is_fraud", "--delay-column", "delay_s"]
    assert main([*command, "--amount", "amount", "--out", str(tmp_path / "cli"), "--quiet"]) == 0
    cli = _files(tmp_path / "cli")
    summary = json.loads(cli.pop("replay.json"))
    assert summary["stream"]["file"] == str(path)
    for saved in (from_frame, from_pandas):
        files = _files(saved)
        theirs = json.loads(files.pop("replay.json"))
        assert theirs["stream"].pop("file") == "dataframe.parquet"  # not the scratch file's path
        assert theirs["stream"] | {"file": str(path)} == summary["stream"]
        assert {k: v for k, v in theirs.items() if k != "stream"} == {k: v for k, v in summary.items() if k != "stream"}
        assert {k: v for k, v in files.items() if k != "index.html"} == {
            k: v for k, v in cli.items() if k != "index.html"
        }


def test_replay_from_python_takes_the_commands_options_and_messages(tmp_path, capsys):
    frame = _stream()
    result = sim.replay(frame, time="ts", label="is_fraud", delay="6h", learner="online", lr=0.01, progress=False)
    assert result.metrics["learner"].to_list() == ["online"]
    assert result.summary["learners"][0]["options"]["lr"] == 0.01
    assert "online" in repr(result) and "online</td>" in result._repr_html_()
    with pytest.raises(sim.ReplayError) as raised:
        sim.replay(frame, time="ts", label="is_fraud", delay="6h", top_k=10, progress=False)
    path = tmp_path / "s.parquet"
    frame.write_parquet(path)
    command = ["replay", str(path), "--time", "ts", "--label", "is_fraud", "--delay", "6h", "--top-k", "10"]
    assert main(command) == 2
    assert capsys.readouterr().err.strip() == f"error: {raised.value}"
    with pytest.raises(sim.ReplayError, match="^dataframe.parquet: no time column 'nope'"):
        sim.replay(frame, time="nope", label="is_fraud", delay="6h", progress=False)
    with pytest.raises(sim.ReplayError, match="--threshold"):
        sim.replay(frame, time="ts", label="is_fraud", delay="6h", threshold=1.5, progress=False)


def test_python_overrides_and_arms_are_recorded_as_changes(tiny_file):
    scenario = sim.load(tiny_file, overrides={"horizon": "3d"})
    assert scenario.changes == ('horizon = "3d" (was "6d")',)
    later = sim.api.results.with_overrides(scenario, {"horizon": "2d", "replications": 1})
    assert later.changes == ('horizon = "2d" (was "6d")', "replications = 1 (was 2)")  # was: the file's
    armed = sim.api.results.with_arms(later, [sim.arms.Static()])
    assert armed.changes[-1] == "arms = static (given from Python)" and len(armed.changes) == 3
