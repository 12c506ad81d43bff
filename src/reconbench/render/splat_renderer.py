"""Draw Gaussian splats with moderngl: sorted, alpha-composited 2D ellipses (EWA), one instanced quad
per Gaussian, on the same cameras and the same headless context as meshes.

Projection, opacity and colour rules live in splat_math.py (shared with the exact reference and the
differentiable PyTorch compositor). Outputs follow RenderedViews: colour (un-premultiplied, 8-bit),
alpha, expected depth, normals from the depth map, and mask = alpha > 0.5.
"""

from __future__ import annotations

from typing import Sequence

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
        self.program = self.ctx.program(vertex_shader=load_shader("splat.vert"), fragment_shader=load_shader("splat.frag"))
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
        fbo = self._framebuffer(cam.width, cam.height)
        fbo.use()
        fbo.clear(0.0, 0.0, 0.0, 0.0)
        p = project(splats, cam)
        if len(p.index) == 0:
            return fbo
        instances = np.hstack([p.center, p.extent, p.conic, p.color, p.opacity[:, None], p.depth[:, None]]).astype("f4")
        buffer = self.ctx.buffer(instances.tobytes())
        vao = self.ctx.vertex_array(
            self.program,
            [(self._corners, "2f", "in_corner"), (buffer, "2f 2f 3f 4f 1f/i", "in_center", "in_extent", "in_conic", "in_color", "in_depth")],
        )
        self.program["u_size"].value = (float(cam.width), float(cam.height))
        self.program["u_height"].value = float(cam.height)
        self.ctx.disable(moderngl.DEPTH_TEST | moderngl.CULL_FACE)
        self.ctx.enable(moderngl.BLEND)
        # Front to back ("under"): dst += (1 - dst.alpha) * src, for colour and alpha alike.
        self.ctx.blend_func = moderngl.ONE_MINUS_DST_ALPHA, moderngl.ONE
        self.ctx.blend_equation = moderngl.FUNC_ADD
        try:
            vao.render(moderngl.TRIANGLE_STRIP, instances=len(instances))
        finally:
            self.ctx.disable(moderngl.BLEND)
            vao.release()
            buffer.release()
        return fbo


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
