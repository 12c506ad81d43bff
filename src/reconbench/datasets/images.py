"""Input images without ground truth: a folder of RGB or RGBA photos, one object per image.

The foreground mask comes from the alpha channel; for images without one, from keying out a uniform
background colour (a plain backdrop filling the image's border), or from background removal with rembg
when it is installed and its model is present; otherwise the object fails with a clear reason. How the
mask was made is recorded with each job (provenance `input_mask`). Such objects have no ground-truth asset:
runs report what can be measured honestly (input-view fidelity, usability, time, cost)
and mark ground-truth metrics as not applicable.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from reconbench.assets import AssetLoadError
from reconbench.datasets.base import DatasetObject, DatasetProblem
from reconbench.datasets.discover import Found, _existing_dir, _unique

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def discover_images(root: Path) -> Found:
    """One object per image file directly in `root`; id = file name without suffix."""
    root = _existing_dir(root)
    files = sorted(p for p in root.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    objects = [DatasetObject(p.stem, "images", p, kind="image") for p in files]
    problems = [] if files else [DatasetProblem(root, f"no image files ({', '.join(IMAGE_SUFFIXES)})")]
    return _unique(objects, problems)


def load_input_image_with_mask(path: Path, size: int) -> tuple[np.ndarray, str]:
    """(square RGBA uint8 image of `size` pixels, how its foreground mask was made). The photo is padded to a
    square with transparent background (no distortion, object kept centred), then resized. The mask comes from
    the file's alpha channel; else, when the image's border is one uniform colour (a plain studio background),
    from keying out that colour where it touches the border; else from rembg."""
    from reconbench import limits

    try:
        image = Image.open(path)
        pixels = image.width * image.height
        if pixels > limits.TEXTURE_PIXELS.get():  # checked from the header, before decoding
            raise AssetLoadError(path, limits.TEXTURE_PIXELS.exceeded(pixels, f"image {image.width}x{image.height}"))
        image.load()
    except AssetLoadError:
        raise
    except Exception as exc:
        raise AssetLoadError(path, f"cannot read image: {exc}") from exc
    rgba, how = None, "alpha channel"
    if image.mode in ("RGBA", "LA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        if np.asarray(rgba)[..., 3].min() == 255:
            rgba = None
    if rgba is None:
        rgba, how = _mask_without_alpha(path, image.convert("RGB"))
    side = max(rgba.size)
    square = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    square.paste(rgba, ((side - rgba.width) // 2, (side - rgba.height) // 2))
    return np.asarray(square.resize((size, size), Image.Resampling.LANCZOS), dtype=np.uint8), how


def _mask_without_alpha(path: Path, rgb: Image.Image) -> tuple[Image.Image, str]:
    pixels = np.asarray(rgb)
    colour = uniform_border_colour(pixels)
    if colour is not None:
        mask = key_out_background(pixels, colour)
        if mask.any():
            return Image.fromarray(
                np.dstack([pixels, np.where(mask, 255, 0).astype(np.uint8)]), "RGBA"
            ), f"uniform background {tuple(int(c) for c in colour)} keyed out (tolerance {KEY_TOLERANCE})"
        raise AssetLoadError(
            path,
            f"no alpha channel, and the whole image is one uniform colour {tuple(int(c) for c in colour)}: "
            "no object to key out (give an RGBA image, or install rembg for photos of objects)",
        )
    return _remove_background(path, rgb), "rembg"


# A background is "uniform" when BORDER_SHARE of the pixels in a BORDER-pixel frame lie within KEY_TOLERANCE
# (per channel, 8-bit) of the frame's median colour: a plain studio backdrop, with JPEG noise.
BORDER = 2
BORDER_SHARE = 0.98
KEY_TOLERANCE = 16


def uniform_border_colour(pixels: np.ndarray) -> np.ndarray | None:
    """The median colour of the image's border frame when the border is uniform, else None."""
    h, w = pixels.shape[:2]
    if h <= 2 * BORDER or w <= 2 * BORDER:
        return None
    frame = np.concatenate(
        [
            pixels[:BORDER].reshape(-1, 3),
            pixels[-BORDER:].reshape(-1, 3),
            pixels[BORDER:-BORDER, :BORDER].reshape(-1, 3),
            pixels[BORDER:-BORDER, -BORDER:].reshape(-1, 3),
        ]
    ).astype(np.int16)
    colour = np.median(frame, axis=0)
    close = np.abs(frame - colour).max(axis=1) <= KEY_TOLERANCE
    return colour if close.mean() >= BORDER_SHARE else None


def key_out_background(pixels: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """Foreground mask: everything but the background-coloured regions connected to the border (so a region
    of the same colour inside the object stays part of it)."""
    from scipy import ndimage

    near = np.abs(pixels.astype(np.int16) - colour).max(axis=2) <= KEY_TOLERANCE
    labels, _ = ndimage.label(near)
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    background = np.isin(labels, edge[edge > 0])
    return ~background


def _remove_background(path: Path, rgb: Image.Image) -> Image.Image:
    try:
        import rembg
    except ImportError:
        raise AssetLoadError(
            path,
            "no alpha channel to take the foreground from, its border is not one uniform colour to key out, "
            "and rembg is not installed (pip install rembg, with its model in the local cache; or give RGBA images)",
        ) from None
    try:
        return rembg.remove(rgb).convert("RGBA")
    except Exception as exc:  # typically: the model is not in the local cache and the network is closed
        raise AssetLoadError(path, f"background removal with rembg failed: {exc}") from exc
