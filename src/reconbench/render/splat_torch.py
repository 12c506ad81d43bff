"""Differentiable compositing of 3D Gaussians in PyTorch, with gsplat as an optional CUDA backend.

`rasterize(means, quats, scales, opacities, colors, cam)` returns (rgb, alpha, depth) images as torch
tensors, differentiable w.r.t. every Gaussian parameter. It follows splat_math.py exactly (same
projection, 0.3 px² low-pass, 1.3× tangent clamp, α = min(0.99, o·exp(-q/2)) kept only where
α ≥ 1/255, front to back by centre depth, near cut 0.01, SH colour max(SH + 0.5, 0)); the exact
numpy reference is splat_reference.py, and the tests hold the two to ≤ 1e-5 in float64.
Thresholds are applied with `clamp` and `where`, never in place, so autograd is exact wherever the
image is differentiable: zero gradient through a capped (0.99) alpha or a clamped tangent, none
through the 1/255 cut (the image jumps there, as in 3DGS). No transmittance early stop (see
splat_reference.py), unlike 3DGS/gsplat.

Pure-PyTorch backend ("torch"): per 16×16 tile, the Gaussians whose 1/255 support box (splat_math's
`extent`, plus a 1 px margin so rounding can never drop a contributing pixel) meets the tile are
evaluated densely at all the tile's pixels; a tile whose pixel × Gaussian count exceeds `max_pairs`
is split into pixel chunks, each run under activation checkpointing when gradients are on, so what
stays alive between forward and backward is O(N + Gaussian-tile pairs). Work is
O(Σ_tiles pixels × overlapping Gaussians).

gsplat backend (CUDA only): `gsplat.rasterization` with `eps2d=0.3`, `near_plane=0.01`,
`rasterize_mode="classic"`, `render_mode="RGB+ED"`, OpenCV world-to-camera `viewmats` and wxyz
quats (gsplat normalises them, as we do); these arguments exist from gsplat v1.0.0 on. It differs
from the conventions above in its alpha cap, early stop, near plane and float32 precision.

Measured memory and speed, and the audit of gsplat's conventions against ours (which gsplat commits,
which differences): docs/rendering.md.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from reconbench.assets.splats import sh_basis_columns
from reconbench.protocol import Camera
from reconbench.render.splat_math import ALPHA_MAX, ALPHA_MIN, GL_TO_CV, LOW_PASS, NEAR, TAN_CLAMP

Backend = Literal["auto", "torch", "gsplat"]

TILE = 16  # pixels per tile side
MAX_PAIRS = 2**20  # pixel × Gaussian pairs evaluated at once
BOX_MARGIN = 1.0  # pixels added to each support box: culling stays conservative under rounding


@dataclass(frozen=True)
class Projected:
    """Visible Gaussians sorted front to back, as splat_math.ProjectedSplats but as tensors."""

    index: Tensor  # (M,) into the input Gaussians
    center: Tensor  # (M, 2) pixels, y down
    depth: Tensor  # (M,)
    conic: Tensor  # (M, 3) a, b, c of a·dx² + 2b·dx·dy + c·dy²
    extent: Tensor  # (M, 2) support half-sizes in pixels (no gradient)
    opacity: Tensor  # (M,)
    color: Tensor  # (M, 3)


def rasterize(
    means: Tensor,
    quats: Tensor,
    scales: Tensor,
    opacities: Tensor,
    colors: Tensor,
    cam: Camera,
    background: Sequence[float] | Tensor | None = None,
    *,
    backend: Backend = "auto",
    tile: int = TILE,
    max_pairs: int = MAX_PAIRS,
) -> tuple[Tensor, Tensor, Tensor]:
    """Render Gaussians (ACTIVATED parameters) into `cam`: rgb (H, W, 3), alpha (H, W), depth (H, W).

    means (N, 3), quats (N, 4) wxyz (normalised here), scales (N, 3) std-devs, opacities (N,),
    colors (N, 3) final colours or (N, K, 3) SH coefficients, K = (degree + 1)². rgb is composited
    over `background` (None: over black, i.e. premultiplied, as gsplat); depth is the expected
    centre depth, 0 where alpha is 0. backend "auto" takes gsplat for float32 CUDA tensors when it
    is installed and the pure-PyTorch path otherwise (float64 always stays in PyTorch).
    """
    _check_shapes(means, quats, scales, opacities, colors)
    if _choose_backend(backend, means) == "gsplat":
        return _rasterize_gsplat(means, quats, scales, opacities, colors, cam, background)
    return _rasterize_torch(means, quats, scales, opacities, colors, cam, background, tile, max_pairs)


def gsplat_status(device: torch.device | str | None = None) -> tuple[bool, str]:
    """Whether the gsplat backend can run (on `device`, default: any CUDA device), and why not."""
    if not torch.cuda.is_available():
        return False, "CUDA is not available"
    if device is not None and torch.device(device).type != "cuda":
        return False, f"tensors are on {torch.device(device)}, gsplat needs CUDA"
    if importlib.util.find_spec("gsplat") is None:
        return False, "the gsplat package is not installed"
    return True, "gsplat and CUDA are available"


def _choose_backend(backend: Backend, means: Tensor) -> str:
    if backend == "torch":
        return "torch"
    ok, why = gsplat_status(means.device)
    if backend == "gsplat":
        if not ok:
            raise RuntimeError(f"backend='gsplat' cannot run: {why}")
        return "gsplat"
    if backend != "auto":
        raise ValueError(f"backend must be 'auto', 'torch' or 'gsplat', got {backend!r}")
    return "gsplat" if ok and means.dtype == torch.float32 else "torch"


def _check_shapes(means: Tensor, quats: Tensor, scales: Tensor, opacities: Tensor, colors: Tensor) -> None:
    n = means.shape[0]
    expected = {
        "means": (means, (n, 3)),
        "quats": (quats, (n, 4)),
        "scales": (scales, (n, 3)),
        "opacities": (opacities, (n,)),
    }
    for name, (value, shape) in expected.items():
        if tuple(value.shape) != shape:
            raise ValueError(f"{name} must be {shape} for N = {n}, got {tuple(value.shape)}")
    if colors.shape[0] != n or colors.shape[-1] != 3 or colors.ndim not in (2, 3):
        raise ValueError(f"colors must be (N, 3) or (N, K, 3) for N = {n}, got {tuple(colors.shape)}")
    if colors.ndim == 3:
        sh_degree(colors)


def sh_degree(sh: Tensor) -> int:
    """Degree of (N, K, 3) SH coefficients, K = (degree + 1)²."""
    k = sh.shape[1]
    degree = int(round(math.sqrt(k))) - 1
    if k == 0 or (degree + 1) ** 2 != k or degree > 3:
        raise ValueError(f"SH with K = {k} coefficients is not degree 0..3 ((degree + 1)**2)")
    return degree


def sh_basis(dirs: Tensor, degree: int) -> Tensor:
    """(M, (degree+1)²) real SH basis at unit directions, 3DGS `eval_sh` order (the same functions as numpy's)."""
    return torch.stack(sh_basis_columns(*dirs.unbind(-1), degree), dim=-1)


def quat_to_matrix(quats: Tensor) -> Tensor:
    """(N, 3, 3) rotations of wxyz quaternions, normalised first (3DGS `build_rotation`)."""
    w, x, y, z = (quats / quats.norm(dim=-1, keepdim=True)).unbind(-1)
    rows = [
        torch.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], dim=-1),
        torch.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], dim=-1),
        torch.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], dim=-1),
    ]
    return torch.stack(rows, dim=-2)


def _camera_cv(cam: Camera, like: Tensor) -> tuple[Tensor, Tensor]:
    """World-to-camera rotation and translation in OpenCV axes, as tensors of `like`'s dtype/device."""
    w2c = GL_TO_CV @ np.linalg.inv(cam.c2w)[:3]
    as_t = dict(dtype=like.dtype, device=like.device)
    return torch.as_tensor(w2c[:, :3], **as_t), torch.as_tensor(w2c[:, 3], **as_t)


def _gaussian_colors(means: Tensor, colors: Tensor, cam: Camera) -> Tensor:
    """(N, 3): precomputed colours as given, or SH seen from the camera centre, + 0.5, clamped at 0."""
    if colors.ndim == 2:
        return colors
    dirs = means - torch.as_tensor(cam.position, dtype=means.dtype, device=means.device)
    dirs = dirs / dirs.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    basis = sh_basis(dirs, sh_degree(colors))
    return (0.5 + torch.einsum("nk,nkc->nc", basis, colors)).clamp_min(0.0)


def project_gaussians(
    means: Tensor, quats: Tensor, scales: Tensor, opacities: Tensor, colors: Tensor, cam: Camera
) -> Projected:
    """splat_math.project in torch: EWA projection with low-pass and tangent clamp, near cut, depth sort."""
    rot, trans = _camera_cv(cam, means)
    cam_pts = means @ rot.T + trans
    keep = torch.nonzero(cam_pts[:, 2] > NEAR).squeeze(1)
    p = cam_pts[keep]
    z = p[:, 2]

    rs = quat_to_matrix(quats[keep]) * scales[keep][:, None, :]
    cov3 = rot @ (rs @ rs.transpose(1, 2)) @ rot.T
    lim_x = TAN_CLAMP * (cam.width / 2) / cam.fx
    lim_y = TAN_CLAMP * (cam.height / 2) / cam.fy
    tx = torch.clamp(p[:, 0] / z, -lim_x, lim_x) * z
    ty = torch.clamp(p[:, 1] / z, -lim_y, lim_y) * z
    zero = torch.zeros_like(z)
    jac = torch.stack(
        [
            torch.stack([cam.fx / z, zero, -cam.fx * tx / z**2], dim=-1),
            torch.stack([zero, cam.fy / z, -cam.fy * ty / z**2], dim=-1),
        ],
        dim=-2,
    )
    cov2 = jac @ cov3 @ jac.transpose(1, 2)
    a, b, c = cov2[:, 0, 0] + LOW_PASS, cov2[:, 0, 1], cov2[:, 1, 1] + LOW_PASS
    det = a * c - b * b
    conic = torch.stack([c / det, -b / det, a / det], dim=-1)
    opacity = opacities[keep]
    with torch.no_grad():  # the support box only selects work; it carries no gradient
        q_max = 2 * torch.log(torch.clamp(opacity / ALPHA_MIN, min=1.0))
        extent = torch.stack([torch.sqrt(q_max * a), torch.sqrt(q_max * c)], dim=-1)
    center = torch.stack([cam.fx * p[:, 0] / z + cam.cx, cam.fy * p[:, 1] / z + cam.cy], dim=-1)
    color = _gaussian_colors(means, colors, cam)[keep]

    order = torch.argsort(z.detach(), stable=True)
    return Projected(keep[order], center[order], z[order], conic[order], extent[order], opacity[order], color[order])


def composite_pixels(
    px: Tensor, py: Tensor, center: Tensor, conic: Tensor, opacity: Tensor, color: Tensor, depth: Tensor
) -> tuple[Tensor, Tensor, Tensor]:
    """Front-to-back compositing of M sorted splats at P pixel centres, densely (P × M).

    Returns premultiplied rgb (P, 3), alpha = 1 − T (P,), expected depth (P,) (0 where nothing
    contributes). Thresholds use clamp/where so autograd stays exact.
    """
    dx = px[:, None] - center[None, :, 0]
    dy = py[:, None] - center[None, :, 1]
    q = conic[:, 0] * dx * dx + 2.0 * conic[:, 1] * dx * dy + conic[:, 2] * dy * dy
    alpha = torch.clamp(opacity * torch.exp(-0.5 * q), max=ALPHA_MAX)
    alpha = torch.where(alpha >= ALPHA_MIN, alpha, torch.zeros_like(alpha))
    trans_after = torch.cumprod(1.0 - alpha, dim=1)  # ≥ 0.01 per factor thanks to the cap: no zeros
    trans_before = torch.cat([torch.ones_like(trans_after[:, :1]), trans_after[:, :-1]], dim=1)
    weight = alpha * trans_before
    rgb = weight @ color
    weight_sum = weight.sum(dim=1)
    covered = weight_sum > 0
    # where() on both sides: no 0/0 in the forward pass, hence no NaN in the backward pass.
    exp_depth = torch.where(
        covered,
        (weight @ depth) / torch.where(covered, weight_sum, torch.ones_like(weight_sum)),
        torch.zeros_like(weight_sum),
    )
    return rgb, 1.0 - trans_after[:, -1], exp_depth


def _tiles(proj: Projected, cam: Camera, tile: int) -> list[tuple[Tensor, Tensor]]:
    """Per tile: its pixel indices (row-major in the image) and the sorted Gaussians whose box meets it."""
    box = proj.extent + BOX_MARGIN
    lo, hi = proj.center.detach() - box, proj.center.detach() + box
    device = proj.center.device
    out = []
    for y0 in range(0, cam.height, tile):
        y1 = min(y0 + tile, cam.height)
        for x0 in range(0, cam.width, tile):
            x1 = min(x0 + tile, cam.width)
            # Pixel centres of the tile span [x0 + 0.5, x1 - 0.5] × [y0 + 0.5, y1 - 0.5].
            hit = (hi[:, 0] >= x0 + 0.5) & (lo[:, 0] <= x1 - 0.5) & (hi[:, 1] >= y0 + 0.5) & (lo[:, 1] <= y1 - 0.5)
            jj, ii = torch.meshgrid(
                torch.arange(y0, y1, device=device), torch.arange(x0, x1, device=device), indexing="ij"
            )
            out.append(((jj * cam.width + ii).reshape(-1), torch.nonzero(hit).squeeze(1)))
    return out


def _composite_packed(px: Tensor, py: Tensor, packed: Tensor) -> Tensor:
    """composite_pixels on (M, 10) rows (centre 2, conic 3, opacity 1, colour 3, depth 1) -> (P, 5).

    One output tensor on purpose: a loss that uses only rgb still sends a (zero) gradient to alpha
    and depth, so backward visits every node of the recomputed chunk and checkpointing frees all
    of it (recomputed tensors of nodes that backward never visits stay alive with the graph).
    """
    rgb, alpha, depth = composite_pixels(
        px, py, packed[:, 0:2], packed[:, 2:5], packed[:, 5], packed[:, 6:9], packed[:, 9]
    )
    return torch.cat([rgb, alpha[:, None], depth[:, None]], dim=1)


def _rasterize_torch(
    means: Tensor,
    quats: Tensor,
    scales: Tensor,
    opacities: Tensor,
    colors: Tensor,
    cam: Camera,
    background,
    tile: int,
    max_pairs: int,
) -> tuple[Tensor, Tensor, Tensor]:
    """The pure-PyTorch path: project, gather each tile's Gaussians, composite chunk by chunk."""
    proj = project_gaussians(means, quats, scales, opacities, colors, cam)
    packed = torch.cat([proj.center, proj.conic, proj.opacity[:, None], proj.color, proj.depth[:, None]], dim=1)
    use_checkpoint = torch.is_grad_enabled() and packed.requires_grad
    tiles = _tiles(proj, cam, tile)
    # One gather and one split for all tiles: backward then scatters once instead of once per tile.
    per_tile = torch.split(packed[torch.cat([g for _, g in tiles])], [len(g) for _, g in tiles])
    pix_all, out_all = [], []
    for (pixels, gauss), rows in zip(tiles, per_tile):
        step = max(1, max_pairs // max(len(gauss), 1))
        for start in range(0, len(pixels), step):
            pix = pixels[start : start + step]
            px = (pix % cam.width).to(means.dtype) + 0.5
            py = torch.div(pix, cam.width, rounding_mode="floor").to(means.dtype) + 0.5
            if len(gauss) == 0:
                out = px.new_zeros((len(pix), 5))
            elif use_checkpoint:
                # Recompute the P × M temporaries in backward instead of keeping them: bounded memory.
                out = checkpoint(_composite_packed, px, py, rows, use_reentrant=False)
            else:
                out = _composite_packed(px, py, rows)
            pix_all.append(pix)
            out_all.append(out)
    out = torch.cat(out_all)[torch.argsort(torch.cat(pix_all))]
    rgb, alpha, depth = out[:, :3], out[:, 3], out[:, 4]
    if background is not None:
        bg = torch.as_tensor(background, dtype=means.dtype, device=means.device)
        rgb = rgb + (1.0 - alpha)[:, None] * bg
    shape = (cam.height, cam.width)
    return rgb.reshape(*shape, 3), alpha.reshape(shape), depth.reshape(shape)


def _rasterize_gsplat(
    means: Tensor, quats: Tensor, scales: Tensor, opacities: Tensor, colors: Tensor, cam: Camera, background
) -> tuple[Tensor, Tensor, Tensor]:
    """The same images from gsplat.rasterization (CUDA, float32); conventions mapped one to one."""
    from gsplat import rasterization

    f32 = dict(dtype=torch.float32, device=means.device)
    gl_to_cv = np.diag([1.0, -1.0, -1.0, 1.0])
    viewmats = torch.as_tensor(gl_to_cv @ np.linalg.inv(cam.c2w), **f32)[None]  # world -> OpenCV camera
    ks = torch.as_tensor(cam.intrinsics(), **f32)[None]
    backgrounds = None if background is None else torch.as_tensor(background, **f32).reshape(1, 3)
    out, alphas, _ = rasterization(
        means.float(),
        quats.float(),  # wxyz in both
        scales.float(),
        opacities.float(),
        colors.float(),
        viewmats,
        ks,
        cam.width,
        cam.height,
        near_plane=NEAR,
        eps2d=LOW_PASS,
        sh_degree=sh_degree(colors) if colors.ndim == 3 else None,
        backgrounds=backgrounds,
        render_mode="RGB+ED",
        rasterize_mode="classic",
    )
    dtype = means.dtype
    return out[0, ..., :3].to(dtype), alphas[0, ..., 0].to(dtype), out[0, ..., 3].to(dtype)
