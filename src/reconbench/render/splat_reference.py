"""Exact per-pixel compositing of Gaussian splats in numpy (float64): the independent reference.

The OpenGL splat drawer (splat_renderer.py) and the differentiable PyTorch compositor
(splat_torch.py) are tested against this. It is written to be obviously correct, not fast: every
projected Gaussian is evaluated at EVERY pixel centre (no bounding boxes, no tiles), one Gaussian
at a time front to back, so the 1/255 support rule alone decides where a splat contributes.
Cost is O(M·H·W) with a Python loop over Gaussians; a few hundred Gaussians at 128² take well
under a second.

Conventions are those of splat_math.py, taken from its `project` (same centre, conic, depth order,
opacity, clamped colour):
- pixel (i, j) is sampled at its centre (i + 0.5, j + 0.5), image y down;
- α = min(0.99, o·exp(-q/2)), q = dᵀ Σ2D⁻¹ d, and a splat contributes only where α ≥ 1/255;
- front to back by centre depth: colour Σ cᵢ αᵢ Tᵢ + T·background, Tᵢ = Π_{j<i} (1 − αⱼ);
- alpha = 1 − T (final transmittance); depth = Σ zᵢ αᵢ Tᵢ / Σ αᵢ Tᵢ (0 where nothing contributes),
  zᵢ the camera depth of the centre.

No transmittance early stop: every Gaussian is composited however small T gets. The 3DGS CUDA
rasterizer (T < 1e-4) and gsplat (T <= 1e-4) stop a pixel before the Gaussian that would bring T
under the threshold, exclude it and everything behind it, and add the background times the T
reached so far. That T is below 1e-4 / (1 − α_next) ≤ 1e-4 / 0.01 = 0.01 (the 0.99 cap), and it
bounds the difference: for colours and background in [0, 1], colour and alpha differ by less than
0.01 (2.5 levels in 8 bits) on pixels that are already almost opaque, typically ~1e-4, and not at
all elsewhere. Measured on dense random scenes (96², 300-1000 Gaussians, opacities 0.5-1, where
23-38 % of the pixels reach T < 1e-4): max 7e-3, mean 2e-5 to 3e-5 per channel.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from reconbench.protocol import Camera
from reconbench.render.splat_math import ALPHA_MAX, ALPHA_MIN, ProjectedSplats, project


def pixel_centers(cam: Camera) -> tuple[np.ndarray, np.ndarray]:
    """(H*W,) x and y of every pixel centre, row-major, in pixels with y down."""
    j, i = np.mgrid[0 : cam.height, 0 : cam.width]
    return (i + 0.5).ravel().astype(np.float64), (j + 0.5).ravel().astype(np.float64)


def splat_alpha(p: ProjectedSplats, k: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Opacity of projected splat k at pixel centres (x, y): min(0.99, o·exp(-q/2)), 0 below 1/255."""
    dx, dy = x - p.center[k, 0], y - p.center[k, 1]
    a, b, c = p.conic[k]
    q = a * dx * dx + 2.0 * b * dx * dy + c * dy * dy
    alpha = np.minimum(ALPHA_MAX, p.opacity[k] * np.exp(-0.5 * q))
    return np.where(alpha >= ALPHA_MIN, alpha, 0.0)


def composite_reference(splats, cam: Camera, background: Sequence[float] = (1.0, 1.0, 1.0)) -> dict[str, np.ndarray]:
    """Front-to-back compositing of a GaussianSplats cloud seen by `cam`, exactly, per pixel.

    Returns color (H, W, 3) over `background`, alpha (H, W) = 1 − final transmittance and
    depth (H, W) = expected centre depth of the contributions (0 where alpha is 0).
    """
    p = project(splats, cam)
    x, y = pixel_centers(cam)
    transmittance = np.ones_like(x)
    color = np.zeros((len(x), 3))
    weighted_depth = np.zeros_like(x)
    weight_sum = np.zeros_like(x)
    for k in range(len(p.index)):  # already sorted front to back by project()
        alpha = splat_alpha(p, k, x, y)
        weight = alpha * transmittance
        color += weight[:, None] * p.color[k]
        weighted_depth += weight * p.depth[k]
        weight_sum += weight
        transmittance = transmittance * (1.0 - alpha)
    color += transmittance[:, None] * np.asarray(background, dtype=np.float64)
    covered = weight_sum > 0
    depth = np.where(covered, weighted_depth / np.where(covered, weight_sum, 1.0), 0.0)
    shape = (cam.height, cam.width)
    return {
        "color": color.reshape(*shape, 3),
        "alpha": (1.0 - transmittance).reshape(shape),
        "depth": depth.reshape(shape),
    }
