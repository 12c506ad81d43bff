"""Assets: the two output representations, triangle meshes and 3D Gaussian splats, and their files."""

from reconbench.assets.errors import AssetLoadError
from reconbench.assets.load import Asset, load_asset
from reconbench.assets.mesh import Material, MeshAsset, MeshPart, normalisation_transform
from reconbench.assets.mesh_io import MESH_SUFFIXES, load_mesh, save_mesh
from reconbench.assets.splats import GaussianSplats
from reconbench.assets.splats_io import is_splat_ply, load_splats, save_splats

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
