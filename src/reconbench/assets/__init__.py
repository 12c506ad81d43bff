"""Assets: the two output representations, triangle meshes and 3D Gaussian splats, and their files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from reconbench.assets.errors import AssetLoadError
from reconbench.assets.mesh import Material, MeshAsset, MeshPart, normalisation_transform
from reconbench.assets.mesh_io import MESH_SUFFIXES, load_mesh, save_mesh
from reconbench.assets.splats import GaussianSplats
from reconbench.assets.splats_io import is_splat_ply, load_splats, save_splats

Asset = MeshAsset | GaussianSplats


def load_asset(path: str | Path, texture_dirs: Sequence[Path] = ()) -> Asset:
    """Load any supported asset file (one entry point for every representation): a PLY whose vertices
    carry 3DGS properties (scale_*, opacity) is a Gaussian splat cloud, anything else a mesh."""
    path = Path(path)
    if path.suffix.lower() == ".ply" and path.is_file() and is_splat_ply(path):
        return load_splats(path)
    return load_mesh(path, texture_dirs=texture_dirs)


__all__ = [
    "Asset",
    "AssetLoadError",
    "GaussianSplats",
    "MESH_SUFFIXES",
    "Material",
    "MeshAsset",
    "MeshPart",
    "load_asset",
    "load_mesh",
    "is_splat_ply",
    "load_splats",
    "normalisation_transform",
    "save_mesh",
    "save_splats",
]
