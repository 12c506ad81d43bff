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
        unique = np.unique(
            np.round(np.c_[ray_index, locations[:, 2] * 1e9]).astype(np.int64), axis=0, return_index=True
        )[1]
        keep = unique[cell_above[unique] < n]
        np.add.at(crossings, (ray_index[keep], cell_above[keep]), 1)
        inside = (np.cumsum(crossings, axis=1) % 2).astype(bool)
        grid |= inside.reshape(n, n, n)
    return grid


def volume_iou(pred: np.ndarray, gt: np.ndarray) -> float:
    inter = np.logical_and(pred, gt).sum()
    union = np.logical_or(pred, gt).sum()
    return float(inter / union) if union else 1.0


def mesh2sdf_occupancy(mesh: MeshAsset, size: int = 64, half_extent: float = 1.0) -> np.ndarray:
    """Occupancy as `mesh2sdf.compute(vertices, faces, size, fix=False) < 0` (SyncDreamer's eval_mesh.py).

    mesh2sdf (1.1.0, makelevelset3.cpp) samples the grid points `-h + k * 2h / size`, k = 0 .. size-1
    (corners, not cell centres: the grid reaches -h but stops one step short of +h), and calls a point
    inside when the number of triangles crossing the grid line through it along the first axis, from
    minus infinity up to the point, is odd -- over ALL triangles at once: no watertightness check, and
    a region covered by two overlapping closed parts counts as outside. Whether a grid line crosses a
    triangle is decided by its simulation-of-simplicity test, so a line through an edge or a vertex
    counts exactly once; this is that computation in numpy (mesh2sdf is C++ without wheels). Axes:
    the lines run along canonical +Z (index order z, x, y), which is SyncDreamer's first axis for a
    GSO object whose SyncDreamer yaw is 270 degrees (e.g. chicken); the lattice is symmetric, so the
    grid points are the same in any axis order.
    """
    v, f = mesh.geometry()
    dx = np.float32(2 * half_extent / size)
    # Grid coordinates from float32 vertices, as mesh2sdf reads them; axis 0 is the counting axis.
    g = (np.asarray(v, np.float32).astype(np.float64)[:, [2, 0, 1]] + half_extent) / float(dx)
    tri = g[np.asarray(f, np.int64)]  # (F, 3 corners, 3 axes)
    lo = np.clip(np.ceil(tri[:, :, 1:].min(1)), 0, size - 1).astype(np.int64)
    hi = np.clip(np.floor(tri[:, :, 1:].max(1)), 0, size - 1).astype(np.int64)
    nj, nk = np.maximum(hi[:, 0] - lo[:, 0] + 1, 0), np.maximum(hi[:, 1] - lo[:, 1] + 1, 0)
    counts = nj * nk
    t_idx = np.repeat(np.arange(len(tri)), counts)
    offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    jj = lo[t_idx, 0] + offset // np.maximum(nk[t_idx], 1)
    kk = lo[t_idx, 1] + offset % np.maximum(nk[t_idx], 1)
    t = tri[t_idx]
    x = t[:, :, 1] - jj[:, None]
    y = t[:, :, 2] - kk[:, None]
    sign_a, a = _orientation(x[:, 1], y[:, 1], x[:, 2], y[:, 2])
    sign_b, b = _orientation(x[:, 2], y[:, 2], x[:, 0], y[:, 0])
    sign_c, c = _orientation(x[:, 0], y[:, 0], x[:, 1], y[:, 1])
    hit = (sign_a != 0) & (sign_b == sign_a) & (sign_c == sign_a)
    total = np.where(hit, a + b + c, 1.0)
    fi = (a * t[:, 0, 0] + b * t[:, 1, 0] + c * t[:, 2, 0]) / total
    interval = np.ceil(fi[hit]).astype(np.int64)
    keep = interval < size
    crossings = np.zeros((size, size, size), np.int32)
    np.add.at(crossings, (np.maximum(interval[keep], 0), jj[hit][keep], kk[hit][keep]), 1)
    inside_zxy = (np.cumsum(crossings, axis=0) % 2).astype(bool)
    return inside_zxy.transpose(1, 2, 0)  # (x, y, z) like occupancy_grid


def _orientation(x1: np.ndarray, y1: np.ndarray, x2: np.ndarray, y2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """mesh2sdf's `orientation`: sign of twice the signed area of (0,0)-(x1,y1)-(x2,y2), ties broken by
    simulation of simplicity (0 only for a truly degenerate pair), and the area itself."""
    area = y1 * x2 - x1 * y2
    sign = np.sign(area).astype(np.int64)
    for cond, value in ((y2 > y1, 1), (y2 < y1, -1), (x1 > x2, 1), (x1 < x2, -1)):
        sign = np.where((sign == 0) & cond, value, sign)
    return sign, area
