"""Image metrics on views composited on white: PSNR, SSIM, mask IoU (LPIPS lives in lpips.py).

Every function takes stacks of views, (V, H, W, 3) float32 in [0, 1] and (V, H, W) masks, and
returns one value per view; callers average over views (the literature's convention).
"""

from __future__ import annotations

import numpy as np

# SSIM as in the literature (Wang et al. 2004; scikit-image with these settings).
SSIM_SIGMA = 1.5
SSIM_TRUNCATE = 3.5  # scikit-image's Gaussian truncation
SSIM_RADIUS = int(SSIM_TRUNCATE * SSIM_SIGMA + 0.5)  # 5: the window is 11 x 11


def psnr(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Peak signal-to-noise ratio per view (data range 1). With `mask`, the MSE is taken over the
    masked pixels only (the union of both silhouettes, so the white background does not inflate it)."""
    out = np.empty(len(pred))
    diff = np.empty(pred.shape[1:], np.float32)  # reused: one view at a time, no large temporaries
    sq = np.empty(pred.shape[1:3], np.float32)
    for k in range(len(pred)):
        np.subtract(pred[k], gt[k], out=diff, dtype=np.float32)
        np.einsum("ijc,ijc->ij", diff, diff, out=sq)
        if mask is None:
            mse = sq.mean(dtype=np.float64) / diff.shape[-1]
        else:
            m = np.asarray(mask[k], bool)
            mse = sq[m].sum(dtype=np.float64) / (max(int(m.sum()), 1) * diff.shape[-1])
        with np.errstate(divide="ignore"):
            out[k] = -10 * np.log10(mse)
    return out


def ssim(pred: np.ndarray, gt: np.ndarray, background: float = 1.0) -> np.ndarray:
    """SSIM per view: Gaussian window sigma 1.5, population covariance, K1 = 0.01, K2 = 0.03, data
    range 1, mean over the image less a 5-pixel border and over channels (scikit-image's definition).

    Computed on the crop around the pixels that differ from the background, plus a margin of two
    window radii: outside it both images are the same constant, where SSIM is exactly 1, so the full
    image's mean follows exactly at a third of the cost of filtering the whole frame.
    """
    from skimage.metrics import structural_similarity

    out = np.empty(len(pred))
    h, w = pred.shape[1:3]
    valid = (h - 2 * SSIM_RADIUS) * (w - 2 * SSIM_RADIUS)
    for k, (p, g) in enumerate(zip(np.asarray(pred, np.float32), np.asarray(gt, np.float32))):
        content = (p != background).any(-1) | (g != background).any(-1)
        if not content.any():
            out[k] = 1.0
            continue
        rows, cols = np.nonzero(content.any(1))[0], np.nonzero(content.any(0))[0]
        margin = 2 * SSIM_RADIUS
        r0, r1 = max(rows[0] - margin, 0), min(rows[-1] + margin + 1, h)
        c0, c1 = max(cols[0] - margin, 0), min(cols[-1] + margin + 1, w)
        _, s_map = structural_similarity(
            p[r0:r1, c0:c1], g[r0:r1, c0:c1], channel_axis=-1, data_range=1.0, gaussian_weights=True,
            sigma=SSIM_SIGMA, use_sample_covariance=False, full=True,
        )
        # Sum the map over its part of the valid region [R, h-R) x [R, w-R); pixels there outside
        # the crop contribute 1 each.
        vr0, vr1 = max(r0, SSIM_RADIUS), min(r1, h - SSIM_RADIUS)
        vc0, vc1 = max(c0, SSIM_RADIUS), min(c1, w - SSIM_RADIUS)
        inside = s_map[vr0 - r0 : vr1 - r0, vc0 - c0 : vc1 - c0].mean(-1, dtype=np.float64)
        out[k] = (inside.sum() + (valid - inside.size)) / valid
    return out


def mask_iou(pred_mask: np.ndarray, gt_mask: np.ndarray) -> np.ndarray:
    """Intersection over union of silhouettes per view; 1 where both are empty."""
    a, b = np.asarray(pred_mask, bool), np.asarray(gt_mask, bool)
    inter = (a & b).reshape(len(a), -1).sum(1)
    union = (a | b).reshape(len(a), -1).sum(1)
    return np.where(union > 0, inter / np.maximum(union, 1), 1.0)
