"""Any asset, one entry point: `Asset` (a mesh or a splat cloud) and `load_asset(path)`, which tells the two
apart by the file's content."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from reconbench.assets.mesh import MeshAsset
from reconbench.assets.mesh_io import load_mesh
from reconbench.assets.splats import GaussianSplats
from reconbench.assets.splats_io import is_splat_ply, load_splats

Asset = MeshAsset | GaussianSplats


def load_asset(path: str | Path, texture_dirs: Sequence[Path] = ()) -> Asset:
    """Load any supported asset file (one entry point for every representation): a PLY whose vertices
    carry 3DGS properties (scale_*, opacity) is a Gaussian splat cloud, anything else a mesh."""
    path = Path(path)
    if path.suffix.lower() == ".ply" and path.is_file() and is_splat_ply(path):
        return load_splats(path)
    return load_mesh(path, texture_dirs=texture_dirs)
