"""The voxel-cnn training set: procedural variants rendered at the protocol's input camera, with
occupancy and colour targets computed from the generated meshes.

Per variant (datasets/procedural/variants.py):
  image   the common renderer's view from the `default` protocol's input camera (512^2, the input
          lighting), box-filtered to 64^2 exactly as `method.run` treats an input image;
  occ     fraction of each 32^3 cell inside the mesh: surface samples mark a 64^3 shell, the closed
          inside is filled (every procedural piece is closed), and 2x2x2 blocks are averaged;
  colour  albedo near the surface: unlit renders from 12 directions give coloured surface points,
          averaged per cell, spread to nearby empty cells by nearest neighbour (colour is only
          learned within BAND cells of the surface, `band`).
The set is built once per (variants version, index range) and cached under $RECONBENCH_CACHE.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reconbench.methods.voxel_cnn.network import CROP, GRID, HALF_EXTENT, IMAGE_SIZE
from reconbench.system.paths import cache_root

DATA_VERSION = "2"  # bump when targets or images change
PROTOCOL = "default"  # the input camera the network is trained for (shared by `sparse4`'s first view)
COLOUR_VIEWS = 12
COLOUR_RESOLUTION = 96
SURFACE_SAMPLES = 200_000
BAND = 2  # cells from the surface where colour is learned


@dataclass(frozen=True)
class TrainingSet:
    """Arrays of N samples (uint8 to keep the cache small) and where they came from."""

    images: np.ndarray  # (N, 64, 64, 4) RGBA
    occupancy: np.ndarray  # (N, 32, 32, 32) fraction inside x 255, indexed [x, y, z]
    colour: np.ndarray  # (N, 32, 32, 32, 3) albedo sRGB
    band: np.ndarray  # (N, 32, 32, 32) bool: colour is supervised here
    families: np.ndarray  # (N,) family id per sample
    seeds: np.ndarray  # (N,) int64 variant seed per sample
    start: int  # first variant index
    build_seconds: float  # wall seconds it took to build (when it was built, possibly by an earlier run)
    cached_at: Path | None = None

    def __len__(self) -> int:
        return len(self.images)


def image_to_input(rgba: np.ndarray) -> np.ndarray:
    """An RGBA uint8 image (square) -> its central CROP as (4, 64, 64) float32 in [0, 1], colour
    premultiplied by coverage; box-filtered so every source pixel counts once (exactly when the crop
    is a multiple of 64 pixels: 384 of 512)."""
    rgba = np.asarray(rgba)
    if rgba.ndim != 3 or rgba.shape[2] != 4:
        raise ValueError(f"expected an RGBA image (H, W, 4), got shape {rgba.shape}")
    h, w = rgba.shape[:2]
    if h != w:
        raise ValueError(f"voxel-cnn takes square input images, got {w}x{h}")
    side = int(round(h * CROP))
    lo = (h - side) // 2
    x = rgba[lo : lo + side, lo : lo + side].astype(np.float32) / 255.0
    x[..., :3] *= x[..., 3:]
    h = side
    if h % IMAGE_SIZE == 0:
        k = h // IMAGE_SIZE
        x = x.reshape(IMAGE_SIZE, k, IMAGE_SIZE, k, 4).mean((1, 3))
    else:
        from PIL import Image

        x = np.stack(
            [np.asarray(Image.fromarray(x[..., c]).resize((IMAGE_SIZE, IMAGE_SIZE), Image.BOX)) for c in range(4)], -1
        )
    return np.ascontiguousarray(x.transpose(2, 0, 1), dtype=np.float32)


def occupancy_targets(mesh, rng: np.random.Generator) -> np.ndarray:
    """(32, 32, 32) fraction of each cell inside the closed mesh, indexed [x, y, z]."""
    import trimesh
    from scipy import ndimage

    v, f = mesh.geometry()
    tm = trimesh.Trimesh(v, f, process=False)
    fine = 2 * GRID
    points, _ = trimesh.sample.sample_surface(tm, SURFACE_SAMPLES, seed=int(rng.integers(2**31)))
    idx = np.clip(np.floor((points + HALF_EXTENT) / (2 * HALF_EXTENT) * fine).astype(int), 0, fine - 1)
    shell = np.zeros((fine,) * 3, bool)
    shell[idx[:, 0], idx[:, 1], idx[:, 2]] = True
    solid = ndimage.binary_fill_holes(shell)
    return solid.reshape(GRID, 2, GRID, 2, GRID, 2).mean((1, 3, 5))


def colour_targets(mesh, occupancy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(32^3 x 3 uint8 colour, 32^3 bool band): unlit surface colour per cell, spread outward."""
    from scipy import ndimage

    from reconbench.protocol import UNLIT, fibonacci_directions
    from reconbench.protocol.cameras import orbit_camera
    from reconbench.render import render_views

    cams = [
        orbit_camera(f"c{i}", "heldout", e, a, 2.0, 49.1, COLOUR_RESOLUTION, COLOUR_RESOLUTION)
        for i, (e, a) in enumerate(fibonacci_directions(COLOUR_VIEWS))
    ]
    views = render_views(mesh, cams, UNLIT)
    points = np.concatenate([views.points(k) for k in range(len(cams))])
    colours = np.concatenate([views.color[k][views.mask[k]] for k in range(len(cams))]).astype(np.float64)
    cell = np.clip(np.floor((points + HALF_EXTENT) / (2 * HALF_EXTENT) * GRID).astype(int), 0, GRID - 1)
    flat = np.ravel_multi_index(cell.T, (GRID,) * 3)
    count = np.bincount(flat, minlength=GRID**3)
    total = np.stack([np.bincount(flat, colours[:, c], GRID**3) for c in range(3)], -1)
    seen = (count > 0).reshape((GRID,) * 3)
    mean = (total / np.maximum(count, 1)[:, None]).reshape((GRID,) * 3 + (3,))
    # Nearest seen cell for every cell: colour is defined everywhere, learned only near the surface.
    dist, nearest = ndimage.distance_transform_edt(~seen, return_indices=True)
    filled = mean[nearest[0], nearest[1], nearest[2]]
    near_surface = ndimage.binary_dilation(occupancy > 0, iterations=BAND)
    band = near_surface & (dist <= BAND)
    return np.round(filled).astype(np.uint8), band


def render_sample(index: int) -> dict[str, np.ndarray | str | int]:
    """One training sample (image and targets) of variant `index`."""
    from reconbench.datasets.procedural.variants import build_variant
    from reconbench.protocol import get_protocol
    from reconbench.render import render_views

    variant = build_variant(index)
    protocol = get_protocol(PROTOCOL)
    rgba = render_views(variant.mesh, protocol.input_cameras[:1], protocol.lighting.inputs).rgba()[0]
    image = np.round(image_to_input(rgba).transpose(1, 2, 0) * 255).astype(np.uint8)
    occ = occupancy_targets(variant.mesh, np.random.default_rng(variant.seed))
    colour, band = colour_targets(variant.mesh, occ)
    return {
        "image": image,
        "occupancy": np.round(occ * 255).astype(np.uint8),
        "colour": colour,
        "band": band,
        "family": variant.family,
        "seed": variant.seed,
    }


def cache_dir() -> Path:
    return cache_root() / "voxel_cnn"


def training_set(count: int, start: int = 0, progress: Callable[[int], None] | None = None) -> TrainingSet:
    """Variants start .. start + count - 1, built once and cached (atomic rename), then read back."""
    from reconbench.datasets.procedural.variants import VARIANTS_VERSION

    if count < 1 or start < 0:
        raise ValueError(f"need count >= 1 and start >= 0, got count={count}, start={start}")
    path = cache_dir() / f"data-v{DATA_VERSION}-variants-v{VARIANTS_VERSION}-{start}-{start + count}.npz"
    if not path.is_file():
        started = time.perf_counter()
        samples = []
        for i in range(start, start + count):
            samples.append(render_sample(i))
            if progress:
                progress(1)
        arrays = {key: np.stack([s[key] for s in samples]) for key in samples[0]}
        arrays["build_seconds"] = np.float64(time.perf_counter() - started)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=path.parent)
        os.close(fd)
        np.savez_compressed(tmp, **arrays)
        os.chmod(tmp, 0o644)  # mkstemp makes it private
        os.replace(tmp, path)
    elif progress:
        progress(count)
    with np.load(path) as z:
        return TrainingSet(
            z["image"],
            z["occupancy"],
            z["colour"],
            z["band"],
            z["family"],
            z["seed"],
            start,
            float(z["build_seconds"]),
            path,
        )
