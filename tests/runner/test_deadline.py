"""Scoring runs in the executing process; its time is bounded by the job's limit."""

import time

import pytest
from runner_helpers import FAST  # tests/runner is on sys.path

from reconbench.runner.deadline import ScoringTimeout, time_limit
from reconbench.runner.run import RunConfig, run_benchmark
from reconbench.runner.store import ResultsStore


def test_time_limit_interrupts_python_work_and_restores_the_alarm():
    start = time.perf_counter()
    with pytest.raises(ScoringTimeout, match="timed out after 0 s"):
        with time_limit(0.3):
            while True:
                sum(range(1000))
    assert time.perf_counter() - start < 5
    with time_limit(0.2):
        pass
    time.sleep(0.4)  # the alarm was cancelled: nothing fires after the block


def test_scoring_over_the_job_time_limit_is_a_failed_record_with_the_reason(tmp_path, small_protocol, monkeypatch):
    import reconbench.runner.execute as execute

    def endless(*args, **kwargs):
        while True:
            time.sleep(0.05)

    monkeypatch.setattr(execute, "_evaluate", endless)  # one worker: jobs execute in this process
    cfg = RunConfig("procedural", ["oracle"], small_protocol, tmp_path, objects=["car"], timeout_s=3, **FAST)
    summary = run_benchmark(cfg)
    assert (summary.ok, summary.failed) == (0, 1)
    (record,) = ResultsStore(tmp_path / "results.sqlite").records()
    assert record.status == "failed" and "scoring timed out after 3 s" in record.error and "--timeout" in record.error
