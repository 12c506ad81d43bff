"""Scoring images on their own: a folder of views against ground-truth renders or another folder.

`score_views` is the one place where a stack of predicted views meets a stack of reference views; both
`reconbench evaluate-views` and stage attribution (stage_attribution.py) go through it, so a preset's
image-metric definitions plug in here (its `settings` argument) and nowhere else.

Folder rules (docs/metrics.md, "Scoring views on their own"):
- a view is a PNG named after its camera: `NNN.png` (the protocol's camera names; SyncDreamer's too);
  other files in the folders (depth maps, JSON) are ignored;
- RGBA images are composited on white by their alpha, RGB images are taken as already on white;
- every reference view needs a predicted view of the same name and size, or the error names the file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reconbench.errors import ReconbenchError
from reconbench.metrics import image as image_metrics

VIEW_NAME = re.compile(r"^\d+$")  # NNN.png: what the protocol names its cameras


class ViewError(ReconbenchError, ValueError):
    """A view that cannot be scored: missing, of the wrong size, or without the alpha it needs."""


@dataclass(frozen=True)
class ViewScoring:
    """How views are scored: PSNR over all pixels with data range 1, SSIM by `ssim` ("skimage": data range 1;
    "torchmetrics": range from the images) and `ssim_border` (metrics/image.py), LPIPS with the given backbones,
    on images composited on `background`. The defaults are reconbench's own presets'; `for_evaluation` takes a
    preset's image settings (gso30-syncdreamer: SyncDreamer's eval_nvs.py)."""

    lpips: tuple[str, ...] = ("alex",)
    background: tuple[int, int, int] = (255, 255, 255)
    ssim: str = "skimage"
    ssim_border: str = "crop"

    @classmethod
    def for_evaluation(
        cls, evaluation, lpips: Sequence[str] | None = None, background: tuple[int, int, int] = (255, 255, 255)
    ) -> ViewScoring:
        """The image metrics of a protocol's evaluation settings (protocol.Evaluation); `lpips` overrides its nets."""
        nets = evaluation.lpips_nets if lpips is None else lpips
        return cls(tuple(nets), tuple(background), evaluation.ssim, evaluation.ssim_border)


def score_views(
    pred: np.ndarray,
    gt: np.ndarray,
    settings: ViewScoring | None = None,
    pred_mask: np.ndarray | None = None,
    gt_mask: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Per-view metrics of (V, H, W, 3) float images in [0, 1] against references of the same shape:
    psnr, ssim, lpips_<net> per backbone, and with both silhouettes psnr_masked and mask_iou."""
    settings = settings or ViewScoring()
    pred, gt = np.asarray(pred, np.float32), np.asarray(gt, np.float32)
    if pred.shape != gt.shape:
        raise ViewError(f"view stacks differ in shape: {pred.shape} vs {gt.shape}")
    background = float(np.mean(settings.background)) / 255 if len(set(settings.background)) == 1 else -1.0
    data_range = 1.0 if settings.ssim == "skimage" else None
    out = {
        "psnr": image_metrics.psnr(pred, gt),
        "ssim": image_metrics.ssim(pred, gt, background=background, data_range=data_range, border=settings.ssim_border),
    }
    if pred_mask is not None and gt_mask is not None:
        out["psnr_masked"] = image_metrics.psnr(pred, gt, pred_mask | gt_mask)
        out["mask_iou"] = image_metrics.mask_iou(pred_mask, gt_mask)
    for net in settings.lpips:
        from reconbench.metrics.lpips import lpips_distance

        out[f"lpips_{net}"] = lpips_distance(pred, gt, net)
    return out


def read_view(
    path: Path,
    size: tuple[int, int] | None = None,
    need_alpha: bool = False,
    background: tuple[int, int, int] = (255, 255, 255),
) -> tuple[np.ndarray, np.ndarray | None]:
    """One view as float (H, W, 3) on `background` in [0, 1], and its silhouette (alpha > 127) if it has alpha."""
    from PIL import Image

    path = Path(path)
    if not path.is_file():
        raise ViewError(f"{path}: missing view")
    try:
        with Image.open(path) as im:
            mode, (w, h) = im.mode, im.size
            has_alpha = mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in im.info)
            array = np.asarray(im.convert("RGBA" if has_alpha else "RGB"))
    except OSError as exc:
        raise ViewError(f"{path}: not a readable image ({exc})") from exc
    if size is not None and (w, h) != tuple(size):
        raise ViewError(f"{path}: wrong size {w}x{h}, expected {size[0]}x{size[1]}")
    if need_alpha and not has_alpha:
        raise ViewError(f"{path}: no alpha channel (mode {mode}); masked metrics need each view's silhouette")
    return composite(array, background)


def composite(
    array: np.ndarray, background: tuple[int, int, int] = (255, 255, 255)
) -> tuple[np.ndarray, np.ndarray | None]:
    """uint8 RGB or RGBA (..., H, W, 3|4) -> float RGB in [0, 1] over `background`, and the silhouette (or None)."""
    scale = np.float32(1 / 255)  # as RenderedViews.composited: identical pixels give identical floats
    rgb = array[..., :3].astype(np.float32) * scale
    if array.shape[-1] == 3:
        return rgb, None
    alpha = array[..., 3:].astype(np.float32) * scale
    bg = np.asarray(background, np.float32) / 255
    return rgb * alpha + bg * (1 - alpha), array[..., 3] > 127


def view_names(folder: Path) -> list[str]:
    """The view names of a reference folder: its NNN.png files, in order."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ViewError(f"{folder}: not a folder")
    names = sorted(p.stem for p in folder.glob("*.png") if VIEW_NAME.match(p.stem))
    if not names:
        raise ViewError(f"{folder}: no view images (NNN.png) in it")
    return names


@dataclass
class ViewReport:
    """Per-view metrics, with each view's name and role, and the means."""

    names: list[str]
    roles: list[str]
    per_view: dict[str, np.ndarray]

    def means(self, role: str | None = None) -> dict[str, float]:
        keep = np.array([role is None or r == role for r in self.roles])
        if not keep.any():
            return {}
        return {k: float(v[keep].mean()) for k, v in self.per_view.items()}

    def to_dict(self) -> dict:
        views = [
            {"view": n, "role": r, **{k: float(v[i]) for k, v in self.per_view.items()}}
            for i, (n, r) in enumerate(zip(self.names, self.roles))
        ]
        out = {"views": views, "mean": self.means()}
        for role in ("input", "heldout"):
            if role in self.roles and len(set(self.roles)) > 1:
                out[f"mean_{role}"] = self.means(role)
        return out


def score_folder(
    pred_dir: Path,
    names: Sequence[str],
    gt: np.ndarray,
    gt_mask: np.ndarray | None,
    settings: ViewScoring | None = None,
    masked: bool = False,
    roles: Sequence[str] | None = None,
) -> ViewReport:
    """Score `pred_dir/<name>.png` for each name against the reference stack `gt` ((V, H, W, 3) in [0, 1])."""
    settings = settings or ViewScoring()
    if not Path(pred_dir).is_dir():
        raise ViewError(f"{pred_dir}: not a folder")
    size = (gt.shape[2], gt.shape[1])
    views = [read_view(Path(pred_dir) / f"{n}.png", size, masked, settings.background) for n in names]
    pred = np.stack([v for v, _ in views])
    pred_mask = np.stack([m for _, m in views]) if masked else None
    if masked and gt_mask is None:
        raise ViewError("masked metrics need the reference views' silhouettes (alpha)")
    per_view = score_views(pred, gt, settings, pred_mask, gt_mask if masked else None)
    return ViewReport(list(names), list(roles or ["view"] * len(names)), per_view)


def score_against_folder(
    pred_dir: Path, gt_dir: Path, settings: ViewScoring | None = None, masked: bool = False
) -> ViewReport:
    """Folder against folder: every NNN.png of `gt_dir` against the same name in `pred_dir`."""
    settings = settings or ViewScoring()
    names = view_names(gt_dir)
    first = read_view(Path(gt_dir) / f"{names[0]}.png", background=settings.background)[0]
    size = (first.shape[1], first.shape[0])
    refs = [read_view(Path(gt_dir) / f"{n}.png", size, masked, settings.background) for n in names]
    gt = np.stack([v for v, _ in refs])
    gt_mask = np.stack([m for _, m in refs]) if masked else None
    return score_folder(pred_dir, names, gt, gt_mask, settings, masked)


def score_against_renders(
    pred_dir: Path, mesh, protocol, settings: ViewScoring | None = None, masked: bool = False, views: str = "all"
) -> ViewReport:
    """Folder against the ground truth rendered with the common renderer at the protocol's cameras
    (scoring shading, composited on the settings' background); `views`: all | heldout | input."""
    from reconbench.render import render_views

    if views not in ("all", "heldout", "input"):
        raise ViewError(f"views must be all, heldout or input, got {views!r}")
    cameras = [c for c in protocol.cameras if views == "all" or c.role == views]
    settings = settings or ViewScoring()
    rendered = render_views(mesh, cameras, protocol.lighting.references)
    gt = rendered.composited(settings.background)
    return score_folder(
        pred_dir, [c.name for c in cameras], gt, rendered.mask, settings, masked, [c.role for c in cameras]
    )
