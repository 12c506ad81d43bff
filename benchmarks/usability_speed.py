"""Seconds for the usability metrics of one mesh asset and for the splat figures plus splat-to-mesh
extraction of one splat asset on this machine, printed next to the evaluation time of the same asset
(the figure benchmarks/eval_speed.py measures), in one process.

    python benchmarks/usability_speed.py [--object car] [--splats 20000]
"""

from __future__ import annotations

import argparse
import time

from reconbench.assets.splats import splats_on_surface
from reconbench.datasets import open_dataset
from reconbench.evaluation import evaluate, prepare_ground_truth
from reconbench.metrics.splat_usability import splat_usability
from reconbench.metrics.usability import mesh_usability
from reconbench.protocol import UNLIT, get_protocol
from reconbench.render import render_views


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--object", default="car")
    parser.add_argument("--splats", type=int, default=20000)
    args = parser.parse_args()
    protocol = get_protocol("default")
    mesh = open_dataset("procedural").get(args.object).load()
    gt = prepare_ground_truth(mesh, protocol)
    splats = splats_on_surface(mesh.to_trimesh(), args.splats)
    evaluate(mesh, gt, align="none")  # warm-up: GL context, LPIPS weights

    _, mesh_eval = timed(lambda: evaluate(mesh, gt, align="icp"))
    _, mesh_use = timed(lambda: mesh_usability(mesh))
    _, splat_eval = timed(lambda: evaluate(splats, gt, scale="none", align="icp"))
    views, render_s = timed(lambda: render_views(splats, protocol.evaluation.geometry_cameras, UNLIT))
    (figures, extracted), extract_s = timed(lambda: splat_usability(splats, views))

    print(
        f"object {args.object!r} ({mesh.n_faces} triangles; {splats.n} surface splats), protocol {protocol.name}, this "
        f"CPU"
    )
    print(
        f"mesh : evaluation (metrics before and after ICP, LPIPS-alex) {mesh_eval:6.2f} s | usability metrics "
        f"{mesh_use:6.3f} s"
    )
    print(
        f"splat: evaluation (metrics before and after ICP, LPIPS-alex) {splat_eval:6.2f} s | geometry-view renders "
        f"{render_s:5.2f} s "
        f"+ splat figures and TSDF extraction {extract_s:5.2f} s ({int(figures['extracted_faces'])} faces)"
    )


if __name__ == "__main__":
    main()
