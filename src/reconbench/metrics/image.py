"""Image metrics on views composited on white: PSNR, SSIM, mask IoU (LPIPS lives in lpips.py).

Every function takes stacks of views, (V, H, W, 3) float32 in [0, 1] and (V, H, W) masks, and
returns one value per view; callers average over views (the literature's convention).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from reconbench.system.cpus import scoring_threads

# SSIM as in the literature (Wang et al. 2004; scikit-image with these settings).
SSIM_SIGMA = 1.5
SSIM_TRUNCATE = 3.5  # scikit-image's Gaussian truncation
SSIM_RADIUS = int(SSIM_TRUNCATE * SSIM_SIGMA + 0.5)  # 5: the window is 11 x 11


def psnr(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Peak signal-to-noise ratio per view (data range 1). With `mask`, the MSE is taken over the
    masked pixels only (the union of both silhouettes, so the white background does not inflate it)."""
    return _psnr(pred, gt, (mask,))[0]


def psnr_and_masked(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`psnr(pred, gt)` and `psnr(pred, gt, mask)`, the same values from one pass over the pixels."""
    whole, masked = _psnr(pred, gt, (None, mask))
    return whole, masked


def _psnr(pred: np.ndarray, gt: np.ndarray, masks: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    """PSNR per view under each of `masks` (None: every pixel), each view's squared error computed once."""
    out = [np.empty(len(pred)) for _ in masks]
    diff = np.empty(pred.shape[1:], np.float32)  # reused: one view at a time, no large temporaries
    sq = np.empty(pred.shape[1:3], np.float32)
    channels = pred.shape[-1]
    for k in range(len(pred)):
        np.subtract(pred[k], gt[k], out=diff, dtype=np.float32)
        np.einsum("ijc,ijc->ij", diff, diff, out=sq)
        for values, mask in zip(out, masks):
            if mask is None:
                mse = sq.mean(dtype=np.float64) / channels
            else:
                m = np.asarray(mask[k], bool)
                mse = sq[m].sum(dtype=np.float64) / (max(int(m.sum()), 1) * channels)
            with np.errstate(divide="ignore"):
                values[k] = -10 * np.log10(mse)
    return out


def ssim(
    pred: np.ndarray,
    gt: np.ndarray,
    background: float = 1.0,
    data_range: float | None = 1.0,
    border: str = "crop",
    device: str = "cpu",
) -> np.ndarray:
    """SSIM per view: Gaussian window sigma 1.5, population covariance, K1 = 0.01, K2 = 0.03, data
    range 1, mean over the image less a 5-pixel border and over channels (scikit-image's definition).

    `data_range=None` takes the range from the images, per view: max(pred.max() - pred.min(),
    gt.max() - gt.min()) -- torchmetrics' `structural_similarity_index_measure` with its defaults
    (what SyncDreamer's eval_nvs.py calls), whose Gaussian 11x11 window, sigma 1.5, reflect padding
    then 5-pixel crop is otherwise this same computation -- up to torchmetrics 1.4. Since torchmetrics 1.5
    (PR #2721, 2024) the mean covers the whole image, border windows reading reflected pixels:
    `border="reflect"` gives that (on SyncDreamer's shipped chicken pair 0.8943 instead of 0.8855).

    Computed on the crop around the pixels that differ from the background, plus a margin of two
    window radii: outside it both images are the same constant, where SSIM is exactly 1, so the full
    image's mean follows exactly at a third of the cost of filtering the whole frame.

    `device` other than "cpu" (a CUDA GPU) computes the same definition with torch there (`ssim_torch`).
    """
    if device != "cpu":
        return ssim_torch(pred, gt, data_range, border, device)
    if border == "reflect":
        return _ssim_reflect(pred, gt, data_range)
    if border != "crop":
        raise ValueError(f"SSIM border must be 'crop' or 'reflect', got {border!r}")
    h, w = pred.shape[1:3]
    valid = (h - 2 * SSIM_RADIUS) * (w - 2 * SSIM_RADIUS)

    def one(p: np.ndarray, g: np.ndarray) -> float:
        rows, cols = _content_rows_cols(p, g, background)
        if not len(rows):
            return 1.0
        margin = 2 * SSIM_RADIUS
        r0, r1 = max(rows[0] - margin, 0), min(rows[-1] + margin + 1, h)
        c0, c1 = max(cols[0] - margin, 0), min(cols[-1] + margin + 1, w)
        s_map = _ssim_map(p[r0:r1, c0:c1], g[r0:r1, c0:c1], _view_range(p, g, data_range))
        # Sum the map over its part of the valid region [R, h-R) x [R, w-R); pixels there outside
        # the crop contribute 1 each.
        vr0, vr1 = max(r0, SSIM_RADIUS), min(r1, h - SSIM_RADIUS)
        vc0, vc1 = max(c0, SSIM_RADIUS), min(c1, w - SSIM_RADIUS)
        inside = s_map[vr0 - r0 : vr1 - r0, vc0 - c0 : vc1 - c0].mean(-1, dtype=np.float64)
        return float((inside.sum() + (valid - inside.size)) / valid)

    return _per_view(one, np.asarray(pred, np.float32), np.asarray(gt, np.float32))


def _content_rows_cols(p: np.ndarray, g: np.ndarray, background: float) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the rows and of the columns where either (H, W, 3) image has a pixel off the background.
    Reduced over long contiguous runs (a row's W x 3 values; then the columns' channels): 8x faster than
    reducing each pixel's three channels first, the same indices."""
    differs = p != background
    differs |= g != background
    rows = differs.reshape(len(differs), -1).any(1)
    cols = differs.any(0).any(-1)
    return np.nonzero(rows)[0], np.nonzero(cols)[0]


def _view_range(p: np.ndarray, g: np.ndarray, data_range: float | None) -> float:
    """`data_range`, or when None the view's own: max(p.max() - p.min(), g.max() - g.min()) (1 if both flat)."""
    if data_range is not None:
        return data_range
    return max(float(p.max() - p.min()), float(g.max() - g.min())) or 1.0


def _ssim_map(p: np.ndarray, g: np.ndarray, data_range: float) -> np.ndarray:
    """scikit-image's SSIM map of one (H, W, 3) pair under this module's settings."""
    from skimage.metrics import structural_similarity

    _, s_map = structural_similarity(
        p,
        g,
        channel_axis=-1,
        data_range=data_range,
        gaussian_weights=True,
        sigma=SSIM_SIGMA,
        use_sample_covariance=False,
        full=True,
    )
    return s_map


def _per_view(one: Callable[[np.ndarray, np.ndarray], float], pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """one(pred[k], gt[k]) for every view, over scoring_threads() threads: SciPy's filters, SSIM's cost, release
    the GIL (2 threads on 2 cores: 0.30 s -> 0.16 s for `default`'s 25 views). Each view's value is computed
    exactly as alone."""
    threads = min(scoring_threads(), len(pred))
    if threads <= 1:
        return np.array([one(p, g) for p, g in zip(pred, gt)], dtype=np.float64)
    with ThreadPoolExecutor(threads) as pool:
        return np.array(list(pool.map(one, pred, gt)), dtype=np.float64)


def _ssim_reflect(pred: np.ndarray, gt: np.ndarray, data_range: float | None) -> np.ndarray:
    """SSIM averaged over every pixel, the image reflect-padded by the window radius first (numpy's
    "reflect" = torch's): each window lies inside the padded image, so scikit-image's map there is exact."""
    r = SSIM_RADIUS

    def one(p: np.ndarray, g: np.ndarray) -> float:
        pp, gg = (np.pad(x, ((r, r), (r, r), (0, 0)), mode="reflect") for x in (p, g))
        s_map = _ssim_map(pp, gg, _view_range(p, g, data_range))
        return float(s_map[r:-r, r:-r].mean(dtype=np.float64))

    return _per_view(one, np.asarray(pred, np.float32), np.asarray(gt, np.float32))


def ssim_torch(
    pred: np.ndarray, gt: np.ndarray, data_range: float | None = 1.0, border: str = "crop", device: str = "cpu"
) -> np.ndarray:
    """`ssim` computed with torch on `device` (a GPU), all views at once: the same Gaussian window (11 taps,
    sigma 1.5, normalised like scipy's), population covariance, K1 = 0.01, K2 = 0.03; "crop" keeps the windows
    inside the image (scikit-image's 5-pixel crop), "reflect" pads first. Float32 on a GPU (float64 on the
    CPU, where it serves as this path's test): the same values to float32 precision (tests/metrics)."""
    if border not in ("crop", "reflect"):
        raise ValueError(f"SSIM border must be 'crop' or 'reflect', got {border!r}")
    from reconbench.metrics.precision import ieee_float32

    with ieee_float32(device):  # no TF32 in the window's convolutions
        return _ssim_torch(pred, gt, data_range, border, device)


def _ssim_torch(pred: np.ndarray, gt: np.ndarray, data_range: float | None, border: str, device: str) -> np.ndarray:
    import torch
    import torch.nn.functional as F

    dtype = torch.float64 if str(device) == "cpu" else torch.float32
    x = torch.as_tensor(np.asarray(pred, np.float32), device=device).to(dtype).permute(0, 3, 1, 2)
    y = torch.as_tensor(np.asarray(gt, np.float32), device=device).to(dtype).permute(0, 3, 1, 2)
    n, c = x.shape[:2]
    if data_range is None:  # per view, from the images (torchmetrics' default)
        flat = lambda t: t.reshape(n, -1)  # noqa: E731
        rng = torch.maximum(flat(x).amax(1) - flat(x).amin(1), flat(y).amax(1) - flat(y).amin(1))
        rng = torch.where(rng > 0, rng, torch.ones_like(rng)).view(n, 1, 1, 1)
    else:
        rng = torch.full((n, 1, 1, 1), float(data_range), dtype=dtype, device=device)
    r = SSIM_RADIUS
    if border == "reflect":
        x, y = (F.pad(t, (r, r, r, r), mode="reflect") for t in (x, y))
    taps = torch.exp(-0.5 * (torch.arange(-r, r + 1, dtype=dtype, device=device) / SSIM_SIGMA) ** 2)
    taps = taps / taps.sum()
    kh, kw = taps.view(1, 1, 1, -1).repeat(c, 1, 1, 1), taps.view(1, 1, -1, 1).repeat(c, 1, 1, 1)

    def blur(t: torch.Tensor) -> torch.Tensor:  # separable, "valid": the windows that fit inside
        return F.conv2d(F.conv2d(t, kh, groups=c), kw, groups=c)

    ux, uy = blur(x), blur(y)
    vx, vy, vxy = blur(x * x) - ux * ux, blur(y * y) - uy * uy, blur(x * y) - ux * uy
    c1, c2 = (0.01 * rng) ** 2, (0.03 * rng) ** 2
    s_map = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    return s_map.mean(dim=(1, 2, 3)).double().cpu().numpy()


def mask_iou(pred_mask: np.ndarray, gt_mask: np.ndarray) -> np.ndarray:
    """Intersection over union of silhouettes per view; 1 where both are empty."""
    a, b = np.asarray(pred_mask, bool), np.asarray(gt_mask, bool)
    inter = (a & b).reshape(len(a), -1).sum(1)
    union = (a | b).reshape(len(a), -1).sum(1)
    return np.where(union > 0, inter / np.maximum(union, 1), 1.0)
