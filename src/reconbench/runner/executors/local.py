"""The local executor: the jobs run on this machine, in the driver (one worker) or in N processes.

One worker: each job runs in the driver process, its method in a child process. N workers: N spawned
job-worker processes (each with its own imports and GL context), fed one job at a time over a pipe; a
worker takes the jobs of one object in a row, so it prepares the object once, and idle workers take the
remaining jobs of a busy one's object at the end.
A worker that dies mid-job (killed, out of memory, a crash in native code) is replaced and its job
run again, up to `max_attempts` runs in all; then the job is recorded as failed with the exit code.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import multiprocessing
import os
import signal
import sys
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait

from reconbench.methods import MethodSpec
from reconbench.registry import availability
from reconbench.runner.execute import JobTask, record_for, reset_process_state
from reconbench.runner.jobs import Job
from reconbench.runner.pipeline import list_taker, overlaps, run_jobs
from reconbench.runner.store import JobRecord
from reconbench.runner.worker import exit_with_parent
from reconbench.system.cpus import cores as _cores
from reconbench.system.gpus import visible_gpu_ids

logger = logging.getLogger(__name__)


class LocalExecutor:
    name = "local"

    def __init__(self, workers: int = 1, max_attempts: int = 3) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        self.workers = workers
        self.max_attempts = max_attempts
        self.used_workers = 0  # after run(): how many ran
        self._ctx = multiprocessing.get_context("spawn")
        self._slots: list[_Slot] = []

    def unavailable(self, spec: MethodSpec) -> str | None:
        ok, why = availability(spec)
        return None if ok else why

    def plan_workers(self, tasks: Sequence[tuple[Job, JobTask]]) -> tuple[int, list[str | None]]:
        """How many workers, and the GPU each one is pinned to (None: not pinned): at most the workers
        asked for, the cores, the jobs, and, when a method that needs or takes a GPU is among the jobs and
        GPUs are visible, the GPUs (one each: two workers never share a GPU nobody reserved)."""
        n = max(1, min(self.workers, _cores(), len(tasks)))
        gpus = visible_gpu_ids() if n > 1 else []
        if any(task.spec.wants_gpu(bool(gpus)) for _, task in tasks):
            n = max(1, min(n, len(gpus)))
            pins: list[str | None] = list(gpus[:n]) if n > 1 else [None]
        else:
            pins = [None] * n
        if n < self.workers:
            logger.warning(
                f"{n} local worker(s), not {self.workers}: {_cores()} core(s), {len(tasks)} job(s)"
                + (
                    f", {len(gpus)} GPU(s) for the GPU methods"
                    if any(t.spec.wants_gpu(bool(gpus)) for _, t in tasks)
                    else ""
                )
            )
        return n, pins

    def run(self, tasks: Sequence[tuple[Job, JobTask]]) -> Iterator[JobRecord]:
        tasks = list(tasks)
        if not tasks:
            return
        n, pins = self.plan_workers(tasks)
        self.used_workers = n
        if n == 1:
            yield from self._run_in_driver(tasks)
        else:
            yield from self._run_in_processes(tasks, pins)

    def shutdown(self) -> None:
        for slot in self._slots:
            slot.stop(graceful=not slot.inflight)
        self._slots = []
        reset_process_state()

    # --- one worker: the driver itself --------------------------------------------------------------

    def _run_in_driver(self, tasks: list[tuple[Job, JobTask]]) -> Iterator[JobRecord]:
        try:
            yield from run_jobs(list_taker(tasks))
        finally:
            reset_process_state()

    # --- N workers ----------------------------------------------------------------------------------

    def _run_in_processes(self, tasks: list[tuple[Job, JobTask]], pins: list[str | None]) -> Iterator[JobRecord]:
        groups = deque(list(g) for _, g in itertools.groupby(tasks, key=lambda t: t[1].obj.id))
        threads = thread_limits(len(pins))
        log = _driver_logging()
        slots = [_Slot(self._ctx, i, gpu, threads_env=threads, logging=log) for i, gpu in enumerate(pins)]
        self._slots = slots
        attempts: Counter[str] = Counter()
        # With overlap, a worker holds two jobs: the next one's method starts while this one is scored
        # (runner/pipeline.py). A job that was in flight when its worker died runs alone (`solo`) afterwards.
        depth = 2 if any(overlaps(task) for _, task in tasks) else 1
        solo: set[str] = set()

        def next_task(slot: _Slot) -> tuple[Job, JobTask] | None:
            if slot.queue:
                return slot.queue.popleft()
            if groups:
                slot.queue.extend(groups.popleft())
                return slot.queue.popleft()
            busiest = max(slots, key=lambda s: len(s.queue))  # the tail of another worker's object
            return busiest.queue.pop() if busiest.queue else None

        def dispatch(slot: _Slot) -> None:
            while len(slot.inflight) < depth and not (slot.inflight and slot.inflight[-1][0].key in solo):
                item = next_task(slot)
                if item is None:
                    return
                if slot.inflight and item[0].key in solo:
                    slot.queue.appendleft(item)
                    return
                slot.inflight.append(item)
                slot.send(item)

        try:
            yield from self._loop(slots, dispatch, attempts, solo)
        finally:  # done, or interrupted: busy workers are killed, idle ones told to finish
            for slot in slots:
                slot.stop(graceful=not slot.inflight)
            self._slots = []

    def _loop(self, slots: list[_Slot], dispatch, attempts: Counter, solo: set[str]) -> Iterator[JobRecord]:
        for slot in slots:
            slot.start()
        for slot in slots:
            dispatch(slot)
        while True:
            busy = [s for s in slots if s.inflight]
            if not busy:
                break
            handles: dict[object, _Slot] = {}
            for s in busy:
                handles[s.conn] = s
                handles[s.proc.sentinel] = s
            ready = {id(handles[h]): handles[h] for h in wait(list(handles))}
            for slot in ready.values():
                record = slot.receive()
                if record is not None:
                    slot.inflight = [item for item in slot.inflight if item[0].key != record.job]
                    yield record
                    dispatch(slot)
                    continue
                if slot.proc.is_alive() and not slot.conn_closed:
                    continue  # woken by nothing we can read yet
                code = slot.reap()
                slot.start()
                lost, slot.inflight = slot.inflight, []
                if len(lost) > 1:  # scoring one, running the next one's method: which one killed it is unknown,
                    # so neither is counted; each runs again alone, where it is
                    solo.update(job.key for job, _ in lost)
                    slot.queue.extendleft(reversed(lost))
                    dispatch(slot)
                    continue
                job, task = lost[0]
                attempts[job.key] += 1
                if attempts[job.key] < self.max_attempts:
                    slot.queue.appendleft((job, task))
                else:
                    yield record_for(
                        job,
                        "failed",
                        f"worker died {attempts[job.key]} times running this job (last: {describe_exit(code)})",
                    )
                dispatch(slot)


@dataclass
class _Slot:
    ctx: object
    index: int
    gpu: str | None
    proc: multiprocessing.Process | None = None
    conn: Connection | None = None
    conn_closed: bool = False
    queue: deque = field(default_factory=deque)  # the rest of the object it is working through
    inflight: list[tuple[Job, JobTask]] = field(default_factory=list)  # sent, record not back yet (oldest first)
    threads_env: dict = field(default_factory=dict)
    logging: tuple = (logging.WARNING, None)  # _driver_logging()

    def start(self) -> None:
        parent, child = self.ctx.Pipe()
        # Not daemonic: a job worker starts its own method worker process.
        self.proc = self.ctx.Process(
            target=job_worker_main, args=(child, *self.logging), name=f"reconbench-job-worker-{self.index}"
        )
        env = {**self.threads_env, **({"CUDA_VISIBLE_DEVICES": self.gpu} if self.gpu is not None else {})}
        with _environment(env):  # a spawned process takes the environment as it is at its start, before any import
            self.proc.start()
        child.close()
        self.conn, self.conn_closed = parent, False

    def send(self, item) -> None:
        """Send a job now in `inflight` (its last item)."""
        try:
            self.conn.send(item)
        except OSError:  # died while idle: a new process, and the job is not counted as attempted
            if len(self.inflight) > 1:  # died with another job in flight: the loop sees the death, requeues both
                return
            self.reap()
            self.start()
            self.conn.send(item)

    def receive(self) -> JobRecord | None:
        try:
            if self.conn.poll():
                return self.conn.recv()
        except (EOFError, OSError):
            self.conn_closed = True
        return None

    def reap(self) -> int | None:
        """Wait for a dying process (kill it if it lingers); its exit code."""
        self.proc.join(5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(5)
        code = self.proc.exitcode
        self.conn.close()
        return code

    def stop(self, graceful: bool) -> None:
        if self.proc is None:
            return
        if graceful:
            self.conn.close()  # the worker sees the end of its input and exits, stopping its method worker
            self.proc.join(5)
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()
        self.proc = None


def job_worker_main(
    conn: Connection, log_level: int = logging.WARNING, log_format: logging.Formatter | None = None
) -> None:
    """A local job-worker process: run the jobs it receives (runner/pipeline.py), send back each record.
    Its `reconbench` log messages go to stderr at the driver's level and in its format (`_driver_logging`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle; it stops the workers
    exit_with_parent()
    log_like_driver(log_level, log_format)

    def take(block: bool) -> tuple[Job, JobTask] | None:
        try:
            return conn.recv() if block or conn.poll() else None
        except EOFError:  # the driver closed the pipe: no more jobs
            return None

    try:
        for record in run_jobs(take):
            conn.send(record)
    finally:
        reset_process_state()


def _driver_logging() -> tuple[int, logging.Formatter | None]:
    """The `reconbench` logger's level here and the format of its handler (the CLI's, cli/_main.py), if any."""
    logger = logging.getLogger("reconbench")
    formats = [h.formatter for h in logger.handlers if isinstance(h, logging.StreamHandler)]
    return logger.getEffectiveLevel(), formats[0] if formats else None


def log_like_driver(level: int, log_format: logging.Formatter | None) -> None:
    """In a worker process: the `reconbench` loggers at the driver's level, shown on stderr in the driver's
    format when the driver had a handler (without one, messages go where the driver's would: Python's default)."""
    logger = logging.getLogger("reconbench")
    logger.setLevel(level)
    if log_format is not None:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(log_format)
        logger.addHandler(handler)
        logger.propagate = False


# Native thread pools (OpenMP, BLAS; PyTorch follows OMP_NUM_THREADS) size themselves to every core of
# the machine in every process: N workers would run N x cores threads on the cores and spin against each
# other (measured on 2 cores, benchmarks/executor_throughput.py: 2 workers spent 6.7 s per job in the
# method and the evaluation with the default pools, 1.0 s with one thread each). LP_NUM_THREADS is Mesa
# llvmpipe's rasteriser pool (the common renderer on a machine without a GPU), sized the same way.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "LP_NUM_THREADS")


def thread_limits(workers: int) -> dict[str, str]:
    """The cores shared out between the workers, for each thread-pool variable the user has not set."""
    per_worker = str(max(1, _cores() // workers))
    return {k: per_worker for k in THREAD_VARIABLES if k not in os.environ}


@contextlib.contextmanager
def _environment(values: dict[str, str]):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def describe_exit(code: int | None) -> str:
    if code is None:
        return "exit code unknown"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"
