"""Parametric surfaces as MeshParts: every surface is a grid of points, so faces and UVs come free.

A grid P[row, col] is triangulated with u running along columns and v along rows (by arc length);
faces are wound so that dP/du x dP/dv points out of the front side. Rows that collapse to one point
(a profile touching the revolution axis, a tube's end) close the surface: the degenerate triangles
there are dropped. Seams repeat their points exactly, so welding coincident vertices gives a
watertight mesh while the seam keeps separate UVs.
"""

from __future__ import annotations

import numpy as np

from reconbench.assets.mesh import Material, MeshPart


def grid_part(points: np.ndarray, material: Material, colours: np.ndarray | None = None) -> MeshPart:
    """Triangulate a (rows, cols, 3) point grid (u = column, v = arc length).

    With `colours` (rows, cols, 4) the part is vertex-coloured and gets no UVs.
    """
    rows, cols = points.shape[:2]
    step = np.linalg.norm(np.diff(points, axis=0), axis=2).mean(axis=1)
    v = np.concatenate([[0.0], np.cumsum(step)])
    v /= max(v[-1], 1e-12)
    uv = np.stack(np.broadcast_arrays(np.linspace(0.0, 1.0, cols)[None, :], v[:, None]), -1).reshape(-1, 2)
    idx = np.arange(rows * cols).reshape(rows, cols)
    a, b, c, d = idx[:-1, :-1], idx[:-1, 1:], idx[1:, 1:], idx[1:, :-1]
    faces = np.stack([np.stack([a, b, c], -1), np.stack([a, c, d], -1)], 2).reshape(-1, 3)
    verts = points.reshape(-1, 3)
    tri = verts[faces]
    same = [np.all(tri[:, i] == tri[:, j], axis=1) for i, j in ((0, 1), (1, 2), (2, 0))]
    faces = faces[~(same[0] | same[1] | same[2])]
    used, faces = np.unique(faces, return_inverse=True)
    faces = faces.reshape(-1, 3).astype(np.int64)
    if colours is not None:
        return MeshPart(verts[used], faces, material, vertex_colors=colours.reshape(-1, 4)[used])
    return MeshPart(verts[used], faces, material, uv=uv[used])


def polyline(points: list[tuple[float, float]], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Resample a 2D polyline to about n points, keeping its corners; returns (r, y) arrays."""
    p = np.asarray(points, dtype=np.float64)
    seg = np.linalg.norm(np.diff(p, axis=0), axis=1)
    counts = np.maximum(1, np.round(seg / seg.sum() * n)).astype(int)
    out = [p[i] + (p[i + 1] - p[i]) * t[:, None] for i, k in enumerate(counts) for t in [np.arange(k) / k]]
    out = np.concatenate(out + [p[-1:]])
    return out[:, 0], out[:, 1]


def revolve(r: np.ndarray, y: np.ndarray, n_around: int, power: float = 2.0, phase: float = 0.0) -> np.ndarray:
    """Sweep the profile (r, y) around +Y; the u = 0 seam faces -Z so a texture's centre faces +Z.

    `power` bends the circle into a superellipse (np.inf: a square whose corners lie at 45 degrees).
    For a closed outward-facing solid the profile must keep the material on its left in the (r, y)
    plane: start on the axis at the bottom, or run counter-clockwise round a loop (a torus).
    """
    t = 2 * np.pi * np.arange(n_around + 1) / n_around + phase
    s, c = np.sin(t), np.cos(t)
    scale = 1 / np.maximum(abs(s), abs(c)) if np.isinf(power) else (abs(s) ** power + abs(c) ** power) ** (-1 / power)
    x, z = -np.outer(r, s * scale), -np.outer(r, c * scale)
    grid = np.stack([x, np.broadcast_to(np.asarray(y)[:, None], x.shape), z], -1)
    grid[:, -1] = grid[:, 0]
    return grid


def circle_profile(centre_r: float, centre_y: float, radius: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A closed counter-clockwise circle in the (r, y) plane (revolved, it gives a torus)."""
    t = 2 * np.pi * np.arange(n + 1) / n
    r, y = centre_r + radius * np.cos(t), centre_y + radius * np.sin(t)
    r[-1], y[-1] = r[0], y[0]
    return r, y


def tube(path: np.ndarray, radius: float, n_around: int, plane_normal=(0.0, 0.0, 1.0)) -> np.ndarray:
    """A capped tube of a circle swept along a 3D path lying in the plane with the given normal."""
    tangent = np.gradient(path, axis=0)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    binormal = np.broadcast_to(np.asarray(plane_normal, dtype=np.float64), tangent.shape)
    normal = np.cross(binormal, tangent)
    t = 2 * np.pi * np.arange(n_around + 1) / n_around
    ring = np.cos(t)[None, :, None] * normal[:, None] + np.sin(t)[None, :, None] * binormal[:, None]
    grid = path[:, None, :] + radius * ring
    grid[:, -1] = grid[:, 0]
    caps = np.broadcast_to(path[[0, -1], None, :], (2, n_around + 1, 3))
    return np.concatenate([caps[:1], grid, caps[1:]])


def box(lo, hi, density: float) -> list[np.ndarray]:
    """Six face grids of an axis-aligned box, about `density` cells per unit, each face UV'd to [0, 1]^2.

    Coordinates come from one linspace per axis, so points shared by two faces are bit-identical.
    """
    lo, hi = np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
    axes = [np.linspace(lo[k], hi[k], max(2, int(np.ceil((hi[k] - lo[k]) * density))) + 1) for k in range(3)]
    faces = []
    for k in range(3):
        i, j = (k + 1) % 3, (k + 2) % 3
        for side, (cu, cv) in ((lo[k], (j, i)), (hi[k], (i, j))):
            grid = np.empty((len(axes[cv]), len(axes[cu]), 3))
            grid[..., cu], grid[..., cv], grid[..., k] = axes[cu][None, :], axes[cv][:, None], side
            faces.append(grid)
    return faces


def transform(points: np.ndarray, rotate_deg=(0, 0, 0), scale=(1, 1, 1), move=(0, 0, 0)) -> np.ndarray:
    """Scale, rotate (about X, then Y, then Z, in degrees) and translate a point grid.

    A mirroring scale would flip the winding, so only positive scales are accepted.
    """
    if min(scale) <= 0:
        raise ValueError("scale must be positive to keep the winding outward")
    ax, ay, az = np.radians(rotate_deg)
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    m = rz @ ry @ rx @ np.diag(scale)
    return points @ m.T + np.asarray(move, dtype=np.float64)
