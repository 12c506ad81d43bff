"""The input image(s) of an upstream method, written the way it expects them (spec `inputs`).

`inputs` in a spec: {"background": "transparent" | "white" | "grey", "resolution": int (square side; absent:
keep the size), "removes_background": bool (informational: the method runs its own matting), "filename":
"{name}.png" (the pattern of the file name), "batch": bool (the command takes several input images,
one per asset, in one process via {inputs}: used to time cold and warm runs), "recentre": float (crop to
the object and scale it so its longer side fills this fraction of the square frame, centred: for methods
whose command line does not recentre but whose model expects a framed object)}.

- transparent: RGBA PNG, alpha = foreground (what most methods want: they mask or matte themselves);
- white / grey: RGB PNG composited over white (255) or grey (127, CRM's and TripoSR's 0.5 grey);
- recentre: the object (alpha > 0) is cropped, resized so its longer side is `recentre` x the frame side,
  and centred on a transparent square, as OpenLRM's `Preprocessor.step_recenter` does (border 1 - recentre);
  done before `resolution`, so the final resize only changes the pixel count;
- resolution: a non-square image is first padded (transparent) to a centred square, then resized with
  Lanczos on premultiplied alpha (Pillow's RGBA resampling), so no dark fringe bleeds in from
  transparent pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from reconbench.methods.base import MethodSpec
from reconbench.methods.recipe import InputSpec

BACKGROUND_VALUES = {"white": 255, "grey": 127}


def prepare_method_inputs(spec: MethodSpec, images: Sequence[np.ndarray], folder: Path, name: str) -> list[Path]:
    """Write `images` (RGBA uint8, (H, W, 4), alpha = foreground) into `folder` as `spec.inputs` says;
    return the paths, in order. One image is named by the filename pattern with `name`; several get
    `name_000`, `name_001`, ... in its place."""
    if not images:
        raise ValueError(f"method {spec.name!r}: no input image to prepare")
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        raise ValueError(f"method {spec.name!r}: input name must be a plain file stem, got {name!r}")
    opts = spec.recipe.inputs if spec.recipe is not None else InputSpec()
    background = opts.background
    if background not in ("transparent", *BACKGROUND_VALUES):
        raise ValueError(f"method {spec.name!r}: unknown input background {background!r}")
    pattern = opts.filename
    resolution = opts.resolution
    recentre = opts.recentre
    if recentre is not None and not 0 < float(recentre) <= 1:
        raise ValueError(f"method {spec.name!r}: inputs.recentre must be a fraction in (0, 1], got {recentre!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)

    stems = [name] if len(images) == 1 else [f"{name}_{i:03d}" for i in range(len(images))]
    paths = []
    for stem, image in zip(stems, images):
        rgba = _as_rgba(image, spec.name)
        if recentre is not None:
            rgba = recentre_object(rgba, float(recentre), spec.name)
        if resolution is not None:
            rgba = _square_resize(rgba, int(resolution))
        path = folder / pattern.replace("{name}", stem)
        if background == "transparent":
            Image.fromarray(rgba, "RGBA").save(path)
        else:
            Image.fromarray(composite(rgba, BACKGROUND_VALUES[background]), "RGB").save(path)
        paths.append(path)
    return paths


def composite(rgba: np.ndarray, background: int) -> np.ndarray:
    """RGB uint8 of an RGBA uint8 image over a uniform grey level (0-255), rounded."""
    alpha = rgba[..., 3:].astype(np.float64) / 255
    rgb = rgba[..., :3].astype(np.float64) * alpha + background * (1 - alpha)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def _as_rgba(image: np.ndarray, method: str) -> np.ndarray:
    a = np.asarray(image)
    if a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] not in (3, 4):
        raise ValueError(f"method {method!r}: input images must be uint8 (H, W, 4) RGBA, got {a.dtype} {a.shape}")
    if a.shape[2] == 3:
        a = np.concatenate([a, np.full(a.shape[:2] + (1,), 255, np.uint8)], axis=2)
    return np.ascontiguousarray(a)


def _square_resize(rgba: np.ndarray, size: int) -> np.ndarray:
    h, w = rgba.shape[:2]
    if h != w:
        side = max(h, w)
        padded = np.zeros((side, side, 4), np.uint8)
        top, left = (side - h) // 2, (side - w) // 2
        padded[top : top + h, left : left + w] = rgba
        rgba = padded
    if rgba.shape[0] == size:
        return rgba
    return np.asarray(Image.fromarray(rgba, "RGBA").resize((size, size), Image.Resampling.LANCZOS))


def recentre_object(rgba: np.ndarray, fraction: float, method: str = "") -> np.ndarray:
    """The object (alpha > 0) cropped, scaled so its longer side is `fraction` of a square frame whose side is
    the image's longer side, and centred on transparency (Lanczos on premultiplied alpha, like `resolution`)."""
    ys, xs = np.nonzero(rgba[..., 3] > 0)
    if len(xs) == 0:
        raise ValueError(
            f"method {method!r}: cannot recentre an input image with no foreground (alpha is 0 everywhere)"
        )
    crop = rgba[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    side = max(rgba.shape[:2])
    h, w = crop.shape[:2]
    scale = fraction * side / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    resized = np.asarray(Image.fromarray(np.ascontiguousarray(crop), "RGBA").resize((nw, nh), Image.Resampling.LANCZOS))
    out = np.zeros((side, side, 4), np.uint8)
    top, left = (side - nh) // 2, (side - nw) // 2
    out[top : top + nh, left : left + nw] = resized
    return out
