"""One executor protocol for runs and sweeps: in this process, local processes, Dask."""

from __future__ import annotations

import os
from concurrent.futures import Future
from pathlib import Path

import pytest

from sim.cli import main
from sim.executors import DaskCluster, Executor, InProcess, LocalProcesses, WorkersLost, make_executor
from sim.experiment import executor_for
from sim.scenario import load_scenario


def square(value: int) -> int:
    return value * value


def fail(value: int) -> int:
    raise ValueError(f"no {value}")


def die(value: int) -> int:
    """Kills the worker process running it, every time."""
    os._exit(1)


def flaky(marker: str, value: int) -> int:
    """Kills its own process the first time it runs with value 0 (a lost worker)."""
    if value == 0 and not os.path.exists(marker):
        Path(marker).touch()
        os._exit(1)
    return value * 10


@pytest.mark.parametrize("executor", [InProcess(), LocalProcesses(2), DaskCluster("local", 2)], ids=repr)
def test_every_executor_implements_the_protocol(executor):
    assert isinstance(executor, Executor)  # every attribute and method the protocol names


def test_in_process_hands_results_and_exceptions_back_in_futures():
    with InProcess() as executor:
        assert isinstance(executor.submit(square, 3), Future) and executor.submit(square, 3).result() == 9
        with pytest.raises(ValueError, match="no 2"):
            executor.submit(fail, 2).result()
        seen = {}
        executor.map(square, [(1,), (2,)], seen.__setitem__)
    assert seen == {0: 1, 1: 4}


def test_executor_choice_and_what_shares_this_disk():
    assert isinstance(make_executor(1), InProcess)
    assert isinstance(make_executor(3), LocalProcesses) and make_executor(3).workers == 3
    assert isinstance(make_executor(2, "local"), DaskCluster) and make_executor(2, "local").shared_disk
    assert not make_executor(None, "tcp://127.0.0.1:9").shared_disk  # a scheduler's workers have disks of their own


def test_a_run_never_has_more_workers_than_tasks(tiny_file):
    three = load_scenario(tiny_file, ['arms=[{name="rules",learner="rules"}]', "replications=3"])
    assert executor_for(three, 8).workers == 3  # three replications of one arm: three tasks
    assert executor_for(three, 2).workers == 2 and isinstance(executor_for(three, 1), InProcess)
    assert executor_for(three, 8, "local").workers == 3


def test_run_takes_dask_with_the_sweeps_address_check(tiny_file, tmp_path, capsys):
    assert main(["run", str(tiny_file), "--out", str(tmp_path / "out"), "--dask", "http://10.0.0.5:8786"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "tcp://HOST:PORT or tls://HOST:PORT" in err
    assert not (tmp_path / "out").exists()


def test_a_ledger_needs_workers_that_share_this_disk(tiny_file, tmp_path, capsys):
    """Refused before anything is simulated or any scheduler contacted (nothing listens on port 9)."""
    out = tmp_path / "out"
    assert main(["run", str(tiny_file), "--out", str(out), "--ledger", "--dask", "tcp://127.0.0.1:9", "-q"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "--ledger" in err and "--dask local" in err
    assert not out.exists()


@pytest.mark.slow
def test_local_processes_hand_exceptions_back_and_retry_a_lost_worker(tmp_path):
    results: dict[int, int] = {}
    with LocalProcesses(2) as executor:
        with pytest.raises(ValueError, match="no 5"):
            executor.submit(fail, 5).result()
        executor.map(flaky, [(str(tmp_path / "died"), value) for value in range(4)], results.__setitem__)
    assert (tmp_path / "died").exists()
    assert results == {0: 0, 1: 10, 2: 20, 3: 30}


@pytest.mark.slow
def test_local_processes_give_up_after_their_retries():
    with LocalProcesses(2, retries=1) as executor:
        future = executor.submit(die, 0)
        with pytest.raises(WorkersLost, match="worker processes died 2 times"):
            future.result(timeout=120)


@pytest.mark.slow
def test_a_dask_cluster_hands_exceptions_back_and_retries_a_lost_worker(tmp_path):
    results: dict[int, int] = {}
    with DaskCluster("local", 2) as executor:
        with pytest.raises(ValueError, match="no 5"):
            executor.submit(fail, 5).result()
        executor.map(flaky, [(str(tmp_path / "died"), value) for value in range(4)], results.__setitem__)
    assert (tmp_path / "died").exists()
    assert results == {0: 0, 1: 10, 2: 20, 3: 30}
