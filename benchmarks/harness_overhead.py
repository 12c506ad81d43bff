"""Harness overhead per job: wall time between consecutive job completions, less the method's own
wall time and the evaluation's, for the reference methods on procedural objects. Printed next to
the method and evaluation times it is compared with, and next to the once-per-object preparation
(input views, ground-truth renders, point clouds, voxels, LPIPS features).

    python benchmarks/harness_overhead.py [--objects 4] [--protocol default]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from reconbench.datasets import open_dataset
from reconbench.runner import RunConfig, run_benchmark

METHODS = ["oracle", "sphere", "visual-hull"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=4)
    parser.add_argument("--protocol", default="sparse4")
    parser.add_argument("--lpips", default="alex")
    args = parser.parse_args()

    ids = open_dataset("procedural").ids[: args.objects]
    marks: list[tuple[float, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        cfg = RunConfig(
            "procedural",
            METHODS,
            args.protocol,
            Path(tmp) / "run",
            objects=ids,
            progress=False,
            lpips=() if args.lpips == "none" else tuple(args.lpips.split(",")),
        )
        start = time.perf_counter()
        run_benchmark(cfg, on_job_done=lambda record: marks.append((time.perf_counter(), record)))
        total = time.perf_counter() - start

    steady, first = [], []
    previous = start
    for k, (t, record) in enumerate(marks):
        interval = t - previous
        previous = t
        method = record.timings.get("method_wall_s", 0.0)
        evaluation = record.timings.get("evaluation_wall_s", 0.0)
        row = (interval - method - evaluation, method, evaluation)
        (first if k % len(METHODS) == 0 else steady).append(row)

    def ms(values):
        return statistics.median(values) * 1000

    print(
        f"{len(marks)} jobs ({', '.join(METHODS)} x {len(ids)} objects), protocol {args.protocol}, LPIPS {args.lpips}: "
        f"{total:.1f} s in all"
    )
    print(f"per job, median over jobs that reuse a prepared object ({len(steady)}):")
    print(
        f"  harness overhead : {ms([r[0] for r in steady]):8.1f} ms   (store commit, hand-off to the worker process, "
        f"saving renders)"
    )
    print(f"  method wall time : {ms([r[1] for r in steady]):8.1f} ms")
    print(f"  evaluation       : {ms([r[2] for r in steady]):8.1f} ms")
    print(f"first job of each object ({len(first)}), whose overhead includes preparing the object once:")
    print(f"  harness overhead : {ms([r[0] for r in first]):8.1f} ms   (the first also starts the worker process)")


if __name__ == "__main__":
    main()
