"""Executors: where the jobs of a run execute. The driver (runner/run.py) hands an executor every
pending job and receives JobRecords as they finish, in any order; it alone writes the results store.

- `local` (default): one worker runs the jobs in the driver process, one after another (as the
  runner always did); N workers run them in N spawned processes on this machine, N bounded by the
  cores, the jobs and, for GPU methods, the GPUs.
- `ray`: one Ray task per job, asking Ray for the GPUs its method needs, on an existing cluster
  (`--ray-address`) or on a local one started for the run (docs/cluster.md).

Both retry a job whose executing process died (up to `max_attempts` runs in all), then record it
as failed with the reason; a job whose method raises, hangs or crashes is recorded at once (the method
runs in its own child process, so that costs the job, not the executing process).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from reconbench.methods import MethodSpec
from reconbench.runner.execute import JobTask
from reconbench.runner.jobs import Job
from reconbench.runner.store import JobRecord

EXECUTORS = ("local", "ray")
DEFAULT_MAX_ATTEMPTS = 3


class Executor(Protocol):
    name: str

    def unavailable(self, spec: MethodSpec) -> str | None:
        """Why the method's jobs cannot run anywhere this executor reaches (recorded as skipped), or None."""

    def run(self, tasks: Sequence[tuple[Job, JobTask]]) -> Iterator[JobRecord]:
        """Execute every job; yield each one's record as soon as it is known (in any order)."""

    def shutdown(self) -> None:
        """Stop everything still running (an interrupt) and release the workers; safe to call twice."""


def make_executor(
    kind: str = "local", workers: int = 1, ray_address: str | None = None, max_attempts: int = DEFAULT_MAX_ATTEMPTS
) -> Executor:
    if kind == "local":
        from reconbench.runner.executors.local import LocalExecutor

        return LocalExecutor(workers=workers, max_attempts=max_attempts)
    if kind == "ray":
        from reconbench.runner.executors.ray_executor import RayExecutor

        return RayExecutor(address=ray_address, max_attempts=max_attempts)
    raise ValueError(f"unknown executor {kind!r}; choose one of {', '.join(EXECUTORS)}")


__all__ = ["DEFAULT_MAX_ATTEMPTS", "EXECUTORS", "Executor", "make_executor"]
