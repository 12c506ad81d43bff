"""Overlapping each job's scoring with the next job's method (runner/pipeline.py): jobs per minute of the same
run with --overlap off and on, in one process, interleaved. The method sleeps (a GPU method's time, during
which the CPU is free) and then returns the reference sphere; the scoring is the real one, under the small
protocol of benchmarks/executor_throughput.py (or a preset). One local worker (the driver) by default.

    python benchmarks/overlap.py [--objects 6] [--sleep 2.0] [--repeat 2] [--workers 1] [--protocol PRESET]

Expected: without overlap a job costs the sleep plus the rest (preparing the object, scoring, the harness);
with it, about the larger of the two once the pipeline runs, so the gain is largest when they are equal.
Records are compared between the modes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # executor_throughput (its protocol and comparisons); this module,
# the method's entry, in the method worker (multiprocessing spawn passes sys.path on)

from executor_throughput import SMALL, median_run, same_results, timed_run  # noqa: E402

from reconbench.datasets import open_dataset  # noqa: E402
from reconbench.methods import MethodOutput  # noqa: E402
from reconbench.registry import get_method, register_method  # noqa: E402
from reconbench.runner.executors.local import LocalExecutor  # noqa: E402
from reconbench.runner.run import RunConfig  # noqa: E402

METHOD = "bench-sleeps-then-sphere"


def sleeps_then_sphere(inp) -> MethodOutput:
    """The simulated GPU method: OVERLAP_BENCH_SLEEP_S seconds idle for the CPU, then the sphere."""
    from reconbench.methods.reference import sphere

    start = time.perf_counter()
    time.sleep(float(os.environ["OVERLAP_BENCH_SLEEP_S"]))
    out = sphere.run(inp)
    return MethodOutput(out.asset, {"generation": time.perf_counter() - start})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=6)
    parser.add_argument("--sleep", type=float, default=2.0, help="the method's seconds per job")
    parser.add_argument("--protocol", help="a preset (default: the small protocol of executor_throughput.py)")
    parser.add_argument("--lpips", default="none")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each mode (medians are printed)")
    args = parser.parse_args()
    os.environ["OVERLAP_BENCH_SLEEP_S"] = str(args.sleep)  # the method worker is spawned with it
    try:
        get_method(METHOD)
    except KeyError:
        register_method(
            {
                "name": METHOD,
                "paradigm": "reference",
                "representation": "mesh",
                "entry": "overlap:sleeps_then_sphere",
                "description": "benchmark double: sleeps, then the reference sphere",
                "input_views": (1, 4),
                "timeout_s": 600,
            }
        )
    ids = open_dataset("procedural").ids[: args.objects]
    lpips = () if args.lpips == "none" else tuple(args.lpips.split(","))
    runs: dict[str, list[dict]] = {"off": [], "on": []}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        protocol = args.protocol
        if protocol is None:
            (folder / "small.json").write_text(json.dumps(SMALL))
            protocol = str(folder / "small.json")
        for rep in range(args.repeat):  # interleaved, so a change in the machine's load hits both modes alike
            for mode in ("off", "on"):
                cfg = RunConfig(
                    "procedural",
                    [METHOD],
                    protocol,
                    folder / f"{mode}-{rep}",
                    objects=ids,
                    lpips=lpips,
                    progress=False,
                    overlap=mode,
                )
                executor = LocalExecutor(workers=args.workers)
                runs[mode].append(timed_run(mode, cfg, executor, args.workers))
                executor.shutdown()
    off, on = median_run(runs["off"]), median_run(runs["on"])
    per_job = 60 / off["steady"]  # seconds per job without overlap, start-up excluded
    rest = per_job - args.sleep  # what is not the sleep: preparing the object, the sphere, scoring, the harness
    print(
        f"{off['jobs']} jobs ({METHOD}: {args.sleep:.1f} s sleep + sphere, x {len(ids)} procedural objects), protocol "
        f"{args.protocol or 'small (sparse4, 128², 8 held-out)'}, LPIPS {args.lpips}, {args.workers} local worker(s); "
        f"{len(os.sched_getaffinity(0))} cores, load average {os.getloadavg()[0]:.1f}; medians of {args.repeat} run(s)"
    )
    print(f"{'overlap':8s} {'wall s':>7s} {'jobs/min':>9s} {'steady':>7s} {'work/job s':>10s}")
    for r in (off, on):
        print(f"{r['label']:8s} {r['wall']:7.1f} {r['per_min']:9.1f} {r['steady']:7.1f} {r['work']:10.2f}")
    print(
        f"jobs/min: overlap on {on['per_min']:.1f} vs off {off['per_min']:.1f} "
        f"(x{on['per_min'] / off['per_min']:.2f}); "
        f"steady x{on['steady'] / off['steady']:.2f}; bound if all but the sleep overlapped it: "
        f"x{per_job / max(args.sleep, rest):.2f} ({rest:.2f} s per job besides the sleep, without overlap)"
    )
    identical = all(same_results(off["results"], r["results"]) for rs in runs.values() for r in rs)
    print(
        f"results identical with and without overlap (status and every metric, per job): {'yes' if identical else 'NO'}"
    )


if __name__ == "__main__":
    main()
