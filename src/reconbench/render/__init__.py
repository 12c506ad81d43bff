"""The common renderer: ONE renderer for every asset and for the ground truth.

Fairness depends on it: a method's own renderer is never used for scoring. Meshes are rasterised
and Gaussian splats are splatted (sorted EWA ellipses) with moderngl in the same headless EGL
context, with the same cameras, behind one entry point and one output type (RenderedViews).
"""

from reconbench.render.context import RendererUnavailable, gl_context, renderer_info
from reconbench.render.dispatch import render_ground_truth, render_views
from reconbench.render.views import RenderedViews

__all__ = ["RenderedViews", "RendererUnavailable", "gl_context", "render_ground_truth", "render_views", "renderer_info"]
