"""Breakage: whether a prediction is broken, as yes/no per view and per object, so a method's
result is a count and a share rather than an average that a few disasters hide in.

Four detectors (docs/metrics.md, "Sharpness and breakage"):
- collapse: held-out views whose silhouette IoU with the truth's is below a threshold, or whose LPIPS
  is far above the prediction's own typical view (a view that alone goes wrong, e.g. a floater in front
  of the camera);
- Janus: the input view's appearance reappearing at the back (azimuth + 180°), judged against the
  ground truth's own resemblance between those two views, so a symmetric object is not flagged;
- floaters and holes: the usability figures (docs/metrics.md, "Usability"), for splats those of the
  mesh fused from their depth maps, so both representations are judged on the same footing;
- whole-job failure: a job that ran and failed (not one skipped because the method cannot run here).

An object is broken for a method when any detector passes its threshold. Thresholds are data
(`THRESHOLDS`), written in the docs and in every report.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Thresholds:
    """When a detector fires. Provisional values, chosen on the procedural set (docs/metrics.md)."""

    collapse_mask_iou: float = 0.25  # a view collapses: silhouette IoU with the truth below this
    outlier_mads: float = 5.0  # a view's LPIPS this many scaled MADs above the median of the prediction's views...
    outlier_min_gap: float = 0.25  # ...and at least this far above it (LPIPS units) is an outlier
    broken_view_share: float = 0.1  # the object breaks: more than this share of held-out views collapsed or outliers
    janus_margin: float = 0.1  # the back resembles the input this much more (LPIPS) than the truth's back does
    floater_area_share: float = 0.2  # surface area outside the largest component
    boundary_edge_share: float = 0.1  # edges with one face: holes and open borders

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


THRESHOLDS = Thresholds()

# Reasons, in the order they are reported.
REASONS = ("failed", "collapse", "janus", "floaters", "holes")


def collapsed(mask_iou: np.ndarray, thresholds: Thresholds = THRESHOLDS) -> np.ndarray:
    """Per view: True where the silhouette IoU is below the collapse threshold."""
    return np.asarray(mask_iou, float) < thresholds.collapse_mask_iou


def error_outliers(errors: np.ndarray, thresholds: Thresholds = THRESHOLDS) -> np.ndarray:
    """Per view: True where the error (LPIPS) is far outside the prediction's own distribution over its
    views: above median + max(outlier_mads x 1.4826 MAD, outlier_min_gap). Median and MAD, not mean and
    standard deviation, so the outliers themselves do not widen the band; the minimum gap keeps a
    prediction whose views are all nearly equal from flagging small differences."""
    e = np.asarray(errors, float)
    if e.size < 3 or not np.isfinite(e).all():
        return np.zeros(e.shape, bool)
    med = np.median(e)
    spread = 1.4826 * np.median(np.abs(e - med))
    return e > med + max(thresholds.outlier_mads * spread, thresholds.outlier_min_gap)


def janus_distance(
    back: np.ndarray, reference: np.ndarray, net: str, reference_features: list | None = None, device: str = "cpu"
) -> float:
    """How much the render at the back looks like the input view: LPIPS between them, the smaller of the
    back as rendered and mirrored left-right (a texture projected straight through the object shows up
    mirrored from behind; a second face painted on the back shows up unmirrored). `reference_features`:
    lpips_features(reference, net), when the caller keeps them for several predictions (on `device`)."""
    from reconbench.metrics.lpips import lpips_features, lpips_from_features

    ref = reference_features if reference_features is not None else lpips_features(reference, net, device=device)
    both = lpips_features(np.stack([back, back[:, ::-1]]), net, device=device)
    return float(lpips_from_features(both, ref, net).min())


def janus_margin(pred_distance: float, gt_distance: float) -> float:
    """gt − pred: how much more the prediction's back resembles the input than the truth's back does
    (positive: more alike than the truth; a symmetric truth has a small gt distance, so no margin)."""
    return float(gt_distance - pred_distance)


def _first(metrics: Mapping[str, Any], *names: str) -> float:
    for name in names:
        v = metrics.get(name)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(float(v)):
            return float(v)
    return math.nan


def reasons(status: str, metrics: Mapping[str, Any], thresholds: Thresholds = THRESHOLDS) -> list[str]:
    """Which detectors fire for one job (REASONS order); [] for a sound object. A skipped job has no
    verdict (ValueError): the method never ran, so it cannot be broken or sound."""
    if status == "skipped":
        raise ValueError("a skipped job (the method cannot run here) is neither broken nor sound")
    if status != "ok":
        return ["failed"]
    out = []
    share = _first(metrics, "broken_view_share")
    if math.isnan(share):  # input images: the input view is the only one measured
        share = _first(metrics, "input_broken_view_share")
    if share > thresholds.broken_view_share:
        out.append("collapse")
    if _first(metrics, "janus_margin") > thresholds.janus_margin:
        out.append("janus")
    if _first(metrics, "floater_area_share", "extracted_floater_area_share") > thresholds.floater_area_share:
        out.append("floaters")
    if _first(metrics, "boundary_edge_share", "extracted_boundary_edge_share") > thresholds.boundary_edge_share:
        out.append("holes")
    return out


def object_flags(metrics: Mapping[str, Any], thresholds: Thresholds = THRESHOLDS) -> dict[str, Any]:
    """The columns a completed job adds to its record: `broken` (0/1) and `broken_by` (reasons joined by '+')."""
    found = reasons("ok", metrics, thresholds)
    return {"broken": float(bool(found)), "broken_by": "+".join(found)}
