"""Read and write mesh assets (OBJ with MTL and textures, GLB/GLTF, PLY, OFF, STL) through trimesh."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import numpy as np

from reconbench.assets.errors import AssetLoadError
from reconbench.assets.mesh import Material, MeshAsset, MeshPart

MESH_SUFFIXES = (".obj", ".glb", ".gltf", ".ply", ".off", ".stl")

# Colour of a surface whose file gives none: mid grey, so it is visible on the white background.
UNCOLOURED = (0.5, 0.5, 0.5, 1.0)
UNCOLOURED_MATERIAL = "uncoloured"


def load_mesh(path: str | Path, texture_dirs: Sequence[Path] = ()) -> MeshAsset:
    """Load a mesh file into a MeshAsset, keeping its materials as separate parts.

    `texture_dirs` are further folders where an OBJ's material files and textures may be found
    (Google Scanned Objects keeps them in ../materials/textures/). Raises AssetLoadError naming
    the file and the reason when it cannot be read.
    """
    import trimesh

    path = Path(path)
    search = [path.parent, *map(Path, texture_dirs)]
    if not path.is_file():
        raise AssetLoadError(path, "file does not exist")
    if path.suffix.lower() not in MESH_SUFFIXES:
        raise AssetLoadError(path, f"unsupported mesh format {path.suffix!r} (expected one of {', '.join(MESH_SUFFIXES)})")
    if path.suffix.lower() == ".obj":
        _check_obj_textures(path, search)
    try:
        resolver = _search_resolver(search)
        scene = trimesh.load(path, force="scene", process=False, resolver=resolver)
        geometries = scene.dump()
    except Exception as exc:  # trimesh raises many types for corrupt files
        raise AssetLoadError(path, f"{type(exc).__name__}: {exc}") from exc
    parts = []
    for geom in geometries:
        if not isinstance(geom, trimesh.Trimesh) or len(geom.faces) == 0:
            continue
        try:
            parts.append(_part_from_trimesh(geom))
        except ValueError as exc:
            raise AssetLoadError(path, str(exc)) from exc
    if not parts:
        raise AssetLoadError(path, "contains no triangles (a point cloud or Gaussian splat file is not a mesh)")
    return MeshAsset(parts=tuple(parts), source=path)


def save_mesh(asset: MeshAsset, path: str | Path) -> Path:
    """Write a mesh asset as GLB (materials, textures and vertex colours kept per part)."""
    import trimesh
    from PIL import Image

    path = Path(path)
    scene = trimesh.Scene()
    for i, part in enumerate(asset.parts):
        mesh = trimesh.Trimesh(part.vertices, part.faces, process=False)
        base = np.asarray(part.material.base_color, dtype=np.float64)
        if part.has_texture:
            material = trimesh.visual.material.PBRMaterial(
                name=part.material.name,
                baseColorFactor=np.round(base * 255).astype(np.uint8),
                baseColorTexture=Image.fromarray(part.material.texture, "RGBA"),
                metallicFactor=0.0,
                roughnessFactor=1.0,
            )
            mesh.visual = trimesh.visual.TextureVisuals(uv=part.uv, material=material)
        else:
            colors = np.tile(base, (len(part.vertices), 1))
            if part.vertex_colors is not None:
                colors = colors * part.vertex_colors
            mesh.visual = trimesh.visual.ColorVisuals(mesh, vertex_colors=np.round(colors * 255).astype(np.uint8))
        scene.add_geometry(mesh, geom_name=f"part{i}_{part.material.name}")
    path.parent.mkdir(parents=True, exist_ok=True)
    scene.export(path, file_type="glb")
    return path


def _part_from_trimesh(geom) -> MeshPart:
    import trimesh.visual as tv

    vertices = np.asarray(geom.vertices, dtype=np.float64)
    faces = np.asarray(geom.faces, dtype=np.int64)
    visual = geom.visual
    if isinstance(visual, tv.TextureVisuals):
        material, texture, base = visual.material, None, UNCOLOURED
        if isinstance(material, tv.material.PBRMaterial):
            texture = material.baseColorTexture
            factor = material.baseColorFactor
            base = tuple(np.asarray(factor, dtype=np.float64) / 255.0) if factor is not None else (1.0, 1.0, 1.0, 1.0)
        elif isinstance(material, tv.material.SimpleMaterial):
            texture = material.image
            # OBJ convention used by every viewer we compare against: map_Kd replaces Kd.
            base = (1.0, 1.0, 1.0, 1.0) if texture is not None else tuple(np.asarray(material.diffuse) / 255.0)
        uv = None if visual.uv is None or texture is None else np.asarray(visual.uv, dtype=np.float64)
        tex = _texture_array(texture) if uv is not None else None
        name = getattr(material, "name", None) or "material"
        return MeshPart(vertices, faces, Material(name, _rgba(base), tex), uv=uv)
    if isinstance(visual, tv.ColorVisuals) and visual.kind == "face":
        # Face colours become vertex colours on unshared vertices (each face gets its own three).
        colors = np.repeat(np.asarray(visual.face_colors, dtype=np.float64) / 255.0, 3, axis=0)
        return MeshPart(vertices[faces.reshape(-1)], np.arange(faces.size).reshape(-1, 3), Material("face_colors"), vertex_colors=colors)
    if isinstance(visual, tv.ColorVisuals) and visual.kind == "vertex":
        colors = np.asarray(visual.vertex_colors, dtype=np.float64) / 255.0
        return MeshPart(vertices, faces, Material("vertex_colors"), vertex_colors=colors)
    return MeshPart(vertices, faces, Material(UNCOLOURED_MATERIAL, UNCOLOURED))


def _rgba(color) -> tuple[float, float, float, float]:
    c = [float(x) for x in np.asarray(color, dtype=np.float64).ravel()]
    if len(c) == 3:
        c.append(1.0)
    return tuple(c[:4])  # type: ignore[return-value]


def _texture_array(image) -> np.ndarray | None:
    if image is None:
        return None
    return np.ascontiguousarray(np.asarray(image.convert("RGBA"), dtype=np.uint8))


_MTLLIB = re.compile(r"^\s*mtllib\s+(.+?)\s*$", re.MULTILINE)
_MAP_KD = re.compile(r"^\s*map_Kd\s+(?:-\S+\s+\S+\s+)*(.+?)\s*$", re.MULTILINE)


def _find(name: str, search: Sequence[Path]) -> Path | None:
    for folder in search:
        for candidate in (folder / name, folder / Path(name).name):
            if candidate.is_file():
                return candidate
    return None


def _check_obj_textures(path: Path, search: Sequence[Path]) -> None:
    """Fail loudly on an OBJ whose MTL or diffuse texture is missing (trimesh only warns)."""
    text = path.read_text(errors="replace")
    for lib in _MTLLIB.findall(text):
        mtl = _find(lib, search)
        if mtl is None:
            raise AssetLoadError(path, f"material library {lib!r} not found in {', '.join(map(str, search))}")
        for tex in _MAP_KD.findall(mtl.read_text(errors="replace")):
            if _find(tex, search) is None:
                raise AssetLoadError(mtl, f"texture {tex!r} not found in {', '.join(map(str, search))}")


def _search_resolver(search: Sequence[Path]):
    """A trimesh resolver that looks for referenced files (MTL, textures) in several folders."""
    import trimesh.resolvers

    class SearchPathResolver(trimesh.resolvers.Resolver):
        def __init__(self) -> None:
            pass

        def get(self, name: str) -> bytes:
            found = _find(name, search)
            if found is None:
                raise FileNotFoundError(name)
            return found.read_bytes()

        def keys(self):
            return [p.name for folder in search if folder.is_dir() for p in folder.iterdir()]

        def namespaced(self, namespace: str):
            return _search_resolver([folder / namespace for folder in search] + list(search))

        def write(self, name: str, data) -> None:
            raise PermissionError("reading only")

    return SearchPathResolver()
