"""Dataset sources as data: how each is laid out on disk, its frame, and the function that lists it."""

from __future__ import annotations

from typing import Any

SOURCES: dict[str, dict[str, Any]] = {
    "procedural": {
        "description": "Built-in deterministic textured objects, generated into the cache on first use.",
        "discover": "reconbench.datasets.discover:discover_procedural",
        "needs_path": False,
        "frame": "y-up",
    },
    "folder": {
        "description": "Any folder of OBJ (+MTL, textures) / GLB / PLY files: one object per file or per sub-folder; "
        "optional index.json [{id, category}].",
        "discover": "reconbench.datasets.discover:discover_folder",
        "needs_path": True,
        "frame": "y-up",
    },
    "gso": {
        "description": "Google Scanned Objects: <name>/meshes/model.obj, <name>/materials/textures/texture.png.",
        "discover": "reconbench.datasets.discover:discover_gso",
        "needs_path": True,
        "frame": "z-up",
        "notes": "Z-up, metres, resting on z = 0 (Gazebo/SDF convention). Which side is the front is not "
        "standardised across scans: the front is taken as -Y; an object list can rename objects and turn them "
        "about the up axis (yaw=DEG, as the shipped gso30-syncdreamer list does).",
        "homepage": "https://research.google/blog/scanned-objects-by-google-research-a-dataset-of-3d-scanned-common-household-items/",
    },
    "omniobject3d": {
        "description": "OmniObject3D raw scans: <category>/<category>_<NNN>/Scan/Scan.obj.",
        "discover": "reconbench.datasets.discover:discover_omniobject3d",
        "needs_path": True,
        "frame": "y-up",
        "notes": (
            "Raw scans are Y-up in millimetres (OmniObject3D issue #2, tools/mesh_eval.py); front not standardised."
        ),
        "homepage": "https://omniobject3d.github.io/",
    },
    "images": {
        "description": "A folder of RGB or RGBA photos without ground truth (mask from alpha, or rembg): runs report "
        "input-view fidelity, usability, time and cost; ground-truth metrics are marked not applicable.",
        "discover": "reconbench.datasets.images:discover_images",
        "needs_path": True,
        "frame": "y-up",
    },
    "objaverse": {
        "description": "Objaverse GLB files anywhere below PATH (id = file name without .glb).",
        "discover": "reconbench.datasets.discover:discover_glbs",
        "needs_path": True,
        "frame": "y-up",
        "notes": (
            "glTF convention: +Y up, front +Z; many Objaverse assets do not follow it (orientation and scale vary)."
        ),
        "homepage": "https://objaverse.allenai.org/",
    },
}
