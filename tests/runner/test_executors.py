"""The local executor: N worker processes give the results one gives; a worker that dies is replaced
and its job retried, a job that keeps killing its worker is recorded as failed; Ctrl-C keeps every
finished job and --resume completes the run."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from runner_helpers import (  # tests/runner is on sys.path
    FAST,
    REFERENCE,
    assert_same_results,
    driver_argv,
    finished,
    records,
    register,
)

from reconbench.registry import get_method
from reconbench.runner.executors.local import LocalExecutor
from reconbench.runner.run import RunConfig, run_benchmark
from reconbench.runner.store import ResultsStore


@pytest.fixture(scope="module")
def one_worker_run(tmp_path_factory, small_protocol):
    out = tmp_path_factory.mktemp("local1")
    run_benchmark(RunConfig("procedural", REFERENCE, small_protocol, out, objects=["car", "mug", "ring"], **FAST))
    return records(out)


TWO_CORES = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs 2 usable cores for 2 local workers")


@TWO_CORES
def test_two_local_workers_give_the_same_results_as_one(one_worker_run, tmp_path, small_protocol):
    executor = LocalExecutor(workers=2)
    arrivals = []
    summary = run_benchmark(
        RunConfig("procedural", REFERENCE, small_protocol, tmp_path, objects=["car", "mug", "ring"], **FAST),
        on_job_done=arrivals.append,
        executor=executor,
    )
    executor.shutdown()
    assert executor.used_workers == 2
    assert (summary.total, summary.ok) == (9, 9)
    assert_same_results(one_worker_run, records(tmp_path))
    assert len({r.job for r in arrivals}) == 9
    # Both workers read the one set of input views written for each object.
    assert sorted(p.name for p in (tmp_path / "inputs" / "car").iterdir()) == [
        "000.png",
        "001.png",
        "002.png",
        "003.png",
        "cameras.json",
        "source.json",
    ]


def test_workers_are_bounded_by_the_cores_and_the_jobs(small_protocol):
    from reconbench.datasets import open_dataset
    from reconbench.protocol import get_protocol
    from reconbench.runner.execute import JobTask, RunSettings
    from reconbench.runner.jobs import Job

    obj = open_dataset("procedural").get("car")
    task = JobTask(obj, get_method("sphere"), RunSettings(get_protocol(small_protocol), Path("unused")))
    tasks = [(Job("sphere", "car", "toy", "p", seed), task) for seed in range(3)]
    assert LocalExecutor(workers=64).plan_workers(tasks)[0] == min(3, len(os.sched_getaffinity(0)))
    assert LocalExecutor(workers=2).plan_workers(tasks[:1])[0] == 1


@TWO_CORES
def test_workers_get_a_gpu_each_for_methods_that_take_one_when_present(small_protocol, monkeypatch):
    from reconbench.datasets import open_dataset
    from reconbench.protocol import get_protocol
    from reconbench.runner.execute import JobTask, RunSettings
    from reconbench.runner.executors import local
    from reconbench.runner.jobs import Job

    obj = open_dataset("procedural").get("car")
    settings = RunSettings(get_protocol(small_protocol), Path("unused"))

    def tasks(method):
        return [(Job(method, "car", "toy", "p", seed), JobTask(obj, get_method(method), settings)) for seed in range(4)]

    monkeypatch.setattr(local, "visible_gpu_ids", lambda: ["0", "1"])
    assert LocalExecutor(workers=2).plan_workers(tasks("splat-sds")) == (2, ["0", "1"])  # uses a GPU when there is one
    assert LocalExecutor(workers=2).plan_workers(tasks("sphere")) == (2, [None, None])  # never does
    monkeypatch.setattr(local, "visible_gpu_ids", lambda: [])
    assert LocalExecutor(workers=2).plan_workers(tasks("splat-sds")) == (
        2,
        [None, None],
    )  # CPU-only machine: cores bound it


@TWO_CORES
@pytest.mark.slow
def test_a_killed_worker_is_replaced_and_its_job_retried(tmp_path, small_protocol):
    register("test-kills-once", "fake_methods:kills_its_worker_once")
    summary = run_benchmark(
        RunConfig(
            "procedural",
            ["test-kills-once", "sphere"],
            small_protocol,
            tmp_path,
            objects=["car", "ring"],
            workers=2,
            **FAST,
        )
    )
    assert (summary.ok, summary.failed) == (4, 0)
    result = records(tmp_path)
    assert len(result) == 4 and all(r.status == "ok" for r in result.values())
    for obj in ("car", "ring"):  # each job really killed its first worker
        assert (tmp_path / "work" / "test-kills-once" / obj / "seed0.killed").exists()


@TWO_CORES
@pytest.mark.slow
def test_a_job_that_always_kills_its_worker_is_failed_after_bounded_attempts_and_the_run_goes_on(
    tmp_path, small_protocol
):
    register("test-always-kills", "fake_methods:kills_its_worker")
    summary = run_benchmark(
        RunConfig(
            "procedural",
            ["test-always-kills", "sphere"],
            small_protocol,
            tmp_path,
            objects=["car", "ring"],
            workers=2,
            **FAST,
        )
    )
    assert (summary.ok, summary.failed) == (2, 2)
    result = records(tmp_path)
    for obj in ("car", "ring"):
        failed = result[f"test-always-kills|{obj}|small-test|0"]
        assert failed.status == "failed"
        assert "worker died 3 times" in failed.error and "SIGKILL" in failed.error
        attempts = (tmp_path / "work" / "test-always-kills" / obj / "seed0.attempts").read_text().split()
        assert len(attempts) == 3 and len(set(attempts)) == 3  # three runs, each in a fresh worker process
        assert result[f"sphere|{obj}|small-test|0"].status == "ok"


def _wait_for_records(db_path, at_least, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if db_path.exists():
            try:
                with sqlite3.connect(db_path) as db:
                    if db.execute("SELECT COUNT(*) FROM results").fetchone()[0] >= at_least:
                        return
            except sqlite3.OperationalError:  # the table is not there yet
                pass
        time.sleep(0.1)
    raise AssertionError(f"fewer than {at_least} records after {timeout} s")


@pytest.mark.slow
@pytest.mark.parametrize("workers, overlap", [(1, "off"), (2, "off"), (1, "on"), (2, "on")])
def test_ctrl_c_stops_cleanly_keeps_finished_jobs_and_resume_completes_the_run(
    tmp_path, small_protocol, workers, overlap, monkeypatch
):
    register("test-slow", "fake_methods:slow_sphere")
    out = tmp_path / "run"
    objects = ["car", "mug", "ring", "duck"]
    argv = driver_argv(
        out, "test-slow,sphere", small_protocol, ",".join(objects), "--workers", str(workers), "--overlap", overlap
    )
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _wait_for_records(out / "results.sqlite", 2)
        family = psutil.Process(proc.pid).children(recursive=True)
        assert len(family) >= workers  # the method worker(s), and the job workers when there are 2
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, stderr
    assert "--resume" in stderr and "Traceback" not in stderr
    gone, alive = psutil.wait_procs(family, timeout=10)
    assert not alive, f"left running after Ctrl-C: {alive}"
    before = finished(out / "results.sqlite")
    assert 2 <= len(before) < 8
    assert (out / "results.csv").read_text().count("\n") == len(before) + 1  # exported on the way out
    monkeypatch.setenv("RECONBENCH_TEST_SLOW_S", "0.1")  # the rest need not be slow
    summary = run_benchmark(
        RunConfig(
            "procedural",
            ["test-slow", "sphere"],
            small_protocol,
            out,
            objects=objects,
            resume=True,
            workers=workers,
            overlap=overlap,
            **FAST,
        )
    )
    assert summary.ran == 8 - len(before) and summary.failed == 0
    after = finished(out / "results.sqlite")
    assert len(after) == 8 and all(after[k] == v for k, v in before.items())  # nothing redone, nothing twice


def test_the_ray_executor_without_ray_says_what_to_install(tmp_path, small_protocol, monkeypatch):
    from reconbench.runner.run import RunError

    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(RunError, match=r"pip install 'reconbench\[ray\]'"):
        run_benchmark(
            RunConfig("procedural", ["sphere"], small_protocol, tmp_path, objects=["car"], executor="ray", **FAST)
        )
    with ResultsStore(
        tmp_path / "results.sqlite"
    ) as store:  # nothing recorded: the same command works once Ray is there
        assert store.get_meta() == {}


def test_cli_run_executor_options(tmp_path, small_protocol, capsys):
    from reconbench.cli import main

    def run_sphere(out, *extra):
        return main(["run", "--dataset", "procedural", "--methods", "sphere", "--out", str(out), *extra])

    assert run_sphere(tmp_path / "a", "--ray-address", "auto") == 2
    assert "--ray-address needs --executor ray" in capsys.readouterr().err
    assert run_sphere("relative/run", "--executor", "ray", "--ray-address", "auto") == 2
    assert "absolute path" in capsys.readouterr().err
    extra = ["--protocol", small_protocol, "--objects", "car", "--lpips", "none", "--no-progress", "--workers", "2"]
    assert run_sphere(tmp_path / "b", *extra) == 0
    assert "1 of 1 jobs run now (1 ok" in capsys.readouterr().out


@pytest.mark.slow
def test_sigterm_is_handled_like_ctrl_c(tmp_path, small_protocol):
    register("test-slow", "fake_methods:slow_sphere")
    out = tmp_path / "run"
    argv = driver_argv(out, "test-slow", small_protocol, "car,mug,ring,duck")
    # 3 s a job: the three jobs left after the first record outlast the poll and the signal on a loaded machine.
    env = {**os.environ, "RECONBENCH_TEST_SLOW_S": "3"}
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True, env=env
    )
    try:
        _wait_for_records(out / "results.sqlite", 1)
        family = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGTERM)  # as `timeout`, Slurm or Kubernetes stop a job
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 143, stderr
    assert "terminated (SIGTERM)" in stderr and "--resume" in stderr and "Traceback" not in stderr
    gone, alive = psutil.wait_procs(family, timeout=10)
    assert not alive, f"left running after SIGTERM: {alive}"
    kept = finished(out / "results.sqlite")
    assert (out / "results.csv").read_text().count("\n") == len(kept) + 1 and (out / "report.md").is_file()


def test_a_job_sent_to_a_worker_that_died_with_another_job_in_flight_is_left_to_the_loop():
    import multiprocessing

    from reconbench.runner.executors.local import _Slot

    slot = _Slot(multiprocessing.get_context("spawn"), 0, None)
    slot.start()
    dead = slot.proc
    dead.kill()
    dead.join(10)
    slot.inflight = [("job-a", None), ("job-b", None)]
    slot.send(("job-b", None))  # no error, no new process: the loop reaps the dead one and requeues both jobs
    assert slot.proc is dead and not dead.is_alive()
    slot.stop(graceful=False)
