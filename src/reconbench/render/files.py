"""Write rendered views to disk: PNG images a person can open, float arrays a program can load."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from reconbench.render.views import RenderedViews


def write_views(views: RenderedViews, out_dir: str | Path, extra: dict[str, Any] | None = None) -> Path:
    """Per view NAME: NAME_rgba.png (colour, alpha = mask), NAME_depth.npy (float32 camera z-depth,
    canonical units, 0 off the object), NAME_normal.npy (float32 world normals) and NAME_normal.png
    (normals mapped to 0..255 for viewing); plus cameras.json. Returns the cameras.json path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    records = []
    for k, cam in enumerate(views.cameras):
        alpha = views.mask[k][..., None]
        rgba = np.concatenate([views.color[k], alpha], axis=-1)
        Image.fromarray(_to_u8(rgba), "RGBA").save(out / f"{cam.name}_rgba.png")
        np.save(out / f"{cam.name}_depth.npy", views.depth[k].astype(np.float32))
        np.save(out / f"{cam.name}_normal.npy", views.normal[k].astype(np.float32))
        normal_vis = np.concatenate([(views.normal[k] + 1) / 2 * alpha, alpha], axis=-1)
        Image.fromarray(_to_u8(normal_vis), "RGBA").save(out / f"{cam.name}_normal.png")
        record = cam.to_dict()
        record["files"] = {kind: f"{cam.name}_{kind}" for kind in ("rgba.png", "depth.npy", "normal.npy", "normal.png")}
        records.append(record)
    path = out / "cameras.json"
    path.write_text(json.dumps({**(extra or {}), "views": records}, indent=1))
    return path


def _to_u8(x: np.ndarray) -> np.ndarray:
    return np.round(np.clip(x, 0, 1) * 255).astype(np.uint8)
