"""Stage attribution for two-stage methods: how good the generated multi-view images were, and how much of
that the reconstruction kept (docs/metrics.md, "Stage attribution").

A spec may declare its intermediate views (`intermediate_views`, docs/adapters.md):

    {"path": glob under the job's output folder (files sorted by name),
     "grid": [rows, cols],               # optional: each file holds rows x cols views, read row by row
     "cameras": [{"view": k, "azimuth": deg, "elevation": deg}, ...],  # k indexes the views read in that order
     "fov": deg, "distance": d,          # perspective: vertical field of view, camera distance to the origin
     "orthographic": h,                  # or orthographic views of half-height h (instead of fov and distance)
     "background": [r, g, b],            # the views' background (default white); GT and asset are put on it too
     "saved_by": "upstream" | "hook",    # whether upstream writes the files by default or our hook does
     "source": "file:line of where upstream writes the images and sets those cameras"}

Angles follow reconbench's orbit convention (azimuth 0 on +Z, 90 on +X, elevation toward +Y) about the axes
of the method's output frame once converted (spec `frame`); `distance` and `orthographic` are in the units of
the method's output file. The cameras therefore go through the same bounding-box normalisation as the asset
(alignment.initial_transform): they see the ground truth where the method's own frame puts them. The final
asset is rendered at those cameras with that same placement (before ICP, which the images cannot have).

The files: for an external method the runner lists them after the run (upstream/outputs.py,
`discover_intermediate_views`); an in-process method puts their paths in `MethodOutput.info["intermediate_views"]`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from reconbench.protocol.cameras import Camera, orbit_camera
from reconbench.results.tables import (
    STAGE_FINAL_PREFIX as FINAL_PREFIX,  # the final asset at the same cameras vs ground truth
)
from reconbench.results.tables import STAGE_PREFIX as PREFIX  # generated views vs ground truth

# Orthographic views are rendered by the pinhole renderer from this many half-heights away: the
# magnification then varies by under 1% across an object of the half-height's size (depth +-1 at 100).
ORTHO_DISTANCE = 100.0
KEYS = {"path", "grid", "cameras", "fov", "distance", "orthographic", "background", "saved_by", "source"}


def check_intermediate_views(method: str, decl: dict[str, Any]) -> None:
    """Raise ValueError naming what is wrong with a spec's `intermediate_views`."""
    where = f"method {method!r}: intermediate_views"
    unknown = set(decl) - KEYS
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)} (known: {sorted(KEYS)})")
    path = decl.get("path") or ""
    if not path or path.startswith(("/", "\\")) or ".." in Path(path).parts:
        raise ValueError(f"{where}: needs path, a glob under the job's output folder (not {path!r})")
    if not decl.get("cameras"):
        raise ValueError(f"{where}: needs cameras [{{'view', 'azimuth', 'elevation'}}, ...]")
    for cam in decl["cameras"]:
        if set(cam) != {"view", "azimuth", "elevation"}:
            raise ValueError(f"{where}: each camera is {{'view', 'azimuth', 'elevation'}}, got {cam}")
        if not -90 < cam["elevation"] < 90:
            raise ValueError(f"{where}: elevation {cam['elevation']} is not strictly between -90 and 90")
    perspective = "fov" in decl and "distance" in decl
    if perspective == ("orthographic" in decl):
        raise ValueError(f"{where}: give either fov and distance (perspective) or orthographic (half-height)")
    grid = decl.get("grid", [1, 1])
    if len(grid) != 2 or min(grid) < 1:
        raise ValueError(f"{where}: grid must be [rows, cols], got {grid}")
    if decl.get("saved_by", "upstream") not in ("upstream", "hook"):
        raise ValueError(f"{where}: saved_by must be 'upstream' or 'hook'")


def read_views(paths: Sequence[Path], grid: Sequence[int] = (1, 1)) -> list[np.ndarray]:
    """Every view in the files, in order: files as given, each split into rows x cols tiles read row by row."""
    from PIL import Image

    rows, cols = grid
    views = []
    for path in paths:
        with Image.open(path) as im:
            array = np.asarray(im.convert("RGBA" if "A" in im.getbands() else "RGB"))
        h, w = array.shape[0] // rows, array.shape[1] // cols
        if (h * rows, w * cols) != array.shape[:2]:
            raise ValueError(f"{path}: {array.shape[1]}x{array.shape[0]} does not split into a {rows}x{cols} grid")
        views += [array[r * h : (r + 1) * h, c * w : (c + 1) * w] for r in range(rows) for c in range(cols)]
    return views


def stage_cameras(decl: dict[str, Any], size: tuple[int, int], placement: np.ndarray, axes: np.ndarray) -> list[Camera]:
    """The declared cameras in the canonical frame: orbit cameras about the method's converted axes, moved by the
    asset's normalisation (placement = the asset's initial transform, axes = its frame's matrix)."""
    normalise = placement @ np.linalg.inv(axes)  # uniform scale and translation (alignment.initial_transform)
    scale = float(np.cbrt(np.linalg.det(normalise[:3, :3])))
    if not np.allclose(normalise[:3, :3], scale * np.eye(3), atol=1e-9 * max(scale, 1)):
        raise ValueError("the asset's placement is not a uniform scale and translation after its frame conversion")
    if "orthographic" in decl:
        distance = ORTHO_DISTANCE * decl["orthographic"]
        fov = 2 * math.degrees(math.atan(decl["orthographic"] / distance))
    else:
        distance, fov = decl["distance"], decl["fov"]
    out = []
    for k, cam in enumerate(decl["cameras"]):
        c = orbit_camera(f"s{k:02d}", "heldout", cam["elevation"], cam["azimuth"], distance, fov, size[0], size[1])
        c2w = c.c2w.copy()
        c2w[:3, 3] = normalise[:3, :3] @ c2w[:3, 3] + normalise[:3, 3]
        out.append(dataclasses.replace(c, c2w=c2w, radius=distance * scale))
    return out


def score_stages(
    decl: dict[str, Any],
    paths: Sequence[Path],
    asset,
    placement: np.ndarray,
    axes: np.ndarray,
    gt_mesh,
    protocol,
    lpips: Sequence[str] = (),
    save_dir: Path | None = None,
) -> dict[str, float]:
    """stage1_* metrics: the generated views and the final asset (placed by `placement`) against the ground truth,
    all rendered or composited on the views' background, at the declared cameras."""
    from reconbench.render import render_views
    from reconbench.viewscore.score import ViewScoring, composite, score_views

    if not paths:
        raise FileNotFoundError(f"no intermediate view matches {decl['path']!r}")
    views = read_views(paths, decl.get("grid", (1, 1)))
    wanted = [c["view"] for c in decl["cameras"]]
    if max(wanted) >= len(views):
        raise ValueError(f"the spec names view {max(wanted)} but the files hold {len(views)} views")
    chosen = [views[k] for k in wanted]
    shapes = {v.shape[:2] for v in chosen}
    if len(shapes) != 1:
        raise ValueError(f"intermediate views differ in size: {sorted(shapes)}")
    h, w = shapes.pop()
    bg = tuple(decl.get("background", (255, 255, 255)))
    cameras = stage_cameras(decl, (w, h), placement, axes)
    generated = np.stack([composite(v, bg)[0] for v in chosen])
    gt = render_views(gt_mesh, cameras, protocol.lighting.references).composited(bg)
    final = render_views(asset.transformed(placement), cameras, protocol.lighting.predictions).composited(bg)
    settings = ViewScoring.for_evaluation(protocol.evaluation, lpips, bg)
    metrics: dict[str, float] = {"stage1_views": float(len(cameras))}
    for prefix, images in ((PREFIX, generated), (FINAL_PREFIX, final)):
        metrics.update({f"{prefix}{k}": float(v.mean()) for k, v in score_views(images, gt, settings).items()})
    if save_dir is not None:
        _save(save_dir, {"generated": generated, "final": final, "gt": gt})
    return metrics


def _save(folder: Path, stacks: dict[str, np.ndarray]) -> None:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for kind, stack in stacks.items():
        for k, image in enumerate(stack):
            Image.fromarray(np.round(image * 255).astype(np.uint8), "RGB").save(
                folder / f"s{k:02d}_{kind}.png", compress_level=1
            )


def intermediate_view_metrics(
    spec, output, asset, placement: np.ndarray, gt, protocol, lpips: Sequence[str], save_dir: Path, notes: list[str]
) -> dict[str, float]:
    """The run's hook (runner/execute.py): stage1_* metrics of a job whose method declares intermediate views;
    {} otherwise. A failure here is a note on the job, never a failed job: the asset was scored."""
    decl = getattr(spec, "intermediate_views", None)
    if not decl:
        return {}
    if gt is None:
        notes.append("stage attribution needs a ground truth: not applicable to an input image")
        return {}
    try:
        paths = [Path(p) for p in output.info.get("intermediate_views", [])]
        axes = spec.frame_for(output.frame).array  # the spec's declared frames first, then the generic ones
        return score_stages(decl, paths, asset, placement, axes, gt.mesh, protocol, lpips, save_dir)
    except Exception as exc:  # noqa: BLE001 - recorded on the job, the run goes on
        notes.append(f"stage attribution failed: {type(exc).__name__}: {exc}")
        return {}


# ------------------------------------------------------------------------------------------- report
