"""Per-view sharpness and breakage quantities, computed from the renders evaluation already made
(plus one view: the back of the first input camera, for the Janus detector).

`prepare_reference` runs once per (object, protocol) beside the ground truth; `score` runs for every
prediction and returns scalar metrics plus `views`, the per-view values (the report's strip of worst
views reads them from renders/METHOD/OBJECT/views.json). Definitions: docs/metrics.md, "Sharpness and
breakage".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from reconbench.metrics import breakage, sharpness
from reconbench.metrics.image import mask_iou
from reconbench.protocol import Camera, Protocol
from reconbench.render import render_views

# Key of the per-view lists inside a metrics dict (not a number: kept out of tables and CSV).
VIEWS_KEY = "views"
# Measured on held-out views or against the truth: not applicable to an input photo without ground truth.
GROUND_TRUTH_ONLY = (
    "sharpness",
    "collapsed_views",
    "outlier_views",
    "broken_view_share",
    "janus_lpips_gt",
    "janus_margin",
)


def back_camera(camera: Camera) -> Camera:
    """The camera turned 180° about the up axis (+Y) around the origin: same elevation, distance and
    intrinsics, azimuth + 180°."""
    turn = np.diag([-1.0, 1.0, -1.0, 1.0])
    az = camera.azimuth if math.isnan(camera.azimuth) else (camera.azimuth + 180.0) % 360.0
    return replace(camera, name=f"{camera.name}_back", role="heldout", c2w=turn @ camera.c2w, azimuth=az)


@dataclass
class Reference:
    """The ground truth's side of the sharpness and Janus measures, computed once per object."""

    camera: Camera | None  # back of the first input camera
    input_image: np.ndarray | None  # (H, W, 3) ground truth at the first input camera, scoring shading
    net: str | None  # LPIPS backbone used; None = LPIPS off, Janus not measured
    gt_distance: float = math.nan  # janus_distance of the ground truth's own back
    input_features: list | None = None  # LPIPS features of input_image
    gradients: np.ndarray | None = None  # sharpness.gradient_rms of the truth at every protocol camera


def prepare_reference(
    mesh: Any,
    protocol: Protocol,
    views: Any,
    images: np.ndarray,
    lpips_nets: Sequence[str],
    device: str = "cpu",
    gradients: np.ndarray | None = None,
    gt_distance: float | None = None,
) -> Reference:
    """The truth's detail per view, and its render at the back of the first input camera with its own
    resemblance to the input view (`views`, `images`: the truth's renders and scoring images at protocol.cameras).
    `gradients`, `gt_distance`: those values kept from an earlier preparation (ground_truth_cache.py)."""
    gradients = sharpness.view_gradients(images, views.mask) if gradients is None else gradients
    roles = [c.role for c in protocol.cameras]
    if "input" not in roles:
        return Reference(None, None, None, gradients=gradients)
    first = roles.index("input")
    camera, image = back_camera(protocol.cameras[first]), images[first]
    ref = Reference(camera, image, lpips_nets[0] if lpips_nets else None, gradients=gradients)
    if ref.net is not None:
        from reconbench.metrics.lpips import lpips_features

        ref.input_features = lpips_features(image, ref.net, device=device)
        if gt_distance is None:
            back = render_views(mesh, [camera], protocol.lighting.references).composited()[0]
            gt_distance = breakage.janus_distance(back, image, ref.net, ref.input_features, device)
        ref.gt_distance = gt_distance
    return ref


def score(
    janus_values: dict[str, float],
    views: Any,
    images: np.ndarray,
    gt: Any,
    other: dict[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Sharpness, collapse and Janus of one prediction (`janus_values`: `janus` of its `janus_view`;
    `views`/`images`: its renders at the protocol's cameras; `gt`: an evaluation.GroundTruth with `per_view`
    set; `other`: per-view values of other metrics, kept beside these in `views`, its `mask_iou` reused).
    Scalars per role, like the other image metrics. Reads arrays only (no rendering), so it may run off the
    thread that renders."""
    protocol = gt.protocol
    sharp = sharpness.ratios(sharpness.view_gradients(images, views.mask), gt.per_view.gradients)
    iou = (other or {}).get("mask_iou")
    iou = mask_iou(views.mask, gt.views.mask) if iou is None else iou
    collapsed = breakage.collapsed(iou)
    roles = np.array([c.role for c in protocol.cameras])
    held = roles == "heldout"
    outlier = np.zeros(len(roles), bool)
    lpips = next((v for k, v in (other or {}).items() if k.startswith("lpips_")), None)
    if lpips is not None:  # a held-out view far worse than the prediction's other held-out views
        outlier[held] = breakage.error_outliers(np.asarray(lpips)[held])
    out: dict[str, Any] = {}
    for prefix, role in (("", "heldout"), ("input_", "input")):
        pick = roles == role
        out[f"{prefix}sharpness"] = sharpness.mean_sharpness(sharp[pick])
        out[f"{prefix}collapsed_views"] = float(collapsed[pick].sum())
        out[f"{prefix}broken_view_share"] = float((collapsed | outlier)[pick].mean()) if pick.any() else math.nan
    out["outlier_views"] = float(outlier.sum()) if lpips is not None else math.nan
    out.update(janus_values)
    out[VIEWS_KEY] = {
        "name": [c.name for c in protocol.cameras],
        "role": roles.tolist(),
        "sharpness": _floats(sharp),
        "mask_iou": _floats(iou),
        "collapsed": collapsed.astype(int).tolist(),
        "outlier": outlier.astype(int).tolist(),
        **{k: _floats(v) for k, v in (other or {}).items() if k != "mask_iou"},
    }
    return out


def score_input_image(
    views: Any,
    target: np.ndarray,
    target_mask: np.ndarray,
    iou: float,
    asset: Any,
    protocol: Protocol,
    lpips_nets: Sequence[str],
) -> dict[str, Any]:
    """Input photo without ground truth: sharpness and collapse of the input view against the photo, and
    the back's resemblance to the photo (uncalibrated: no truth to compare with, so no Janus margin)."""
    s = sharpness.sharpness_ratio(views.composited()[0], views.mask[0], target[0], target_mask[0])
    broken = bool(breakage.collapsed(np.array([iou]))[0])
    out: dict[str, Any] = {
        "input_sharpness": s,
        "input_collapsed_views": float(broken),
        "input_broken_view_share": float(broken),
    }
    ref = Reference(back_camera(protocol.input_cameras[0]), target[0], lpips_nets[0] if lpips_nets else None)
    out.update(janus(janus_view(asset, ref, protocol), ref))
    out[VIEWS_KEY] = {
        "name": [views.cameras[0].name],
        "role": ["input"],
        "sharpness": _floats([s]),
        "mask_iou": _floats([iou]),
        "collapsed": [int(broken)],
        "outlier": [0],
    }
    return out


def janus_view(asset: Any, ref: Reference | None, protocol: Protocol) -> np.ndarray | None:
    """The prediction's scoring image at the back of the first input camera (None when Janus is not measured)."""
    if ref is None or ref.net is None or ref.camera is None or ref.input_image is None:
        return None
    return render_views(asset, [ref.camera], protocol.lighting.predictions).composited()[0]


def janus(back: np.ndarray | None, ref: Reference | None, device: str = "cpu") -> dict[str, float]:
    """The Janus values of a prediction whose `janus_view` is `back` (NaN when not measured)."""
    if back is None or ref is None or ref.net is None or ref.input_image is None:
        return {"janus_lpips": math.nan, "janus_lpips_gt": math.nan, "janus_margin": math.nan}
    if ref.input_features is not None:  # on the device the truth was prepared on
        device = str(ref.input_features[0].device)
    d = breakage.janus_distance(back, ref.input_image, ref.net, ref.input_features, device)
    return {
        "janus_lpips": d,
        "janus_lpips_gt": ref.gt_distance,
        "janus_margin": breakage.janus_margin(d, ref.gt_distance),
    }


def _floats(values: Any) -> list[float | None]:
    """JSON-safe: NaN becomes None."""
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(values, float)]
