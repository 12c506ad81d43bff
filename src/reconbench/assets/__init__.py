"""Assets: the output representations (triangle meshes now, Gaussian splats later) and their files."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from reconbench.assets.errors import AssetLoadError
from reconbench.assets.mesh import Material, MeshAsset, MeshPart, normalisation_transform
from reconbench.assets.mesh_io import MESH_SUFFIXES, load_mesh, save_mesh

Asset = MeshAsset  # Gaussian splats join this union when they arrive.


def load_asset(path: str | Path, texture_dirs: Sequence[Path] = ()) -> Asset:
    """Load any supported asset file (one entry point for every representation)."""
    return load_mesh(path, texture_dirs=texture_dirs)


__all__ = [
    "Asset",
    "AssetLoadError",
    "MESH_SUFFIXES",
    "Material",
    "MeshAsset",
    "MeshPart",
    "load_asset",
    "load_mesh",
    "normalisation_transform",
    "save_mesh",
]
