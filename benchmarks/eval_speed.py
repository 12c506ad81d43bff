"""Seconds to score one (prediction, object) pair, by stage, before and after the speed work of issue #18,
measured in one process, for `default`, `sparse4` and `gso30-syncdreamer` (each with its own alignment
and LPIPS settings), next to the targets.

    python benchmarks/eval_speed.py [--protocols default,sparse4,gso30-syncdreamer] [--object car]
                                    [--repeat 2] [--device cpu|cuda] [--baseline a075a42]

"before": the evaluation module of the baseline commit (main before issue #18), read from git and loaded
beside the current one, over the same metric code; "after": the current code with the protocol's own
other set (`geometry` for reconbench's presets) and with the whole other set (`all`). The prediction is the
ground truth moved by a small similarity, so the refinement has work to do. Each figure is the fastest of
`--repeat` runs (the machine may be shared); the load average is printed beside them.
Ground-truth preparation (once per object, shared by every method) is printed apart, cold and from the
on-disk cache. `--device cuda` runs LPIPS and SSIM on the GPU (the baseline always on the CPU).
After the work, a pose's image metrics run on background threads beside the rendering and geometry of the
next (docs/metrics.md, "Work on two threads"): a stage's figure is its seconds summed over the threads, and
the stages overlap, so they add up to more than the total.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reconbench.alignment import rotation_about_up
from reconbench.datasets import open_dataset
from reconbench.evaluation import Timer, evaluate, prepare_ground_truth
from reconbench.metrics import per_view
from reconbench.protocol import get_protocol

BASELINE = "a075a42"  # main before issue #18
TARGETS = {  # issue #18, `default` with LPIPS-alex on 2 CPU cores, per pair
    "headline set": 1.5,
    "with the unaligned set": 2.5,
}
GPU_TARGET_S = 0.3


def load_baseline(rev: str):
    """The evaluation module as it was at `rev` (None, with the reason printed, when git cannot give it)."""
    root = Path(__file__).resolve().parents[1]
    try:
        source = subprocess.run(
            ["git", "-C", str(root), "show", f"{rev}:src/reconbench/evaluation.py"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"baseline {rev} not available ({exc}): 'before' column skipped", file=sys.stderr)
        return None
    path = Path(tempfile.mkdtemp()) / "baseline_evaluation.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("reconbench_baseline_evaluation", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    module.view_checks = _PerViewAsBefore()
    return module


class _PerViewAsBefore:
    """metrics/per_view.py as the baseline calls it: its `score` took the asset and rendered and scored the Janus
    back view itself (now the caller does, `janus_view` and `janus`, so that they can run on different threads)."""

    def __getattr__(self, name: str):
        return getattr(per_view, name)

    @staticmethod
    def score(asset, views, images, gt, other=None, device="cpu"):
        back = per_view.janus_view(asset, gt.per_view, gt.protocol)
        return per_view.score(per_view.janus(back, gt.per_view, device), views, images, gt, other)


def fastest(repeat: int, evaluate_fn, *args, **kwargs) -> tuple[float, dict[str, float], float]:
    """(seconds, stage timings, CPU seconds of this process) of the fastest of `repeat` calls of
    evaluate_fn(*args, **kwargs). CPU seconds sum every thread; they move less with the machine's load."""
    best: tuple[float, dict[str, float], float] | None = None
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        result = evaluate_fn(*args, **kwargs)
        total, cpu = time.perf_counter() - start, time.process_time() - cpu
        if best is None or total < best[0]:
            best = (total, result.timings, cpu)
    assert best is not None
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--protocols", default="default,sparse4,gso30-syncdreamer")
    parser.add_argument("--object", default="car")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda if torch sees one, else cpu)")
    parser.add_argument("--baseline", default=BASELINE, help="git revision of the 'before' code (none: skip)")
    args = parser.parse_args()

    import torch

    from reconbench.evaluation import scoring_device

    device = scoring_device(args.device)
    baseline = None if args.baseline == "none" else load_baseline(args.baseline)
    mesh = open_dataset("procedural").get(args.object).load()
    moved = rotation_about_up(5.0)
    moved[:3, :3] *= 1.05
    moved[:3, 3] = [0.03, -0.02, 0.02]
    prediction = mesh.transformed(moved)
    print(
        f"object {args.object!r}, prediction = the truth moved by a 5-degree, 1.05x similarity; device {device}; "
        f"torch threads {torch.get_num_threads()}; {os.cpu_count()} CPUs; fastest of {args.repeat}; "
        f"load average {os.getloadavg()[0]:.1f} at start"
    )
    for name in args.protocols.split(","):
        protocol = get_protocol(name)
        ev = protocol.evaluation
        nets = ev.lpips_nets
        # Warm-up: GL context, LPIPS weights, the models on the device.
        gt = prepare_ground_truth(mesh, protocol, nets, device=device)
        evaluate(mesh, gt, align="none", device=device)
        old_gt = baseline.prepare_ground_truth(mesh, protocol, nets) if baseline else None

        rows: dict[str, dict[str, float]] = {}
        totals: dict[str, float] = {}
        cpu: dict[str, float] = {}
        if baseline is not None:
            totals["before"], rows["before"], cpu["before"] = fastest(
                args.repeat, baseline.evaluate, prediction, old_gt, align=ev.alignment
            )
        for label, other in (("after", None), ("after, other set all", "all")):
            totals[label], rows[label], cpu[label] = fastest(
                args.repeat, evaluate, prediction, gt, other_set=other, device=device
            )
        views = len(protocol.cameras)
        print(
            f"\n== {protocol.name}: {views} views at {protocol.resolution[0]}x{protocol.resolution[1]}, "
            f"{len(ev.geometry_cameras)} geometry views, align {ev.alignment}, LPIPS {','.join(nets) or 'none'}, "
            f"headline {ev.headline}, other set {ev.other_set} (after); load average {os.getloadavg()[0]:.1f} =="
        )
        columns = list(rows)
        print(f"  {'stage':14s}" + "".join(f"{c:>22s}" for c in columns))
        stages = sorted({s for t in rows.values() for s in t}, key=lambda s: -max(t.get(s, 0) for t in rows.values()))
        for stage in stages:
            print(f"  {stage:14s}" + "".join(f"{rows[c].get(stage, 0.0):22.3f}" for c in columns))
        print(f"  {'total':14s}" + "".join(f"{totals[c]:22.3f}" for c in columns))
        print(f"  {'CPU seconds':14s}" + "".join(f"{cpu[c]:22.3f}" for c in columns) + "  (all threads)")
        print("  (after: image metrics run beside rendering and geometry on two threads, so the stages overlap)")
        if "before" in totals:
            print(
                "  speed-up vs before: "
                + ", ".join(f"{c} {totals['before'] / totals[c]:.2f}x" for c in columns if c != "before")
            )
        if name == "default":
            if device == "cpu":
                for (what, target), c in zip(TARGETS.items(), ("after", "after, other set all")):
                    verdict = "met" if totals[c] <= target else "NOT met"
                    print(f"  target ({what}) <= {target:.1f} s on 2 CPU cores: {totals[c]:.2f} s, {verdict}")
            else:
                verdict = "met" if totals["after"] <= GPU_TARGET_S else "NOT met"
                print(f"  target on a GPU <= {GPU_TARGET_S:.1f} s: {totals['after']:.2f} s, {verdict}")
        _print_preparation(mesh, protocol, nets, device, baseline)
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")
    print("targets: issue #18 (docs/metrics.md, 'Speed'); a GPU machine: --device cuda, target <= 0.3 s per pair")


def _print_preparation(mesh, protocol, nets, device, baseline) -> None:
    """Ground truth, once per object: before, after (cold), and loaded from the on-disk cache."""
    with tempfile.TemporaryDirectory() as cache:
        figures = {}
        if baseline is not None:
            start = time.perf_counter()
            baseline.prepare_ground_truth(mesh, protocol, nets)
            figures["before"] = time.perf_counter() - start
        timer = Timer()
        start = time.perf_counter()
        prepare_ground_truth(mesh, protocol, nets, timer=timer, cache_dir=cache, device=device)
        figures["after, cold (writes the cache)"] = time.perf_counter() - start
        start = time.perf_counter()
        prepare_ground_truth(mesh, protocol, nets, cache_dir=cache, device=device)
        figures["after, from the cache"] = time.perf_counter() - start
    print(
        "  ground truth, once per object: "
        + ", ".join(f"{k} {v:.2f} s" for k, v in figures.items())
        + f"  (cold: {', '.join(f'{k} {v:.2f}' for k, v in timer.seconds.items())})"
    )


if __name__ == "__main__":
    main()
