"""The voxel-cnn network: front image (4 x 64 x 64) -> occupancy logit and colour on a 32^3 grid.

Why this shape: the input camera is fixed (the `default` protocol's: on +Z at radius 2, fov 49.1),
so every voxel centre has a known pixel. A 2D CNN encodes the image at 32^2, 16^2 and 8^2; each 3D
stage of the decoder samples the feature map of matching resolution at the projections of its voxel
centres (pixel-aligned features, as in PIFu, so perspective is exact and nothing has to learn the
camera), together with the voxel's depth. The coarse 8^3 stage has a 3x3x3 convolution and a global
image feature, which is where the unseen back of the object is inferred; 2x2x2 transposed
convolutions (cheap on a CPU) and pointwise layers refine to 32^3. About 0.4 M parameters.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

IMAGE_SIZE = 64  # network input, taken from the central CROP of the image
CROP = 0.75  # fraction of the input image (centred) the network sees: objects fill [-0.5, 0.5]^3
GRID = 32
HALF_EXTENT = 0.55  # the grid spans [-HALF_EXTENT, HALF_EXTENT]^3
CAMERA_RADIUS = 2.0  # the trained input camera (`default` protocol): on +Z, looking at the origin
CAMERA_FOV_DEG = 49.1


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.GroupNorm(8, cout), nn.ReLU(inplace=True))


def _block3(cin: int, cout: int, kernel: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv3d(cin, cout, kernel, 1, kernel // 2), nn.GroupNorm(8, cout), nn.ReLU(inplace=True))


def _up3(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.ConvTranspose3d(cin, cout, 2, 2), nn.GroupNorm(8, cout), nn.ReLU(inplace=True))


def projection_grid(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """For an n^3 grid of voxel centres indexed [x, y, z]: (grid_sample coordinates (1, 1, n^3, 2) of their
    pixels in the cropped image, and their z in [-1, 1] as (1, 1, n, n, n))."""
    axis = (torch.arange(n, dtype=torch.float32) + 0.5) / n * 2 * HALF_EXTENT - HALF_EXTENT
    x, y, z = torch.meshgrid(axis, axis, axis, indexing="ij")
    scale = (CAMERA_RADIUS - z) * math.tan(math.radians(CAMERA_FOV_DEG) / 2) * CROP
    # image columns run with +x, rows run with -y (top row first): grid_sample's (-1, -1) is the top-left corner
    grid = torch.stack([x / scale, -y / scale], -1).reshape(1, 1, n**3, 2)
    return grid, (z / HALF_EXTENT)[None, None]


class VoxelCNN(nn.Module):
    """Image (B, 4, 64, 64) in [0, 1] -> (B, 4, 32, 32, 32) indexed [x, y, z]: occupancy logit, then RGB logits."""

    def __init__(self) -> None:
        super().__init__()
        self.e32 = nn.Sequential(_conv(4, 16), _conv(16, 32, 2))  # 32^2
        self.e16 = _conv(32, 64, 2)  # 16^2
        self.e8 = nn.Sequential(_conv(64, 128, 2), _conv(128, 128))  # 8^2
        self.glob = nn.Linear(128, 64)
        self.d8 = nn.Sequential(_block3(129, 64, 1), _block3(64, 48, 3))
        self.up16 = _up3(48, 32)
        self.d16 = _block3(32 + 64 + 1, 32, 1)
        self.up32 = _up3(32, 16)
        self.d32 = nn.Sequential(_block3(16 + 32 + 1, 16, 1), nn.Conv3d(16, 4, 1))
        for n in (8, 16, 32):
            grid, depth = projection_grid(n)
            self.register_buffer(f"grid{n}", grid, persistent=False)
            self.register_buffer(f"depth{n}", depth, persistent=False)

    def _lift(self, features: torch.Tensor, n: int) -> torch.Tensor:
        """Image features at each voxel centre's pixel, plus the voxel's depth: (B, C + 1, n, n, n)."""
        b = features.shape[0]
        grid, depth = getattr(self, f"grid{n}"), getattr(self, f"depth{n}")
        sampled = F.grid_sample(features, grid.expand(b, -1, -1, -1), align_corners=False).view(b, -1, n, n, n)
        return torch.cat([sampled, depth.expand(b, -1, -1, -1, -1)], 1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        f32 = self.e32(image)
        f16 = self.e16(f32)
        f8 = self.e8(f16)
        v = self.d8[0](self._lift(f8, 8)) + self.glob(f8.mean((2, 3)))[:, :, None, None, None]
        v = self.up16(self.d8[1](v))
        v = self.up32(self.d16(torch.cat([v, self._lift(f16, 16)], 1)))
        return self.d32(torch.cat([v, self._lift(f32, 32)], 1))
