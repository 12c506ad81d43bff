"""The common renderer: ONE renderer for every asset and for the ground truth.

Fairness depends on it: a method's own renderer is never used for scoring. Meshes are rasterised
with moderngl (headless EGL); Gaussian splats get their own drawer here, behind the same
`render_views` entry point and the same `RenderedViews` output, when splat assets arrive.
"""

from __future__ import annotations

import functools
from typing import Sequence

from reconbench.assets import Asset, MeshAsset
from reconbench.protocol import Camera, Protocol, Shading
from reconbench.render.context import RendererUnavailable, gl_context, renderer_info
from reconbench.render.views import RenderedViews


@functools.lru_cache(maxsize=1)
def _mesh_renderer():
    from reconbench.render.mesh_renderer import MeshRenderer

    return MeshRenderer()


def render_views(asset: Asset, cameras: Sequence[Camera], shading: Shading | Sequence[Shading]) -> RenderedViews:
    """Render an asset from each camera with the given shading (one for all, or one per camera)."""
    if isinstance(asset, MeshAsset):
        return _mesh_renderer().render(asset, cameras, shading)
    # Gaussian splats: add their drawer here, returning the same RenderedViews.
    raise TypeError(f"no renderer for assets of type {type(asset).__name__}")


def render_ground_truth(asset: Asset, protocol: Protocol) -> RenderedViews:
    """All protocol views of a ground-truth asset: inputs shaded as the methods see them, held-out unlit."""
    return render_views(asset, protocol.cameras, [protocol.shading_for(c) for c in protocol.cameras])


__all__ = ["RenderedViews", "RendererUnavailable", "gl_context", "render_ground_truth", "render_views", "renderer_info"]
