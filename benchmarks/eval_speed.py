"""Seconds to evaluate one (prediction, object) pair under the `default` protocol on this machine,
broken down by stage, next to the 5-second target (with LPIPS-alex).

    python benchmarks/eval_speed.py [--object car] [--align icp] [--lpips alex]

The prediction is the ground truth moved by a small similarity, so alignment has work to do.
Ground-truth preparation (renders, clouds, voxels, LPIPS features) happens once per object and is
shared by every method; it is printed apart.
"""

from __future__ import annotations

import argparse
import time

from reconbench.alignment import rotation_about_up
from reconbench.datasets import open_dataset
from reconbench.evaluation import Timer, evaluate, prepare_ground_truth
from reconbench.protocol import get_protocol

TARGET_S = 5.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--object", default="car")
    parser.add_argument("--protocol", default="default")
    parser.add_argument("--align", default="icp")
    parser.add_argument("--lpips", default="alex", help="alex, vgg, alex,vgg or none")
    args = parser.parse_args()
    nets = () if args.lpips == "none" else tuple(args.lpips.split(","))

    protocol = get_protocol(args.protocol)
    mesh = open_dataset("procedural").get(args.object).load()
    moved = rotation_about_up(5.0)
    moved[:3, :3] *= 1.05
    moved[:3, 3] = [0.03, -0.02, 0.02]
    prediction = mesh.transformed(moved)

    evaluate(
        mesh, prepare_ground_truth(mesh, protocol, nets), align="none", lpips_nets=nets
    )  # warm-up: GL, LPIPS weights

    prep_timer = Timer()
    start = time.perf_counter()
    gt = prepare_ground_truth(mesh, protocol, nets, timer=prep_timer)
    prep = time.perf_counter() - start
    start = time.perf_counter()
    result = evaluate(prediction, gt, align=args.align, lpips_nets=nets)
    total = time.perf_counter() - start

    views = len(protocol.cameras)
    print(
        f"object {args.object!r}, protocol {protocol.name} ({views} views at "
        f"{protocol.resolution[0]}x{protocol.resolution[1]}), "
        f"align {args.align}, LPIPS {','.join(nets) or 'none'}; metrics computed before and after alignment"
    )
    print(
        f"ground truth, once per object: {prep:6.2f} s  "
        f"({', '.join(f'{k} {v:.2f}' for k, v in prep_timer.seconds.items())})"
    )
    print("per (prediction, object) pair:")
    for stage, seconds in sorted(result.timings.items(), key=lambda kv: -kv[1]):
        print(f"  {stage:12s} {seconds:6.2f} s")
    print(f"  {'total':12s} {total:6.2f} s   target <= {TARGET_S:.1f} s: {'met' if total <= TARGET_S else 'NOT met'}")


if __name__ == "__main__":
    main()
