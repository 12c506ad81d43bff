"""Scoring one job while the next job's method runs (runner/pipeline.py): the same records as without,
the next method really runs during the scoring (seen from marker files, not from timings), a failure or
time-out is its own job's, an interrupted run resumes, and --overlap auto follows the GPU."""

import dataclasses
import os
import time
from pathlib import Path

import pytest
from runner_helpers import FAST, assert_same_results, finished, records, register  # tests/runner is on sys.path

from reconbench.runner import execute as execute_module
from reconbench.runner.run import RunConfig, run_benchmark


def _wait_for(path: Path, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} did not appear in {timeout_s:.0f} s")
        time.sleep(0.02)


def _run(out, methods, small_protocol, overlap, **extra):
    """The run's records, their errors naming the run folder as OUT (two runs' records then compare)."""
    cfg = RunConfig("procedural", methods, small_protocol, out, overlap=overlap, **{**FAST, **extra})
    run_benchmark(cfg)
    return {
        k: dataclasses.replace(r, error=r.error and r.error.replace(str(out), "OUT")) for k, r in records(out).items()
    }


def test_overlap_gives_the_records_it_gives_without(tmp_path, small_protocol):
    register("test-fails-on-mug", "fake_methods:fails_on_mug")
    register("test-crashes", "fake_methods:crashes")
    register("test-garbage", "fake_methods:writes_garbage")
    methods = ["sphere", "test-crashes", "test-fails-on-mug", "test-garbage", "oracle"]
    objects = {"objects": ["car", "mug"]}
    off = _run(tmp_path / "off", methods, small_protocol, "off", **objects)
    on = _run(tmp_path / "on", methods, small_protocol, "on", **objects)
    assert_same_results(off, on)
    # Each failure is on its own job (a method that crashed while sphere's output was scored is not sphere's).
    failing = {"test-crashes", "test-garbage"}
    assert {(r.method, r.object): r.status for r in on.values()} == {
        (m, o): "failed" if m in failing or (m, o) == ("test-fails-on-mug", "mug") else "ok"
        for m in methods
        for o in objects["objects"]
    }
    assert all("exit code 3" in r.error for r in on.values() if r.method == "test-crashes")
    ok = [r for r in on.values() if r.status == "ok"]
    assert all(r.timings.method_wall_s > 0 and r.timings.evaluation_wall_s > 0 for r in ok)


@pytest.mark.parametrize("overlap", ["off", "on"])
def test_the_next_method_runs_while_a_job_is_scored_and_neither_time_includes_the_other(
    tmp_path, small_protocol, monkeypatch, overlap
):
    register("test-marks", "fake_methods:marks_its_run")
    work = tmp_path / "work" / "test-marks" / "car"
    real, seen = execute_module._evaluate, []

    def scoring(asset, ctx, frame, scale, settings):  # job k is scored k-th (seeds 0, 1, 2 of one object)
        k = len(seen)
        following = work / f"seed{k + 1}"
        if overlap == "on" and k < 2:  # hold the scoring until the next method has run, then a while more
            _wait_for(following / "done")
            time.sleep(1.0)
        seen.append((following / "started").exists())
        return real(asset, ctx, frame, scale, settings)

    monkeypatch.setattr(execute_module, "_evaluate", scoring)
    got = _run(tmp_path, ["test-marks"], small_protocol, overlap, objects=["car"], seeds=[0, 1, 2])
    assert all(r.status == "ok" for r in got.values())
    # With overlap, method k+1 had started (and finished) before job k's scoring ended; without, it had not.
    assert seen == ([True, True, False] if overlap == "on" else [False, False, False])
    if overlap == "on":
        by_seed = {r.seed: r.timings for r in got.values()}
        for k in (0, 1):  # method k+1 ran inside job k's scoring, which was held a second longer
            assert by_seed[k + 1].method_wall_s < by_seed[k].evaluation_wall_s - 0.5


def test_a_method_timing_out_while_the_previous_job_is_scored_is_its_own_failure(tmp_path, small_protocol, monkeypatch):
    register("test-marks", "fake_methods:marks_its_run")
    register("test-sleeps", "fake_methods:sleeps")
    monkeypatch.setenv("RECONBENCH_TEST_MARK_S", "8")  # past the 6 s limit
    real, done = execute_module._score, tmp_path / "a" / "work" / "test-marks" / "car" / "seed0" / "done"

    def scoring(job, *args):  # sphere's scoring lasts until test-marks has finished: past its limit
        if job.method == "sphere":
            _wait_for(done)
        return real(job, *args)

    monkeypatch.setattr(execute_module, "_score", scoring)
    # test-marks finishes during sphere's scoring but after its limit; test-sleeps is still running when
    # the scoring ends and is stopped at its limit. Both are recorded as timed out, the sphere jobs as ok.
    late = _run(tmp_path / "a", ["sphere", "test-marks"], small_protocol, "on", objects=["car"], timeout_s=6)
    running = _run(tmp_path / "b", ["sphere", "test-sleeps"], small_protocol, "on", objects=["car"], timeout_s=6)
    for got, slow in ((late, "test-marks"), (running, "test-sleeps")):
        status = {r.method: (r.status, r.error) for r in got.values()}
        assert status["sphere"] == ("ok", None)
        assert status[slow] == ("failed", "method failed: timed out after 6 s")


def test_a_run_interrupted_with_a_method_in_flight_resumes_it(tmp_path, small_protocol):
    register("test-marks", "fake_methods:marks_its_run")
    objects, methods = ["car", "mug"], ["test-marks", "sphere"]
    cfg = {"objects": objects, "overlap": "on", **FAST}

    def interrupt(record):  # Ctrl-C as the first record arrives: the second job's method was started then
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_benchmark(RunConfig("procedural", methods, small_protocol, tmp_path, **cfg), on_job_done=interrupt)
    before = finished(tmp_path / "results.sqlite")
    assert len(before) == 1 and (tmp_path / "work" / "sphere" / "car" / "seed0").is_dir()
    run_benchmark(RunConfig("procedural", methods, small_protocol, tmp_path, resume=True, **cfg))
    after = finished(tmp_path / "results.sqlite")
    assert len(after) == 4 and all(after[k] == v for k, v in before.items())  # nothing redone, nothing twice
    assert all(r.status == "ok" for r in records(tmp_path).values())


TWO_CORES = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs 2 usable cores for 2 local workers")


@TWO_CORES
def test_two_job_workers_with_overlap_give_the_records_of_one_without(tmp_path, small_protocol):
    register("test-fails-on-mug", "fake_methods:fails_on_mug")
    register("test-crashes", "fake_methods:crashes")
    methods, objects = ["sphere", "test-crashes", "test-fails-on-mug", "oracle"], ["car", "mug", "ring"]
    off = _run(tmp_path / "off", methods, small_protocol, "off", objects=objects)
    on = _run(tmp_path / "on", methods, small_protocol, "on", objects=objects, workers=2)
    assert_same_results(off, on)


@TWO_CORES
@pytest.mark.slow
def test_a_method_killing_its_job_worker_during_the_previous_scoring_is_charged_alone(tmp_path, small_protocol):
    register("test-always-kills", "fake_methods:kills_its_worker")
    # Each object: sphere, then the killer, whose method starts (and kills the job worker) while sphere's
    # output is scored. Which of the two killed it is unknown then: both run again alone, and only the
    # killer's own deaths count.
    got = _run(tmp_path, ["sphere", "test-always-kills"], small_protocol, "on", objects=["car", "ring"], workers=2)
    for obj in ("car", "ring"):
        assert got[f"sphere|{obj}|small-test|0"].status == "ok"
        failed = got[f"test-always-kills|{obj}|small-test|0"]
        assert failed.status == "failed" and "worker died 3 times" in failed.error, failed.error
        attempts = (tmp_path / "work" / "test-always-kills" / obj / "seed0.attempts").read_text().split()
        assert len(attempts) >= 3 and len(set(attempts)) == len(attempts)  # each in a fresh worker process


def test_overlap_auto_follows_the_gpu_and_unknown_modes_are_refused(tmp_path, small_protocol, monkeypatch):
    from reconbench.datasets import open_dataset
    from reconbench.protocol import get_protocol
    from reconbench.registry import get_method
    from reconbench.runner import pipeline
    from reconbench.runner.execute import JobTask, RunSettings
    from reconbench.runner.run import RunError

    obj, protocol = open_dataset("procedural").get("car"), get_protocol(small_protocol)
    gpu_method = dataclasses.replace(get_method("sphere"), uses_gpu_if_present=True)

    def task(spec, mode):
        return JobTask(obj, spec, RunSettings(protocol, Path("unused"), overlap=mode))

    for present in (False, True):
        monkeypatch.setattr(pipeline, "gpus_present", lambda present=present: present)
        assert pipeline.overlaps(task(gpu_method, "auto")) is present
        assert pipeline.overlaps(task(get_method("sphere"), "auto")) is False
        assert pipeline.overlaps(task(get_method("sphere"), "on")) is True
        assert pipeline.overlaps(task(gpu_method, "off")) is False
    with pytest.raises(RunError, match="unknown overlap mode 'sometimes'"):
        run_benchmark(RunConfig("procedural", ["sphere"], small_protocol, tmp_path, overlap="sometimes", **FAST))


@TWO_CORES
def test_job_workers_log_at_the_drivers_level_in_its_format(tmp_path, small_protocol, capfd):
    from reconbench.cli import main

    argv = ["run", "--dataset", "procedural", "--methods", "sphere", "--protocol", small_protocol, "--objects"]
    argv += ["car,mug", "--seeds", "0,1", "--lpips", "none", "--no-progress", "--workers", "2", "--overlap", "on"]
    assert main([*argv, "-v", "--out", str(tmp_path / "verbose")]) == 0
    err = capfd.readouterr().err
    # A debug line of the pipeline, which runs only in the job-worker processes here, shown as the CLI shows its own.
    assert "reconbench: debug: reconbench.runner.pipeline: job sphere|" in err and "is scored" in err
    assert main([*argv, "--out", str(tmp_path / "quiet")]) == 0
    assert "reconbench.runner.pipeline" not in capfd.readouterr().err  # not at the default level (info)
