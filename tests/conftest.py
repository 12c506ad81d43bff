"""Shared test fixtures: small mesh files written the way real datasets write them."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image

# The GPU paths' tests (also marked `gpu`): run where torch sees CUDA (scripts/gpu_check.sh), skipped elsewhere.
# A string condition, so torch is imported only when such a test is collected.
needs_cuda = pytest.mark.skipif(
    "not __import__('torch').cuda.is_available()", reason="needs a CUDA GPU (scripts/gpu_check.sh runs these)"
)


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    """Generated data goes to a per-session folder unless the caller set RECONBENCH_CACHE."""
    if "RECONBENCH_CACHE" not in os.environ:
        os.environ["RECONBENCH_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    yield


def checker_image(size: int = 16, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8))


def textured_box(extents=(1.0, 2.0, 0.5)) -> trimesh.Trimesh:
    box = trimesh.creation.box(extents=extents)
    box.unmerge_vertices()
    uv = np.random.default_rng(1).random((len(box.vertices), 2))
    box.visual = trimesh.visual.TextureVisuals(uv=uv, image=checker_image())
    return box


def write_obj_with_texture(folder: Path, stem: str = "model", extents=(1.0, 2.0, 0.5)) -> Path:
    """OBJ + MTL + PNG in one folder, as exported by trimesh/Blender."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.obj"
    textured_box(extents).export(path)
    return path


def write_vertex_colored_ply(path: Path) -> Path:
    sphere = trimesh.creation.icosphere(subdivisions=2)
    sphere.visual.vertex_colors = np.tile([200, 30, 30, 255], (len(sphere.vertices), 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    sphere.export(path)
    return path


def write_glb(path: Path) -> Path:
    scene = trimesh.Scene()
    scene.add_geometry(textured_box(), geom_name="body")
    cyl = trimesh.creation.cylinder(radius=0.1, height=1.0)
    cyl.apply_translation([0.8, 0, 0])
    cyl.visual.face_colors = [20, 200, 20, 255]
    scene.add_geometry(cyl, geom_name="handle")
    path.parent.mkdir(parents=True, exist_ok=True)
    scene.export(path)
    return path


@pytest.fixture
def mesh_folder(tmp_path: Path) -> Path:
    """A `folder:` dataset: a loose OBJ, a GLB, a PLY, and a sub-folder holding one OBJ."""
    root = tmp_path / "meshes"
    write_obj_with_texture(root, "crate")
    write_glb(root / "mug.glb")
    write_vertex_colored_ply(root / "ball.ply")
    write_obj_with_texture(root / "tower", "model", extents=(0.3, 3.0, 0.3))
    return root


SMALL_PROTOCOL = {
    "name": "small-test",
    "description": "sparse4 at 128x128 with 8 held-out and 8 geometry views: the runner's tests, in seconds",
    "resolution": 128,
    "radius": 2.0,
    "fov": 49.1,
    "lighting": "studio",
    "input_rings": [{"elevation": 0.0, "azimuth_start": 0.0, "azimuth_step": 90.0, "count": 4}],
    "heldout_rings": [{"elevation": 25.0, "azimuth_start": 45.0, "azimuth_step": 45.0, "count": 8}],
    "evaluation": {
        "points": 5000,
        "geometry_views": {"count": 8, "radius": 2.0, "fov": 49.1, "resolution": 128},
        "icp": {"points": 3000, "max_iterations": 50},
    },
}


@pytest.fixture(scope="session")
def small_protocol(tmp_path_factory) -> str:
    """Path of a small protocol file (sparse4 inputs, 128x128): keeps end-to-end runs fast."""
    import json

    path = tmp_path_factory.mktemp("protocols") / "small-test.json"
    path.write_text(json.dumps(SMALL_PROTOCOL))
    return str(path)
