"""The OpenGL splat drawer against the exact per-pixel compositing reference, and splats end to end."""

import numpy as np
import pytest
import trimesh

from reconbench.assets import GaussianSplats, MeshAsset, MeshPart
from reconbench.assets.splats import splats_on_surface
from reconbench.protocol import UNLIT, get_protocol, orbit_camera
from reconbench.render import render_views
from reconbench.render.splat_reference import composite_reference


def _random_cloud(n, seed, degree=0, spread=0.35):
    rng = np.random.default_rng(seed)
    k = (degree + 1) ** 2
    return GaussianSplats(
        means=rng.uniform(-spread, spread, (n, 3)),
        scales=rng.uniform(0.01, 0.08, (n, 3)),
        quats=rng.normal(size=(n, 4)),
        opacities=rng.uniform(0.2, 1.0, n),
        sh=rng.normal(scale=0.4, size=(n, k, 3)),
    )


@pytest.mark.parametrize("seed,degree", [(0, 0), (1, 0), (2, 1), (3, 3)])
def test_drawer_matches_exact_per_pixel_compositing(seed, degree):
    cloud = _random_cloud(150, seed, degree)
    cams = [
        orbit_camera("a", "heldout", 15, 30 + 70 * seed, 2.0, 49.1, 64, 48),
        orbit_camera("b", "heldout", -30, 200, 1.6, 40, 64, 48),
    ]
    views = render_views(cloud, cams, UNLIT)
    for k, cam in enumerate(cams):
        ref = composite_reference(cloud, cam, background=(1.0, 1.0, 1.0))
        assert np.abs(views.alpha[k] - ref["alpha"]).mean() <= 1e-3
        ours = views.composited()[k]
        # The scoring image is clipped to [0, 1] (8-bit); over white this equals clipping each pixel.
        assert np.abs(ours - np.clip(ref["color"], 0, 1)).mean() <= 1e-3
        m = views.mask[k]
        assert m.any() and np.abs(views.depth[k][m] - ref["depth"][m]).max() <= 1e-3


def test_views_behind_the_camera_and_empty_frames():
    cloud = _random_cloud(20, 5)
    inside = orbit_camera("in", "heldout", 0, 0, 0.05, 49.1, 32, 32)  # inside the cloud: many centres behind it
    views = render_views(cloud, [inside], UNLIT)
    ref = composite_reference(cloud, inside)
    assert np.abs(views.alpha[0] - ref["alpha"]).mean() <= 1e-3


def test_a_splat_copy_of_a_mesh_scores_like_the_mesh():
    from reconbench.evaluation import evaluate, prepare_ground_truth

    sphere = trimesh.creation.icosphere(subdivisions=4, radius=0.5)
    mesh = MeshAsset((MeshPart(sphere.vertices, sphere.faces),))
    gt = prepare_ground_truth(mesh, get_protocol("default"), lpips_nets=())
    result = evaluate(splats_on_surface(sphere, 6000), gt, scale="none", align="none", lpips_nets=())
    m = result.metrics
    assert m["chamfer"] < 0.015 and m["fscore_02"] > 0.95 and m["normal_consistency"] > 0.95 and m["mask_iou"] > 0.97
    assert m["psnr"] > 25
    assert np.isnan(m["volume_iou"]) and "surface_chamfer" not in m


def _wide_cloud(n, seed, std):
    rng = np.random.default_rng(seed)
    return GaussianSplats(
        means=rng.uniform(-0.5, 0.5, (n, 3)),
        scales=np.full((n, 3), std),
        quats=np.tile([1.0, 0.0, 0.0, 0.0], (n, 1)),
        opacities=np.full(n, 0.5),
        sh=rng.normal(scale=0.4, size=(n, 1, 3)),
    )


def test_wide_overlapping_splats_match_the_reference_while_hidden_ones_are_not_drawn(monkeypatch):
    from reconbench.render import splat_renderer

    drawn = []
    original = splat_renderer.SplatRenderer._draw_batch
    monkeypatch.setattr(
        splat_renderer.SplatRenderer, "_draw_batch", lambda self, inst: drawn.append(len(inst)) or original(self, inst)
    )
    cloud = _wide_cloud(2000, 0, std=3.0)  # every Gaussian covers the whole frame
    cam = orbit_camera("a", "heldout", 15, 30, 2.0, 49.1, 48, 40)
    views = render_views(cloud, [cam], UNLIT)
    ref = composite_reference(cloud, cam, background=(1.0, 1.0, 1.0))
    assert np.abs(views.alpha[0] - ref["alpha"]).max() <= 1e-3
    assert np.abs(views.composited()[0] - np.clip(ref["color"], 0, 1)).max() <= 2e-3
    # Opaque after the first batch: the other 1936 splats cannot change a pixel and are never drawn.
    assert sum(drawn) < 100


def test_astronomically_wide_splats_render_finite_images():
    cloud = _wide_cloud(50, 1, std=float(np.exp(80.0)))
    views = render_views(cloud, [orbit_camera("a", "heldout", 15, 30, 2.0, 49.1, 32, 32)], UNLIT)
    assert np.isfinite(views.alpha).all() and np.isfinite(views.depth).all()
