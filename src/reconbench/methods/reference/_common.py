"""Helpers shared by the reference methods: silhouettes, projection, output."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from reconbench.protocol import Camera


def silhouette(image: np.ndarray) -> np.ndarray:
    """Foreground mask of an RGBA input image (alpha above half)."""
    return np.asarray(image)[..., 3] > 127


def project(points: np.ndarray, cam: Camera) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixel column, row (continuous, y down) and camera z-depth of world points."""
    p = (points - cam.position) @ cam.c2w[:3, :3]  # camera coordinates
    depth = -p[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        u = cam.cx + cam.fx * p[:, 0] / depth
        v = cam.cy - cam.fy * p[:, 1] / depth
    return u, v, depth


@contextmanager
def stage(seconds: dict[str, float], name: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - start
