"""Geometric error between a prediction and the ground truth, both in the canonical frame.

Point clouds come from depth maps rendered at the protocol's geometry views (the same for every
representation) or, when both sides are meshes, from area-uniform surface samples. Definitions in
docs/metrics.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from reconbench.assets import MeshAsset
from reconbench.render.views import RenderedViews


@dataclass(frozen=True)
class PointCloud:
    points: np.ndarray  # (N, 3) float64
    normals: np.ndarray  # (N, 3) unit vectors

    def __len__(self) -> int:
        return len(self.points)

    def transformed(self, matrix: np.ndarray) -> "PointCloud":
        """Points under a 4x4 similarity; normals rotated (uniform scale keeps them unit)."""
        m = np.asarray(matrix, np.float64)
        rotation = m[:3, :3] / np.cbrt(np.linalg.det(m[:3, :3]))
        return PointCloud(self.points @ m[:3, :3].T + m[:3, 3], self.normals @ rotation.T)


def depth_point_cloud(views: RenderedViews, n_points: int, seed: int) -> PointCloud:
    """Back-projected covered pixels of every view, `n_points` of them drawn with a fixed seed."""
    points = np.concatenate([views.points(k) for k in range(len(views))])
    normals = np.concatenate([views.normal[k][views.mask[k]] for k in range(len(views))]).astype(np.float64)
    if len(points) == 0:
        raise ValueError("the asset covers no pixel of any geometry view")
    keep = _subsample(len(points), n_points, seed)
    return PointCloud(points[keep], normals[keep])


def surface_point_cloud(mesh: MeshAsset, n_points: int, seed: int) -> PointCloud:
    """Area-uniform samples on the mesh surface with their face normals (fixed seed)."""
    import trimesh

    tm = mesh.to_trimesh()
    points, faces = trimesh.sample.sample_surface(tm, n_points, seed=seed)
    return PointCloud(np.asarray(points, np.float64), tm.face_normals[faces])


def _subsample(n: int, k: int, seed: int) -> np.ndarray:
    if n <= k:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=k, replace=False))


def nearest_neighbours(query: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean distance from each query point to its nearest reference point, and its index."""
    from pykdtree.kdtree import KDTree

    dist, index = KDTree(np.ascontiguousarray(reference, np.float64)).query(np.ascontiguousarray(query, np.float64), k=1)
    return dist, index.astype(np.int64)


def cloud_metrics(pred: PointCloud, gt: PointCloud, thresholds: Sequence[float]) -> dict[str, float]:
    """Chamfer distance (SyncDreamer's: 1/2 (mean NN pred->GT + mean NN GT->pred), not squared),
    precision / recall / F-score at each threshold, and normal consistency (mean |cos| between each
    point's normal and its nearest neighbour's, averaged over both directions)."""
    d_pg, i_pg = nearest_neighbours(pred.points, gt.points)
    d_gp, i_gp = nearest_neighbours(gt.points, pred.points)
    out = {
        "chamfer": 0.5 * (d_pg.mean() + d_gp.mean()),
        "accuracy": float(d_pg.mean()),
        "completeness": float(d_gp.mean()),
        "normal_consistency": 0.5
        * (np.abs((pred.normals * gt.normals[i_pg]).sum(1)).mean() + np.abs((gt.normals * pred.normals[i_gp]).sum(1)).mean()),
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
