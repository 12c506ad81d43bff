"""One entry point for every asset: `render_views` hands a mesh to the mesh renderer and a splat cloud to the
splat renderer, each created once per process (they hold a GL context and compiled shaders)."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from reconbench.assets import Asset, GaussianSplats, MeshAsset
from reconbench.protocol import Camera, Protocol, Shading
from reconbench.render.views import RenderedViews


@functools.lru_cache(maxsize=1)
def _mesh_renderer():
    from reconbench.render.mesh_renderer import MeshRenderer

    return MeshRenderer()


@functools.lru_cache(maxsize=1)
def _splat_renderer():
    from reconbench.render.splat_renderer import SplatRenderer

    return SplatRenderer()


def render_views(asset: Asset, cameras: Sequence[Camera], shading: Shading | Sequence[Shading]) -> RenderedViews:
    """Render an asset from each camera with the given shading (one for all, or one per camera).

    Splats carry baked, view-dependent colour and no surface normal to light: they are always drawn
    unlit, which is what the protocol scores (docs/protocol.md, "Lighting")."""
    if isinstance(asset, MeshAsset):
        return _mesh_renderer().render(asset, cameras, shading)
    if isinstance(asset, GaussianSplats):
        return _splat_renderer().render(asset, cameras)
    raise TypeError(f"no renderer for assets of type {type(asset).__name__}")


def render_ground_truth(asset: Asset, protocol: Protocol) -> RenderedViews:
    """All protocol views of a ground-truth asset: inputs shaded as the methods see them, held-out unlit."""
    return render_views(asset, protocol.cameras, [protocol.shading_for(c) for c in protocol.cameras])
