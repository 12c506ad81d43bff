"""Shared by the runner tests: the test-double registry, reading a run's records, and comparing two runs."""

from __future__ import annotations

import math
import os
import sqlite3
import sys
from pathlib import Path

from reconbench.registry import get_method, register_method
from reconbench.runner.store import ResultsStore

FAST = {"lpips": (), "progress": False}
REFERENCE = ["oracle", "sphere", "visual-hull"]

# The killing fakes (fake_methods.py) refuse to kill this process (they would, were a job run in it by mistake).
os.environ["RECONBENCH_TEST_DRIVER_PID"] = str(os.getpid())


def register(name, entry, **extra):
    """A test double from fake_methods.py, registered once per process."""
    try:
        return get_method(name)
    except KeyError:
        return register_method(
            {
                "name": name,
                "paradigm": "reference",
                "representation": "mesh",
                "entry": entry,
                "description": "test double",
                "input_views": (1, 4),
                "timeout_s": 30,
                **extra,
            }
        )


def driver_argv(out, methods: str, protocol: str, objects: str, *extra: str) -> list[str]:
    """The command line of run_driver.py (`reconbench run` in a separate process, the test methods registered):
    procedural objects, LPIPS off, no progress bar, then `extra`."""
    return [
        sys.executable,
        str(Path(__file__).with_name("run_driver.py")),
        "run",
        "--dataset",
        "procedural",
        "--methods",
        methods,
        "--protocol",
        protocol,
        "--out",
        str(out),
        "--objects",
        objects,
        "--lpips",
        "none",
        "--no-progress",
        *extra,
    ]


def records(out):
    return {r.job: r for r in ResultsStore(Path(out) / "results.sqlite").records()}


def finished(db_path) -> dict:
    """job -> finished_at of every record (a redone job would change its time, a duplicate its count)."""
    with sqlite3.connect(db_path) as db:
        return dict(db.execute("SELECT job, finished_at FROM results").fetchall())


def assert_same_results(a: dict, b: dict) -> None:
    """Same jobs, statuses and every metric, exactly (NaN where NaN): the methods and scoring are deterministic."""
    assert a.keys() == b.keys()
    for key in a:
        ra, rb = a[key], b[key]
        assert (ra.status, ra.error) == (rb.status, rb.error), key
        assert ra.metrics.keys() == rb.metrics.keys(), key
        for metric, value in ra.metrics.items():
            other = rb.metrics[metric]
            assert value == other or (math.isnan(value) and math.isnan(other)), (key, metric, value, other)
        assert ra.provenance.get("asset_sha256") == rb.provenance.get("asset_sha256"), key
