"""Rasterise triangle meshes with moderngl: colour, depth, normal and mask in one pass."""

from __future__ import annotations

from collections.abc import Sequence

import moderngl
import numpy as np

from reconbench.assets.mesh import MeshAsset, MeshPart
from reconbench.protocol import Camera, Shading
from reconbench.render.context import gl_context, load_shader
from reconbench.render.views import RenderedViews

# Near and far planes as fractions of the camera's distance to the origin: the 24-bit depth
# buffer then resolves about 1e-6 of the object size at the protocol's radii; depth values
# themselves are computed exactly in the shader, not read back from the depth buffer.
NEAR_FRACTION = 0.05
FAR_FRACTION = 20.0


class MeshRenderer:
    """Holds the GL program and framebuffers; `render` draws one mesh from many cameras."""

    def __init__(self, ctx: moderngl.Context | None = None) -> None:
        self.ctx = ctx or gl_context()
        self.program = self.ctx.program(
            vertex_shader=load_shader("mesh.vert"), fragment_shader=load_shader("mesh.frag")
        )
        self._framebuffers: dict[tuple[int, int], moderngl.Framebuffer] = {}
        self._white = self.ctx.texture((1, 1), 4, data=b"\xff\xff\xff\xff")

    def render(self, mesh: MeshAsset, cameras: Sequence[Camera], shading: Shading | Sequence[Shading]) -> RenderedViews:
        shadings = [shading] * len(cameras) if isinstance(shading, Shading) else list(shading)
        if len(shadings) != len(cameras):
            raise ValueError("one shading per camera is required")
        n, h, w = len(cameras), cameras[0].height, cameras[0].width
        if any((c.width, c.height) != (w, h) for c in cameras):
            raise ValueError("all cameras of one call must share a resolution")
        # Read straight into the output arrays; rows are flipped by a view (GL rows start at the bottom).
        color = np.empty((n, h, w, 4), np.uint8)
        geometry = np.empty((n, h, w, 4), np.float32)
        drawables = [self._upload(part) for part in mesh.parts if len(part.faces)]
        try:
            for k, (cam, sh) in enumerate(zip(cameras, shadings)):
                fbo = self._draw(drawables, cam, sh)
                fbo.read_into(color[k], components=4, attachment=0, dtype="f1")
                fbo.read_into(geometry[k], components=4, attachment=1, dtype="f4")
        finally:
            for vao, buffers, (texture, _) in drawables:
                vao.release()
                for b in buffers:
                    b.release()
                if texture is not None:
                    texture.release()
        # Cleared to zero, so colour, normal and depth are already 0 off the object.
        depth = geometry[:, ::-1, :, 3]
        return RenderedViews(
            cameras=tuple(cameras),
            color=color[:, ::-1, :, :3],
            mask=depth > 0,
            depth=depth,
            normal=geometry[:, ::-1, :, :3],
        )

    def _upload(self, part: MeshPart):
        n = len(part.vertices)
        uv = part.uv if part.has_texture else np.zeros((n, 2))
        colors = part.vertex_colors if part.vertex_colors is not None else np.ones((n, 4))
        interleaved = np.hstack([part.vertices, uv, colors]).astype("f4")
        vbo = self.ctx.buffer(interleaved.tobytes())
        ibo = self.ctx.buffer(part.faces.astype("i4").tobytes())
        vao = self.ctx.vertex_array(
            self.program,
            [(vbo, "3f 2f 4f", "in_position", "in_uv", "in_color")],
            index_buffer=ibo,
            index_element_size=4,
        )
        texture = None
        if part.has_texture:
            tex = part.material.texture
            texture = self.ctx.texture((tex.shape[1], tex.shape[0]), 4, data=np.ascontiguousarray(tex).tobytes())
            texture.build_mipmaps()
            texture.filter = (moderngl.LINEAR_MIPMAP_LINEAR, moderngl.LINEAR)
            texture.repeat_x = texture.repeat_y = True
        return vao, (vbo, ibo), (texture, part.material.base_color)

    def _framebuffer(self, width: int, height: int) -> moderngl.Framebuffer:
        key = (width, height)
        if key not in self._framebuffers:
            self._framebuffers[key] = self.ctx.framebuffer(
                # 8-bit colour (what every image metric reads), float32 normal + depth.
                color_attachments=[self.ctx.texture(key, 4, dtype="f1"), self.ctx.texture(key, 4, dtype="f4")],
                depth_attachment=self.ctx.depth_texture(key),
            )
        return self._framebuffers[key]

    def _draw(self, drawables, cam: Camera, shading: Shading) -> moderngl.Framebuffer:
        distance = float(np.linalg.norm(cam.position)) or 1.0
        w2c = cam.w2c
        clip = cam.projection(NEAR_FRACTION * distance, FAR_FRACTION * distance) @ w2c
        light = cam.c2w[:3, :3] @ np.asarray(shading.light_dir_camera, dtype=np.float64)
        uniforms = {
            "u_clip_from_world": clip,
            "u_camera_from_world": w2c,
            "u_camera_position": cam.position,
            "u_intrinsics": np.array([cam.fx, cam.fy, cam.cx, cam.cy]),
            "u_height": float(cam.height),
            "u_lambert": shading.mode == "lambert",
            "u_ambient": shading.ambient,
            "u_diffuse": shading.diffuse,
            "u_light_world": light / np.linalg.norm(light),
        }
        for name, value in uniforms.items():
            if name in self.program:
                self.program[name].value = _gl_value(value)
        fbo = self._framebuffer(cam.width, cam.height)
        fbo.use()
        fbo.clear(0.0, 0.0, 0.0, 0.0, depth=1.0)
        self.ctx.enable(moderngl.DEPTH_TEST)
        self.ctx.disable(moderngl.CULL_FACE)  # thin sheets are seen from both sides, as by a ray caster
        for vao, _, (texture, base_color) in drawables:
            (texture or self._white).use(0)
            if "u_texture" in self.program:
                self.program["u_texture"].value = 0
            self.program["u_has_texture"].value = texture is not None
            self.program["u_base_color"].value = tuple(float(c) for c in base_color)
            vao.render(moderngl.TRIANGLES)
        return fbo


def _gl_value(value):
    """Numpy matrices to GL's column-major tuples; everything else as is."""
    if isinstance(value, np.ndarray):
        if value.ndim == 2:
            return tuple(float(x) for x in value.T.ravel())
        return tuple(float(x) for x in value)
    return value
