"""One switch back to the harness as it was before its per-job overhead was cut (issue #18), so that
benchmarks/harness_overhead.py measures before and after in one process: with RECONBENCH_HARNESS_LEGACY=1
the store commits with a rollback journal and a full sync, the renders are written at full size in the
job's own thread, and every job sends its input images to the method worker again. An environment
variable, because the worker processes a run spawns must see it too. Not for users: results are the
same either way (tests/runner/test_harness.py), only slower."""

from __future__ import annotations

import os

LEGACY_ENV = "RECONBENCH_HARNESS_LEGACY"


def legacy_harness() -> bool:
    """True when the old, slower harness paths are asked for."""
    return os.environ.get(LEGACY_ENV) == "1"
