"""Volume IoU of watertight meshes on a voxel grid (SyncDreamer reports it at 64^3 over the unit box)."""

from __future__ import annotations

import numpy as np

from reconbench.assets import MeshAsset

# Rays are cast along +Z from slightly irrational offsets of the cell centres so that they do not
# pass exactly through the edges of axis-aligned triangles (which would count a crossing twice).
_JITTER = np.array([1.0 / np.sqrt(2), 1.0 / np.sqrt(3)]) * 1e-5


class NotWatertight(ValueError):
    """Volume is undefined: some connected component of the mesh is not closed."""


def occupancy_grid(mesh: MeshAsset, cell: float, extent: float) -> np.ndarray:
    """Boolean grid of cells whose centre lies inside the mesh, over the cube [-extent/2, extent/2]^3.

    Each connected component must be closed (checked after welding points that UV seams repeat);
    overlapping closed components are united. Inside is decided by the parity of crossings along a
    ray through the cell centres of each column, a method that needs no library beyond ray casting.
    """
    import trimesh

    n = int(round(extent / cell))
    centres = (np.arange(n) + 0.5) * cell - extent / 2
    v, f = mesh.geometry()
    welded = trimesh.Trimesh(v, f, process=False)
    welded.merge_vertices(merge_tex=True, merge_norm=True)
    components = welded.split(only_watertight=False, repair=False)
    open_parts = [c for c in components if not c.is_watertight]
    if open_parts:
        raise NotWatertight(f"{len(open_parts)} of {len(components)} connected components are not closed")
    grid = np.zeros((n, n, n), bool)
    xs, ys = np.meshgrid(centres, centres, indexing="ij")
    origins = np.stack([xs.ravel() + _JITTER[0], ys.ravel() + _JITTER[1], np.full(xs.size, -extent)], 1)
    directions = np.tile([0.0, 0.0, 1.0], (len(origins), 1))
    for component in components:
        locations, ray_index, _ = component.ray.intersects_location(origins, directions, multiple_hits=True)
        crossings = np.zeros((len(origins), n), np.int32)
        # Each crossing at height z flips the state of every cell centre above it.
        cell_above = np.searchsorted(centres, locations[:, 2])
        # A ray through an edge shared by two triangles reports the same crossing twice: count it once.
        unique = np.unique(np.round(np.c_[ray_index, locations[:, 2] * 1e9]).astype(np.int64), axis=0, return_index=True)[1]
        keep = unique[cell_above[unique] < n]
        np.add.at(crossings, (ray_index[keep], cell_above[keep]), 1)
        inside = (np.cumsum(crossings, axis=1) % 2).astype(bool)
        grid |= inside.reshape(n, n, n)
    return grid


def volume_iou(pred: np.ndarray, gt: np.ndarray) -> float:
    inter = np.logical_and(pred, gt).sum()
    union = np.logical_or(pred, gt).sum()
    return float(inter / union) if union else 1.0
