"""Sweeps: grid and zip expansion, bad sweep files, resume, executors, and results.parquet
against docs/sweeps.md."""

from __future__ import annotations

import copy
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from sim.cli import main
from sim.executors import ExecutorError, InProcess
from sim.scenario import ScenarioError, load_sweep
from sim.sweeps import expand, plan_sweep, point_key, run_sweep

from .conftest import ROOT, TINY, write_scenario

# Two arms and a smaller world than TINY: a run takes well under a second.
BASE = copy.deepcopy(TINY) | {
    "population": {"customers": 1000, "merchants": 100},
    "arms": [TINY["arms"][0], TINY["arms"][1]],
    "replications": 1,
}
GRID = '[grid]\n"labels.chargeback.delay.median" = ["1h", "3d"]\n'


def sweep_file(folder: Path, body: str = GRID, name: str = "sweep.toml", head: str = "") -> Path:
    """A sweep file over BASE (written beside it)."""
    write_scenario(folder / "base.toml", BASE)
    path = folder / name
    path.write_text(f'name = "tinysweep"\nbase = "base.toml"\n{head}\n{body}', encoding="utf-8")
    return path


def sweep(path: Path, out: Path, *extra: str) -> int:
    return main(["sweep", str(path), "--out", str(out), "--quiet", *extra])


# --------------------------------------------------------------------------- expansion


def test_grid_expands_to_every_combination_last_key_fastest():
    points = expand({"a": [1, 2, 3], "b": ["x", "y"]})
    assert len(points) == 6
    assert points[:3] == [{"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 2, "b": "x"}]


def test_zip_varies_together_and_crosses_the_grid():
    points = expand({"a": [1, 2]}, {"b": [10, 20, 30], "c": ["p", "q", "r"]})
    assert len(points) == 6
    assert {(p["b"], p["c"]) for p in points} == {(10, "p"), (20, "q"), (30, "r")}
    assert expand({}, {"b": [1, 2], "c": [3, 4]}) == [{"b": 1, "c": 3}, {"b": 2, "c": 4}]


def test_points_resolve_with_names_and_share_replication_seeds(tmp_path):
    path = sweep_file(
        tmp_path,
        '[grid]\n"arms.batch.every" = ["1d", "2d"]\n[zip]\n"seed" = [3, 4]\n"crews.static.count" = [1, 2]\n',
        head="replications = 3",
    )
    plan = plan_sweep(load_sweep(path))
    assert [p.index for p in plan.points] == [0, 1, 2, 3]
    assert [(p.scenario.arm("batch").every, p.scenario.seed, p.scenario.crews[0].count) for p in plan.points] == [
        (86400.0, 3, 1),
        (86400.0, 4, 2),
        (172800.0, 3, 1),
        (172800.0, 4, 2),
    ]
    assert len({p.key for p in plan.points}) == 4
    assert all(p.scenario.replications == 3 for p in plan.points)
    assert [(t.key, t.replication) for t in plan.tasks()][:3] == [(plan.points[0].key, r) for r in range(3)]


def test_point_key_ignores_cosmetic_keys_but_not_results_or_version(tmp_path):
    plan = plan_sweep(load_sweep(sweep_file(tmp_path)))
    one = plan.points[0].scenario
    assert point_key(one.model_copy(update={"name": "other", "replications": 9, "description": "x"})) == point_key(one)
    assert point_key(one.model_copy(update={"seed": 99})) != point_key(one)
    assert point_key(one, "0.0.1") != point_key(one)
    assert plan.points[0].key != plan.points[1].key


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios" / "sweeps").glob("*.toml")), ids=lambda p: p.stem)
def test_every_bundled_sweep_plans(path):
    """Every point of every sweep we ship validates (scenarios/README.md sends students to them)."""
    plan = plan_sweep(load_sweep(path))
    assert len(plan.points) >= 2 and plan.tasks()


def test_the_label_delay_sweep_is_valid():
    plan = plan_sweep(load_sweep(ROOT / "scenarios" / "sweeps" / "label_delay.toml"))
    assert len(plan.points) >= 5 and plan.sweep.replications >= 4
    first = plan.points[0].scenario
    assert [arm.name for arm in first.arms] == ["online", "batch-daily", "batch-weekly", "static"]
    assert first.labels.customer_report.share == 0.0
    medians = [p.scenario.labels.chargeback.delay.median for p in plan.points]
    assert medians == sorted(medians) and medians[0] <= 3600 and medians[-1] >= 60 * 86400


# --------------------------------------------------------------------------- bad sweep files

BAD = [
    # (what, file body, expected key in the message, words that must appear)
    (
        "unknown arm name",
        '[grid]\n"arms.batch-weeky.every" = ["1d"]',
        'grid."arms.batch-weeky.every"',
        ["no entry 'batch-weeky' in arms", "entries are: online, batch"],
    ),
    (
        "unknown key path",
        '[grid]\n"labels.chargebak.delay.median" = ["1d"]',
        'grid."labels.chargebak.delay.median"',
        ["unknown key 'chargebak'", "did you mean 'chargeback'"],
    ),
    ("key path through a value", '[grid]\n"horizon.days" = [1]', 'grid."horizon.days"', ["not a table"]),
    ("empty grid", "[grid]", "grid", ["is empty"]),
    ("no grid at all", "", "grid", ["is empty"]),
    ("a key without values", '[grid]\n"seed" = []', 'grid."seed"', ["no values"]),
    ("not a list", '[grid]\n"seed" = 4', 'grid."seed"', ["must be a list"]),
    (
        "wrong unit for the key",
        '[grid]\n"arms.batch.every" = ["1d", "7 days"]',
        'grid."arms.batch.every"',
        ["'7 days' is not a duration"],
    ),
    (
        "wrong type for the key",
        '[grid]\n"population.customers" = [100, "many"]',
        'grid."population.customers"',
        ["valid integer", "'many'"],
    ),
    (
        "impossible value",
        '[grid]\n"labels.chargeback.share" = [0.5, 0.9]',
        'grid."labels.chargeback.share"',
        ["at most 1", "0.9"],
    ),
    ("unquoted dotted key", "[grid]\nlabels.chargeback.share = [0.5]", 'grid."labels"', ["quote dotted key paths"]),
    ("zip of unequal lengths", '[zip]\n"seed" = [1, 2]\n"horizon" = ["1d"]', 'zip."horizon"', ["vary together"]),
    (
        "overlapping keys",
        '[grid]\n"labels.chargeback" = [{share = 0.1}]\n"labels.chargeback.share" = [0.2]',
        'grid."labels.chargeback.share"',
        ["overlaps"],
    ),
    ("repeated value", '[grid]\n"seed" = [1, 1]', 'grid."seed"', ["appears twice"]),
    ("reserved key", '[grid]\n"replications" = [1, 2]', 'grid."replications"', ["cannot be varied"]),
    ("unknown sweep key", "grdi = 1\n" + GRID, "grdi", ["did you mean 'grid'"]),
    ("bad set key", '[set]\n"arms.nope.lr" = 0.1\n' + GRID, 'set."arms.nope.lr"', ["no entry 'nope'"]),
    ("bad set value", '[set]\n"arms.online.lr" = -1\n' + GRID, 'set."arms.online.lr"', ["greater than 0"]),
    (
        "set replacing a section",
        "[set]\nlabels.chargeback.share = 0.1\n" + GRID,
        'set."labels"',
        ['"labels.chargeback.share"'],
    ),
]


@pytest.mark.parametrize(("what", "body", "key", "words"), BAD, ids=[case[0] for case in BAD])
def test_bad_sweep_file_exits_2_naming_the_file_and_key(tmp_path, capsys, what, body, key, words):
    path = sweep_file(tmp_path, body)
    status = sweep(path, tmp_path / "out")
    output = capsys.readouterr().err
    assert status == 2, output
    assert "Traceback" not in output
    assert f"{path}: {key}: " in output, output
    for word in words:
        assert word in output, output
    assert not (tmp_path / "out").exists()


def test_bad_base_and_bad_override(tmp_path, capsys):
    path = sweep_file(tmp_path)
    path.write_text(path.read_text().replace('base = "base.toml"', 'base = "missing.toml"'))
    assert sweep(path, tmp_path / "out") == 2
    assert f"{path}: base: 'missing.toml': no such scenario file" in capsys.readouterr().err
    path = sweep_file(tmp_path)
    write_scenario(tmp_path / "base.toml", BASE | {"horizon": "2 days"})
    assert sweep(path, tmp_path / "out") == 2
    assert f"{tmp_path / 'base.toml'}: horizon: '2 days' is not a duration" in capsys.readouterr().err
    path = sweep_file(tmp_path)
    assert sweep(path, tmp_path / "out", "--set", "arms.batch.every=0s") == 2
    assert f"{path}: --set arms.batch.every: " in capsys.readouterr().err
    assert sweep(path, tmp_path / "out", "--dask", "tcp://127.0.0.1:9", "--set", "arms.nope.lr=1") == 2
    assert "no entry 'nope'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_combination_errors_name_the_point(tmp_path):
    path = sweep_file(
        tmp_path, '[grid]\n"labels.chargeback.share" = [0.5, 0.6]\n"labels.customer_report.share" = [0.4, 0.5]'
    )
    with pytest.raises(ScenarioError) as caught:
        plan_sweep(load_sweep(path))
    assert caught.value.key == 'grid point ("labels.chargeback.share" = 0.6, "labels.customer_report.share" = 0.5)'
    assert "at most 1" in caught.value.message


# --------------------------------------------------------------------------- running and resuming


@pytest.fixture(scope="module")
def swept(tmp_path_factory) -> tuple[Path, Path]:
    """A tiny sweep (2 points × 2 arms × 1 replication) run in this process."""
    folder = tmp_path_factory.mktemp("sweep")
    path = sweep_file(folder)
    assert sweep(path, folder / "out", "--workers", "1") == 0
    return path, folder / "out"


def test_results_are_long_sorted_and_carry_the_grid(swept):
    _, out = swept
    results = pl.read_parquet(out / "results.parquet")
    assert results.height == 2 * 2 * 1
    assert results.select("point", "arm").rows() == [(0, "batch"), (0, "online"), (1, "batch"), (1, "online")]
    assert results["labels.chargeback.delay.median"].to_list() == ["1h", "1h", "3d", "3d"]
    assert results["labels.chargeback.delay.median_s"].to_list() == [3600.0] * 2 + [259200.0] * 2
    assert results["learner"].to_list() == ["batch", "online"] * 2
    assert (
        results["total_cost"] - results["fraud_loss"] - results["friction"] - results["review_cost"]
    ).abs().max() < 1e-6
    described = json.loads((out / "sweep.json").read_text())
    assert [p["point_key"] for p in described["points"]] == results["point_key"].unique(maintain_order=True).to_list()
    for key in described["points"][0]["point_key"], described["points"][1]["point_key"]:
        assert (out / "points" / key / "scenario.resolved.toml").exists()
        assert (out / "points" / key / "replication-0.parquet").exists()
    info = json.loads((out / "sweep_info.json").read_text())
    assert (info["runs"], info["computed"], info["reused"], info["executor"]) == (2, 2, 0, "in-process")


def test_rerun_skips_saved_runs_and_force_recomputes_them(swept, tmp_path):
    path, shared = swept
    out = tmp_path / "sweep"
    shutil.copytree(shared, out)  # a copy: runs are lost and damaged below, not in the shared sweep
    before = (out / "results.parquet").read_bytes()
    assert sweep(path, out, "--workers", "1") == 0
    assert json.loads((out / "sweep_info.json").read_text())["computed"] == 0
    assert (out / "results.parquet").read_bytes() == before
    saved = sorted((out / "points").glob("*/replication-0.parquet"))
    saved[0].unlink()  # a lost run
    saved[1].write_bytes(b"garbage")  # a run that cannot be trusted
    (saved[1].parent / ".replication-0.parquet.x1.tmp").write_bytes(b"half")  # left by a killed sweep
    assert sweep(path, out, "--workers", "1") == 0
    assert json.loads((out / "sweep_info.json").read_text())["computed"] == 2
    assert (out / "results.parquet").read_bytes() == before
    assert not list((out / "points").glob("*/.*.tmp"))
    assert sweep(path, out, "--workers", "1", "--force") == 0
    assert json.loads((out / "sweep_info.json").read_text())["computed"] == 2
    assert (out / "results.parquet").read_bytes() == before


def test_more_replications_reuse_the_first(swept, tmp_path):
    path, out = swept
    copy_out = tmp_path / "more"
    copy_out.mkdir()
    os.system(f"cp -r {out / 'points'} {copy_out}")
    more = path.with_name("more.toml")
    more.write_text(path.read_text().replace('base = "base.toml"', 'base = "base.toml"\nreplications = 2'))
    assert sweep(more, copy_out, "--workers", "1") == 0
    info = json.loads((copy_out / "sweep_info.json").read_text())
    assert (info["runs"], info["computed"], info["reused"]) == (4, 2, 2)
    results = pl.read_parquet(copy_out / "results.parquet")
    first = pl.read_parquet(out / "results.parquet")
    assert results.filter(pl.col("replication") == 0).equals(first)


def test_a_second_sweep_into_the_same_directory_is_refused(swept, capsys):
    path, out = swept
    with open(out / ".lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        assert sweep(path, out) == 2
    assert "another sweep is writing there" in capsys.readouterr().err


def _documented(document: str, section: str) -> list[tuple[str, str]]:
    text = (ROOT / "docs" / document).read_text(encoding="utf-8").split(f"## {section}")[1].split("\n## ")[0]
    return [(name, kind.strip()) for name, kind in re.findall(r"^\| `([^`]+)` \| ([^|]*) \|", text, flags=re.M)]


def test_results_parquet_matches_its_documentation(swept):
    _, out = swept
    own = [row for row in _documented("sweeps.md", "results.parquet") if row[0] != "ab_*"]  # only with [ab]
    figures = [
        (name, kind) for name, kind in _documented("outputs.md", "arms.parquet") if name not in ("arm", "replication")
    ]
    schema = pl.read_parquet_schema(out / "results.parquet")
    grid = "labels.chargeback.delay.median"
    written = [c.replace(grid, "<key path>") for c in schema]
    assert written == [name for name, _ in own + figures], (
        "docs/sweeps.md (or outputs.md's arms.parquet) is out of date"
    )
    for name, kind in own + figures:
        if kind != "as the values":
            actual = str(schema[name.replace("<key path>", grid)]).lower()
            assert actual.startswith(kind.split()[0].replace("string", "str")), (name, actual)


def test_progress_reports_runs_and_days(tmp_path):
    plan = plan_sweep(load_sweep(sweep_file(tmp_path)))
    seen = []
    run_sweep(plan, tmp_path / "out", InProcess(), progress=seen.append)
    assert seen[0].runs_done == 0 and seen[-1].runs_done == seen[-1].runs == 2
    assert seen[-1].days_done == pytest.approx(seen[-1].days)
    assert len(seen) > 4  # moves within runs, not only between them
    assert all(a.days_done <= b.days_done + 1e-9 for a, b in zip(seen, seen[1:], strict=False))


# --------------------------------------------------------------------------- slow: kill, pools, Dask


@pytest.mark.slow
def test_a_killed_sweep_resumes_to_the_same_bytes(tmp_path, capsys):
    path = sweep_file(tmp_path, '[grid]\n"labels.chargeback.delay.median" = ["1h", "3d"]\n"seed" = [1, 2, 3]\n')
    reference = tmp_path / "reference"
    assert sweep(path, reference, "--workers", "1") == 0
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "sim", "sweep", str(path), "--out", str(out), "--quiet", "--workers", "2"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not list(out.glob("points/*/replication-0.parquet")) and time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode()
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    saved = list(out.glob("points/*/replication-0.parquet"))
    assert 1 <= len(saved) < 6, "the sweep was not killed half-way"
    assert not (out / "results.parquet").exists()
    for file in saved:  # everything under its final name is complete
        assert pl.read_parquet(file).height == 2
    assert sweep(path, out, "--workers", "1") == 0
    info = json.loads((out / "sweep_info.json").read_text())
    assert info["reused"] == len(saved) and info["computed"] == 6 - len(saved)
    assert (out / "results.parquet").read_bytes() == (reference / "results.parquet").read_bytes()
    assert not list(out.rglob("*.tmp"))


@pytest.mark.slow
def test_dask_local_cluster_gives_the_local_bytes(tmp_path):
    """(tests/test_executors.py: a lost worker's tasks run again, locally and on Dask.)"""
    path = sweep_file(tmp_path, '[grid]\n"labels.chargeback.delay.median" = ["1h", "3d"]\n', head="replications = 2")
    assert sweep(path, tmp_path / "local", "--workers", "2") == 0
    assert sweep(path, tmp_path / "dask", "--dask", "local", "--workers", "2") == 0
    for name in ("results.parquet", "sweep.json"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "local" / name).read_bytes()
    assert json.loads((tmp_path / "dask" / "sweep_info.json").read_text())["executor"] == "dask"


def test_a_dask_address_must_be_tcp_or_tls(tmp_path, capsys):
    path = sweep_file(tmp_path)
    assert sweep(path, tmp_path / "out", "--dask", "http://10.0.0.5:8786") == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "tcp://HOST:PORT or tls://HOST:PORT" in err
    assert not (tmp_path / "out").exists()


def test_without_the_dask_extra_dask_is_refused_with_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` now raises ImportError
    path = sweep_file(tmp_path)
    assert sweep(path, tmp_path / "out", "--dask", "local") == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "pip install 'fraudsim[dask]'" in err
    assert not (tmp_path / "out").exists()


def test_plain_tcp_to_another_machine_is_warned_about_once(caplog, monkeypatch):
    from sim.executors import cluster

    monkeypatch.setattr(cluster, "_warned", [])
    with caplog.at_level("WARNING"):
        cluster.check_address("tcp://127.0.0.1:8786")
        cluster.check_address("tls://10.0.0.5:8786")
        assert not caplog.records  # this machine, or encrypted and authenticated
        cluster.check_address("tcp://10.0.0.5:8786")
        cluster.check_address("tcp://10.0.0.6:8786")
    assert len(caplog.records) == 1 and "run code in this process" in caplog.records[0].getMessage()


@pytest.mark.parametrize("reply", [None, ["0.1"], {"w1": 3}, {"w1": "x" * 10_000}])
def test_a_malformed_worker_reply_is_one_line(reply):
    from sim.executors import check_workers

    class Client:
        def run(self, function):
            return reply

    with pytest.raises(ExecutorError, match="reply to the version check is malformed"):
        check_workers(Client(), "tcp://10.0.0.5:8786")


def test_a_file_where_the_sweep_keeps_its_runs_is_refused_in_one_line(tmp_path, capsys):
    path = sweep_file(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "points").write_text("mine", encoding="utf-8")  # once a NotADirectoryError traceback
    assert sweep(path, tmp_path / "out", "--workers", "1") == 2
    err = capsys.readouterr().err
    assert "is a file where the sweep keeps its saved runs" in err and len(err.strip().splitlines()) == 1
    assert (tmp_path / "out" / "points").read_text(encoding="utf-8") == "mine"


def test_the_sweep_report_shows_the_scenarios_currency(tmp_path, monkeypatch):
    """It was euros whatever the scenario said."""
    from sim.report import sweep as report

    seen = []
    original = report.curves
    monkeypatch.setattr(report, "curves", lambda *args: seen.append(args[-1]) or original(*args))
    assert sweep(sweep_file(tmp_path), tmp_path / "out", "--workers", "1", "--set", 'currency="USD"') == 0
    assert json.loads((tmp_path / "out" / "sweep.json").read_text())["currency"] == "USD"
    assert seen and set(seen) == {"USD"}


def test_a_sweep_and_a_scenario_of_the_same_name_do_not_share_a_directory(tmp_path, monkeypatch):
    """Course steps once collided: `fraudsim run x.toml` and `fraudsim sweep x.toml` both wrote reports/x."""
    path = sweep_file(tmp_path)
    monkeypatch.chdir(tmp_path)
    run_dir = (
        tmp_path / "reports" / "tinysweep"
    )  # a run's output, as `fraudsim run` of a scenario "tinysweep" leaves it
    run_dir.mkdir(parents=True)
    (run_dir / "summary.json").write_text("{}")
    (run_dir / "run_info.json").write_text('{"outputs": ["summary.json", "run_info.json"]}')
    assert main(["sweep", str(path), "--quiet", "--workers", "1", "--no-report"]) == 0
    assert (tmp_path / "reports" / "sweep-tinysweep" / "results.parquet").exists()
    assert sorted(p.name for p in run_dir.iterdir()) == ["run_info.json", "summary.json"]


def test_a_run_directory_given_to_a_sweep_is_refused_with_how_to_choose_another(tmp_path, capsys):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "summary.json").write_text("{}")
    assert sweep(sweep_file(tmp_path), run_dir) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "a fraudsim run's output" in err and "--out" in err
