"""A minimal in-process method: a sphere at the origin, whatever the input (docs/adding-a-method.md)."""

from __future__ import annotations

import time

import trimesh

from reconbench.methods import MethodInput, MethodOutput

SPEC = {
    "name": "my-method",
    "paradigm": "reference",
    "representation": "mesh",
    "entry": "my_method:run",
    "description": "Example: a sphere of radius 0.5 at the origin, whatever the input.",
    "input_views": (1, 4),
    "frame": "y-up",
    "scale": "none",
    "timeout_s": 60,
}


def run(inp: MethodInput) -> MethodOutput:
    start = time.perf_counter()
    ball = trimesh.creation.icosphere(subdivisions=3, radius=0.5)
    generated = time.perf_counter()
    path = inp.workdir / "ball.obj"
    ball.export(path)
    return MethodOutput(
        asset=path, stage_seconds={"generation": generated - start, "export": time.perf_counter() - generated}
    )
