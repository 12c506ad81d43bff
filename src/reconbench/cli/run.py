"""`reconbench run`: the benchmark, every (method, object, seed) job run and scored, one record each."""

from __future__ import annotations

import argparse
from pathlib import Path

from reconbench.cli._args import (
    UsageError,
    add_align,
    add_dataset,
    add_lpips,
    add_methods,
    add_other_set,
    add_protocol,
    evaluation_of,
    integers,
    names,
    positive_int,
)

DESCRIPTION = (
    "Run each method on each object's input views, score its asset with the common renderer, and commit one record "
    "per job to OUT/results.sqlite (then results.csv and report.md). A failing job is recorded with its reason and "
    "the run goes on; --resume finishes an interrupted run without redoing finished jobs."
)
EXAMPLES = """
reconbench run --dataset procedural --methods oracle,sphere,visual-hull --protocol sparse4 --limit 4 --out runs/quick
reconbench run --dataset gso:/data/gso --protocol gso30-syncdreamer --methods triposr,lgm --out runs/gso30 --resume
reconbench run --dataset procedural --methods splat-sds --executor ray --ray-address auto --out /shared/runs/r1
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_dataset(p)
    add_methods(p, required=True)
    add_protocol(p)
    p.add_argument("--out", required=True, metavar="DIR", help="run folder")
    p.add_argument("--objects", type=names, metavar="ID,ID", help="only these objects")
    p.add_argument("--limit", type=positive_int, metavar="N", help="only the first N objects")
    p.add_argument("--seeds", type=integers, default=[0], metavar="S,S", help="comma-separated seeds (default 0)")
    add_align(p)
    add_lpips(p)
    add_other_set(p)
    p.add_argument(
        "--renders",
        default="small",
        choices=["small", "full", "none"],
        help="PNGs of each prediction in OUT/renders: small (default; longest side 256 px, what the report shows), "
        "full (the protocol's resolution) or none",
    )
    p.add_argument(
        "--timeout",
        type=float,
        metavar="S",
        help="seconds per method call, and again for scoring its output (default: each method's own limit)",
    )
    p.add_argument("--resume", action="store_true", help="finish a run in OUT, skipping finished jobs")
    p.add_argument("--retry-failed", action="store_true", help="with --resume, also redo failed jobs")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--executor",
        default="local",
        choices=["local", "ray"],
        help="where jobs run: local (default; this machine) or ray (a Ray cluster, docs/cluster.md)",
    )
    p.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        metavar="N",
        help=(
            "local: jobs at once in N worker processes, at most the cores (and the GPUs for GPU methods); default 1, "
            "in this process"
        ),
    )
    p.add_argument(
        "--overlap",
        default="auto",
        choices=["auto", "on", "off"],
        help=(
            "local: score each job while the next job's method runs in the same worker: auto (default) for methods "
            "that reserve a GPU, on for every method (pays with spare cores), off never (docs/cluster.md)"
        ),
    )
    p.add_argument(
        "--ray-address",
        metavar="ADDR",
        help=(
            "ray: the cluster to join (auto, HOST:6379 or ray://HOST:10001); default: start a local one. --out must "
            "then be an absolute path every node mounts"
        ),
    )


def run(args: argparse.Namespace) -> int:
    from reconbench.protocol import get_protocol
    from reconbench.runner.run import RunConfig, run_benchmark

    if args.objects and args.limit:
        raise UsageError("give --objects or --limit, not both")
    if args.executor != "ray" and args.ray_address:
        raise UsageError("--ray-address needs --executor ray")
    if args.executor != "local" and args.workers != 1:
        raise UsageError("--workers is for --executor local; a Ray cluster's size is its own")
    evaluation = evaluation_of(get_protocol(args.protocol))  # the preset's --align and --lpips unless given
    cfg = RunConfig(
        dataset=args.dataset,
        methods=args.methods,
        protocol=args.protocol,
        out=Path(args.out),
        objects=args.objects,
        limit=args.limit,
        object_list=args.object_list,
        seeds=args.seeds,
        align=args.align or evaluation.alignment,
        lpips=evaluation.lpips_nets if args.lpips is None else args.lpips,
        timeout_s=args.timeout,
        other_set=args.other_set,
        renders=args.renders,
        resume=args.resume,
        retry_failed=args.retry_failed,
        progress=not args.no_progress,
        executor=args.executor,
        workers=args.workers,
        overlap=args.overlap,
        ray_address=args.ray_address,
    )
    try:
        summary = run_benchmark(cfg)
    except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: finished jobs are kept; run_benchmark said how to resume
        from reconbench.runner.run import Terminated

        return 143 if isinstance(exc, Terminated) else 130
    print(
        f"{summary.ran} of {summary.total} jobs run now ({summary.ok} ok, {summary.failed} failed, {summary.skipped} "
        f"skipped); "
        f"results: {summary.out / 'results.csv'}, {summary.out / 'report.md'}"
    )
    print((summary.out / "report.md").read_text())
    return 0
