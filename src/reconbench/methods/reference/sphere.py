"""Lower bound: a sphere at the origin sized from the silhouettes, in their mean foreground colour."""

from __future__ import annotations

import math

import numpy as np

from reconbench.assets import Material, MeshAsset, MeshPart, save_mesh
from reconbench.methods.base import MethodInput, MethodOutput
from reconbench.methods.reference._common import silhouette, stage


def sphere_radius(area_px: float, distance: float, focal: float) -> float:
    """Radius of a sphere at `distance` whose image is a disc of `area_px` pixels (exact perspective)."""
    rho = math.sqrt(area_px / math.pi)  # disc radius in pixels
    return rho * distance / math.sqrt(focal**2 + rho**2)


def run(inp: MethodInput) -> MethodOutput:
    import trimesh

    seconds: dict[str, float] = {}
    with stage(seconds, "fit"):
        masks = [silhouette(img) for img in inp.images]
        if not any(m.any() for m in masks):
            raise ValueError("the input silhouettes are empty")
        radius = float(
            np.mean([sphere_radius(m.sum(), np.linalg.norm(c.position), c.fy) for m, c in zip(masks, inp.cameras)])
        )
        pixels = np.concatenate([img[m][:, :3] for img, m in zip(inp.images, masks)])
        color = tuple(pixels.mean(0) / 255.0) + (1.0,)
    with stage(seconds, "export"):
        ball = trimesh.creation.icosphere(subdivisions=4, radius=radius)
        mesh = MeshAsset((MeshPart(ball.vertices, ball.faces, Material("mean_colour", color)),))
        path = save_mesh(mesh, inp.workdir / "sphere.glb")
    return MethodOutput(asset=path, stage_seconds=seconds, info={"radius": radius})
