"""The executor interface the driver uses, and choosing an executor by name."""

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
    """What the driver needs of an executor (local.py, ray_executor.py)."""

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
    """The executor of this kind (`EXECUTORS`); its module is imported only when chosen (Ray is optional)."""
    if kind == "local":
        from reconbench.runner.executors.local import LocalExecutor

        return LocalExecutor(workers=workers, max_attempts=max_attempts)
    if kind == "ray":
        from reconbench.runner.executors.ray_executor import RayExecutor

        return RayExecutor(address=ray_address, max_attempts=max_attempts)
    raise ValueError(f"unknown executor {kind!r}; choose one of {', '.join(EXECUTORS)}")
