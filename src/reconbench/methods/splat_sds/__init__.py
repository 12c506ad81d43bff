"""splat-sds: a per-scene Gaussian splat cloud fitted to the input view(s) plus Score Distillation
Sampling from a 2D diffusion prior (DreamGaussian family).

`sds` holds the generic SDS math (noise schedule, gradient, surrogate loss, an analytic Gaussian
prior for tests); `guidance` holds the prior behind a small interface (none / Zero123 / Stable Zero123).
"""
