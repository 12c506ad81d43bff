"""The voxel-cnn network: front image (4 x 64 x 64) -> occupancy logit and colour on a 32^3 grid.

Why this shape: the input camera looks down -Z at the origin, so image columns and rows line up
with the grid's x and y. The encoder keeps an 8 x 8 feature map and a 1x1 convolution turns its
channels into 8 depth cells of 32 channels each ("lifting"), so every voxel column starts from the
image patch in front of it; one global feature (pooled over the image) is added everywhere so the
back of the object can depend on the whole silhouette. The 3D decoder upsamples with 2x2x2
transposed convolutions (cheap on a CPU) to 32^3. About 1.1 M parameters.
"""

from __future__ import annotations

import torch
from torch import nn

IMAGE_SIZE = 64
GRID = 32
HALF_EXTENT = 0.55  # the grid spans [-HALF_EXTENT, HALF_EXTENT]^3 (objects fill [-0.5, 0.5] at most)
LIFT_DEPTH = 8
LIFT_CHANNELS = 32


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.GroupNorm(8, cout), nn.ReLU(inplace=True))


def _conv3(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv3d(cin, cout, 3, 1, 1), nn.GroupNorm(8, cout), nn.ReLU(inplace=True))


def _pointwise3(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv3d(cin, cout, 1), nn.GroupNorm(8, cout), nn.ReLU(inplace=True))


def _up3(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.ConvTranspose3d(cin, cout, 2, 2), nn.GroupNorm(8, cout), nn.ReLU(inplace=True))


class VoxelCNN(nn.Module):
    """Image (B, 4, 64, 64) in [0, 1] -> (B, 4, 32, 32, 32) indexed [x, y, z]: occupancy logit, then RGB logits."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            _conv(4, 16), _conv(16, 32, 2), _conv(32, 64, 2), _conv(64, 128, 2), _conv(128, 128)
        )
        self.lift = nn.Conv2d(128, LIFT_DEPTH * LIFT_CHANNELS, 1)
        self.glob = nn.Linear(128, LIFT_CHANNELS)
        self.decoder = nn.Sequential(
            _conv3(LIFT_CHANNELS, 64), _up3(64, 32), _pointwise3(32, 32), _up3(32, 16),
            nn.Conv3d(16, 16, 1), nn.ReLU(inplace=True), nn.Conv3d(16, 4, 1),
        )

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        f = self.encoder(image)  # (B, 128, 8, 8)
        b = f.shape[0]
        vol = self.lift(f).view(b, LIFT_CHANNELS, LIFT_DEPTH, 8, 8)  # (B, C, z, row, col)
        vol = vol + self.glob(f.mean((2, 3)))[:, :, None, None, None]
        out = self.decoder(vol)  # (B, 4, z, row, col) at 32^3
        # To [x, y, z]: x = column, y = row flipped (rows run top to bottom), z = depth cell.
        return out.permute(0, 1, 4, 3, 2).flip(3)
