"""Draw Gaussian splats with moderngl: sorted, alpha-composited 2D ellipses (EWA), one instanced quad
per Gaussian, on the same cameras and the same headless context as meshes.

Projection, opacity and colour rules live in splat_math.py (shared with the exact reference and the
differentiable PyTorch compositor). Outputs follow RenderedViews: colour (un-premultiplied, 8-bit),
alpha, expected depth, normals from the depth map, and mask = alpha > 0.5.
"""

from __future__ import annotations

from collections.abc import Sequence

import moderngl
import numpy as np

from reconbench.protocol import Camera
from reconbench.render.context import gl_context, load_shader
from reconbench.render.splat_math import project
from reconbench.render.views import RenderedViews

MASK_ALPHA = 0.5  # a pixel belongs to the object's silhouette where accumulated opacity exceeds this

_CORNERS = np.array([[-1, -1], [1, -1], [-1, 1], [1, 1]], dtype="f4")


class SplatRenderer:
    def __init__(self, ctx: moderngl.Context | None = None) -> None:
        self.ctx = ctx or gl_context()
        self.program = self.ctx.program(
            vertex_shader=load_shader("splat.vert"), fragment_shader=load_shader("splat.frag")
        )
        self._corners = self.ctx.buffer(_CORNERS.tobytes())
        self._framebuffers: dict[tuple[int, int], moderngl.Framebuffer] = {}

    def render(self, splats, cameras: Sequence[Camera]) -> RenderedViews:
        n, h, w = len(cameras), cameras[0].height, cameras[0].width
        if any((c.width, c.height) != (w, h) for c in cameras):
            raise ValueError("all cameras of one call must share a resolution")
        premult = np.empty((n, h, w, 4), np.float32)
        depth_acc = np.empty((n, h, w, 4), np.float32)
        for k, cam in enumerate(cameras):
            fbo = self._draw(splats, cam)
            fbo.read_into(premult[k], components=4, attachment=0, dtype="f4")
            fbo.read_into(depth_acc[k], components=4, attachment=1, dtype="f4")
        premult, depth_acc = premult[:, ::-1], depth_acc[:, ::-1]  # GL rows start at the bottom
        alpha = premult[..., 3]
        covered = alpha > 0
        safe = np.where(covered, alpha, 1.0)
        color = np.clip(premult[..., :3] / safe[..., None], 0.0, 1.0)
        depth = np.where(covered, depth_acc[..., 0] / safe, 0.0).astype(np.float32)
        mask = alpha > MASK_ALPHA
        depth = np.where(mask, depth, 0.0).astype(np.float32)
        normal = np.stack([depth_normals(depth[k], mask[k], cam) for k, cam in enumerate(cameras)])
        return RenderedViews(
            cameras=tuple(cameras),
            color=np.round(np.where(covered[..., None], color, 0.0) * 255).astype(np.uint8),
            mask=mask,
            depth=depth,
            normal=normal,
            alpha=alpha.astype(np.float32),
        )

    def _framebuffer(self, width: int, height: int) -> moderngl.Framebuffer:
        key = (width, height)
        if key not in self._framebuffers:
            self._framebuffers[key] = self.ctx.framebuffer(
                color_attachments=[self.ctx.texture(key, 4, dtype="f4"), self.ctx.texture(key, 4, dtype="f4")]
            )
        return self._framebuffers[key]

    def _draw(self, splats, cam: Camera) -> moderngl.Framebuffer:
        """Composite the cloud front to back in growing batches. Between batches, the splats still to draw
        whose whole footprint lies in screen tiles that are already opaque (transmittance below T_MIN, where
        3DGS stops a pixel too) are dropped: they cannot change the image. This bounds the work for clouds of
        wide, overlapping Gaussians (every splat covering the screen), which would otherwise cost
        N x pixels fragments per view."""
        fbo = self._framebuffer(cam.width, cam.height)
        fbo.use()
        fbo.clear(0.0, 0.0, 0.0, 0.0)
        p = project(splats, cam)
        center, extent = p.center, _clamped_extent(p.center, p.extent, cam.width, cam.height)
        on_screen = _footprint_tiles(center, extent, cam.width, cam.height, TILE)
        keep = on_screen[:, 0] <= on_screen[:, 2]
        instances = np.hstack([center, extent, p.conic, p.color, p.opacity[:, None], p.depth[:, None]])[keep].astype(
            "f4"
        )
        tiles = on_screen[keep]
        self.program["u_size"].value = (float(cam.width), float(cam.height))
        self.program["u_height"].value = float(cam.height)
        self.ctx.disable(moderngl.DEPTH_TEST | moderngl.CULL_FACE)
        self.ctx.enable(moderngl.BLEND)
        # Front to back ("under"): dst += (1 - dst.alpha) * src, for colour and alpha alike.
        self.ctx.blend_func = moderngl.ONE_MINUS_DST_ALPHA, moderngl.ONE
        self.ctx.blend_equation = moderngl.FUNC_ADD
        try:
            start, size = 0, FIRST_BATCH
            while start < len(instances):
                batch, batch_tiles = instances[start : start + size], tiles[start : start + size]
                if start > 0:
                    batch = batch[~_hidden(batch_tiles, self._open_tiles(fbo, cam))]
                if len(batch):
                    self._draw_batch(batch)
                start, size = start + size, size * 2
        finally:
            self.ctx.disable(moderngl.BLEND)
        return fbo

    def _draw_batch(self, instances: np.ndarray) -> None:
        buffer = self.ctx.buffer(instances.tobytes())
        vao = self.ctx.vertex_array(
            self.program,
            [
                (self._corners, "2f", "in_corner"),
                (buffer, "2f 2f 3f 4f 1f/i", "in_center", "in_extent", "in_conic", "in_color", "in_depth"),
            ],
        )
        try:
            vao.render(moderngl.TRIANGLE_STRIP, instances=len(instances))
        finally:
            vao.release()
            buffer.release()

    def _open_tiles(self, fbo: moderngl.Framebuffer, cam: Camera) -> np.ndarray:
        """Per TILE x TILE screen tile (rows top to bottom), whether any pixel still lets light through."""
        alpha = np.frombuffer(fbo.read(components=4, attachment=0, dtype="f4"), np.float32).reshape(
            cam.height, cam.width, 4
        )[::-1, :, 3]
        ty, tx = -(-cam.height // TILE), -(-cam.width // TILE)
        padded = np.ones((ty * TILE, tx * TILE), np.float32)
        padded[: cam.height, : cam.width] = alpha
        return (padded < 1.0 - T_MIN).reshape(ty, TILE, tx, TILE).any(axis=(1, 3))


# Early termination, as in 3DGS's rasteriser: a pixel whose transmittance is below T_MIN is finished.
T_MIN = 1e-4
TILE = 16  # pixels per side of the screen tiles the termination test works on
FIRST_BATCH = 64  # splats in the first batch; each next batch is twice as large


def _clamped_extent(center: np.ndarray, extent: np.ndarray, width: int, height: int) -> np.ndarray:
    """Half sizes no larger than the distance from the centre to the far edge of the screen (plus a pixel):
    the quad still covers every pixel it can reach, and never holds astronomically large coordinates."""
    reach = (
        np.stack(
            [
                np.maximum(np.abs(center[:, 0]), np.abs(center[:, 0] - width)),
                np.maximum(np.abs(center[:, 1]), np.abs(center[:, 1] - height)),
            ],
            axis=1,
        )
        + 1.0
    )
    return np.minimum(extent, reach)


def _footprint_tiles(center: np.ndarray, extent: np.ndarray, width: int, height: int, tile: int) -> np.ndarray:
    """(x0, y0, x1, y1) inclusive tile range of each splat's footprint clipped to the screen; x0 > x1 when
    the footprint misses the screen."""
    lo = np.floor((center - extent) / tile)
    hi = np.floor((center + extent) / tile)
    limit = np.array([-(-width // tile) - 1, -(-height // tile) - 1], dtype=np.float64)
    miss = np.any((hi < 0) | (lo > limit), axis=1)
    lo, hi = np.clip(lo, 0, limit), np.clip(hi, 0, limit)
    out = np.concatenate([lo, hi], axis=1).astype(np.int64)
    out[miss] = (1, 1, 0, 0)
    return out


def _hidden(tiles: np.ndarray, open_tiles: np.ndarray) -> np.ndarray:
    """Splats all of whose footprint tiles are closed (no open tile in the rectangle), by a summed-area table."""
    sat = np.zeros((open_tiles.shape[0] + 1, open_tiles.shape[1] + 1), np.int64)
    sat[1:, 1:] = open_tiles.astype(np.int64).cumsum(0).cumsum(1)
    x0, y0, x1, y1 = tiles.T
    count = sat[y1 + 1, x1 + 1] - sat[y0, x1 + 1] - sat[y1 + 1, x0] + sat[y0, x0]
    return count == 0


def depth_normals(depth: np.ndarray, mask: np.ndarray, cam: Camera) -> np.ndarray:
    """World-space normals of the surface a depth map describes (central differences of the
    back-projected points, turned toward the camera); 0 off the mask or without both neighbours."""
    h, w = depth.shape
    j, i = np.mgrid[0:h, 0:w]
    x = (i + 0.5 - cam.cx) / cam.fx * depth
    y = -(j + 0.5 - cam.cy) / cam.fy * depth
    pts = np.stack([x, y, -depth], axis=-1)  # OpenGL camera coordinates
    valid = mask.copy()
    dx = np.zeros_like(pts)
    dy = np.zeros_like(pts)
    dx[:, 1:-1] = pts[:, 2:] - pts[:, :-2]
    dy[1:-1] = pts[2:] - pts[:-2]
    valid[:, [0, -1]] = False
    valid[[0, -1], :] = False
    valid[:, 1:-1] &= mask[:, 2:] & mask[:, :-2]
    valid[1:-1] &= mask[2:] & mask[:-2]
    n = np.cross(dx, dy)
    length = np.linalg.norm(n, axis=-1, keepdims=True)
    valid &= length[..., 0] > 0
    n = np.where(valid[..., None], n / np.where(length > 0, length, 1.0), 0.0)
    facing = (n * -pts).sum(-1) < 0  # point toward the camera (origin in camera space)
    n[facing] *= -1
    return (n @ cam.c2w[:3, :3].T).astype(np.float32)
