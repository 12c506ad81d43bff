"""Test-only CPU port of SyncDreamer's evaluation scripts (github.com/liuyuan-pal/SyncDreamer at cc373c8),
written for these tests as the independent reference that reconbench's `gso30-syncdreamer` preset must match.

eval_mesh.py, step by step (names as in the script):
- `read_depth_objaverse`: 16-bit PNG depth -> value / 65535 * (2.4 - 0.6) + 0.6, valid in (0.63, 2.37);
- `rasterize_depth_map`: nvdiffrast with clip coordinates (x_ndc, y_ndc, z_ndc, 1), z_ndc linear in depth:
  w = 1, so depth is interpolated LINEARLY IN SCREEN SPACE between the projected vertices. Ported as a
  ray cast through each pixel centre (which triangle covers it) followed by that screen-space interpolation;
- `mask_depth_to_pts`: pixel (i, j) back-projected through (i, j), not its centre; `pose_inverse`/`pose_apply`;
- `ds_and_save`: open3d `voxel_down_sample(0.01)`, ported as a dictionary of voxels (loop, no numpy tricks);
- `nearest_dist` + `get_chamfer_iou`: Chamfer = (mean pred->GT + mean GT->pred) / 2 (exact NN with scipy's
  cKDTree instead of brute force on the GPU);
- `mesh2sdf.compute(v, f, 64, fix=False) < 0`: ported from mesh2sdf 1.1.0's makelevelset3.cpp (intersection
  counts along +x with its simulation-of-simplicity point-in-triangle test; only the sign matters here).

eval_nvs.py: images composited on white (`color_map_forward`), PSNR = 10 log10(1 / MSE) over all pixels and
channels, SSIM from torchmetrics (imported by the test when available), LPIPS-VGG on [-1, 1].
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from PIL import Image

DATA = Path(__file__).resolve().parents[1] / "data" / "syncdreamer-gso-chicken"
DEPTH_MAX, DEPTH_MIN = 2.4, 0.6
DEPTH_VALID_MAX, DEPTH_VALID_MIN = 2.37, 0.63
H = W = 256


def cameras() -> tuple[np.ndarray, np.ndarray]:
    """K (3x3) and the 16 world-to-camera poses (16, 3, 4) of meta_info/camera-16."""
    meta = json.loads((DATA / "meta_info" / "camera-16.json").read_text())
    return np.asarray(meta["K"], np.float32), np.asarray(meta["poses"], np.float64)


def read_depth(path: Path) -> tuple[np.ndarray, np.ndarray]:
    depth = np.asarray(Image.open(path)).astype(np.float32) / 65535 * (DEPTH_MAX - DEPTH_MIN) + DEPTH_MIN
    return depth, (depth > DEPTH_VALID_MIN) & (depth < DEPTH_VALID_MAX)


def pose_inverse(pose: np.ndarray) -> np.ndarray:
    r = pose[:, :3].T
    return np.concatenate([r, -r @ pose[:, 3:]], -1)


def pose_apply(pose: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return pts @ pose[:, :3].T + pose[:, 3][None]


def mask_depth_to_pts(mask: np.ndarray, depth: np.ndarray, k: np.ndarray) -> np.ndarray:
    hs, ws = np.nonzero(mask)
    pts = np.asarray([ws, hs, depth[hs, ws]], np.float32).T
    pts[:, :2] *= pts[:, 2:]
    return pts @ np.linalg.inv(k).T


def rasterize_depth(
    vertices: np.ndarray, faces: np.ndarray, pose: np.ndarray, k: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """nvdiffrast's depth of eval_mesh.py's rasterize_depth_map: coverage at pixel centres, depth
    interpolated linearly in screen space (clip w = 1)."""
    import trimesh

    cam = vertices @ pose[:, :3].T + pose[:, 3]
    proj = cam @ k.astype(np.float64).T
    uv = proj[:, :2] / proj[:, 2:3]
    depth_v = proj[:, 2]
    j, i = np.mgrid[0:H, 0:W]
    pix = np.stack([i.ravel() + 0.5, j.ravel() + 0.5, np.ones(H * W)], 1)
    dirs_cam = pix @ np.linalg.inv(k.astype(np.float64)).T
    r_inv = pose[:, :3].T
    origin = -r_inv @ pose[:, 3]
    dirs = dirs_cam @ r_inv.T
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    mesh = trimesh.Trimesh(vertices, faces, process=False)
    tri = mesh.ray.intersects_first(np.broadcast_to(origin, dirs.shape).copy(), dirs)
    hit = tri >= 0
    depth = np.zeros(H * W)
    t = faces[tri[hit]]
    a, b, c = uv[t[:, 0]], uv[t[:, 1]], uv[t[:, 2]]
    p = pix[hit, :2]
    den = (b[:, 1] - c[:, 1]) * (a[:, 0] - c[:, 0]) + (c[:, 0] - b[:, 0]) * (a[:, 1] - c[:, 1])
    wa = ((b[:, 1] - c[:, 1]) * (p[:, 0] - c[:, 0]) + (c[:, 0] - b[:, 0]) * (p[:, 1] - c[:, 1])) / den
    wb = ((c[:, 1] - a[:, 1]) * (p[:, 0] - c[:, 0]) + (a[:, 0] - c[:, 0]) * (p[:, 1] - c[:, 1])) / den
    depth[hit] = wa * depth_v[t[:, 0]] + wb * depth_v[t[:, 1]] + (1 - wa - wb) * depth_v[t[:, 2]]
    return depth.reshape(H, W).astype(np.float32), hit.reshape(H, W)


def voxel_down_sample(pts: np.ndarray, voxel: float = 0.01) -> np.ndarray:
    """open3d PointCloud.voxel_down_sample: voxel index floor((p - (min - voxel/2)) / voxel), mean per voxel."""
    pts = pts.astype(np.float64)
    lo = pts.min(0) - voxel * 0.5
    acc: dict[tuple[int, int, int], list] = {}
    for p, idx in zip(pts, np.floor((pts - lo) / voxel).astype(np.int64)):
        entry = acc.setdefault(tuple(idx), [np.zeros(3), 0])
        entry[0] += p
        entry[1] += 1
    return np.array([s / n for s, n in acc.values()])


def points_from_depths(depths: list[tuple[np.ndarray, np.ndarray]], k: np.ndarray, poses: np.ndarray) -> np.ndarray:
    pts = [
        pose_apply(pose_inverse(pose), mask_depth_to_pts(mask, depth, k)) for (depth, mask), pose in zip(depths, poses)
    ]
    return voxel_down_sample(np.concatenate(pts, 0).astype(np.float32))


def gt_points_from_pngs(folder: Path) -> np.ndarray:
    k, poses = cameras()
    return points_from_depths([read_depth(folder / f"{n:03d}-depth.png") for n in range(16)], k, poses)


def points_from_mesh(vertices: np.ndarray, faces: np.ndarray, quantise: bool = False) -> np.ndarray:
    """get_points_from_mesh; `quantise` stores depth as the 16-bit PNG of a ground-truth render would."""
    k, poses = cameras()
    depths = []
    for pose in poses:
        depth, mask = rasterize_depth(vertices, faces, pose, k)
        if quantise:
            code = np.round((depth - DEPTH_MIN) / (DEPTH_MAX - DEPTH_MIN) * 65535).clip(0, 65535)
            depth = code.astype(np.float32) / 65535 * (DEPTH_MAX - DEPTH_MIN) + DEPTH_MIN
            mask = mask & (depth > DEPTH_VALID_MIN) & (depth < DEPTH_VALID_MAX)
        depths.append((depth, mask))
    return points_from_depths(depths, k, poses)


def chamfer(pts_pr: np.ndarray, pts_gt: np.ndarray) -> float:
    from scipy.spatial import cKDTree

    d0 = cKDTree(pts_gt).query(pts_pr)[0]
    d1 = cKDTree(pts_pr).query(pts_gt)[0]
    return float((d0.mean() + d1.mean()) / 2)


# --- mesh2sdf's sign (makelevelset3.cpp), grid over [-1, 1]^3 with `size` samples per axis ---------


def _orientation(x1: float, y1: float, x2: float, y2: float) -> int:
    area = y1 * x2 - x1 * y2
    if area > 0:
        return 1
    if area < 0:
        return -1
    if y2 > y1:
        return 1
    if y2 < y1:
        return -1
    if x1 > x2:
        return 1
    if x1 < x2:
        return -1
    return 0


def _point_in_triangle_2d(x0, y0, x1, y1, x2, y2, x3, y3):
    x1, x2, x3, y1, y2, y3 = x1 - x0, x2 - x0, x3 - x0, y1 - y0, y2 - y0, y3 - y0
    sa = _orientation(x2, y2, x3, y3)
    if sa == 0 or _orientation(x3, y3, x1, y1) != sa or _orientation(x1, y1, x2, y2) != sa:
        return None
    a, b, c = y2 * x3 - x2 * y3, y3 * x1 - x3 * y1, y1 * x2 - x1 * y2
    s = a + b + c
    return a / s, b / s, c / s


def mesh2sdf_inside(vertices: np.ndarray, faces: np.ndarray, size: int = 64) -> np.ndarray:
    """`mesh2sdf.compute(vertices, faces, size, fix=False) < 0`: odd crossing count along +x up to the point."""
    dx = np.float32(2.0 / size)
    g = (vertices.astype(np.float32).astype(np.float64) + 1.0) / float(dx)  # grid coordinates, origin -1
    count = np.zeros((size, size, size), np.int32)
    for p, q, r in faces:
        (fip, fjp, fkp), (fiq, fjq, fkq), (fir, fjr, fkr) = g[p], g[q], g[r]
        j0 = min(max(math.ceil(min(fjp, fjq, fjr)), 0), size - 1)
        j1 = min(max(math.floor(max(fjp, fjq, fjr)), 0), size - 1)
        k0 = min(max(math.ceil(min(fkp, fkq, fkr)), 0), size - 1)
        k1 = min(max(math.floor(max(fkp, fkq, fkr)), 0), size - 1)
        for kk in range(k0, k1 + 1):
            for jj in range(j0, j1 + 1):
                bary = _point_in_triangle_2d(jj, kk, fjp, fkp, fjq, fkq, fjr, fkr)
                if bary is None:
                    continue
                fi = bary[0] * fip + bary[1] * fiq + bary[2] * fir
                interval = math.ceil(fi)
                if interval < 0:
                    count[0, jj, kk] += 1
                elif interval < size:
                    count[interval, jj, kk] += 1
    return (np.cumsum(count, axis=0) % 2).astype(bool)


def volume_iou(v_pr, f_pr, v_gt, f_gt, size: int = 64) -> float:
    a, b = mesh2sdf_inside(v_pr, f_pr, size), mesh2sdf_inside(v_gt, f_gt, size)
    return float((a & b).sum() / (a | b).sum())


def rz(deg: float) -> np.ndarray:
    """transforms3d.euler.euler2mat(rad(deg), 0, 0, 'szyx'): rotation about +z."""
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def norm_coords(v: np.ndarray) -> np.ndarray:
    v = v / np.max(v.max(0) - v.min(0))
    return v - (v.max(0) + v.min(0)) / 2


# --- eval_nvs.py ---------------------------------------------------------------------------------------


def color_map_forward(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb.astype(np.float32) / 255
    if rgb.shape[-1] == 3:
        return rgb
    return rgb[..., :3] * rgb[..., 3:] + (1 - rgb[..., 3:])


def psnr(gt: np.ndarray, pr: np.ndarray) -> float:
    mse = np.mean(np.mean((gt.reshape(-1, 3) - pr.reshape(-1, 3)) ** 2, 0))
    return float(10 * np.log10(1 / mse))
