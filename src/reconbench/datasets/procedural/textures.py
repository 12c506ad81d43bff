"""Small deterministic procedural textures: HxWx4 uint8 sRGB images (rows top to bottom).

Colours are (r, g, b) in 0..255. Functions that need randomness take a numpy Generator, so
a fixed seed per object gives the same pixels every time.
"""

from __future__ import annotations

import numpy as np

Colour = tuple[int, int, int]


def _rgba(t: np.ndarray, c0: Colour, c1: Colour) -> np.ndarray:
    """Blend two colours by t in [0, 1] (H x W) into an opaque RGBA image."""
    rgb = np.asarray(c0, np.float64) + np.clip(t, 0, 1)[..., None] * (np.asarray(c1, np.float64) - c0)
    return np.concatenate([np.round(rgb), np.full(t.shape + (1,), 255.0)], -1).astype(np.uint8)


def _coords(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates in [0, 1): u along columns, v along rows."""
    t = (np.arange(size) + 0.5) / size
    return np.meshgrid(t, t)


def checker(size: int, cells: int, c0: Colour, c1: Colour) -> np.ndarray:
    """A cells x cells checkerboard (high frequency when cells is large)."""
    u, v = _coords(size)
    return _rgba(((np.floor(u * cells) + np.floor(v * cells)) % 2).astype(np.float64), c0, c1)


def stripes(size: int, count: int, colours: list[Colour], along_u: bool = True) -> np.ndarray:
    """`count` stripes cycling through `colours`, changing along u (vertical stripes) or along v."""
    u, v = _coords(size)
    index = np.floor((u if along_u else v) * count).astype(int) % len(colours)
    rgb = np.asarray(colours, np.float64)[index]
    return np.concatenate([rgb, np.full(u.shape + (1,), 255.0)], -1).astype(np.uint8)


def value_noise(rng: np.random.Generator, size: int, octaves=(4, 8, 16, 32)) -> np.ndarray:
    """Tileable multi-octave value noise in [0, 1] (bilinear between random lattice values)."""
    total = np.zeros((size, size))
    for k, cells in enumerate(octaves):
        lattice = rng.random((cells, cells))
        x = np.arange(size) * cells / size
        i0, f = x.astype(int), x - x.astype(int)
        i1 = (i0 + 1) % cells
        rows = lattice[i0] * (1 - f)[:, None] + lattice[i1] * f[:, None]
        total += 0.5**k * (rows[:, i0] * (1 - f) + rows[:, i1] * f)
    total -= total.min()
    return total / max(float(total.max()), 1e-12)


def noise(rng: np.random.Generator, size: int, c0: Colour, c1: Colour) -> np.ndarray:
    """Blotchy two-colour noise (glaze, paint, metal)."""
    return _rgba(value_noise(rng, size), c0, c1)


def wood(rng: np.random.Generator, size: int, c0: Colour, c1: Colour, rings: float = 12.0) -> np.ndarray:
    """Wood grain: sharp-edged rings along v, wobbled by noise."""
    u, v = _coords(size)
    t = (v * rings + 1.5 * value_noise(rng, size, (2, 4, 8))) % 1.0
    return _rgba(t**2, c0, c1)


def banded(base: np.ndarray, band: np.ndarray, v0: float, v1: float) -> np.ndarray:
    """`base` with the rows for v in [v0, v1] taken from `band` (a label, a window strip)."""
    size = base.shape[0]
    out = base.copy()
    top, bottom = int(round((1 - v1) * size)), int(round((1 - v0) * size))  # row 0 is v = 1
    out[top:bottom] = band[top:bottom]
    return out
