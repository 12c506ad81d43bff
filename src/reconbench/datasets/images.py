"""Input images without ground truth: a folder of RGB or RGBA photos, one object per image.

The foreground mask comes from the alpha channel, or, for images without one, from background removal
with rembg when it is installed and its model is present; otherwise the object fails with a clear
reason. Such objects have no ground-truth asset: runs report what can be measured honestly (input-view
fidelity, usability, time, cost) and mark ground-truth metrics as not applicable.
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


def load_input_image(path: Path, size: int) -> np.ndarray:
    """The photo as a square RGBA uint8 image of `size` pixels: padded to a square with transparent
    background (no distortion, object kept centred), then resized; alpha from the file or from rembg."""
    try:
        image = Image.open(path)
        image.load()
    except Exception as exc:
        raise AssetLoadError(path, f"cannot read image: {exc}") from exc
    if image.mode in ("RGBA", "LA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        if np.asarray(rgba)[..., 3].min() == 255:
            rgba = _remove_background(path, image.convert("RGB"))
    else:
        rgba = _remove_background(path, image.convert("RGB"))
    side = max(rgba.size)
    square = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    square.paste(rgba, ((side - rgba.width) // 2, (side - rgba.height) // 2))
    return np.asarray(square.resize((size, size), Image.Resampling.LANCZOS), dtype=np.uint8)


def _remove_background(path: Path, rgb: Image.Image) -> Image.Image:
    try:
        import rembg
    except ImportError:
        raise AssetLoadError(path, "no alpha channel to take the foreground from, and rembg is not installed "
                                   "(pip install rembg, with its model in the local cache; or give RGBA images)") from None
    try:
        return rembg.remove(rgb).convert("RGBA")
    except Exception as exc:  # typically: the model is not in the local cache and the network is closed
        raise AssetLoadError(path, f"background removal with rembg failed: {exc}") from exc
