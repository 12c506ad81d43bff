"""Rendered views: the renderer's output for a set of cameras, the same for every asset type."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reconbench.protocol import Camera


@dataclass(frozen=True)
class RenderedViews:
    """Per view: unlit or shaded colour, coverage mask, camera z-depth and outward world normal.

    Arrays are (V, H, W, ...), rows top to bottom; colour is 8-bit sRGB (what image metrics read),
    depth and normal float32; outside the mask colour, depth and normal are 0.
    Depth is the distance along the camera's viewing axis (-Z in OpenGL camera coordinates),
    in units of the canonical frame.
    """

    cameras: tuple[Camera, ...]
    color: np.ndarray  # (V, H, W, 3) uint8
    mask: np.ndarray  # (V, H, W) bool
    depth: np.ndarray  # (V, H, W)
    normal: np.ndarray  # (V, H, W, 3)
    alpha: np.ndarray | None = None  # (V, H, W) float coverage for soft-edged assets (splats); None = mask

    def __len__(self) -> int:
        return len(self.cameras)

    def composited_uint8(self, background: tuple[int, int, int] = (255, 255, 255)) -> np.ndarray:
        """8-bit colour over a solid background (white is the protocol's scoring background)."""
        if self.alpha is None:
            return np.where(self.mask[..., None], self.color, np.asarray(background, dtype=np.uint8))
        a = self.alpha[..., None]
        mixed = self.color * a + np.asarray(background, np.float32) * (1 - a)
        return np.round(mixed).astype(np.uint8)

    def composited(self, background: tuple[int, int, int] = (255, 255, 255)) -> np.ndarray:
        """The same as float32 in [0, 1], what the image metrics take."""
        out = self.composited_uint8(background).astype(np.float32)
        out *= np.float32(1 / 255)
        return out

    def rgba(self) -> np.ndarray:
        """(V, H, W, 4) uint8, alpha 255 on the object (or the coverage, for soft-edged assets)."""
        alpha = self.mask.astype(np.uint8) * 255 if self.alpha is None else np.round(self.alpha * 255).astype(np.uint8)
        return np.concatenate([self.color, alpha[..., None]], axis=-1)

    def points(self, view: int) -> np.ndarray:
        """World-space points of the covered pixels of one view, from its depth map."""
        cam = self.cameras[view]
        j, i = np.nonzero(self.mask[view])
        z = self.depth[view][j, i].astype(np.float64)
        cam_pts = np.stack([(i + 0.5 - cam.cx) / cam.fx * z, -(j + 0.5 - cam.cy) / cam.fy * z, -z], axis=1)
        return cam_pts @ cam.c2w[:3, :3].T + cam.c2w[:3, 3]
