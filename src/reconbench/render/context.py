"""The OpenGL context: headless EGL, the same shaders on Mesa llvmpipe (CPU) and NVIDIA GPUs."""

from __future__ import annotations

import functools
from importlib import resources

import moderngl

from reconbench.errors import ReconbenchError


class RendererUnavailable(ReconbenchError, RuntimeError):
    """No headless OpenGL 3.3 context could be created (EGL/Mesa missing)."""


@functools.lru_cache(maxsize=1)
def gl_context() -> moderngl.Context:
    """One standalone EGL context per process, created on first use."""
    try:
        return moderngl.create_context(standalone=True, backend="egl", require=330)
    except Exception as exc:
        raise RendererUnavailable(
            f"cannot create a headless EGL OpenGL 3.3 context ({exc}). On Debian/Ubuntu install "
            "libegl1 libegl-mesa0 libgl1-mesa-dri (CPU) or the NVIDIA driver's EGL library (GPU)."
        ) from exc


def renderer_info() -> dict[str, str]:
    """GL vendor, renderer and version strings, recorded with every result for provenance."""
    info = gl_context().info
    return {k: str(info[f"GL_{k.upper()}"]) for k in ("vendor", "renderer", "version")}


def load_shader(name: str) -> str:
    """GLSL source shipped in reconbench/render/shaders/."""
    return resources.files("reconbench.render").joinpath("shaders", name).read_text()
