"""Executor throughput: jobs per minute of the same run with the local executor (1 worker, in the
driver; 2 worker processes) and the Ray executor (a local 2-CPU cluster), and the Ray executor's
overhead per job against the local one. Reference methods (oracle, sphere, visual-hull) on the first
procedural objects under a small protocol (sparse4 inputs at 128², 8 held-out views), LPIPS off:
the harness, not the metrics, is what is measured. Each figure is printed next to what it is compared with.

    python benchmarks/executor_throughput.py [--objects 6] [--repeat 3] [--protocol PRESET] [--lpips none]

Definitions (docs/cluster.md):
- jobs/min: jobs / wall seconds of run_benchmark, start-up included (process spawn; Ray: the
  cluster's start is timed apart, its workers' start is included in the cold run); "steady" counts
  from the first record to the last, (jobs - 1) / (t_last - t_first), start-up excluded.
- work per job: the method's wall time plus the evaluation's, as the job measured them.
- overhead per job: worker-seconds per job not spent on that work, wall x workers / jobs - work:
  preparing objects (once per object per worker process), hand-off, scheduling, store commits, idle
  workers at the end. The Ray overhead is that figure on Ray minus the same figure on the local executor.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from reconbench.datasets import open_dataset
from reconbench.runner.executors.local import LocalExecutor
from reconbench.runner.run import RunConfig, run_benchmark
from reconbench.runner.store import ResultsStore

METHODS = ["oracle", "sphere", "visual-hull"]
SMALL = {  # the runner tests' protocol (tests/conftest.py)
    "name": "small-bench",
    "description": "sparse4 at 128x128, 8 held-out and 8 geometry views",
    "resolution": 128,
    "radius": 2.0,
    "fov": 49.1,
    "lighting": "studio",
    "input_rings": [{"elevation": 0.0, "azimuth_start": 0.0, "azimuth_step": 90.0, "count": 4}],
    "heldout_rings": [{"elevation": 25.0, "azimuth_start": 45.0, "azimuth_step": 45.0, "count": 8}],
    "evaluation": {
        "points": 5000,
        "geometry_views": {"count": 8, "radius": 2.0, "fov": 49.1, "resolution": 128},
        "icp": {"points": 3000, "max_iterations": 50},
    },
}


def timed_run(label: str, cfg: RunConfig, executor, workers: int) -> dict:
    marks: list[float] = []
    start = time.perf_counter()
    run_benchmark(cfg, on_job_done=lambda record: marks.append(time.perf_counter()), executor=executor)
    wall = time.perf_counter() - start
    records = list(ResultsStore(Path(cfg.out) / "results.sqlite").records())
    assert all(r.status == "ok" for r in records), [(r.job, r.error) for r in records if r.status != "ok"]
    work = statistics.mean(r.timings["method_wall_s"] + r.timings["evaluation_wall_s"] for r in records)
    n = len(records)
    steady = (n - 1) / (marks[-1] - marks[0]) * 60 if n > 1 and marks[-1] > marks[0] else math.nan
    return {
        "label": label,
        "workers": workers,
        "jobs": n,
        "wall": wall,
        "per_min": n / wall * 60,
        "steady": steady,
        "work": work,
        "overhead": wall * workers / n - work,
        "first": marks[0] - start,
        "results": {r.job: (r.status, r.metrics) for r in records},
    }


def median_run(runs: list[dict]) -> dict:
    """The run of median wall time (its other figures with it)."""
    return sorted(runs, key=lambda r: r["wall"])[len(runs) // 2]


def same_results(a: dict, b: dict) -> bool:
    def eq(x, y):
        return x == y or (isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y))

    return a.keys() == b.keys() and all(
        a[k][0] == b[k][0] and a[k][1].keys() == b[k][1].keys() and all(eq(v, b[k][1][m]) for m, v in a[k][1].items())
        for k in a
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=6)
    parser.add_argument("--protocol", help="a preset (default: the small protocol above)")
    parser.add_argument("--lpips", default="none")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each executor (medians are printed)")
    args = parser.parse_args()
    try:
        import ray  # noqa: F401

        from reconbench.runner.executors.ray_executor import RayExecutor
    except ImportError:
        sys.exit("this benchmark compares with Ray: pip install 'reconbench[ray]'")

    ids = open_dataset("procedural").ids[: args.objects]
    lpips = () if args.lpips == "none" else tuple(args.lpips.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        protocol = args.protocol
        if protocol is None:
            (tmp / "small.json").write_text(json.dumps(SMALL))
            protocol = str(tmp / "small.json")

        def cfg(name: str) -> RunConfig:
            return RunConfig("procedural", METHODS, protocol, tmp / name, objects=ids, lpips=lpips, progress=False)

        start = time.perf_counter()
        ray_executor = RayExecutor(num_cpus=2)
        ray_start = time.perf_counter() - start
        cold = timed_run("ray, 2 CPUs (cold)", cfg("ray-cold"), ray_executor, 2)
        runs: dict[str, list[dict]] = {"local, 1 worker": [], "local, 2 workers": [], "ray, 2 CPUs (warm)": []}
        for rep in range(args.repeat):  # interleaved, so a change in the machine's load hits every executor alike
            for workers in (1, 2):
                local = LocalExecutor(workers=workers)
                label = f"local, {workers} worker{'s' if workers > 1 else ''}"
                runs[label].append(timed_run(label, cfg(f"local{workers}-{rep}"), local, workers))
                local.shutdown()
            runs["ray, 2 CPUs (warm)"].append(timed_run("ray, 2 CPUs (warm)", cfg(f"ray-{rep}"), ray_executor, 2))
        ray_executor.shutdown()
        local1, local2, warm = (median_run(r) for r in runs.values())
        rows = [local1, local2, cold, warm]

    jobs = rows[0]["jobs"]
    print(
        f"{jobs} jobs ({', '.join(METHODS)} x {len(ids)} procedural objects), protocol "
        f"{args.protocol or 'small (sparse4, 128², 8 held-out)'}, "
        f"LPIPS {args.lpips}; {_cores()} cores, load average {os.getloadavg()[0]:.1f} at the end; medians of "
        f"{args.repeat} run(s), "
        f"interleaved (ray cold: once)"
    )
    print(
        f"{'executor':22s} {'wall s':>7s} {'jobs/min':>9s} {'steady':>7s} {'1st rec s':>9s} {'work/job s':>10s} "
        f"{'overhead/job s':>14s}"
    )
    for r in rows:
        print(
            f"{r['label']:22s} {r['wall']:7.1f} {r['per_min']:9.1f} {r['steady']:7.1f} {r['first']:9.1f} "
            f"{r['work']:10.2f} {r['overhead']:14.2f}"
        )
    print(f"(Ray cluster start, not in the cold row: {ray_start:.1f} s)")
    print("jobs/min, each next to what it is compared with:")
    print(
        f"  local 2 workers {local2['per_min']:6.1f}  vs local 1 worker {local1['per_min']:6.1f}  "
        f"(x{local2['per_min'] / local1['per_min']:.2f})"
    )
    for ray_row in (cold, warm):
        print(
            f"  {ray_row['label']:18s}{ray_row['per_min']:6.1f}  vs local 1 worker {local1['per_min']:6.1f}  "
            f"(x{ray_row['per_min'] / local1['per_min']:.2f}),"
            f"  vs local 2 workers {local2['per_min']:6.1f}  (x{ray_row['per_min'] / local2['per_min']:.2f})"
        )
    print(
        "Ray overhead per job (worker-seconds not spent in the method or the evaluation), next to the local executor's:"
    )
    for ray_row in (cold, warm):
        print(
            f"  {ray_row['label']:18s}{ray_row['overhead']:6.2f} s  vs local 1 worker {local1['overhead']:5.2f} s  "
            f"({ray_row['overhead'] - local1['overhead']:+.2f} s),"
            f"  vs local 2 workers {local2['overhead']:5.2f} s  ({ray_row['overhead'] - local2['overhead']:+.2f} s)"
        )
    identical = all(same_results(local1["results"], r["results"]) for rs in runs.values() for r in rs + [cold])
    print(f"results identical across executors (status and every metric, per job): {'yes' if identical else 'NO'}")


def _cores() -> int:
    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    main()
