"""Building the procedural objects and writing the dataset's files.

`build_object(id, detail)` scales tessellation (triangles grow as detail squared; detail=1 gives
a few thousand to ~20k). For a ~100k-triangle mesh (render speed benchmark) use
`build_object("mug", detail=3)` (114k triangles), also given as `LARGE_OBJECT = ("mug", 3)`.

`ensure_generated(root)` writes every object at detail=1 to `<root>/procedural/v<VERSION>/`
as GLB plus `index.json`, once, atomically. Output is byte-identical for a given
`PROCEDURAL_VERSION` (fixed seed per object, no timestamps; same numpy/trimesh/Pillow assumed);
bump the version whenever geometry or textures change.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zlib
from pathlib import Path

import numpy as np

from reconbench.assets.mesh import MeshAsset, MeshPart
from reconbench.assets.mesh_io import save_mesh
from reconbench.datasets.procedural import objects
from reconbench.datasets.procedural.catalogue import CATALOGUE
from reconbench.errors import UnknownName

PROCEDURAL_VERSION = "1"
LARGE_OBJECT = ("mug", 3)
_BY_ID = {spec.id: spec for spec in CATALOGUE}


def catalogue_ids() -> list[str]:
    """Object ids in catalogue order."""
    return [spec.id for spec in CATALOGUE]


def build_object(object_id: str, detail: int = 1) -> MeshAsset:
    """Build one catalogue object; parts sharing a material are merged into one part."""
    if object_id not in _BY_ID:
        raise UnknownName(f"unknown procedural object {object_id!r}; known: {', '.join(_BY_ID)}")
    if int(detail) != detail or detail < 1:
        raise ValueError(f"detail must be a positive integer, got {detail!r}")
    rng = np.random.default_rng(zlib.crc32(object_id.encode()))
    pieces = getattr(objects, _BY_ID[object_id].builder)(int(detail), rng)
    return MeshAsset(parts=tuple(merge_by_material(pieces)))


def merge_by_material(pieces: list[MeshPart]) -> list[MeshPart]:
    """Concatenate pieces with the same material name (a mesh has one part per material)."""
    groups: dict[str, list[MeshPart]] = {}
    for piece in pieces:
        groups.setdefault(piece.material.name, []).append(piece)
    return [_concatenate(group) for group in groups.values()]


def _concatenate(group: list[MeshPart]) -> MeshPart:
    """One part holding all pieces' triangles (pieces agree on having UVs / vertex colours)."""
    offsets = np.cumsum([0] + [len(p.vertices) for p in group[:-1]])
    faces = np.concatenate([p.faces + o for p, o in zip(group, offsets)])
    uv = None if group[0].uv is None else np.concatenate([p.uv for p in group])
    colours = None if group[0].vertex_colors is None else np.concatenate([p.vertex_colors for p in group])
    return MeshPart(np.concatenate([p.vertices for p in group]), faces, group[0].material, uv=uv, vertex_colors=colours)


def ensure_generated(root: str | Path) -> Path:
    """Generate the dataset under `<root>/procedural/v<VERSION>` unless it is already there.

    Files are written to a temporary sibling folder that is renamed into place, so readers
    never see a half-written set; if another process finished first, its copy is kept.
    """
    final = Path(root) / "procedural" / f"v{PROCEDURAL_VERSION}"
    if (final / "index.json").is_file():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}-tmp-", dir=final.parent))
    try:
        index = []
        for spec in CATALOGUE:
            asset = build_object(spec.id)
            save_mesh(asset, tmp / f"{spec.id}.glb")
            entry = {"id": spec.id, "category": spec.category, "description": spec.description}
            index.append(entry | {"file": f"{spec.id}.glb", "n_faces": asset.n_faces})
        (tmp / "index.json").write_text(json.dumps(index, indent=2) + "\n")
        os.chmod(tmp, 0o755)  # mkdtemp makes it private
        _publish(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def _publish(tmp: Path, final: Path) -> None:
    """Rename a finished folder into place; keep the existing one if another process won."""
    try:
        os.rename(tmp, final)
    except OSError:
        if not (final / "index.json").is_file():
            raise
