"""Write rendered views to disk: PNG images a person can open, float arrays a program can load."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from reconbench.render.views import RenderedViews


def write_views(views: RenderedViews, out_dir: str | Path, extra: dict[str, Any] | None = None) -> Path:
    """Per view NAME: NAME_rgba.png (colour, alpha = mask), NAME_depth.npz (key "depth": float32 camera
    z-depth in canonical units, 0 off the object; compressed) and NAME_normal.png (outward world
    normals n mapped to (n + 1) / 2 * 255, alpha = mask); plus cameras.json. Returns its path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    records = []
    rgba = views.rgba()
    for k, cam in enumerate(views.cameras):
        alpha = views.mask[k][..., None]
        Image.fromarray(rgba[k], "RGBA").save(out / f"{cam.name}_rgba.png")
        np.savez_compressed(out / f"{cam.name}_depth.npz", depth=views.depth[k].astype(np.float32))
        normal_vis = np.concatenate([(views.normal[k] + 1) / 2 * alpha, alpha], axis=-1)
        Image.fromarray(_to_u8(normal_vis), "RGBA").save(out / f"{cam.name}_normal.png")
        record = cam.to_dict()
        record["files"] = {kind: f"{cam.name}_{kind}" for kind in ("rgba.png", "depth.npz", "normal.png")}
        records.append(record)
    path = out / "cameras.json"
    path.write_text(json.dumps({**(extra or {}), "views": records}, indent=1))
    return path


def _to_u8(x: np.ndarray) -> np.ndarray:
    return np.round(np.clip(x, 0, 1) * 255).astype(np.uint8)
