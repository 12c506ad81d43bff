"""Splat usability: transparent and floating Gaussians counted, and a mesh fused from the depth maps."""

import numpy as np
import pytest
import trimesh

from reconbench.assets import GaussianSplats, MeshAsset, MeshPart
from reconbench.assets.splats import splats_on_surface
from reconbench.metrics.geometry import cloud_metrics, surface_point_cloud
from reconbench.metrics.splat_usability import TRANSPARENT_OPACITY, splat_usability
from reconbench.protocol import UNLIT, get_protocol
from reconbench.render import render_views

N = 20000  # dense enough that the splats' centre-depth bias stays well under the Chamfer bound


def _joined(a: GaussianSplats, means: np.ndarray, opacity: float) -> GaussianSplats:
    """`a` plus small round Gaussians at `means` with the given opacity."""
    k = len(means)
    return GaussianSplats(
        np.r_[a.means, means],
        np.r_[a.scales, np.full((k, 3), 0.01)],
        np.r_[a.quats, np.tile([1.0, 0, 0, 0], (k, 1))],
        np.r_[a.opacities, np.full(k, opacity)],
        np.r_[a.sh, np.zeros((k, 1, 3))],
    )


def _random_directions(k, seed):
    d = np.random.default_rng(seed).normal(size=(k, 3))
    return d / np.linalg.norm(d, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def sphere():
    return trimesh.creation.icosphere(subdivisions=4, radius=0.5)


@pytest.fixture(scope="module")
def clean(sphere):
    splats = splats_on_surface(sphere, N)
    cams = get_protocol("default").evaluation.geometry_cameras
    return splats, splat_usability(splats, render_views(splats, cams, UNLIT))


def _usability(splats):
    return splat_usability(splats, render_views(splats, get_protocol("default").evaluation.geometry_cameras, UNLIT))


def test_a_clean_surface_cloud_has_no_floaters_and_nothing_transparent(clean):
    splats, (metrics, _) = clean
    assert metrics["gaussians"] == splats.n
    assert metrics["transparent_share"] == 0
    assert metrics["floater_share"] <= 2 / splats.n


def test_gaussians_floating_off_the_surface_are_floaters(clean):
    splats, _ = clean
    floating = _joined(
        splats, 0.8 * _random_directions(50, 1), 0.3
    )  # 0.3 outside, semi-transparent as 3DGS floaters are
    metrics, _ = _usability(floating)
    assert abs(metrics["floater_share"] * floating.n - 50) <= 2
    assert metrics["transparent_share"] == 0


def test_nearly_transparent_gaussians_are_counted(clean, sphere):
    splats, _ = clean
    faint = _joined(splats, 0.5 * _random_directions(30, 2), TRANSPARENT_OPACITY / 5)  # opacity 0.01, on the surface
    metrics, _ = _usability(faint)
    assert metrics["transparent_share"] == pytest.approx(30 / (N + 30))
    assert metrics["floater_share"] <= 2 / faint.n


def test_the_extracted_mesh_is_the_sphere(clean, sphere):
    _, (metrics, mesh) = clean
    assert mesh is not None and metrics["extracted_faces"] == mesh.n_faces > 0
    truth = surface_point_cloud(MeshAsset((MeshPart(sphere.vertices, sphere.faces),)), 30000, 0)
    assert cloud_metrics(surface_point_cloud(mesh, 30000, 0), truth, [0.01])["chamfer"] < 0.01
    assert np.abs(mesh.bounds - sphere.bounds).max() < 0.02
    assert mesh.to_trimesh().volume > 0  # outward winding


def test_no_surface_gives_no_mesh():
    """One faint Gaussian far outside the fused cube: nothing to fuse, and no view sees it on a surface."""
    far = GaussianSplats(
        means=np.array([[0.0, 0.0, 50.0]]),
        scales=np.full((1, 3), 0.01),
        quats=np.array([[1.0, 0.0, 0.0, 0.0]]),
        opacities=np.array([0.3]),
        sh=np.zeros((1, 1, 3)),
    )
    metrics, mesh = _usability(far)
    assert mesh is None and metrics["extracted_faces"] == 0
    assert metrics["floater_share"] == 1.0
