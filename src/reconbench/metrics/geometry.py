"""Geometric error between a prediction and the ground truth, both in the canonical frame.

Point clouds come from depth maps rendered at the protocol's geometry views (the same for every
representation) or, when both sides are meshes, from area-uniform surface samples. Definitions in
docs/metrics.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from reconbench.assets import MeshAsset
from reconbench.render.views import RenderedViews


@dataclass(frozen=True)
class PointCloud:
    points: np.ndarray  # (N, 3) float64
    normals: np.ndarray  # (N, 3) unit vectors

    def __len__(self) -> int:
        return len(self.points)

    def transformed(self, matrix: np.ndarray) -> PointCloud:
        """Points under a 4x4 similarity; normals rotated (uniform scale keeps them unit)."""
        m = np.asarray(matrix, np.float64)
        rotation = m[:3, :3] / np.cbrt(np.linalg.det(m[:3, :3]))
        return PointCloud(self.points @ m[:3, :3].T + m[:3, 3], self.normals @ rotation.T)


def depth_point_cloud(
    views: RenderedViews, n_points: int | None, seed: int, pixel_offset: float = 0.5, voxel: float | None = None
) -> PointCloud:
    """Back-projected covered pixels of every view; `n_points` of them drawn with a fixed seed (None:
    all), then optionally averaged per voxel (`voxel_down_sample`).

    Pixel (i, j) is back-projected through image point (i + pixel_offset, j + pixel_offset): 0.5 is
    the pixel's centre, where the renderer samples it; 0 is SyncDreamer's `mask_depth_to_pts`, which
    uses the integer indices (half a pixel off, the same for both clouds).
    """
    points, normals = [], []
    for k, cam in enumerate(views.cameras):
        j, i = np.nonzero(views.mask[k])
        z = views.depth[k][j, i].astype(np.float64)
        cam_pts = np.stack(
            [(i + pixel_offset - cam.cx) / cam.fx * z, -(j + pixel_offset - cam.cy) / cam.fy * z, -z], axis=1
        )
        points.append(cam_pts @ cam.c2w[:3, :3].T + cam.c2w[:3, 3])
        normals.append(views.normal[k][j, i].astype(np.float64))
    points_all, normals_all = np.concatenate(points), np.concatenate(normals)
    if len(points_all) == 0:
        raise ValueError("the asset covers no pixel of any geometry view")
    if n_points is not None:
        keep = subsample_indices(len(points_all), n_points, seed)
        points_all, normals_all = points_all[keep], normals_all[keep]
    if voxel is not None:
        points_all, normals_all = voxel_down_sample(points_all, normals_all, voxel)
    return PointCloud(points_all, normals_all)


def voxel_down_sample(points: np.ndarray, normals: np.ndarray, voxel: float) -> tuple[np.ndarray, np.ndarray]:
    """open3d's `PointCloud.voxel_down_sample(voxel)`: the mean of the points in each voxel of a grid
    whose corner is the cloud's minimum less half a voxel (voxel index = floor((p - min + v/2) / v)).
    Normals are averaged and re-normalised. Written in numpy because open3d is a 448 MB wheel for
    this one function; the output order (open3d's hash-map order) does not matter to any metric."""
    if voxel <= 0:
        raise ValueError(f"voxel size must be positive, got {voxel}")
    origin = points.min(0) - voxel * 0.5
    index = np.floor((points - origin) / voxel).astype(np.int64)
    _, inverse, counts = np.unique(index, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    mean = np.zeros((len(counts), 3))
    np.add.at(mean, inverse, points)
    mean /= counts[:, None]
    normal = np.zeros((len(counts), 3))
    np.add.at(normal, inverse, normals)
    length = np.linalg.norm(normal, axis=1, keepdims=True)
    return mean, np.divide(normal, length, out=np.zeros_like(normal), where=length > 0)


def point_mesh_distance(points: np.ndarray, mesh: MeshAsset) -> tuple[np.ndarray, np.ndarray]:
    """Exact Euclidean distance from each point to the nearest triangle of `mesh`, and that
    triangle's unit normal. libigl's AABB tree: trimesh's closest_point gathers every triangle within the
    nearest vertex's distance, which for points far from the mesh (a collapsed or shifted prediction) is
    every triangle per point and runs out of memory; libigl is exact, bounded and ~50x faster."""
    import igl

    tm = mesh.to_trimesh()
    vertices = np.ascontiguousarray(tm.vertices, np.float64)
    faces = np.ascontiguousarray(tm.faces, np.int64)
    squared, triangle, _ = igl.point_mesh_squared_distance(np.ascontiguousarray(points, np.float64), vertices, faces)
    return np.sqrt(np.maximum(np.asarray(squared, np.float64), 0.0)), tm.face_normals[np.asarray(triangle, np.int64)]


def surface_point_cloud(mesh: MeshAsset, n_points: int, seed: int) -> PointCloud:
    """Area-uniform samples on the mesh surface with their face normals (fixed seed)."""
    import trimesh

    tm = mesh.to_trimesh()
    points, faces = trimesh.sample.sample_surface(tm, n_points, seed=seed)
    return PointCloud(np.asarray(points, np.float64), tm.face_normals[faces])


def subsample_indices(n: int, k: int, seed: int) -> np.ndarray:
    """Sorted indices of `k` of `n` items drawn without replacement with `seed` (all of them when n <= k)."""
    if n <= k:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=k, replace=False))


def nearest_neighbours(query: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean distance from each query point to its nearest reference point, and its index."""
    from pykdtree.kdtree import KDTree

    dist, index = KDTree(np.ascontiguousarray(reference, np.float64)).query(
        np.ascontiguousarray(query, np.float64), k=1
    )
    return dist, index.astype(np.int64)


def cloud_metrics(pred: PointCloud, gt: PointCloud, thresholds: Sequence[float], unit: float = 1.0) -> dict[str, float]:
    """Chamfer distance (SyncDreamer's: 1/2 (mean NN pred->GT + mean NN GT->pred), not squared),
    precision / recall / F-score at each threshold, and normal consistency (mean |cos| between each
    point's normal and its nearest neighbour's, averaged over both directions). Lengths are
    multiplied by `unit` (thresholds are in those units)."""
    d_pg, i_pg = nearest_neighbours(pred.points, gt.points)
    d_gp, i_gp = nearest_neighbours(gt.points, pred.points)
    return distance_metrics(
        d_pg * unit,
        d_gp * unit,
        (pred.normals * gt.normals[i_pg]).sum(1),
        (gt.normals * pred.normals[i_gp]).sum(1),
        thresholds,
    )


def mesh_distance_metrics(
    pred: PointCloud,
    gt: PointCloud,
    pred_mesh: MeshAsset | None,
    gt_mesh: MeshAsset,
    thresholds: Sequence[float],
    unit: float = 1.0,
    pred_all: PointCloud | None = None,
) -> dict[str, float]:
    """The metrics of `cloud_metrics` with distances to the other side's triangles instead of its
    points: no sampling floor (a prediction equal to the ground truth scores 0). A prediction without
    triangles (Gaussian splats) is reached through its points (`pred_all`, default `pred`)."""
    d_pg, n_pg = point_mesh_distance(pred.points, gt_mesh)
    if pred_mesh is not None:
        d_gp, n_gp = point_mesh_distance(gt.points, pred_mesh)
    else:
        reference = pred if pred_all is None else pred_all
        d_gp, i_gp = nearest_neighbours(gt.points, reference.points)
        n_gp = reference.normals[i_gp]
    return distance_metrics(
        d_pg * unit, d_gp * unit, (pred.normals * n_pg).sum(1), (gt.normals * n_gp).sum(1), thresholds
    )


def distance_metrics(
    d_pg: np.ndarray, d_gp: np.ndarray, cos_pg: np.ndarray, cos_gp: np.ndarray, thresholds: Sequence[float]
) -> dict[str, float]:
    """Chamfer, accuracy, completeness, normal consistency and F-scores from the distances each way."""
    out = {
        "chamfer": 0.5 * (d_pg.mean() + d_gp.mean()),
        "accuracy": float(d_pg.mean()),
        "completeness": float(d_gp.mean()),
        "normal_consistency": 0.5 * (np.abs(cos_pg).mean() + np.abs(cos_gp).mean()),
    }
    for tau in thresholds:
        precision, recall = float((d_pg < tau).mean()), float((d_gp < tau).mean())
        key = threshold_key(tau)
        out[f"precision_{key}"] = precision
        out[f"recall_{key}"] = recall
        out[f"fscore_{key}"] = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {k: float(v) for k, v in out.items()}


def threshold_key(tau: float) -> str:
    """Column suffix for a threshold in hundredths of the object size: 0.05 -> '05', 0.1 -> '10'."""
    hundredths = tau * 100
    if abs(hundredths - round(hundredths)) > 1e-9:
        raise ValueError(f"thresholds must be whole hundredths of the object size, got {tau}")
    return f"{round(hundredths):02d}"


def screen_linear_depth_views(mesh: MeshAsset, cameras: Sequence) -> RenderedViews:
    """Depth maps of a mesh as SyncDreamer's eval_mesh.py rasterises predictions: nvdiffrast fed clip
    coordinates with w = 1 and z linear in depth, so each pixel's depth is the vertex depths
    interpolated LINEARLY IN SCREEN SPACE (not perspective-correct). On large triangles this is far
    from the true surface (a convex hull's Chamfer changes by about 14 %), so reproducing the script
    means reproducing it. Which triangle covers a pixel centre is found by ray casting (trimesh), the
    same visibility a rasteriser with a depth test gives. Normals are the covering triangles'.
    """
    import trimesh

    v, f = mesh.geometry()
    tm = trimesh.Trimesh(v, f, process=False)
    n = len(cameras)
    h, w = cameras[0].height, cameras[0].width
    depth = np.zeros((n, h, w), np.float32)
    mask = np.zeros((n, h, w), bool)
    normal = np.zeros((n, h, w, 3), np.float32)
    for k, cam in enumerate(cameras):
        origins, dirs = cam.pixel_rays()
        tri = tm.ray.intersects_first(origins, dirs)
        hit = tri >= 0
        local = v @ cam.w2c[:3, :3].T + cam.w2c[:3, 3]
        z = -local[:, 2]
        uv = np.stack([cam.fx * local[:, 0] / z + cam.cx, cam.cy - cam.fy * local[:, 1] / z], 1)
        j, i = np.divmod(np.nonzero(hit)[0], w)
        p = np.stack([i + 0.5, j + 0.5], 1)
        t = f[tri[hit]]
        a, b, c = uv[t[:, 0]], uv[t[:, 1]], uv[t[:, 2]]
        den = (b[:, 1] - c[:, 1]) * (a[:, 0] - c[:, 0]) + (c[:, 0] - b[:, 0]) * (a[:, 1] - c[:, 1])
        wa = ((b[:, 1] - c[:, 1]) * (p[:, 0] - c[:, 0]) + (c[:, 0] - b[:, 0]) * (p[:, 1] - c[:, 1])) / den
        wb = ((c[:, 1] - a[:, 1]) * (p[:, 0] - c[:, 0]) + (a[:, 0] - c[:, 0]) * (p[:, 1] - c[:, 1])) / den
        depth[k, j, i] = wa * z[t[:, 0]] + wb * z[t[:, 1]] + (1 - wa - wb) * z[t[:, 2]]
        mask[k, j, i] = True
        normal[k, j, i] = tm.face_normals[tri[hit]]
    return RenderedViews(tuple(cameras), np.zeros((n, h, w, 3), np.uint8), mask, depth, normal)
