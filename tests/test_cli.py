"""The command line end to end: run, validate, scenarios, report, --help, python -m sim."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import sim
from sim.cli import display_path, main, out

from .conftest import ROOT


@pytest.mark.slow
def test_quickstart_at_a_short_horizon(tmp_path, capsys):
    out = tmp_path / "quickstart"
    status = main(
        [
            "run",
            str(ROOT / "scenarios" / "quickstart.toml"),
            "--out",
            str(out),
            "--workers",
            "1",
            "--set",
            "horizon=3d",
            "--set",
            "replications=2",
            "--set",
            "population.customers=3000",
        ]
    )
    assert status == 0
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["ranking"]) == {"oracle", "online", "batch-daily", "batch-weekly", "static", "rules"}
    assert summary["fresh_labels"]["static"] == "static" and summary["fresh_labels"]["oracle"] == "oracle"
    assert all(arm["total_cost"]["ci_low"] is not None for arm in summary["arms"].values())
    printed = capsys.readouterr().out
    assert "index.html" in printed
    assert (out / "index.html").exists()
    # After the table, the report's headline findings in words: what fresh labels are worth, and
    # the best arm against the next (the summary decides both).
    from sim.cli.run import headline_findings
    from sim.summary import Summary

    fresh, first = headline_findings(Summary.from_json(summary))
    assert (fresh.kind, first.kind) == ("fresh_labels", "difference") and first.arm == summary["ranking"][1]
    assert fresh.text in printed and first.text in printed and "Finding(" not in printed


def test_validate_and_scenarios(capsys):
    from sim.memory import estimate, gigabytes

    quickstart = ROOT / "scenarios" / "quickstart.toml"
    assert main(["validate", str(quickstart)]) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert said.startswith("ok")
    assert f"about {gigabytes(estimate(sim.load(quickstart)).total)} of memory per replication" in said
    out.width = 60  # CI's terminal is narrow and the clone's path long: every path must still show whole
    try:
        assert main(["scenarios", str(ROOT / "scenarios")]) == 0
    finally:
        out.width = None
    listing = capsys.readouterr().out
    assert "Start here" in listing
    for path in (ROOT / "scenarios").rglob("*.toml"):
        assert display_path(path) in listing.splitlines()


def test_validate_checks_every_point_of_a_sweep(tmp_path, capsys):
    """`validate` on a sweep file checks its grid's points; `run` on one says to use `sweep`."""
    sweeps = ROOT / "scenarios" / "sweeps"
    assert main(["validate", str(sweeps / "label_delay.toml")]) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert said.startswith("ok") and "sweep label_delay, 5 point(s) of labels.chargeback.delay.median" in said
    bad = tmp_path / "bad.toml"
    bad.write_text(f'base = "{(ROOT / "scenarios" / "quickstart.toml").as_posix()}"\n[grid]\nhorizon = ["30d", "2x"]\n')
    assert main(["validate", str(bad)]) == 2
    error = capsys.readouterr().err
    assert 'grid."horizon"' in error and "'2x' is not a duration" in error
    assert main(["run", str(sweeps / "label_delay.toml")]) == 2
    error = " ".join(capsys.readouterr().err.split())
    assert "this is a sweep file" in error and "run it with `fraudsim sweep" in error


def test_report_rebuilds_from_tables(tiny_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)  # a copy: the shared run stays whole for the other tests
    (run / "index.html").unlink()
    assert main(["report", str(run)]) == 0
    assert (run / "index.html").exists()


def test_report_refuses_a_non_run_directory(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "not a fraudsim run, replay or sweep directory" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("daily.parquet", b"PAR1 not really parquet"),
        ("summary.json", b"{bad"),
        ("summary.json", b"[1, 2]"),  # valid JSON of the wrong shape: once a TypeError traceback
        ("summary.json", b'{"ranking": 3}'),
    ],
)
def test_report_on_a_damaged_table_exits_2_and_keeps_the_old_report(tiny_run, tmp_path, capsys, name, content):
    damaged = tmp_path / "damaged"
    shutil.copytree(tiny_run, damaged)
    page = (damaged / "index.html").read_bytes()
    (damaged / name).write_bytes(content)
    assert main(["report", str(damaged)]) == 2
    message = capsys.readouterr().err
    assert "a saved table cannot be read" in message and "Traceback" not in message
    assert (damaged / "index.html").read_bytes() == page
    assert not [p.name for p in damaged.iterdir() if p.name.startswith(".")]


def test_a_report_that_crashes_keeps_the_run_and_its_old_output_is_replaced_whole(
    tiny_file, tmp_path, capsys, monkeypatch
):
    import sim.report.html

    target = tmp_path / "run"

    def broken(directory, pdf=False):
        raise ValueError("a caption formats a missing AUC")

    monkeypatch.setattr(sim.report.html, "build_report", broken)
    assert main(["run", str(tiny_file), "--out", str(target), "--quiet"]) == 1
    message = capsys.readouterr().err
    assert "tables are in" in message and "a caption formats a missing AUC" in message and "Traceback" not in message
    for name in ("daily.parquet", "arms.parquet", "summary.json", "run_info.json"):
        assert (target / name).exists(), name
    assert not (target / "index.html").exists()
    assert "ValueError" in (target / "report_error.txt").read_text()
    assert json.loads((target / "run_info.json").read_text())["report_error"].startswith("ValueError")
    monkeypatch.undo()
    assert main(["report", str(target)]) == 0
    assert (target / "index.html").exists() and not (target / "report_error.txt").exists()


def test_an_output_directory_of_other_files_is_refused_before_running(tiny_file, tmp_path, capsys, monkeypatch):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("important")
    assert main(["run", str(tiny_file), "--out", str(precious), "--quiet"]) == 2
    assert "is not an earlier fraudsim output" in capsys.readouterr().err
    assert [p.name for p in precious.iterdir()] == ["thesis.tex"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["precious"]  # no temporary directory left
    (tmp_path / "afile").write_text("x")
    assert main(["run", str(tiny_file), "--out", str(tmp_path / "afile" / "sub"), "--quiet"]) == 2
    assert "is a file, not a directory" in capsys.readouterr().err
    monkeypatch.chdir(precious)
    assert main(["run", str(tiny_file), "--out", ".", "--quiet"]) == 2
    assert "would replace the working directory" in capsys.readouterr().err


def test_a_run_directory_gets_the_usual_permissions(tiny_run):
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(tiny_run.stat().st_mode) == 0o777 & ~mask


def test_help_and_version(capsys):
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    for command in ("run", "validate", "scenarios", "report"):
        assert command in text
    assert main(["run", "--help"]) == 0
    assert "--set" in capsys.readouterr().out
    assert main(["--version"]) == 0


def test_error_text_is_printed_literally(capsys):
    """Brackets in a message are text, not terminal markup (rich would drop "[and 1 more problem]")."""
    assert main(["validate", str(ROOT / "scenarios" / "quickstart.toml"), "--set", "horizon=3", "--set", "tick=2"]) == 2
    assert "[and 1 more problem]" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["run", "x.toml", "--bogus"], ["fraudsim run:", "No such option '--bogus'", "'fraudsim run --help'"]),
        (["frobnicate"], ["fraudsim:", "No such command 'frobnicate'"]),
        (["run"], ["fraudsim run:", "Missing argument 'FILE'"]),
        (["run", "x.toml", "--workers", "x"], ["'x' is not a valid integer"]),
    ],
)
def test_click_usage_errors_are_one_line_exit_2(capsys, args, words):
    assert main(args) == 2
    output = capsys.readouterr()
    lines = output.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), output.err
    for word in words:
        assert word in lines[0]


def test_python_dash_m_sim():
    done = subprocess.run(
        [sys.executable, "-m", "sim", "--help"], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert done.returncode == 0 and "fraudsim" in done.stdout


def _state(pid: int) -> str | None:
    """A process's state letter (Linux /proc), None if it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def _children(pid: int, workers_only: bool = False) -> list[int]:
    """``pid``'s live child processes; with ``workers_only``, the spawned workers among them (not
    the resource tracker)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
            command = (entry.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z" and (b"spawn_main" in command or not workers_only):
            found.append(int(entry.parent.name))
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.parametrize("executor", [[], ["--dask", "local"]], ids=["local-processes", "dask-local"])
def test_a_killed_run_leaves_no_worker_processes(tiny_file, tmp_path, executor):
    """SIGKILL gives the run no chance to stop its workers: they must notice on their own (a
    local pool's workers watch their parent; Dask's hold a pipe to it) and exit."""
    import signal
    import time

    command = [sys.executable, "-m", "sim", "run", str(tiny_file), "--out", str(tmp_path / "run")]
    command += ["--quiet", "--no-report", "--workers", "2", *executor]
    process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE)
    deadline, workers = time.monotonic() + 120, []
    while len(workers) < 2 and time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode()
        workers = _children(process.pid, workers_only=True)
        time.sleep(0.05)
    assert len(workers) == 2
    children = _children(process.pid)  # the workers and whatever else the run started
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    # A worker notices once it has started (a local one's watch looks every half second, a Dask
    # one's waits on a pipe): on a loaded machine, killed mid-import, that can take a while.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(_state(pid) not in (None, "Z") for pid in children):
        time.sleep(0.1)
    assert [pid for pid in children if _state(pid) not in (None, "Z")] == [], "children outlived the killed run"


def test_no_more_worker_processes_than_tasks(tiny_file, monkeypatch):
    import sim.executors.local
    from sim.experiment import executor_for, run_all
    from sim.scenario import load_scenario

    asked = []

    def pool(workers):
        asked.append(workers)
        raise RuntimeError("stop here")

    monkeypatch.setattr(sim.executors.local, "process_pool", pool)
    scenario = load_scenario(tiny_file, ['arms=[{name="rules",learner="rules"}]', "replications=3"])
    with pytest.raises(RuntimeError, match="stop here"):
        run_all(scenario, executor_for(scenario, 8))
    assert asked == [3]  # three replications of one arm: three tasks


@pytest.mark.parametrize(
    "args",
    [
        ["run", "{tiny}", "--out", ""],
        ["sweep", "{tiny}", "--dask", " "],
        ["run", "{tiny}", "--dask", ""],
        ["replay", "x.csv", "--time", "t", "--label", "y", "--out", ""],
    ],
)
def test_an_empty_option_is_refused_not_read_as_its_default(tiny_file, args, capsys):
    assert main([a.replace("{tiny}", str(tiny_file)) for a in args]) == 2
    assert "must not be empty" in capsys.readouterr().err


def test_scenario_text_cannot_drive_the_terminal(tmp_path, capsys):
    (tmp_path / "evil.toml").write_text('name = "evil\\u001b[2J"\ndescription = "Clears \\u001b]0;title\\u0007 it."\n')
    assert main(["scenarios", str(tmp_path)]) == 0
    shown = capsys.readouterr().out
    assert "\x1b" not in shown and "\x07" not in shown and "evil?[2J" in shown


def test_a_rerun_never_deletes_what_fraudsim_did_not_write(tiny_file, tiny_run, tmp_path, capsys):
    import shutil

    from sim.replays.cli import main as replay

    mine = tmp_path / "mine"
    shutil.copytree(tiny_run, mine)
    (mine / "notes.md").write_text("my thesis notes")
    assert main(["run", str(tiny_file), "--out", str(mine), "--quiet", "--no-report"]) == 2
    message = capsys.readouterr().err
    assert "notes.md" in message and "did not write" in message
    assert (mine / "notes.md").read_text() == "my thesis notes"
    # a replay never replaces a run (nor a run a replay)
    stream = tmp_path / "s.csv"
    stream.write_text("t,f,y\n" + "".join(f"{i},{i % 7},{int(i % 9 == 0)}\n" for i in range(200)))
    assert replay([str(stream), "--time", "t", "--label", "y", "--delay", "1h", "--quiet", "--out", str(tiny_run)]) == 2
    assert "holds a fraudsim run's output" in " ".join(capsys.readouterr().err.split())
    assert (tiny_run / "summary.json").exists()
    info = json.loads((tiny_run / "run_info.json").read_text())
    assert "summary.json" in info["outputs"] and "daily.parquet" in info["outputs"]


def test_scratch_directories_of_killed_runs_are_removed_live_ones_kept(tmp_path, monkeypatch):
    """A run killed with SIGKILL leaves its warm-start directory (fraudsim-PID-*) in the system
    temp folder; the next run removes it, and leaves a live process's alone."""
    import tempfile

    from sim.outputs import scratch_directory

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f"fraudsim-{int(dead.stdout)}-abc"
    live = tmp_path / f"fraudsim-{os.getppid()}-def"
    for folder in (stale, live):
        (folder / "replication-0.pickle").parent.mkdir()
        (folder / "replication-0.pickle").write_bytes(b"warm")
    with scratch_directory() as mine:
        assert Path(mine).name.startswith(f"fraudsim-{os.getpid()}-")
        assert not stale.exists() and live.exists()
    assert not Path(mine).exists()


def test_the_replay_command_can_be_imported_first():
    """``from sim.replays.cli import main`` in a fresh interpreter (it once failed: a circular import
    with the command group, which registered replay at import)."""
    import subprocess
    import sys

    code = "from sim.replays.cli import main; raise SystemExit(main(['--help']))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "STREAM" in done.stdout


def test_progress_goes_to_a_log_as_lines_with_time_left():
    """With standard error redirected, no bar: a line per tenth or per finished run, with the time."""
    import io

    from rich.console import Console

    from sim.console import ProgressLines

    sink = io.StringIO()
    now = [0.0]
    lines = ProgressLines(Console(file=sink, width=200), clock=lambda: now[0])
    task = lines.add_task("sweep 0/3 runs")
    for step in range(1, 61):
        now[0] = 2.0 * step
        lines.update(task, completed=step, total=60, description=f"sweep {step // 20}/3 runs")
    printed = sink.getvalue().splitlines()
    assert len(printed) == 10 + 2  # every tenth, and the ends of runs 1 and 2 (at a third and two thirds)
    assert printed[0] == "sweep 0/3 runs: 10% after 0:12, about 1:48 left"
    assert printed[3] == "sweep 1/3 runs: 33% after 0:40, about 1:20 left"
    assert printed[-1] == "sweep 3/3 runs: 100% after 2:00"
