"""Sharpness of a prediction's render relative to the ground truth's render at the same view.

Per image: the RMS colour gradient (Sobel) over the image's *own* silhouette, eroded so the object's
outline and the white background never count. Per view: that of the prediction over that of the ground
truth, so 1 = as sharp as the truth, < 1 blurrier, > 1 noisier. Each image is summarised on its own
(no pixel-to-pixel comparison), which is what makes the ratio insensitive to small misalignment; the
erosion is what makes it insensitive to the background and to the outline's own contrast.
Definition and reasons: docs/metrics.md, "Sharpness and breakage".
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

# Pixels removed inside the silhouette before measuring: the Sobel support (1 px) plus the anti-aliased
# or soft (splat) outline, so the object/background step does not count as detail.
EROSION_PX = 3
# Fewer interior pixels than this, or a ground-truth RMS gradient below GRADIENT_FLOOR (a flat,
# untextured view: nothing to be sharp about), leaves the view's ratio undefined (NaN).
MIN_PIXELS = 16
GRADIENT_FLOOR = 1e-3


def interior(mask: np.ndarray, erosion: int = EROSION_PX) -> np.ndarray:
    """The silhouette less a band of `erosion` pixels along its outline (and the image border)."""
    m = np.asarray(mask, bool)
    if erosion <= 0:
        return m
    return ndimage.binary_erosion(m, structure=np.ones((3, 3), bool), iterations=erosion, border_value=0)


def gradient_rms(image: np.ndarray, mask: np.ndarray, erosion: int = EROSION_PX) -> float:
    """RMS over the eroded silhouette of the colour gradient magnitude (Sobel, per pixel, channels
    averaged) of one (H, W, 3) image in [0, 1]; NaN when fewer than MIN_PIXELS pixels remain."""
    m = np.asarray(mask, bool)
    if not m.any():
        return math.nan
    # Only the silhouette's bounding box (plus the Sobel support) matters: the eroded interior lies inside it.
    rows, cols = np.nonzero(m.any(1))[0], np.nonzero(m.any(0))[0]
    r0, r1 = max(rows[0] - 1, 0), rows[-1] + 2
    c0, c1 = max(cols[0] - 1, 0), cols[-1] + 2
    inside = interior(m[r0:r1, c0:c1], erosion)
    if int(inside.sum()) < MIN_PIXELS:
        return math.nan
    img = np.asarray(image, np.float32)[r0:r1, c0:c1]
    energy = np.zeros(img.shape[:2], np.float64)
    for c in range(img.shape[-1]):
        # Sobel sums 4 weighted differences two pixels apart: / 8 gives the derivative per pixel.
        gx = ndimage.sobel(img[..., c], axis=1, mode="nearest") / 8.0
        gy = ndimage.sobel(img[..., c], axis=0, mode="nearest") / 8.0
        energy += gx.astype(np.float64) ** 2 + gy.astype(np.float64) ** 2
    return float(np.sqrt(energy[inside].mean() / img.shape[-1]))


def view_gradients(images: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """gradient_rms of each view of a (V, H, W, 3) stack with (V, H, W) masks (the truth's: computed once per
    object)."""
    return np.array([gradient_rms(im, m) for im, m in zip(images, masks)], dtype=float)


def ratios(pred_rms: np.ndarray | float, gt_rms: np.ndarray | float) -> np.ndarray:
    """Per view pred / gt gradient RMS; NaN where the truth is flat (< GRADIENT_FLOOR) or either side undefined."""
    p, g = np.asarray(pred_rms, float), np.asarray(gt_rms, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(g >= GRADIENT_FLOOR, p / np.where(g > 0, g, 1.0), math.nan)


def sharpness_ratio(
    pred: np.ndarray, pred_mask: np.ndarray, gt: np.ndarray, gt_mask: np.ndarray, erosion: int = EROSION_PX
) -> float:
    """Sharpness of one view: gradient_rms(pred) / gradient_rms(gt), each over its own silhouette.
    NaN when either side has too few interior pixels or the ground truth is flat at this view."""
    return float(ratios(gradient_rms(pred, pred_mask, erosion), gradient_rms(gt, gt_mask, erosion)))


def per_view_sharpness(pred: np.ndarray, pred_masks: np.ndarray, gt: np.ndarray, gt_masks: np.ndarray) -> np.ndarray:
    """sharpness_ratio of each view of (V, H, W, 3) stacks with (V, H, W) masks."""
    return ratios(view_gradients(pred, pred_masks), view_gradients(gt, gt_masks))


def mean_sharpness(ratios: np.ndarray) -> float:
    """Arithmetic mean of the defined ratios (NaN if none). Not the geometric mean: a view rendered
    perfectly flat has ratio 0, the blurriest possible, and must pull the mean down, not drop out."""
    r = np.asarray(ratios, float)
    r = r[np.isfinite(r)]
    return float(r.mean()) if r.size else math.nan
