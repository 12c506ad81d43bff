"""Visual hull: carve a voxel grid with the input silhouettes, mesh it, colour it by projection."""

from __future__ import annotations

import numpy as np

from reconbench.assets import Material, MeshAsset, MeshPart, save_mesh
from reconbench.methods.base import MethodInput, MethodOutput
from reconbench.methods.reference._common import project, silhouette, stage
from reconbench.protocol import UNLIT

RESOLUTION = 128
HALF_EXTENT = 0.55  # objects are normalised into the unit box; a margin keeps the hull closed


def carve(
    masks: list[np.ndarray], cameras, resolution: int = RESOLUTION, half: float = HALF_EXTENT
) -> tuple[np.ndarray, np.ndarray]:
    """Occupancy of voxel centres that project inside every silhouette; returns (grid, centres axis)."""
    axis = (np.arange(resolution) + 0.5) / resolution * 2 * half - half
    xs, ys, zs = np.meshgrid(axis, axis, axis, indexing="ij")
    points = np.stack([xs.ravel(), ys.ravel(), zs.ravel()], 1)
    keep = np.ones(len(points), bool)
    for mask, cam in zip(masks, cameras):
        u, v, depth = project(points, cam)
        col, row = np.floor(u).astype(int), np.floor(v).astype(int)
        inside = (depth > 0) & (col >= 0) & (col < mask.shape[1]) & (row >= 0) & (row < mask.shape[0])
        hit = np.zeros(len(points), bool)
        hit[inside] = mask[row[inside], col[inside]]
        keep &= hit
    return keep.reshape(resolution, resolution, resolution), axis


def hull_mesh(grid: np.ndarray, axis: np.ndarray) -> MeshAsset:
    """Marching cubes at level 1/2 on the occupancy, padded so the surface is closed, wound outward."""
    from skimage.measure import marching_cubes

    step = axis[1] - axis[0]
    verts, faces, _, _ = marching_cubes(np.pad(grid.astype(np.float32), 1), level=0.5, spacing=(step, step, step))
    verts = verts + (axis[0] - step)
    hull = MeshAsset((MeshPart(verts, faces.astype(np.int64)),))
    if hull.to_trimesh().volume < 0:
        hull = MeshAsset((MeshPart(verts, faces[:, ::-1].astype(np.int64)),))
    return hull


def projected_colours(
    hull: MeshAsset, images, masks, cameras, tolerance: float, fallback: np.ndarray | None = None
) -> np.ndarray:
    """Per vertex, the colour in the input view that sees it most frontally; visibility from the
    hull's own depth drawn by the common renderer. Unseen vertices keep `fallback` ((N, 3) in [0, 1],
    e.g. a learned colour), or get the mean foreground colour."""
    from reconbench.render import render_views

    part = hull.parts[0]
    verts, normals = part.vertices, hull.to_trimesh().vertex_normals
    depth = render_views(hull, cameras, UNLIT).depth
    mean_colour = np.concatenate([img[m][:, :3] for img, m in zip(images, masks)]).mean(0) / 255.0
    colours = np.tile(np.append(mean_colour, 1.0), (len(verts), 1))
    if fallback is not None:
        colours[:, :3] = fallback
    best = np.full(len(verts), -np.inf)
    for k, (img, cam) in enumerate(zip(images, cameras)):
        u, v, z = project(verts, cam)
        col = np.clip(np.floor(u).astype(int), 0, img.shape[1] - 1)
        row = np.clip(np.floor(v).astype(int), 0, img.shape[0] - 1)
        to_camera = cam.position - verts
        score = (normals * to_camera).sum(1) / np.linalg.norm(to_camera, axis=1)
        better = (np.abs(depth[k][row, col] - z) < tolerance) & (img[row, col, 3] > 127) & (score > best)
        colours[better, :3] = img[row[better], col[better], :3] / 255.0
        best[better] = score[better]
    return colours


def run(inp: MethodInput) -> MethodOutput:
    seconds: dict[str, float] = {}
    masks = [silhouette(img) for img in inp.images]
    with stage(seconds, "carve"):
        grid, axis = carve(masks, inp.cameras)
    if not grid.any():
        raise ValueError("carving removed every voxel: the silhouettes do not agree")
    with stage(seconds, "mesh"):
        hull = hull_mesh(grid, axis)
    with stage(seconds, "colour"):
        colours = projected_colours(hull, inp.images, masks, inp.cameras, tolerance=2 * (axis[1] - axis[0]))
    with stage(seconds, "export"):
        part = hull.parts[0]
        coloured = MeshAsset((MeshPart(part.vertices, part.faces, Material("projected"), vertex_colors=colours),))
        path = save_mesh(coloured, inp.workdir / "visual_hull.glb")
    return MethodOutput(
        asset=path, stage_seconds=seconds, info={"voxels": int(grid.sum()), "faces": int(len(part.faces))}
    )
