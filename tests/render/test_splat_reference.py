"""The exact numpy splat compositor against values worked out by hand, and the EWA projection it uses
against Monte-Carlo samples of a 3D Gaussian pushed through the exact pinhole projection."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reconbench.assets.splats import C0, GaussianSplats
from reconbench.protocol.cameras import orbit_camera
from reconbench.render.splat_math import ALPHA_MIN, LOW_PASS, project
from reconbench.render.splat_reference import composite_reference

SIZE = 33  # odd: the principal point (16.5, 16.5) is the centre of pixel (16, 16)
RADIUS = 5.0
RED, BLUE = (1.0, 0.0, 0.0), (0.0, 0.0, 1.0)


def front_camera(size: int = SIZE, radius: float = RADIUS):
    """Camera on +Z looking at the origin: world x is image right, world y image up, depth = radius − z."""
    return orbit_camera("front", "input", 0.0, 0.0, radius, 49.1, size, size)


def gaussians(means, sigmas, opacities, rgbs, quats=None) -> GaussianSplats:
    """Degree-0 splats with the given colours (sh_dc = (rgb − 0.5) / C0); isotropic unless quats given."""
    means = np.atleast_2d(np.asarray(means, dtype=np.float64))
    n = len(means)
    sig = np.asarray(sigmas, dtype=np.float64)
    scales = np.broadcast_to(sig[:, None] if sig.ndim == 1 else sig, (n, 3)).copy()
    q = np.tile([1.0, 0.0, 0.0, 0.0], (n, 1)) if quats is None else np.asarray(quats, dtype=np.float64)
    sh = ((np.asarray(rgbs, dtype=np.float64).reshape(n, 3) - 0.5) / C0)[:, None, :]
    return GaussianSplats(means=means, scales=scales, quats=q, opacities=np.asarray(opacities, dtype=np.float64), sh=sh)


@pytest.mark.parametrize("opacity", [0.8, 1.0])
def test_single_gaussian_alpha_by_hand(opacity):
    sigma = 0.3
    cam = front_camera()
    out = composite_reference(gaussians([[0.0, 0.0, 0.0]], [sigma], [opacity], [RED]), cam)
    var = (cam.fx * sigma / RADIUS) ** 2 + LOW_PASS  # facing the camera on the axis: J = diag(f/z)
    for (i, j), (dx, dy) in {(16, 16): (0, 0), (19, 16): (3, 0), (18, 17): (2, 1), (13, 14): (-3, -2)}.items():
        expected = min(0.99, opacity * math.exp(-0.5 * (dx * dx + dy * dy) / var))
        assert expected >= ALPHA_MIN
        assert out["alpha"][j, i] == pytest.approx(expected, abs=1e-12)
        # One splat over white: colour = α·red + (1 − α)·white.
        assert out["color"][j, i] == pytest.approx([1.0, 1 - expected, 1 - expected], abs=1e-12)
        assert out["depth"][j, i] == pytest.approx(RADIUS, abs=1e-12)


def test_image_y_points_down():
    cam = front_camera()
    alpha = composite_reference(gaussians([[0.0, 0.5, 0.0]], [0.1], [0.9], [RED]), cam)["alpha"]
    j, i = np.unravel_index(np.argmax(alpha), alpha.shape)
    # World +Y is up: the splat sits above the centre row, at v = 16.5 − f·0.5/5.
    assert i == 16 and j == math.floor(16.5 - cam.fy * 0.5 / RADIUS)


def two_on_axis(red_z: float, blue_z: float) -> GaussianSplats:
    return gaussians([[0.0, 0.0, red_z], [0.0, 0.0, blue_z]], [0.3, 0.3], [0.6, 0.5], [RED, BLUE])


def test_two_gaussians_composite_front_to_back():
    cam = front_camera()
    centre = (16, 16)  # both centres project exactly onto this pixel centre: α = opacity
    red_front = composite_reference(two_on_axis(1.0, -1.0), cam)  # red at depth 4, blue at 6
    blue_front = composite_reference(two_on_axis(-1.0, 1.0), cam)
    # red 0.6 in front of blue 0.5 over white: 0.6·red + 0.4·0.5·blue + 0.4·0.5·white.
    assert red_front["color"][centre] == pytest.approx([0.8, 0.2, 0.4], abs=1e-12)
    # blue in front: 0.5·blue + 0.5·0.6·red + 0.5·0.4·white.
    assert blue_front["color"][centre] == pytest.approx([0.5, 0.2, 0.7], abs=1e-12)
    assert red_front["alpha"][centre] == pytest.approx(0.8, abs=1e-12)
    assert blue_front["alpha"][centre] == pytest.approx(0.8, abs=1e-12)
    # Expected depth: (4·0.6 + 6·0.2) / 0.8 and (4·0.5 + 6·0.3) / 0.8, between the two centres.
    assert red_front["depth"][centre] == pytest.approx(4.5, abs=1e-12)
    assert blue_front["depth"][centre] == pytest.approx(4.75, abs=1e-12)
    covered = red_front["alpha"] > 0
    assert np.all((red_front["depth"][covered] >= 4.0 - 1e-12) & (red_front["depth"][covered] <= 6.0 + 1e-12))


def test_background_where_nothing_covers():
    bg = (0.2, 0.4, 0.6)
    out = composite_reference(gaussians([[0.0, 0.0, 0.0]], [0.1], [0.9], [RED]), front_camera(), background=bg)
    assert np.array_equal(out["color"][0, 0], bg)
    assert out["alpha"][0, 0] == 0.0 and out["depth"][0, 0] == 0.0


def test_nothing_outside_the_one_over_255_support():
    quat = np.array([[0.9, 0.2, -0.3, 0.25]])
    splats = gaussians([[0.1, -0.05, 0.2]], [[0.4, 0.15, 0.05]], [0.05], [RED], quats=quat)
    cam = front_camera()
    bg = (0.3, 0.6, 0.9)
    out = composite_reference(splats, cam, background=bg)
    p = project(splats, cam)
    j, i = np.mgrid[0:SIZE, 0:SIZE]
    dx, dy = i + 0.5 - p.center[0, 0], j + 0.5 - p.center[0, 1]
    a, b, c = p.conic[0]
    raw = 0.05 * np.exp(-0.5 * (a * dx * dx + 2 * b * dx * dy + c * dy * dy))
    inside = raw >= ALPHA_MIN
    assert inside.sum() > 5 and np.any(~inside & (raw > 0.2 * ALPHA_MIN))  # the cut really cuts
    assert np.all(out["alpha"][~inside] == 0.0)  # exactly nothing, not merely little
    assert np.all(out["color"][~inside] == bg)
    assert np.all(out["depth"][~inside] == 0.0)
    assert np.allclose(out["alpha"][inside], raw[inside], rtol=0, atol=1e-15)  # alpha = 1 − (1 − α)
    # The support lies in splat_math's box (what the GL drawer rasterises).
    assert np.all(np.abs(dx[inside]) <= p.extent[0, 0]) and np.all(np.abs(dy[inside]) <= p.extent[0, 1])


def pinhole(points: np.ndarray, cam) -> np.ndarray:
    """Exact pinhole projection of world points to pixels (x right, y down), from the OpenGL pose."""
    gl = points @ cam.w2c[:3, :3].T + cam.w2c[:3, 3]
    depth = -gl[:, 2]
    return np.stack([cam.cx + cam.fx * gl[:, 0] / depth, cam.cy - cam.fy * gl[:, 1] / depth], axis=1)


def test_projected_covariance_matches_monte_carlo():
    # Small against its distance (the EWA linearisation is then accurate), a few pixels wide, off
    # the axis and rotated, seen obliquely: every entry of J and of Σ matters.
    cam = orbit_camera("oblique", "input", 20.0, 30.0, 4.0, 49.1, 128, 128)
    quat = np.array([[0.8, 0.3, -0.4, 0.33]])
    splats = gaussians([[0.6, -0.4, 0.3]], [[0.05, 0.02, 0.08]], [0.9], [RED], quats=quat)
    p = project(splats, cam)
    a, b, c = p.conic[0]
    cov2 = np.linalg.inv(np.array([[a, b], [b, c]]))

    rng = np.random.default_rng(0)
    samples = rng.multivariate_normal(splats.means[0], splats.covariances()[0], size=200_000)
    pix = pinhole(samples, cam)
    sample_cov = np.cov(pix.T)
    scale = np.linalg.eigvalsh(sample_cov).max()
    assert scale > 10 * LOW_PASS  # big enough that a missing or doubled low-pass would show
    assert np.abs(cov2 - (sample_cov + LOW_PASS * np.eye(2))).max() <= 0.03 * scale
    assert abs(sample_cov[0, 1]) > 0.1 * scale  # a genuinely tilted ellipse
    assert np.abs(pix.mean(0) - p.center[0]).max() < 0.05
