"""Pieces several adapter specs share, pinned once here so a bump reaches every method that uses them."""

from reconbench.methods.recipe import git_build

# rembg's U2-Net: rembg.new_session() loads it even when an RGBA input makes matting unnecessary.
REMBG_U2NET = {
    "kind": "url",
    "url": "https://github.com/danielgatis/rembg/releases/download/v0.0.0/u2net.onnx",
    "dest": "u2net/u2net.onnx",
    "env": {"U2NET_HOME": "u2net"},
}

# CUDA extensions built against the environment's torch (no build isolation, so they see it).
NVDIFFRAST = git_build("https://github.com/NVlabs/nvdiffrast.git", "c5caf7bdb8a2448acc491a9faa47753972edd380")
# ashawkey's fork of the 3DGS rasteriser (depth and alpha outputs), used by LGM, DreamGaussian and threestudio-3dgs.
GAUSSIAN_RASTERIZER = git_build(
    "https://github.com/ashawkey/diff-gaussian-rasterization.git", "8829d14f814fccdaf840b7b0f3021a616583c0a1"
)
