"""voxel-cnn on this machine: training throughput, inference time per asset, fidelity against the
baselines on the `default` protocol (one input view), and the break-even volume against splat-sds.

    python benchmarks/voxel_cnn.py [--limit N] [--protocol default] [--out DIR] [--train-steps 20]

It (1) times a few training steps here (samples/s) next to the shipped checkpoint's training record,
(2) runs voxel-cnn, sphere, visual-hull and splat-sds (reconstruction only: RECONBENCH_SDS_GUIDANCE=none)
over the procedural evaluation objects with `reconbench run`, (3) prints mean F-score@0.05, LPIPS,
Chamfer and PSNR per method next to the targets (voxel-cnn better than the three others on F-score and
LPIPS), and (4) prints the cost model's break-even volume against splat-sds in CPU-hours of this
machine, from the shipped training record and the times measured by the run.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

METHODS = ["voxel-cnn", "sphere", "visual-hull", "splat-sds"]
BASELINES = ["sphere", "visual-hull", "splat-sds"]


def training_throughput(steps: int) -> float:
    """Samples per second of `steps` training steps on a small set built here (building not timed)."""
    import numpy as np
    import torch

    from reconbench.methods.voxel_cnn.data import training_set
    from reconbench.methods.voxel_cnn.network import VoxelCNN
    from reconbench.methods.voxel_cnn.train import TrainConfig, losses, make_batch

    cfg = TrainConfig(samples=64, steps=steps)
    data = training_set(cfg.samples, 0)
    model = VoxelCNN()
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    rng = np.random.default_rng(0)
    start = None
    for step in range(steps + 2):  # two warm-up steps
        if step == 2:
            start = time.perf_counter()
        idx = rng.choice(cfg.samples, cfg.batch_size, replace=False)
        batch = make_batch(data, idx, idx % 2 == 0, "cpu")
        loss = losses(model(batch[0]), *batch[1:], cfg)["total"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    return steps * cfg.batch_size / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="first N evaluation objects (default all 14)")
    parser.add_argument("--protocol", default="default")
    parser.add_argument("--out", help="run folder (default: a temporary one)")
    parser.add_argument("--train-steps", type=int, default=20, help="training steps timed here (0: skip)")
    args = parser.parse_args()
    os.environ.setdefault("RECONBENCH_SDS_GUIDANCE", "none")

    import torch

    from reconbench.cost import cost_report
    from reconbench.methods.voxel_cnn.method import load_record
    from reconbench.runner.run import RunConfig, run_benchmark
    from reconbench.runner.store import ResultsStore
    from reconbench.stats import method_means

    record = load_record()
    print("== training")
    if record:
        d = record["device"]
        print(
            f"shipped checkpoint: {record['steps']} steps, {record['samples']} samples in "
            f"{record['device_seconds']:.0f} s "
            f"on {d['name']} ({d.get('threads')} threads) = {record['samples'] / record['device_seconds']:.1f} "
            f"samples/s; "
            f"training set built in {record['data_cpu_seconds']:.0f} s; 1-min load average at start "
            f"{record['machine_load']['loadavg_1min_start']} on {record['machine_load']['logical_cpus']} CPUs"
        )
    if args.train_steps:
        print(
            f"here, now: {training_throughput(args.train_steps):.1f} samples/s over {args.train_steps} steps "
            f"({torch.get_num_threads()} threads; load average {os.getloadavg()[0]:.1f})"
        )

    out = Path(args.out or tempfile.mkdtemp(prefix="voxel-cnn-bench-"))
    cfg = RunConfig(
        dataset="procedural",
        methods=METHODS,
        protocol=args.protocol,
        out=out,
        limit=args.limit,
        resume=(out / "results.sqlite").exists(),
    )
    run_benchmark(cfg)
    with ResultsStore(out / "results.sqlite") as store:
        records = list(store.records())
        meta = store.get_meta()

    print(f"\n== fidelity, protocol {args.protocol} ({len({r.object for r in records})} objects; means)")
    means = method_means(records, ["fscore", "lpips", "chamfer", "psnr"])
    print(f"{'method':12s} {'F-score@0.05':>13s} {'LPIPS':>8s} {'Chamfer':>8s} {'PSNR':>7s}")
    for m in METHODS:
        e = means.get(m, {})

        def cell(k: str, f: str, e: dict = e) -> str:
            return f"{e[k].mean:{f}}" if e.get(k) else "-"

        print(
            f"{m:12s} {cell('fscore', '13.3f')} {cell('lpips', '8.3f')} {cell('chamfer', '8.4f')} "
            f"{cell('psnr', '7.2f')}"
        )
    ff = means.get("voxel-cnn", {})
    for metric, higher in (("fscore", True), ("lpips", False)):
        if metric not in ff:
            continue
        beaten = [
            b
            for b in BASELINES
            if metric in means.get(b, {})
            and ((ff[metric].mean > means[b][metric].mean) if higher else (ff[metric].mean < means[b][metric].mean))
        ]
        print(
            f"target: voxel-cnn {metric} better than {', '.join(BASELINES)}: "
            f"{'met' if len(beaten) == len(BASELINES) else 'NOT met'} (better than {', '.join(beaten) or 'none'})"
        )

    print("\n== time per asset (mean over objects, this machine)")
    for m in METHODS:
        stages = [r.timings.get("method_stages", {}) for r in records if r.method == m and r.status == "ok"]
        if stages:
            warm = [sum(v for k, v in s.items() if k != "model_load") for s in stages]
            print(f"{m:12s} {sum(warm) / len(warm):8.3f} s (model load apart)")

    report = cost_report(records, paradigms=meta.get("paradigms"))
    print("\n== break-even (cost model, prior sunk)")
    for pair in report.break_evens:
        print(f"{pair.feed_forward} vs {pair.per_scene}: {pair.by_prior['sunk'].describe()}")
    print(f"training: {report.methods['voxel-cnn'].training.source}" if "voxel-cnn" in report.methods else "")
    print(f"\nrun folder: {out}")


if __name__ == "__main__":
    main()
