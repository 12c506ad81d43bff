"""Milliseconds per 512x512 frame: reconbench's renderer (colour, depth, normals, mask in one pass)
next to pyrender (colour + depth, flat shading) and Embree ray casting (mask, depth, normals) on the
same procedural object (~100k triangles) and the same 25 cameras of the `default` protocol.

    python benchmarks/render_speed.py [--repeats 3]

pyrender comes with `pip install -e ".[bench]"`; it is skipped with a message if missing.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")  # pyrender: headless EGL, like ours

import numpy as np

from reconbench.assets import normalisation_transform
from reconbench.datasets.procedural import LARGE_OBJECT, build_object
from reconbench.protocol import UNLIT, get_protocol
from reconbench.render import render_views, renderer_info


def benchmark_object():
    """The procedural set's large object (~100k triangles), normalised like any dataset object."""
    object_id, detail = LARGE_OBJECT
    mesh = build_object(object_id, detail=detail)
    return object_id, detail, mesh.transformed(normalisation_transform(mesh.bounds))


def time_per_frame(fn, n_frames: int, repeats: int) -> float:
    fn()  # warm-up: context creation, shader compilation, first upload
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best / n_frames * 1000


def pyrender_fn(mesh, cameras):
    import pyrender
    import trimesh

    scene = pyrender.Scene(bg_color=[1.0, 1.0, 1.0, 0.0], ambient_light=[1.0, 1.0, 1.0])
    for part in mesh.parts:
        tm = trimesh.Trimesh(part.vertices, part.faces, process=False)
        scene.add(pyrender.Mesh.from_trimesh(tm, smooth=False))
    cam = cameras[0]
    node = scene.add(pyrender.IntrinsicsCamera(cam.fx, cam.fy, cam.cx, cam.cy, znear=0.1, zfar=40.0))
    renderer = pyrender.OffscreenRenderer(cam.width, cam.height)
    flags = pyrender.RenderFlags.FLAT | pyrender.RenderFlags.RGBA

    def run():
        for c in cameras:
            scene.set_pose(node, c.c2w)
            renderer.render(scene, flags=flags)

    return run


def embree_fn(mesh, cameras):
    import trimesh

    v, f = mesh.geometry()
    tm = trimesh.Trimesh(v, f, process=False)

    def run():
        for c in cameras:
            origins, dirs = c.pixel_rays()
            loc, index, tri = tm.ray.intersects_location(origins, dirs, multiple_hits=False)
            tm.face_normals[tri]

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--embree", action="store_true", help="also time Embree ray casting (slow on 2 cores)")
    args = parser.parse_args()

    object_id, detail, mesh = benchmark_object()
    cameras = get_protocol("default").cameras
    print(
        f"object {object_id!r} at detail {detail}: {mesh.n_faces} triangles; {len(cameras)} views at "
        f"{cameras[0].width}x{cameras[0].height}"
    )
    print(f"renderer: {renderer_info()['renderer']}")
    ours = time_per_frame(lambda: render_views(mesh, cameras, UNLIT), len(cameras), args.repeats)
    print(f"reconbench (moderngl, colour+depth+normal+mask): {ours:7.1f} ms/frame")
    try:
        theirs = time_per_frame(pyrender_fn(mesh, cameras), len(cameras), args.repeats)
        print(f"pyrender   (EGL, flat colour+depth)            : {theirs:7.1f} ms/frame")
        print(f"ratio pyrender / reconbench: {theirs / ours:.2f}x")
    except ImportError:
        print("pyrender not installed: pip install -e '.[bench]'")
    if args.embree:
        ray = time_per_frame(embree_fn(mesh, cameras), len(cameras), 1)
        print(f"embree ray casting (mask+depth+normal)        : {ray:7.1f} ms/frame")


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
