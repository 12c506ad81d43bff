"""Turn a folder on disk into dataset objects, one function per layout (named in sources.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from reconbench.assets import MESH_SUFFIXES
from reconbench.datasets.base import DatasetError, DatasetObject, DatasetProblem
from reconbench.system.paths import cache_root

Found = tuple[list[DatasetObject], list[DatasetProblem]]

# When a sub-folder holds several mesh files, these names are the object's main file.
_MAIN_NAMES = ("model", "mesh", "scene", "scan")


def discover_folder(root: Path, frame: str = "y-up", category: str = "uncategorised") -> Found:
    """One object per mesh file directly in `root`, or per sub-folder holding mesh files.

    Categories come from an optional `index.json` ([{"id", "category"}, ...]) in `root`.
    """
    root = _existing_dir(root)
    categories = _index_categories(root)
    objects, problems = [], []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(".") or entry.name == "index.json":
            continue
        if entry.is_file():
            if entry.suffix.lower() in MESH_SUFFIXES:
                objects.append(DatasetObject(entry.stem, categories.get(entry.stem, category), entry, frame))
            continue
        meshes = sorted(p for p in entry.rglob("*") if p.is_file() and p.suffix.lower() in MESH_SUFFIXES)
        main = _main_mesh(meshes)
        if main is None:
            reason = (
                "no mesh file"
                if not meshes
                else f"several mesh files ({', '.join(p.name for p in meshes[:4])}); keep one or name it model.*"
            )
            problems.append(DatasetProblem(entry, reason))
        else:
            objects.append(DatasetObject(entry.name, categories.get(entry.name, category), main, frame))
    return _unique(objects, problems)


def discover_glbs(root: Path, frame: str = "y-up", category: str = "objaverse") -> Found:
    """Objaverse layout: GLB files anywhere below `root` (e.g. glbs/000-023/<uid>.glb), id = file stem."""
    root = _existing_dir(root)
    categories = _index_categories(root)
    files = sorted(p for p in root.rglob("*.glb") if p.is_file())
    objects = [DatasetObject(p.stem, categories.get(p.stem, category), p, frame) for p in files]
    return _unique(objects, [])


def discover_gso(root: Path, frame: str = "z-up") -> Found:
    """Google Scanned Objects: `<name>/meshes/model.obj`, textures in `<name>/materials/textures/`."""
    root = _existing_dir(root)
    objects, problems = [], []
    for entry in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        model = entry / "meshes" / "model.obj"
        if not model.is_file():
            problems.append(DatasetProblem(entry, "no meshes/model.obj (not a Google Scanned Objects folder?)"))
            continue
        textures = (entry / "materials" / "textures",)
        objects.append(DatasetObject(entry.name, _gso_category(entry), model, frame, texture_dirs=textures))
    return objects, problems


def discover_omniobject3d(root: Path, frame: str = "y-up") -> Found:
    """OmniObject3D raw scans: `<category>/<category>_<NNN>/Scan/Scan.obj` (category from the folder)."""
    root = _existing_dir(root)
    objects, problems = [], []
    for obj_dir in sorted(p for p in root.glob("*/*") if p.is_dir() and not p.name.startswith(".")):
        scan = obj_dir / "Scan" / "Scan.obj"
        if not scan.is_file():
            problems.append(DatasetProblem(obj_dir, "no Scan/Scan.obj (not an OmniObject3D raw-scan folder?)"))
            continue
        objects.append(DatasetObject(obj_dir.name, obj_dir.parent.name, scan, frame))
    return objects, problems


def _existing_dir(root: Path) -> Path:
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DatasetError(f"{root}: dataset folder does not exist")
    return root


def _main_mesh(meshes: list[Path]) -> Path | None:
    if len(meshes) == 1:
        return meshes[0]
    named = [p for p in meshes if p.stem.lower() in _MAIN_NAMES]
    return named[0] if len(named) == 1 else None


def _index_categories(root: Path) -> dict[str, str]:
    index = root / "index.json"
    if not index.is_file():
        return {}
    try:
        return {str(e["id"]): str(e["category"]) for e in json.loads(index.read_text())}
    except (ValueError, KeyError, TypeError) as exc:
        raise DatasetError(f"{index}: expected a JSON list of {{'id', 'category'}} objects ({exc})") from exc


# e.g. `categories {\n  first: "Toys"\n}` (SyncDreamer's eval_examples/chicken-mesh/metadata.pbtxt)
_GSO_CATEGORY = re.compile(r'categories\s*\{\s*first:\s*"([^"]*)"')


def _gso_category(entry: Path) -> str:
    """GSO's metadata.pbtxt names a category for some objects; 'gso' when it does not."""
    meta = entry / "metadata.pbtxt"
    match = _GSO_CATEGORY.search(meta.read_text(errors="replace")) if meta.is_file() else None
    return match.group(1).strip().lower().replace(" ", "_") if match and match.group(1).strip() else "gso"


def _unique(objects: list[DatasetObject], problems: list[DatasetProblem]) -> Found:
    seen: dict[str, DatasetObject] = {}
    kept = []
    for o in objects:
        if o.id in seen:
            problems.append(DatasetProblem(o.path, f"duplicate object id {o.id!r} (also {seen[o.id].path})"))
        else:
            seen[o.id] = o
            kept.append(o)
    return kept, problems


def discover_procedural(root: Path | None = None) -> Found:
    """The built-in procedural set, generated into the cache on first use."""
    from reconbench.datasets.procedural import ensure_generated

    return discover_folder(ensure_generated(Path(root) if root else cache_root()), frame="y-up")
