"""The report's qualitative grid: for a few objects, the input view, the ground truth rendered again with
the common renderer (when the dataset and the renderer are available here) and every method's render, at a
few held-out views, as PNG thumbnails embedded in the page."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from reconbench.report.conventions import run_protocol
from reconbench.report.html import ObjectGrid
from reconbench.results import JobRecord, Run

GRID_OBJECTS = 4
GRID_VIEWS = 3
THUMB = 160


def image_uri(image: np.ndarray | Image.Image, size: int = THUMB) -> str:
    """A thumbnail (RGBA composited on white, longest side `size`) as a PNG data URI."""
    img = image if isinstance(image, Image.Image) else Image.fromarray(np.asarray(image))
    if img.mode in ("RGBA", "LA", "P"):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    img = img.convert("RGB")
    img.thumbnail((size, size), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _file_uri(path: Path) -> str | None:
    try:
        with Image.open(path) as img:
            return image_uri(img.copy())
    except (OSError, ValueError):
        return None


def pick_objects(run: Run, count: int = GRID_OBJECTS) -> list[JobRecord]:
    """Up to `count` objects, one per category in turn, preferring those most methods completed."""
    by_object: dict[str, list[JobRecord]] = {}
    for r in run.records:
        by_object.setdefault(r.object, []).append(r)
    ranked = sorted(by_object.values(), key=lambda rs: (-sum(r.status == "ok" for r in rs), rs[0].object))
    by_category: dict[str, list[JobRecord]] = {}
    for rs in ranked:
        by_category.setdefault(rs[0].category, []).append(rs[0])
    picked: list[JobRecord] = []
    queues = list(by_category.values())
    while len(picked) < count and any(queues):
        for q in queues:
            if q and len(picked) < count:
                picked.append(q.pop(0))
    return picked


def _views(run: Run, proto: Any | None, obj: str) -> tuple[list[Any], list[str]]:
    """(held-out cameras or [], their names): GRID_VIEWS views spread over the held-out set."""
    if proto is not None:
        cams = list(proto.heldout_cameras)
    else:
        names = sorted(
            {p.name[: -len("_heldout.png")] for p in (run.folder / "renders").glob(f"*/{obj}/*_heldout.png")}
        )
        cams = names
    if not cams:
        return [], []
    idx = sorted(set(np.linspace(0, len(cams) - 1, min(GRID_VIEWS, len(cams))).round().astype(int).tolist()))
    chosen = [cams[i] for i in idx]
    return (chosen if proto is not None else []), [c.name if proto is not None else c for c in chosen]


def _ground_truth(run: Run, proto: Any | None, obj: str, cameras: list[Any]) -> tuple[list[str] | None, str]:
    """Thumbnails of the ground truth at `cameras`, or (None, why not)."""
    if proto is None or not cameras:
        return None, "ground truth unavailable (protocol cannot be built)"
    try:
        from reconbench.datasets import apply_object_list, open_dataset, parse_spec
        from reconbench.datasets.object_list import ListEntry
        from reconbench.render import render_views

        spec = run.meta.dataset
        if spec is None:
            return None, "ground truth unavailable (the run names no dataset)"
        entries = run.meta.object_entries
        if entries is not None:  # the objects the run selected, under the names it gave them
            dataset = apply_object_list(open_dataset(spec), [ListEntry(*e) for e in entries])
        else:  # a run folder from before the meta recorded its objects
            dataset = open_dataset(spec, proto.default_object_list(parse_spec(spec)[0]))
        mesh = dataset.get(obj).load()
        images = render_views(mesh, cameras, proto.lighting.references).composited_uint8()
    except Exception:  # no dataset here, no renderer: the grid says so
        return None, "ground truth unavailable"
    return [image_uri(im) for im in images], ""


def _input_view(run: Run, proto: Any | None, obj: str) -> tuple[str | None, str]:
    folder = run.folder / "inputs" / obj
    name = proto.input_cameras[0].name if proto is not None and proto.input_cameras else None
    path = folder / f"{name}.png" if name else next(iter(sorted(folder.glob("*.png"))), None)
    if path is None or not path.is_file():
        return None, name or "?"
    return _file_uri(path), path.stem


def qualitative_grids(run: Run) -> list[ObjectGrid]:
    proto = run_protocol(run)
    grids = []
    for rec in pick_objects(run):
        cameras, names = _views(run, proto, rec.object)
        gt, why = _ground_truth(run, proto, rec.object, cameras)
        input_uri, input_name = _input_view(run, proto, rec.object)
        rows = []
        for k, view in enumerate(names):
            cells = [gt[k] if gt else None]
            cells += [_file_uri(run.folder / "renders" / m / rec.object / f"{view}_heldout.png") for m in run.methods]
            rows.append((view, cells))
        missing = {"ground truth": why or "ground truth unavailable"}
        missing.update({m: _render_missing(run, m, rec.object) for m in run.methods})
        grids.append(
            ObjectGrid(rec.object, rec.category, input_uri, input_name, ["ground truth"] + run.methods, rows, missing)
        )
    return grids


def _render_missing(run: Run, method: str, obj: str) -> str:
    status = next((r.status for r in run.records if r.method == method and r.object == obj), "not run")
    return f"no render ({status})" if status != "ok" else "no render"
