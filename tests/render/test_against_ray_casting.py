"""The rasteriser against an independent ray caster (Embree through trimesh) on the procedural set.

A rasteriser snaps vertices to a sub-pixel grid (8 bits on Mesa llvmpipe and NVIDIA), so where a
pixel centre lies within that distance of a triangle edge the two renderers may legitimately pick
different triangles (silhouettes of curved surfaces, occlusion boundaries). Those pixels are found
by casting rays offset by twice the snapping step; everywhere else the depth must agree to 1e-4 of
the object size, and the ambiguous pixels must be rare.
"""

from dataclasses import replace

import numpy as np
import pytest

from reconbench.datasets import open_dataset
from reconbench.protocol import UNLIT, orbit_camera
from reconbench.render import render_views

trimesh = pytest.importorskip("trimesh")
pytest.importorskip("embreex", reason="the reference ray caster needs embreex (pip install embreex)")

VIEWS = [(0, 0), (25, 135), (-20, 250)]
SIZE = 160
SNAP = 2 / 256  # pixels


def _ray_cast(mesh, cam, dx=0.0, dy=0.0):
    """Triangle index of the first hit through each pixel centre (+ an offset in pixels), -1 for none."""
    origins, dirs = replace(cam, cx=cam.cx - dx, cy=cam.cy - dy).pixel_rays()
    _, ray_index, tri = mesh.ray.intersects_location(origins, dirs, multiple_hits=False)
    hit = np.full(cam.width * cam.height, -1)
    hit[ray_index] = tri
    return hit


def _plane_depth(mesh, cam, tri):
    """Z-depth where each pixel-centre ray meets the plane of triangle `tri` (per pixel)."""
    origins, dirs = cam.pixel_rays()
    n = mesh.face_normals[tri]
    p0 = mesh.vertices[mesh.faces[tri, 0]]
    t = ((p0 - origins) * n).sum(1) / (dirs * n).sum(1)
    return t * (dirs @ -cam.c2w[:3, 2])


def _reference(mesh, cam, tolerance):
    """Mask, depth and normal by ray casting, plus the pixels a rasteriser may legitimately resolve
    differently: some ray within the snapping distance misses or hits a triangle whose plane puts
    this pixel at another depth."""
    hit = _ray_cast(mesh, cam)
    mask = hit >= 0
    depth = np.zeros(len(hit))
    depth[mask] = _plane_depth(mesh, cam, hit)[mask]
    ambiguous = np.zeros(len(hit), bool)
    normals = [mesh.face_normals[hit]]  # every normal the rasteriser may pick for the pixel
    for dx, dy in [(SNAP, 0), (-SNAP, 0), (0, SNAP), (0, -SNAP)]:
        other = _ray_cast(mesh, cam, dx, dy)
        ambiguous |= (other >= 0) != mask
        both = mask & (other >= 0) & (other != hit)
        ambiguous[both] |= np.abs(_plane_depth(mesh, cam, other)[both] - depth[both]) > tolerance
        normals.append(np.where((other >= 0)[:, None], mesh.face_normals[other], normals[0]))
    shape = (cam.height, cam.width)
    return (
        mask.reshape(shape),
        depth.reshape(shape),
        np.stack(normals, 1).reshape(shape + (5, 3)),
        ambiguous.reshape(shape),
    )


@pytest.mark.slow
@pytest.mark.parametrize("object_id", open_dataset("procedural").ids)
def test_mask_depth_and_normals_match_ray_casting(object_id):
    asset = open_dataset("procedural").get(object_id).load()
    v, f = asset.geometry()
    mesh = trimesh.Trimesh(v, f, process=False)
    cams = [orbit_camera(f"{k}", "heldout", e, a, 2.0, 49.1, SIZE, SIZE) for k, (e, a) in enumerate(VIEWS)]
    views = render_views(asset, cams, UNLIT)
    tolerance = 1e-4 * float((asset.bounds[1] - asset.bounds[0]).max())
    for k, cam in enumerate(cams):
        mask, depth, normal, ambiguous = _reference(mesh, cam, tolerance)
        both = mask & views.mask[k]
        iou = both.sum() / (mask | views.mask[k]).sum()
        assert iou >= 0.999, f"{object_id} view {k}: mask IoU {iou:.5f}"
        clear = both & ~ambiguous
        assert clear.sum() >= 0.95 * both.sum(), (
            f"{object_id} view {k}: {both.sum() - clear.sum()} of {both.sum()} pixels ambiguous"
        )
        depth_error = np.abs(depth[clear] - views.depth[k][clear]).max()
        assert depth_error <= tolerance, f"{object_id} view {k}: depth error {depth_error:.2e}"
        agree = np.einsum("pcx,px->pc", normal[clear], views.normal[k][clear]).max(1) > 0.9999
        assert agree.all(), f"{object_id} view {k}: normals disagree on {(~agree).sum()} pixels"
