"""The Ray executor: one Ray task per job, on an existing cluster or a local one (docs/cluster.md).

Each task asks Ray for one CPU and, when its method needs a GPU (or takes one when present and the
cluster has GPUs), one GPU; a task that reserved none sees none; Ray places it on a node
that has them and sets CUDA_VISIBLE_DEVICES for it. The task runs `execute_job` in a Ray worker
process (which keeps its prepared objects and its method worker between tasks, like a local job
worker), writes its artifacts under the run folder — which must be a folder every node reaches at
the same absolute path — and returns the JobRecord to the driver, which alone writes the store.

A Ray worker that dies mid-task (killed, out of memory, its node lost) makes Ray run the task again,
up to `max_attempts` runs in all; after that the job is recorded as failed with Ray's reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from pathlib import Path

from reconbench.datasets import DatasetObject
from reconbench.methods import MethodSpec
from reconbench.runner.execute import JobTask, RunSettings, execute_job, record_for
from reconbench.runner.jobs import Job
from reconbench.runner.store import JobRecord

RAY_MISSING = "the ray executor needs Ray: pip install 'reconbench[ray]'"


def _ray_job(job: Job, obj: DatasetObject, spec: MethodSpec, settings: RunSettings) -> JobRecord:
    """The Ray task (settings arrive as one shared object-store value, the rest inline)."""
    import os

    import ray

    if not ray.get_gpu_ids():  # reserved none: see none (recent Ray leaves every GPU visible to such a task)
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
    return execute_job(job, JobTask(obj, spec, settings))


class RayExecutor:
    name = "ray"

    def __init__(self, address: str | None = None, max_attempts: int = 3, num_cpus: int | None = None) -> None:
        """Join the cluster at `address` ("auto": the one `ray start` set up on this node; "ray://host:10001":
        a remote one through Ray Client), or start a local one (num_cpus: its size, default all cores).
        A Ray already initialised in this process is used as it is."""
        try:
            import ray
        except ImportError as exc:
            raise ImportError(RAY_MISSING) from exc
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        self.max_attempts = max_attempts
        self._ray = ray
        self._owns_connection = False
        self._pending: dict = {}
        if not ray.is_initialized():
            options = {"include_dashboard": False, "logging_level": "WARNING"}
            if address:
                ray.init(address=address, **options)
            else:  # a new local cluster, never one that happens to be running on this machine
                # Ray retries a task its memory monitor killed without limit unless told: bound it too.
                ray.init(
                    address="local", num_cpus=num_cpus, _system_config={"task_oom_retries": max_attempts - 1}, **options
                )
            self._owns_connection = True
        self._remote = ray.remote(_ray_job)

    def unavailable(self, spec: MethodSpec) -> str | None:
        """Only what the driver can know about the whole cluster: a GPU method on a cluster without GPUs
        (its tasks would wait forever). Everything else is checked where each job lands."""
        if spec.needs_gpu and self._ray.cluster_resources().get("GPU", 0) < 1:
            return "needs a CUDA GPU; the Ray cluster has none"
        return None

    def run(self, tasks: Sequence[tuple[Job, JobTask]]) -> Iterator[JobRecord]:
        ray = self._ray
        shared: dict[int, object] = {}
        self._pending = jobs = {}  # filled while submitting, so an interrupt then still cancels what was sent
        cluster_gpus = ray.cluster_resources().get("GPU", 0) >= 1
        for job, task in tasks:  # grouped by object: Ray still spreads them over idle workers (docs/cluster.md)
            key = id(task.settings)
            if key not in shared:
                shared[key] = ray.put(
                    dataclasses.replace(task.settings, out=Path(task.settings.out).absolute(), check_availability=True)
                )
            ref = self._remote.options(
                num_cpus=1,
                num_gpus=1 if task.spec.wants_gpu(cluster_gpus) else 0,
                max_retries=self.max_attempts - 1,
                retry_exceptions=False,
                name=f"reconbench {job.key}",
            ).remote(job, _absolute(task.obj), task.spec, shared[key])
            jobs[ref] = job
        waiting = list(jobs)
        try:
            while waiting:
                ready, waiting = ray.wait(waiting, num_returns=1)
                if waiting:  # and every other one already done, in one call
                    more, waiting = ray.wait(waiting, num_returns=len(waiting), timeout=0)
                    ready += more
                for ref in ready:
                    yield self._collect(ref, jobs.pop(ref))
        finally:  # the caller stopped early (Ctrl-C, an error): nothing it will not read keeps running
            self._cancel_pending()

    def _collect(self, ref, job: Job) -> JobRecord:
        exceptions = self._ray.exceptions
        try:
            return self._ray.get(ref)
        except (
            exceptions.WorkerCrashedError,
            exceptions.NodeDiedError,
            exceptions.OutOfMemoryError,
            exceptions.LocalRayletDiedError,
        ) as exc:
            return record_for(
                job,
                "failed",
                f"worker died {self.max_attempts} times running this job (last: Ray {type(exc).__name__}: "
                f"{_first_line(exc)})",
            )
        except exceptions.RayError as exc:
            return record_for(job, "failed", f"Ray {type(exc).__name__}: {_first_line(exc)}")

    def _cancel_pending(self) -> None:
        """Stop the tasks nobody will read. A driver that made its own connection leaves that to
        shutdown(): disconnecting ends its Ray job, and Ray kills the job's workers (cancelling each task
        with force as well can abort Ray 2.60's driver when a task completes meanwhile)."""
        if self._owns_connection:
            self._pending = {}
            return
        for ref in list(self._pending):
            try:
                self._ray.cancel(ref, force=True)
            except Exception:  # already finished, or Ray already gone
                pass
        self._pending = {}

    def shutdown(self) -> None:
        self._cancel_pending()
        if self._owns_connection and self._ray.is_initialized():
            self._ray.shutdown()  # a local cluster stops; a joined one carries on without this driver
        self._owns_connection = False


def _absolute(obj: DatasetObject) -> DatasetObject:
    """Dataset paths as every node must see them (a relative path means nothing in a Ray worker)."""
    return dataclasses.replace(
        obj, path=Path(obj.path).absolute(), texture_dirs=tuple(Path(d).absolute() for d in obj.texture_dirs)
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
