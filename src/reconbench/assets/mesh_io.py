"""Read and write mesh assets (OBJ with MTL and textures, GLB/GLTF, PLY, OFF, STL) through trimesh."""

from __future__ import annotations

import contextlib
import io
import logging
import re
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from reconbench import limits
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
        raise AssetLoadError(
            path, f"unsupported mesh format {path.suffix!r} (expected one of {', '.join(MESH_SUFFIXES)})"
        )
    refs = _References(path, search)
    try:
        with _texture_guards(refs):
            if path.suffix.lower() == ".obj":
                _check_obj_textures(path, refs)
            scene = trimesh.load(path, force="scene", process=False, resolver=_search_resolver(refs))
            geometries = _placed_geometries(scene)
    except Exception as exc:  # trimesh raises many types for corrupt files
        raise AssetLoadError(path, f"{type(exc).__name__}: {exc}") from exc
    meshes = [(g, c) for g, c in geometries if isinstance(g, trimesh.Trimesh) and len(g.faces) > 0]
    n_faces = sum(len(g.faces) for g, _ in meshes)
    if n_faces > limits.TRIANGLES.get():
        raise AssetLoadError(path, limits.TRIANGLES.exceeded(n_faces, "mesh"))
    parts = []
    for geom, colors in meshes:
        try:
            parts.append(_part_from_trimesh(geom, refs, colors))
        except ValueError as exc:
            raise AssetLoadError(path, str(exc)) from exc
    if not parts:
        raise AssetLoadError(path, "contains no triangles (a point cloud or Gaussian splat file is not a mesh)")
    return MeshAsset(parts=tuple(parts), source=path, warnings=tuple(refs.warnings))


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


def _placed_geometries(scene) -> list:
    """(geometry in scene coordinates, its glTF COLOR_0 or None) for every geometry instance of the scene, as
    Scene.dump() gives them but keeping the vertex colours trimesh stores beside a material (a copy drops them)."""
    placed = []
    for node in scene.graph.nodes_geometry:
        transform, name = scene.graph[node]
        original = scene.geometry[name]
        colors = getattr(original.visual, "vertex_attributes", {}).get("color") if original.visual is not None else None
        geom = original.copy()
        geom.apply_transform(transform)
        placed.append((geom, None if colors is None else np.array(colors)))
    return placed


def _part_from_trimesh(geom, refs: _References, colors: np.ndarray | None = None) -> MeshPart:
    import trimesh.visual as tv

    vertices = np.asarray(geom.vertices, dtype=np.float64)
    faces = np.asarray(geom.faces, dtype=np.int64)
    visual = geom.visual
    if isinstance(visual, tv.TextureVisuals):
        material, texture, base = visual.material, None, UNCOLOURED
        if isinstance(material, tv.material.PBRMaterial):
            texture = material.baseColorTexture
        elif isinstance(material, tv.material.SimpleMaterial):
            texture = material.image
        tex = _texture_array(texture, refs) if visual.uv is not None else None
        uv = None if tex is None else np.asarray(visual.uv, dtype=np.float64)
        if isinstance(material, tv.material.PBRMaterial):
            factor = material.baseColorFactor
            base = tuple(np.asarray(factor, dtype=np.float64) / 255.0) if factor is not None else (1.0, 1.0, 1.0, 1.0)
        elif isinstance(material, tv.material.SimpleMaterial):
            # OBJ convention used by every viewer we compare against: map_Kd replaces Kd.
            base = (1.0, 1.0, 1.0, 1.0) if tex is not None else tuple(np.asarray(material.diffuse) / 255.0)
        name = getattr(material, "name", None) or "material"
        # glTF COLOR_0 beside a material: trimesh keeps it as a vertex attribute; the glTF spec multiplies it in
        # (base colour x texture x vertex colour), as our colour rule does (assets/mesh.py).
        return MeshPart(
            vertices,
            faces,
            Material(name, _rgba(base), tex),
            uv=uv,
            vertex_colors=_vertex_color_attribute(colors, len(vertices)),
        )
    if isinstance(visual, tv.ColorVisuals) and visual.kind == "face":
        # Face colours become vertex colours on unshared vertices (each face gets its own three).
        colors = np.repeat(np.asarray(visual.face_colors, dtype=np.float64) / 255.0, 3, axis=0)
        return MeshPart(
            vertices[faces.reshape(-1)],
            np.arange(faces.size).reshape(-1, 3),
            Material("face_colors"),
            vertex_colors=colors,
        )
    if isinstance(visual, tv.ColorVisuals) and visual.kind == "vertex":
        colors = np.asarray(visual.vertex_colors, dtype=np.float64) / 255.0
        return MeshPart(vertices, faces, Material("vertex_colors"), vertex_colors=colors)
    return MeshPart(vertices, faces, Material(UNCOLOURED_MATERIAL, UNCOLOURED))


def _vertex_color_attribute(colors, n: int) -> np.ndarray | None:
    """glTF COLOR_0 as (N, 4) floats in [0, 1]: floats as stored, normalised integers divided by their
    maximum (unsigned byte or short), RGB given alpha 1."""
    if colors is None:
        return None
    c = np.asarray(colors)
    if c.ndim != 2 or len(c) != n or c.shape[1] not in (3, 4):
        return None
    values = (
        c.astype(np.float64) / np.iinfo(c.dtype).max if np.issubdtype(c.dtype, np.integer) else c.astype(np.float64)
    )
    if values.shape[1] == 3:
        values = np.hstack([values, np.ones((n, 1))])
    return np.clip(values, 0.0, 1.0)


def _rgba(color) -> tuple[float, float, float, float]:
    c = [float(x) for x in np.asarray(color, dtype=np.float64).ravel()]
    if len(c) == 3:
        c.append(1.0)
    return tuple(c[:4])  # type: ignore[return-value]


def _texture_array(image, refs: _References) -> np.ndarray | None:
    """The decoded RGBA texture, or None with a warning when it is over the pixel limit or cannot be decoded
    (the part is then scored with its untextured material)."""
    if image is None:
        return None
    pixels = image.width * image.height
    if pixels > limits.TEXTURE_PIXELS.get():
        refs.warn(
            f"{refs.asset.name}: texture is {image.width}x{image.height}: "
            f"{limits.TEXTURE_PIXELS.exceeded(pixels, 'texture')}; loaded without it"
        )
        return None
    try:
        return np.ascontiguousarray(np.asarray(image.convert("RGBA"), dtype=np.uint8))
    except (OSError, ValueError, SyntaxError) as exc:  # a truncated or corrupt image body
        refs.warn(f"{refs.asset.name}: texture cannot be decoded ({type(exc).__name__}: {exc}); loaded without it")
        return None


_MTLLIB = re.compile(r"^\s*mtllib\s+(.+?)\s*$", re.MULTILINE)
_MAP_KD = re.compile(r"^\s*map_Kd\s+(?:-\S+\s+\S+\s+)*(.+?)\s*$", re.MULTILINE)
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tga", ".tif", ".tiff", ".webp", ".gif")


class _References:
    """The files one asset refers to (MTL, textures, glTF buffers and images), confined to its folders.

    A reference is looked up as written and by its base name in each allowed folder (the asset's own
    folder and the dataset's texture folders); it is used only when it resolves, symlinks followed, to
    a regular file inside one of them and is under the size limit. Anything else is refused: a warning
    names the reference and the asset loads without it. Warnings are collected in order, once each.
    """

    def __init__(self, asset: Path, search: Sequence[Path]) -> None:
        self.asset = asset
        self.search = [Path(f) for f in search]
        self.roots = [f.resolve() for f in self.search]
        self.warnings: list[str] = []
        self.refused: set[str] = set()

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def find(self, name: str, kind: str = "file") -> Path | None:
        """The allowed file `name` refers to, or None with a warning saying why."""
        outside = None
        for folder in self.search:
            for candidate in (folder / name, folder / Path(name).name):
                if not candidate.is_file():
                    continue
                if _inside(candidate.resolve(), self.roots):
                    return candidate
                outside = outside or candidate
        if name in self.refused:
            return None  # said once already (the OBJ check and trimesh both look references up)
        self.refused.add(name)
        if outside is not None:
            self.warn(
                f"{self.asset.name}: {kind} {name!r} refused: it resolves to {outside.resolve()}, outside the asset's "
                f"folder "
                f"({', '.join(map(str, self.search))}); loaded without it"
            )
        else:
            self.warn(
                f"{self.asset.name}: {kind} {name!r} not found in {', '.join(map(str, self.search))}; loaded without it"
            )
        return None

    def read(self, name: str, kind: str = "file") -> bytes:
        """The bytes of an allowed reference (size and, for an image, pixels within the limits); raises
        FileNotFoundError after recording a warning otherwise (trimesh then loads without it)."""
        found = self.find(name, kind)
        if found is None:
            raise FileNotFoundError(name)
        size = found.stat().st_size
        if size > limits.REFERENCED_FILE_BYTES.get():
            self.warn(
                f"{self.asset.name}: {limits.REFERENCED_FILE_BYTES.exceeded(size, f'{kind} {name!r}')}; loaded without "
                f"it"
            )
            raise FileNotFoundError(name)
        data = found.read_bytes()
        problem = _image_problem(data, name)
        if problem:
            self.warn(f"{self.asset.name}: texture {name!r} {problem}; loaded without it")
            raise FileNotFoundError(name)
        return data


def _inside(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def _image_problem(data: bytes, name: str) -> str | None:
    """Why image bytes cannot be used as a texture (over the pixel limit, undecodable), from the header
    only; None for usable images and for data that is not an image and not named like one."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                pixels = image.width * image.height
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError) as exc:
        if Path(name).suffix.lower() in _IMAGE_SUFFIXES or isinstance(exc, Image.DecompressionBombError):
            return f"is not a readable image ({type(exc).__name__}: {exc})"
        return None
    if pixels > limits.TEXTURE_PIXELS.get():
        return f"is {image.width}x{image.height}: {limits.TEXTURE_PIXELS.exceeded(pixels, 'texture')}"
    return None


def _check_obj_textures(path: Path, refs: _References) -> None:
    """Warn about an OBJ whose MTL or diffuse texture is missing or refused (trimesh drops them silently)."""
    text = path.read_text(errors="replace")
    for lib in _MTLLIB.findall(text):
        mtl = refs.find(lib, "material library")
        if mtl is None:
            continue
        for tex in _MAP_KD.findall(mtl.read_text(errors="replace")):
            refs.find(tex, "texture")


def _search_resolver(refs: _References, search: Sequence[Path] | None = None):
    """A trimesh resolver that reads referenced files (MTL, textures, buffers) through `refs`."""
    import trimesh.resolvers

    folders = refs.search if search is None else list(search)

    class SearchPathResolver(trimesh.resolvers.Resolver):
        def __init__(self) -> None:
            pass

        def get(self, name: str) -> bytes:
            return refs.read(name)

        def keys(self):
            return [p.name for folder in folders if folder.is_dir() for p in folder.iterdir()]

        def namespaced(self, namespace: str):
            sub = _References(refs.asset, [folder / namespace for folder in folders] + list(folders))
            sub.roots, sub.warnings, sub.refused = (
                refs.roots,
                refs.warnings,
                refs.refused,
            )  # same confinement and warnings
            return _search_resolver(sub)

        def write(self, name: str, data) -> None:
            raise PermissionError("reading only")

    return SearchPathResolver()


class _TrimeshLoadLog(logging.Handler):
    """trimesh logs (at debug level) and otherwise ignores a texture or material it could not load; this
    turns those records into the asset's warnings while a file loads."""

    _MESSAGES = ("failed to load image", "unable to load image", "unable to store texture", "unable to load materials")

    def __init__(self, refs: _References) -> None:
        super().__init__(logging.DEBUG)
        self.refs = refs

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if not any(m in message for m in self._MESSAGES):
            return
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None or isinstance(exc, FileNotFoundError):
            return  # refused or missing through our resolver, which has said why
        bomb = re.search(r"Image size \((\d+) pixels\)", str(exc))  # Pillow's over-the-limit error or warning
        if bomb:
            self.refs.warn(
                f"{self.refs.asset.name}: embedded {limits.TEXTURE_PIXELS.exceeded(int(bomb.group(1)), 'texture')}; "
                f"loaded without it"
            )
        else:
            self.refs.warn(
                f"{self.refs.asset.name}: {message.rstrip('!')} ({type(exc).__name__}: {exc}); loaded without it"
            )


@contextlib.contextmanager
def _texture_guards(refs: _References):
    """While trimesh loads: Pillow refuses images over the texture limit at their header (not after a
    multi-gigabyte decode), and trimesh's silent drops become warnings."""
    from PIL import Image

    logger = logging.getLogger("trimesh")
    handler = _TrimeshLoadLog(refs)
    saved = logger.level, logger.propagate, Image.MAX_IMAGE_PIXELS
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False  # the debug records stay here
    Image.MAX_IMAGE_PIXELS = limits.TEXTURE_PIXELS.get()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
        Image.MAX_IMAGE_PIXELS = saved[2]
