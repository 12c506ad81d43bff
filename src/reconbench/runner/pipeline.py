"""The jobs one process executes, in a row, with the scoring of one job overlapped with the next job's method.

Without overlap a process runs job k's method (in its method worker) and then scores its output, so the
method worker, and the GPU a GPU method holds, wait while the job is scored. With overlap, as soon as job
k's method has returned, job k+1's method starts in the same method worker (same GPU), and job k is
scored meanwhile. One job is in flight at most: one method running, one output being scored.

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

from reconbench.runner.execute import JobTask, StartedJob, method_result, score_job, start_job
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
    while True:
        if started is None:
            item = take(True)
            if item is None:
                return
            first = start_job(*item)
            if isinstance(first, JobRecord):
                yield first
            else:
                started = first
            continue
        result = method_result(started)  # the method worker is free from here on
        following: StartedJob | None = None
        while following is None and started is not None:
            item = take(False)  # the next job's method starts before this one is scored, when it may
            if item is None:
                break
            if not overlaps(item[1]):  # its method waits for this scoring
                yield score_job(started, result)
                started = None
            nxt = start_job(*item)
            if isinstance(nxt, JobRecord):  # skipped, or failed before its method: nothing runs
                yield nxt
            else:
                following = nxt
                if started is not None:
                    logger.debug(f"job {nxt.job.key}: its method runs while job {started.job.key} is scored")
        if started is not None:
            yield score_job(started, result)
        started = following


def list_taker(tasks: list[tuple[Job, JobTask]]) -> Take:
    """`take` over jobs known in advance (the driver's own)."""
    items = iter(tasks)
    return lambda block: next(items, None)
