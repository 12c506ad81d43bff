"""The Ray executor on a local Ray cluster (2 CPUs): the results the local executor gives; a killed
Ray worker's job retried, a job that keeps killing its worker recorded as failed; a driver killed
mid-run, then --resume, without redoing or duplicating finished jobs."""

import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="ray not installed: pip install 'reconbench[ray]'")

from runner_helpers import FAST, REFERENCE, assert_same_results, driver_argv, finished, records, register  # noqa: E402 (tests/runner is on sys.path)

from reconbench.runner.run import RunConfig, run_benchmark  # noqa: E402
from reconbench.runner.store import ResultsStore  # noqa: E402

HERE = Path(__file__).parent
RAY = {"executor": "ray"}


@pytest.fixture(scope="module")
def ray_cluster():
    """One local cluster for the module; its workers import the test methods from this folder."""
    paths = [str(HERE)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])
    context = ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        logging_level="WARNING",
        runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join(paths)}},
    )
    yield context
    ray.shutdown()


@pytest.mark.slow
def test_ray_gives_the_same_results_as_the_local_executor(ray_cluster, tmp_path, small_protocol):
    objects = ["car", "ring"]
    run_benchmark(RunConfig("procedural", REFERENCE, small_protocol, tmp_path / "local", objects=objects, **FAST))
    summary = run_benchmark(
        RunConfig("procedural", REFERENCE, small_protocol, tmp_path / "ray", objects=objects, **RAY, **FAST)
    )
    assert (summary.total, summary.ok) == (6, 6)
    local, on_ray = records(tmp_path / "local"), records(tmp_path / "ray")
    assert_same_results(local, on_ray)
    assert all(r.provenance["host"] for r in on_ray.values())


def test_gpu_methods_are_skipped_on_a_cluster_without_gpus(ray_cluster, tmp_path, small_protocol):
    if ray.cluster_resources().get("GPU", 0):
        pytest.skip("this Ray cluster has a GPU")
    register("test-ray-needs-gpu", "fake_methods:crashes", needs_gpu=True)
    summary = run_benchmark(
        RunConfig("procedural", ["test-ray-needs-gpu"], small_protocol, tmp_path, objects=["car"], **RAY, **FAST)
    )
    record = records(tmp_path)["test-ray-needs-gpu|car|small-test|0"]
    assert summary.skipped == 1 and record.status == "skipped" and "the Ray cluster has none" in record.error


@pytest.mark.slow
def test_a_killed_ray_worker_gets_its_job_retried(ray_cluster, tmp_path, small_protocol):
    register(
        "test-kills-once", "fake_methods:kills_its_worker_once"
    )  # registered here only: the spec travels with the job
    summary = run_benchmark(
        RunConfig(
            "procedural",
            ["test-kills-once", "sphere"],
            small_protocol,
            tmp_path,
            objects=["car", "ring"],
            **RAY,
            **FAST,
        )
    )
    assert (summary.ok, summary.failed) == (4, 0)
    for obj in ("car", "ring"):
        assert (tmp_path / "work" / "test-kills-once" / obj / "seed0.killed").exists()


@pytest.mark.slow
def test_a_job_that_always_kills_its_ray_worker_is_failed_after_bounded_attempts(ray_cluster, tmp_path, small_protocol):
    register("test-always-kills", "fake_methods:kills_its_worker")
    summary = run_benchmark(
        RunConfig(
            "procedural", ["test-always-kills", "sphere"], small_protocol, tmp_path, objects=["car"], **RAY, **FAST
        )
    )
    assert (summary.ok, summary.failed) == (1, 1)
    failed = records(tmp_path)["test-always-kills|car|small-test|0"]
    assert "worker died 3 times" in failed.error and "WorkerCrashedError" in failed.error
    attempts = (tmp_path / "work" / "test-always-kills" / "car" / "seed0.attempts").read_text().split()
    assert len(attempts) == 3 and len(set(attempts)) == 3  # three runs, three Ray worker processes


def _count(db_path):
    try:
        with sqlite3.connect(db_path) as db:
            return db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


@pytest.mark.slow
@pytest.mark.parametrize("stop", ["sigkill", "ctrl-c"])
def test_a_killed_or_interrupted_driver_resumes_without_redoing_or_duplicating(
    ray_cluster, tmp_path, small_protocol, stop
):
    register("test-slow", "fake_methods:slow_sphere")
    out = tmp_path / "run"
    objects = ["car", "mug", "ring", "duck"]
    argv = driver_argv(
        out,
        "test-slow,sphere",
        small_protocol,
        ",".join(objects),
        "--executor",
        "ray",
        "--ray-address",
        ray_cluster.address_info["address"],
    )
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    db_path = out / "results.sqlite"
    try:
        deadline = time.time() + 120
        while _count(db_path) < 2 and proc.poll() is None and time.time() < deadline:
            time.sleep(0.1)
        assert proc.poll() is None, proc.stderr.read()
        if stop == "sigkill":
            proc.kill()  # the driver alone, mid-run; the cluster stays and drops the dead driver's tasks
            proc.wait()
        else:
            proc.send_signal(signal.SIGINT)  # as Ctrl-C: the driver cancels its tasks, exports, says how to resume
            _, stderr = proc.communicate(timeout=60)
            assert proc.returncode == 130 and "--resume" in stderr and "Traceback" not in stderr, stderr
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    before = finished(db_path)
    assert 2 <= len(before) < 8
    with ResultsStore(db_path) as store:  # a job cut short is not recorded as failed: it simply runs again
        assert {r.status for r in store.records()} == {"ok"}
    summary = run_benchmark(
        RunConfig(
            "procedural", ["test-slow", "sphere"], small_protocol, out, objects=objects, resume=True, **RAY, **FAST
        )
    )
    assert summary.ran == 8 - len(before) and summary.failed == 0
    after = finished(db_path)
    assert len(after) == 8 and all(after[k] == v for k, v in before.items())
    assert (out / "results.csv").read_text().count("\n") == 9
