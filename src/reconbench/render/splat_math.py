"""Projection of 3D Gaussians to image-space ellipses: the one definition every splat drawer shares.

Conventions (docs/protocol.md, "Gaussian splats"), those of 3D Gaussian Splatting (Kerbl et al. 2023):
- EWA splatting: the camera-space covariance is projected with the Jacobian of the perspective map at
  the Gaussian's centre, `Σ2D = J W Σ Wᵀ Jᵀ + 0.3 I` (pixels²; the 0.3 low-pass keeps every splat at
  least about a pixel wide); the centre's tangent x/z, y/z is clamped to 1.3 × the half field of view
  when computing J, as 3DGS does for stability.
- Opacity at pixel centre p: `α = min(0.99, o · exp(-½ dᵀ Σ2D⁻¹ d))`, d = p − centre; a splat
  contributes only where α ≥ 1/255, which bounds its support to the ellipse `dᵀ Σ2D⁻¹ d ≤ 2 ln(255 o)`.
- Colour: spherical harmonics evaluated for the direction from the camera to the centre, + 0.5,
  clamped at 0.
- Compositing: front to back in order of the centres' camera depth; colour `Σ cᵢ αᵢ Tᵢ` with
  `Tᵢ = Π_{j<i} (1 − αⱼ)`, plus the background times the final transmittance.
- Gaussians whose centre is closer than `NEAR` to the camera plane are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reconbench.protocol import Camera

LOW_PASS = 0.3  # pixels², added to the projected covariance's diagonal
ALPHA_MIN = 1.0 / 255.0
ALPHA_MAX = 0.99
NEAR = 0.01
TAN_CLAMP = 1.3

# OpenGL camera (looks down -Z, +Y up) to OpenCV-style camera (looks down +Z, +Y down).
GL_TO_CV = np.diag([1.0, -1.0, -1.0])


@dataclass(frozen=True)
class ProjectedSplats:
    """Per visible Gaussian, sorted front to back: the index into the cloud, centre in pixels (x right,
    y down), camera depth, inverse 2D covariance (conic a, b, c for a·dx² + 2b·dx·dy + c·dy²),
    support radius in pixels along x and y, opacity and colour."""

    index: np.ndarray  # (M,)
    center: np.ndarray  # (M, 2)
    depth: np.ndarray  # (M,)
    conic: np.ndarray  # (M, 3)
    extent: np.ndarray  # (M, 2)
    opacity: np.ndarray  # (M,)
    color: np.ndarray  # (M, 3), clamped at 0


def camera_space(points: np.ndarray, cam: Camera) -> np.ndarray:
    """World points in OpenCV camera coordinates (x right, y down, z forward)."""
    w2c = np.linalg.inv(cam.c2w)
    return (points @ w2c[:3, :3].T + w2c[:3, 3]) @ GL_TO_CV.T


def project(splats, cam: Camera) -> ProjectedSplats:
    """Project a GaussianSplats cloud into a camera (see the module docstring for every convention)."""
    cam_pts = camera_space(splats.means, cam)
    z = cam_pts[:, 2]
    keep = z > NEAR
    idx = np.nonzero(keep)[0]
    p, z = cam_pts[keep], z[keep]

    w2c_cv = GL_TO_CV @ np.linalg.inv(cam.c2w)[:3, :3]
    cov3 = w2c_cv @ splats.covariances()[keep] @ w2c_cv.T
    lim_x = TAN_CLAMP * (cam.width / 2) / cam.fx
    lim_y = TAN_CLAMP * (cam.height / 2) / cam.fy
    tx = np.clip(p[:, 0] / z, -lim_x, lim_x) * z
    ty = np.clip(p[:, 1] / z, -lim_y, lim_y) * z
    jac = np.zeros((len(z), 2, 3))
    jac[:, 0, 0] = cam.fx / z
    jac[:, 0, 2] = -cam.fx * tx / z**2
    jac[:, 1, 1] = cam.fy / z
    jac[:, 1, 2] = -cam.fy * ty / z**2
    cov2 = jac @ cov3 @ jac.transpose(0, 2, 1)
    a, b, c = cov2[:, 0, 0] + LOW_PASS, cov2[:, 0, 1], cov2[:, 1, 1] + LOW_PASS
    det = a * c - b * b
    conic = np.stack([c / det, -b / det, a / det], axis=1)

    opacity = splats.opacities[keep]
    # Support: where o·exp(-q/2) >= 1/255, i.e. q <= 2 ln(255 o); its bounding box half-sizes.
    q_max = 2 * np.log(np.maximum(opacity / ALPHA_MIN, 1.0))
    extent = np.stack([np.sqrt(q_max * a), np.sqrt(q_max * c)], axis=1)

    center = np.stack([cam.fx * p[:, 0] / z + cam.cx, cam.fy * p[:, 1] / z + cam.cy], axis=1)
    if splats.sh_degree > 0:
        view_dirs = splats.means - cam.position
        view_dirs /= np.maximum(np.linalg.norm(view_dirs, axis=1, keepdims=True), 1e-12)
        color = splats.colors(view_dirs)[keep]
    else:
        color = splats.colors_dc()[keep]
    color = np.maximum(color, 0.0)

    order = np.argsort(z, kind="stable")
    return ProjectedSplats(
        idx[order], center[order], z[order], conic[order], extent[order], opacity[order], color[order]
    )
