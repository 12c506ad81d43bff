"""Harness overhead per job: wall time between consecutive job completions, less the method's own
wall time and the evaluation's, for the reference methods on procedural objects, measured twice in
this one process: "before" (the harness as it was, RECONBENCH_HARNESS_LEGACY=1: rollback-journal
commits with a full sync, full-size renders written in the job's thread, the input images sent to the
method worker with every job) and "after" (the defaults: WAL commits, 256-px renders on a background
thread, the images sent once per object). Each is broken down by step (store commit, hand-off to the
method worker, saving renders, the rest), printed next to the method and evaluation times, and as a
share of the fastest method's published time per asset (read from the method specs' `published`
field, docs/literature.md).

    python benchmarks/harness_overhead.py [--objects 4] [--protocol sparse4] [--lpips alex]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from reconbench.datasets import open_dataset
from reconbench.runner import renders as renders_module
from reconbench.runner import store as store_module
from reconbench.runner import worker as worker_module
from reconbench.runner.legacy import LEGACY_ENV
from reconbench.runner.run import RunConfig, run_benchmark

METHODS = ["oracle", "sphere", "visual-hull"]
STEPS = {
    "commit": "store commit",
    "handoff": "hand-off to the method worker and back",
    "renders": "saving renders (time the job waits on them)",
}


@contextlib.contextmanager
def step_timers(seconds: dict[str, list[float]]):
    """Time the harness's steps in this process (the local executor with one worker runs every job here)."""
    originals = (
        store_module.ResultsStore.put,
        worker_module.MethodWorker.submit,
        worker_module.MethodWorker.result,
        renders_module.RenderWriter.submit,
        renders_module.wait,
    )
    put, send, receive, submit, wait = originals

    def timed(key, fn, minus_wall=False):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            out = fn(*args, **kwargs)
            spent = time.perf_counter() - start
            seconds[key].append(spent - (out[1] if minus_wall else 0.0))  # MethodWorker.result: (output, method wall)
            return out

        return wrapper

    store_module.ResultsStore.put = timed("commit", put)
    # The hand-off: sending the job to the method worker, and receiving its output less the method's own time.
    worker_module.MethodWorker.submit = timed("send", send)
    worker_module.MethodWorker.result = timed("receive", receive, minus_wall=True)
    renders_module.RenderWriter.submit = timed("submit", submit)
    renders_module.wait = timed("wait", wait)
    import reconbench.runner.execute as execute  # imported `wait` by name

    execute_wait, execute.wait = execute.wait, renders_module.wait
    try:
        yield
    finally:
        (
            store_module.ResultsStore.put,
            worker_module.MethodWorker.submit,
            worker_module.MethodWorker.result,
            renders_module.RenderWriter.submit,
            renders_module.wait,
        ) = originals
        execute.wait = execute_wait


def measure(legacy: bool, ids: list[str], protocol: str, lpips: tuple[str, ...]) -> dict:
    """One run of every method on the objects; per job: interval, method, evaluation and each step (ms)."""
    marks: list[tuple[float, object]] = []
    steps: dict[str, list[float]] = defaultdict(list)
    previous = os.environ.pop(LEGACY_ENV, None)
    if legacy:
        os.environ[LEGACY_ENV] = "1"
    try:
        with tempfile.TemporaryDirectory() as tmp, step_timers(steps):
            cfg = RunConfig(
                "procedural", METHODS, protocol, Path(tmp) / "run", objects=ids, progress=False, lpips=lpips
            )
            start = time.perf_counter()
            run_benchmark(cfg, on_job_done=lambda record: marks.append((time.perf_counter(), record)))
            total = time.perf_counter() - start
    finally:
        os.environ.pop(LEGACY_ENV, None)
        if previous is not None:
            os.environ[LEGACY_ENV] = previous
    if any(len(steps[k]) != len(marks) for k in ("commit", "send", "receive", "submit", "wait")):
        raise SystemExit(f"a job failed or was skipped (steps timed: {dict((k, len(v)) for k, v in steps.items())})")
    jobs = []
    last = start
    for k, (t, record) in enumerate(marks):
        method = record.timings.method_wall_s or 0.0
        evaluation = record.timings.evaluation_wall_s or 0.0
        job = {
            "first": k % len(METHODS) == 0,
            "interval": t - last,
            "method": method,
            "evaluation": evaluation,
            "overhead": t - last - method - evaluation,
            "commit": steps["commit"][k],
            "handoff": steps["send"][k] + steps["receive"][k],
            "renders": steps["submit"][k] + steps["wait"][k],
        }
        job["rest"] = job["overhead"] - job["commit"] - job["handoff"] - job["renders"]
        jobs.append(job)
        last = t
    return {"jobs": jobs, "total": total}


def fastest_published() -> tuple[str, list]:
    """The method reconbench runs with the smallest published per-asset time, and all its applicable times."""
    from reconbench.literature.collect import entries

    timed = [(e.method, [t for t in e.published.times if t.applies]) for e in entries() if e.method]
    timed = [(m, ts) for m, ts in timed if ts]
    return min(timed, key=lambda item: min(t.seconds for t in item[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=4)
    parser.add_argument("--protocol", default="sparse4")
    parser.add_argument("--lpips", default="alex")
    args = parser.parse_args()
    lpips = () if args.lpips == "none" else tuple(args.lpips.split(","))

    ids = open_dataset("procedural").ids[: args.objects]
    runs = {"before": measure(True, ids, args.protocol, lpips), "after": measure(False, ids, args.protocol, lpips)}

    def ms(name, key, first=False):
        values = [j[key] for j in runs[name]["jobs"] if j["first"] == first]
        return statistics.median(values) * 1000

    steady = sum(not j["first"] for j in runs["after"]["jobs"])
    print(
        f"{len(runs['after']['jobs'])} jobs ({', '.join(METHODS)} x {len(ids)} objects), protocol {args.protocol}, "
        f"LPIPS {args.lpips}, run twice in this process: before {runs['before']['total']:.1f} s, after "
        f"{runs['after']['total']:.1f} s in all"
    )
    print(f"per job, median over the {steady} jobs that reuse a prepared object:   before      after")
    rows = [("harness overhead", "overhead")] + [(f"  {label}", key) for key, label in STEPS.items()]
    rows += [("  the rest (work folder, views.json, provenance, record)", "rest")]
    rows += [("method wall time", "method"), ("evaluation", "evaluation"), ("whole job", "interval")]
    for label, key in rows:
        print(f"  {label:<58s} {ms('before', key):8.1f}   {ms('after', key):8.1f} ms")
    print("first job of each object, whose overhead includes preparing the object once (and starting the worker):")
    first = [ms(name, "overhead", first=True) for name in runs]
    print(f"  {'harness overhead':<58s} {first[0]:8.1f}   {first[1]:8.1f} ms")

    method, times = fastest_published()
    print(f"as a share of the fastest method's published time per asset ({method}, method spec `published`):")
    for t in sorted(times, key=lambda t: t.seconds):
        share = {name: ms(name, "overhead") / 1000 / t.seconds for name in runs}
        print(
            f"  {t.seconds:.2f} s ({t.gpu or 'GPU not stated'}; {t.paper}, {t.where}): "
            f"before {share['before']:.0%}, after {share['after']:.0%}"
        )


if __name__ == "__main__":
    main()
