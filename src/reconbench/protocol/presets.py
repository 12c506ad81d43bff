"""Protocol presets as plain data. `reconbench.protocol.get_protocol` turns an entry into cameras.

A view ring is {"elevation": deg, "azimuth_start": deg, "azimuth_step": deg, "count": n}.
Views are numbered 000, 001, ... in the order given: input views first, then held-out views.
"""

from __future__ import annotations

from typing import Any

# Three held-out rings, 8 views each, shared by `default` and `sparse4`. Elevations -20/10/40
# cover below, near and above the horizon; the 10-degree ring is offset by 22.5 degrees so that
# no held-out view sits directly behind an input at azimuth 0/90/180/270.
_HELDOUT_RINGS = [
    {"elevation": -20.0, "azimuth_start": 0.0, "azimuth_step": 45.0, "count": 8},
    {"elevation": 10.0, "azimuth_start": 22.5, "azimuth_step": 45.0, "count": 8},
    {"elevation": 40.0, "azimuth_start": 0.0, "azimuth_step": 45.0, "count": 8},
]

# How predictions are scored (docs/metrics.md). Shared by every preset so numbers are comparable.
EVALUATION: dict[str, Any] = {
    # Depth maps from these views give the point clouds of both sides (meshes and splats alike):
    # a Fibonacci sphere of directions, so every side of the object is seen, none exactly at a pole.
    "geometry_views": {"count": 20, "radius": 2.0, "fov": 49.1, "resolution": 256},
    "points": 30000,  # points drawn from each cloud (depth maps, and mesh surfaces), each side
    "seed": 0,
    "fscore_thresholds": [0.01, 0.02, 0.05, 0.1],  # in units of the object's longest side
    "fscore_default": 0.05,
    "volume_cell": 1 / 64,  # volume IoU voxel size (SyncDreamer: 64^3 over the unit box)
    "volume_extent": 1.5,  # side of the voxelised cube, so predictions larger than the box still count
    "icp": {"points": 10000, "max_iterations": 100},
    "rotation_search_step": 15.0,  # degrees about +Y, for `--align search`
    "headline": "aligned",  # which metrics are the headline: after ("aligned") or before refinement
}

PRESETS: dict[str, dict[str, Any]] = {
    "default": {
        "description": "Single input view at elevation 0, azimuth 0; 24 held-out views on three rings; 512x512.",
        "resolution": 512,
        "radius": 2.0,
        "fov": 49.1,
        "lighting": "studio",
        "input_rings": [{"elevation": 0.0, "azimuth_start": 0.0, "azimuth_step": 0.0, "count": 1}],
        "heldout_rings": _HELDOUT_RINGS,
        "source": "reconbench; radius 2 and fov 49.1 are DreamGaussian's reference camera, "
        "elevation 0 is the input elevation LGM, OpenLRM, TripoSR and DreamGaussian assume by default.",
    },
    "sparse4": {
        "description": "Four input views at elevation 0, azimuths 0/90/180/270; the same 24 held-out views as `default`.",
        "resolution": 512,
        "radius": 2.0,
        "fov": 49.1,
        "lighting": "studio",
        "input_rings": [{"elevation": 0.0, "azimuth_start": 0.0, "azimuth_step": 90.0, "count": 4}],
        "heldout_rings": _HELDOUT_RINGS,
        "source": "reconbench; azimuths 0/90/180/270 at elevation 0 are LGM's four views.",
    },
    "gso30-syncdreamer": {
        "description": "SyncDreamer's GSO-30 evaluation: 16 views at elevation 30, azimuth step 22.5, "
        "radius 1.5, fov 49.1, 256x256; view 000 is the input.",
        "resolution": 256,
        "radius": 1.5,
        "fov": 49.1,
        "lighting": "studio",
        "input_rings": [{"elevation": 30.0, "azimuth_start": 0.0, "azimuth_step": 22.5, "count": 1}],
        "heldout_rings": [{"elevation": 30.0, "azimuth_start": 22.5, "azimuth_step": 22.5, "count": 15}],
        "object_lists": {"gso": "gso30-syncdreamer"},
        "source": "Liu et al., SyncDreamer (ICLR 2024), evaluation on 30 GSO objects.",
    },
}
