"""The jobs one process executes, in a row, with the scoring of one job overlapped with the next job's method.

Without overlap a process runs job k's method (in its method worker) and then scores its output, so the
method worker, and the GPU a GPU method holds, wait while the job is scored. With overlap, as soon as job
k's method has returned, job k+1's method starts in the same method worker (same GPU), and job k is
scored meanwhile; job k+1's object is prepared (input views, ground truth) while job k's method runs. One
job is in flight at most: one method running, one output being scored.

What stays as without overlap: each record (a method's failure or time-out is its own job's), the
method's wall time (measured in the method's process, so it never includes scoring), the scoring's (timed
around the scoring alone), the method's limit (counted from the method's start; a method that finished
while the previous job was being scored, but after its limit, is recorded as timed out, as it would have
been stopped).

When: `--overlap auto` (default) overlaps the jobs whose method reserves a GPU (`wants_gpu`), the case
where method and scoring use different hardware; `on` overlaps every job (pays where cores are spare);
`off` never. docs/cluster.md, "Overlapping scoring with the next method".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from reconbench.runner.execute import (
    JobTask,
    PreparedJob,
    StartedJob,
    method_result,
    prepare_job,
    score_job,
    start_method,
)
from reconbench.runner.jobs import Job
from reconbench.runner.store import JobRecord
from reconbench.system.gpus import gpus_present

logger = logging.getLogger(__name__)

OVERLAP_MODES = ("auto", "on", "off")

# take(block): the next (job, task); with block=False, None when none is waiting; with block=True, None
# when there are no more.
Take = Callable[[bool], "tuple[Job, JobTask] | None"]


def check_overlap_option(value: str) -> None:
    if value not in OVERLAP_MODES:
        raise ValueError(f"unknown overlap mode {value!r}; choose one of {', '.join(OVERLAP_MODES)}")


def overlaps(task: JobTask) -> bool:
    """Whether this job's method may run while the previous job is scored."""
    mode = task.settings.overlap
    if mode == "auto":
        return task.spec.wants_gpu(gpus_present())
    return mode == "on"


def run_jobs(take: Take) -> Iterator[JobRecord]:
    """Execute the jobs `take` gives, yielding each record as soon as it is known."""
    started: StartedJob | None = None  # the job whose method runs
    held: tuple[Job, JobTask] | None = None  # taken, to start once nothing else is in flight
    while True:
        if started is None:
            item, held = held or take(True), None
            if item is None:
                return
            ready = prepare_job(*item)
            first = ready if isinstance(ready, JobRecord) else start_method(ready)
            if isinstance(first, JobRecord):
                yield first
            else:
                started = first
            continue
        done, following, held = _next_prepared(take)  # its object prepared while this job's method runs
        yield from done
        result = method_result(started)  # the method worker is free from here on
        if following is None and held is None:  # the next job may have arrived meanwhile
            done, following, held = _next_prepared(take)
            yield from done
        nxt = start_method(following) if following is not None else None
        if isinstance(nxt, JobRecord):
            yield nxt
            nxt = None
        elif nxt is not None:
            logger.debug(f"job {nxt.prepared.job.key}: its method runs while job {started.prepared.job.key} is scored")
        yield score_job(started, result)
        started = nxt


def _next_prepared(take: Take) -> tuple[list[JobRecord], PreparedJob | None, tuple[Job, JobTask] | None]:
    """The next waiting job, prepared, when its method may overlap (with the records of the jobs that ended
    while being prepared); or the next waiting job unprepared, when it may not; or neither, none waiting."""
    done = []
    while True:
        item = take(False)
        if item is None:
            return done, None, None
        if not overlaps(item[1]):
            return done, None, item
        ready = prepare_job(*item)
        if not isinstance(ready, JobRecord):
            return done, ready, None
        done.append(ready)  # skipped, or failed before its method: nothing runs


def list_taker(tasks: list[tuple[Job, JobTask]]) -> Take:
    """`take` over jobs known in advance (the driver's own)."""
    items = iter(tasks)
    return lambda block: next(items, None)
