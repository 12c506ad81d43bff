"""The per-scene optimisation of splat-sds: a Gaussian cloud fitted to the input views (RGB over white +
silhouette) plus score distillation on random novel views, with 3DGS-style densification and pruning.

Saved at a list of iteration counts in one optimisation (the anytime curve): the runner scores every
snapshot, so fidelity can be plotted against per-scene compute.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from reconbench.assets import GaussianSplats, save_splats
from reconbench.assets.splats import C0
from reconbench.methods.splat_sds.guidance import Guidance, NoGuidance, relative_camera
from reconbench.protocol import Camera, orbit_camera
from reconbench.render.splat_torch import rasterize


@dataclass(frozen=True)
class SdsConfig:
    iterations: int
    checkpoints: tuple[
        int, ...
    ]  # extra snapshots for the anytime curve; the final iteration is always saved (the result)
    n_init: int  # Gaussians drawn uniformly in a ball at the start (DreamGaussian: 5000, radius 0.5)
    max_gaussians: int
    render_size: int  # side of the square renders the losses are computed on
    init_radius: float = 0.5
    lr_means: tuple[float, float] = (
        1e-3,
        2e-5,
    )  # exponential decay from the first to the second (3DGS / DreamGaussian)
    lr_colors: float = 1e-2
    lr_opacities: float = 5e-2
    lr_scales: float = 5e-3
    lr_quats: float = 5e-3
    densify_every: int = 100
    densify_until: int = 300
    densify_fraction: float = 0.05  # share of Gaussians (largest accumulated positional gradient) split or cloned
    split_scale: float = 0.02  # larger than this (canonical units) are split, smaller ones cloned
    prune_opacity: float = 0.01
    max_scale: float = 0.1  # larger Gaussians are pruned (3DGS prunes those over 0.1 of the scene extent)
    lambda_rgb: float = 1.0
    lambda_mask: float = 1.0
    lambda_sds: float = 1.0
    novel_elevation: tuple[float, float] = (-30.0, 30.0)  # range of SDS views, degrees
    seed: int = 0


# CPU: small enough to finish on one object in about a minute on 2 cores (a plain PyTorch compositor).
CPU_DEFAULTS = SdsConfig(
    iterations=300,
    checkpoints=(75, 150, 300),
    n_init=600,
    max_gaussians=1500,
    render_size=64,
    densify_every=50,
    densify_until=250,
    max_scale=0.05,
)
# GPU (gsplat): DreamGaussian's stage-1 length (500 iterations) and initial cloud (5000 in radius 0.5).
GPU_DEFAULTS = SdsConfig(
    iterations=500, checkpoints=(50, 100, 200, 500), n_init=5000, max_gaussians=100_000, render_size=256
)


@dataclass(frozen=True)
class Snapshot:
    iteration: int
    seconds: float  # optimisation wall time up to this snapshot (excluding saving)
    path: Path
    n_gaussians: int


def _inverse_sigmoid(x: float) -> float:
    return math.log(x / (1 - x))


class _Cloud:
    """Pre-activation parameters as leaf tensors, with their Adam optimiser."""

    def __init__(self, params: dict[str, torch.Tensor], cfg: SdsConfig) -> None:
        self.params = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
        self.cfg = cfg
        self.optimizer = torch.optim.Adam(
            [
                {"params": [self.params["means"]], "lr": cfg.lr_means[0], "name": "means"},
                {"params": [self.params["colors"]], "lr": cfg.lr_colors},
                {"params": [self.params["opacity_logits"]], "lr": cfg.lr_opacities},
                {"params": [self.params["log_scales"]], "lr": cfg.lr_scales},
                {"params": [self.params["quats"]], "lr": cfg.lr_quats},
            ],
            eps=1e-15,
        )

    @property
    def n(self) -> int:
        return len(self.params["means"])

    def activated(self) -> tuple[torch.Tensor, ...]:
        """Scales are capped at max_scale between prunings: a few huge splats would make every pixel
        overlap every Gaussian, and the cost of the plain PyTorch compositor with it."""
        p = self.params
        scales = torch.exp(p["log_scales"]).clamp(max=self.cfg.max_scale)
        return p["means"], p["quats"], scales, torch.sigmoid(p["opacity_logits"]), p["colors"]

    def to_splats(self) -> GaussianSplats:
        means, quats, scales, opacities, colors = (t.detach().double().cpu().numpy() for t in self.activated())
        sh = ((np.clip(colors, 0, 1) - 0.5) / C0)[:, None, :]
        return GaussianSplats(means, scales, quats, np.clip(opacities, 1e-6, 1 - 1e-6), sh)


def _initial_cloud(cfg: SdsConfig, device: torch.device) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(cfg.seed)
    direction = torch.randn(cfg.n_init, 3, generator=g)
    direction /= direction.norm(dim=1, keepdim=True)
    radius = cfg.init_radius * torch.rand(cfg.n_init, 1, generator=g) ** (1 / 3)
    params = {
        "means": direction * radius,
        "colors": torch.full((cfg.n_init, 3), 0.5),
        "opacity_logits": torch.full((cfg.n_init,), _inverse_sigmoid(0.1)),
        "log_scales": torch.full((cfg.n_init, 3), math.log(0.02)),
        "quats": torch.tensor([1.0, 0.0, 0.0, 0.0]).repeat(cfg.n_init, 1),
    }
    return {k: v.to(device) for k, v in params.items()}


def _targets(images: Sequence[np.ndarray], cameras: Sequence[Camera], size: int, device: torch.device):
    """Input views resized to `size` (area filter): RGB over white, alpha, and the matching cameras."""
    out = []
    for image, cam in zip(images, cameras):
        rgba = np.asarray(Image.fromarray(image, "RGBA").resize((size, size), Image.Resampling.BOX), np.float32) / 255
        alpha = rgba[..., 3:]
        rgb = rgba[..., :3] * alpha + (1 - alpha)
        s = size / cam.width
        small = replace(cam, width=size, height=size, fx=cam.fx * s, fy=cam.fy * s, cx=cam.cx * s, cy=cam.cy * s)
        out.append((torch.from_numpy(rgb).to(device), torch.from_numpy(alpha[..., 0]).to(device), small))
    return out


def _densify_and_prune(cloud: _Cloud, grad_accum: torch.Tensor) -> _Cloud:
    """3DGS-style: the Gaussians with the largest accumulated positional gradient are split (large ones,
    into two smaller ones sampled inside them) or cloned (small ones); near-transparent ones are pruned.
    Simplification: Adam's moments restart for every Gaussian (3DGS keeps them for the survivors)."""
    cfg = cloud.cfg
    p = {k: v.detach() for k, v in cloud.params.items()}
    n = cloud.n
    k = min(int(cfg.densify_fraction * n), max(cfg.max_gaussians - n, 0))
    chosen = torch.topk(grad_accum, k).indices if k > 0 else torch.zeros(0, dtype=torch.long)
    scales = torch.exp(p["log_scales"][chosen])
    big = scales.max(dim=1).values > cfg.split_scale
    new = {name: [value] for name, value in p.items()}
    if len(chosen):
        # Split: a new Gaussian at a point drawn inside the old one; both shrink by 1.6 (3DGS).
        offset = torch.randn_like(p["means"][chosen]) * scales
        shrink = torch.where(big[:, None], torch.full_like(scales, math.log(1.6)), torch.zeros_like(scales))
        new["means"].append(p["means"][chosen] + torch.where(big[:, None], offset, torch.zeros_like(offset)))
        new["log_scales"][0] = p["log_scales"].index_put((chosen,), p["log_scales"][chosen] - shrink)
        new["log_scales"].append(p["log_scales"][chosen] - shrink)
        for name in ("colors", "opacity_logits", "quats"):
            new[name].append(p[name][chosen])
    merged = {name: torch.cat(values) for name, values in new.items()}
    keep = (torch.sigmoid(merged["opacity_logits"]) > cfg.prune_opacity) & (
        torch.exp(merged["log_scales"]).max(dim=1).values < cfg.max_scale
    )
    if keep.sum() == 0:
        keep[:] = True
    return _Cloud({name: value[keep] for name, value in merged.items()}, cfg)


def optimise(
    images: Sequence[np.ndarray],
    cameras: Sequence[Camera],
    guidance: Guidance,
    cfg: SdsConfig,
    workdir: Path,
    device: torch.device | str = "cpu",
    on_snapshot: Callable[[Snapshot], None] | None = None,
) -> list[Snapshot]:
    """Fit a cloud to the inputs (plus SDS unless the guidance is NoGuidance); save it at each of
    cfg.checkpoints below cfg.iterations and at cfg.iterations itself, which is always the last snapshot
    (the result); checkpoints beyond cfg.iterations are never reached."""
    if cfg.iterations < 1:
        raise ValueError(f"splat-sds: iterations must be at least 1, got {cfg.iterations}")
    device = torch.device(device)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    targets = _targets(images, cameras, cfg.render_size, device)
    reference = cameras[0]
    cloud = _Cloud(_initial_cloud(cfg, device), cfg)
    grad_accum = torch.zeros(cloud.n, device=device)
    snapshots: list[Snapshot] = []
    elapsed, start = 0.0, time.perf_counter()
    decay = math.log(cfg.lr_means[1] / cfg.lr_means[0])
    for it in range(1, cfg.iterations + 1):
        cloud.optimizer.param_groups[0]["lr"] = cfg.lr_means[0] * math.exp(
            decay * (it - 1) / max(cfg.iterations - 1, 1)
        )
        target_rgb, target_alpha, cam = targets[(it - 1) % len(targets)]
        means, quats, scales, opacities, colors = cloud.activated()
        rgb, alpha, _ = rasterize(means, quats, scales, opacities, colors.clamp(0, 1), cam, background=(1.0, 1.0, 1.0))
        loss = cfg.lambda_rgb * torch.mean((rgb - target_rgb) ** 2) + cfg.lambda_mask * torch.mean(
            (alpha - target_alpha) ** 2
        )
        if not isinstance(guidance, NoGuidance):
            novel = _novel_camera(reference, cfg, rng)
            novel_rgb, _, _ = rasterize(
                means, quats, scales, opacities, colors.clamp(0, 1), novel, background=(1.0, 1.0, 1.0)
            )
            loss = loss + cfg.lambda_sds * guidance.loss(
                novel_rgb.permute(2, 0, 1)[None], [relative_camera(novel, reference)], it, cfg.iterations
            )
        cloud.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grad_accum += cloud.params["means"].grad.norm(dim=1)
        cloud.optimizer.step()
        if it % cfg.densify_every == 0 and it <= cfg.densify_until:
            cloud = _densify_and_prune(cloud, grad_accum)
            grad_accum = torch.zeros(cloud.n, device=device)
        if it in cfg.checkpoints or it == cfg.iterations:
            elapsed += time.perf_counter() - start
            path = save_splats(cloud.to_splats(), workdir / f"splats_it{it:05d}.ply")
            snapshots.append(Snapshot(it, elapsed, path, cloud.n))
            if on_snapshot:
                on_snapshot(snapshots[-1])
            start = time.perf_counter()
    return snapshots


def _novel_camera(reference: Camera, cfg: SdsConfig, rng: np.random.Generator) -> Camera:
    """A random view around the object at the reference camera's distance and fov (render size)."""
    size = cfg.render_size
    fov = math.degrees(2 * math.atan(reference.height / 2 / reference.fy))
    radius = float(np.linalg.norm(reference.position))
    return orbit_camera(
        "novel",
        "heldout",
        float(rng.uniform(*cfg.novel_elevation)),
        float(rng.uniform(0, 360)),
        radius,
        fov,
        size,
        size,
    )
