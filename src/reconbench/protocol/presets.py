"""Protocol presets as plain data. `reconbench.protocol.get_protocol` turns an entry into cameras.

A view ring is {"elevation": deg, "azimuth_start": deg, "azimuth_step": deg, "count": n}.
Views are numbered 000, 001, ... in the order given: input views first, then held-out views.
"""

from __future__ import annotations

import math
from typing import Any

# Three held-out rings, 8 views each, shared by `default` and `sparse4`. Elevations -20/10/40
# cover below, near and above the horizon; the 10-degree ring is offset by 22.5 degrees so that
# no held-out view sits directly behind an input at azimuth 0/90/180/270.
_HELDOUT_RINGS = [
    {"elevation": -20.0, "azimuth_start": 0.0, "azimuth_step": 45.0, "count": 8},
    {"elevation": 10.0, "azimuth_start": 22.5, "azimuth_step": 45.0, "count": 8},
    {"elevation": 40.0, "azimuth_start": 0.0, "azimuth_step": 45.0, "count": 8},
]

# How predictions are scored (docs/metrics.md): reconbench's own settings, used by `default` and
# `sparse4`. A preset that follows a published evaluation overrides entries (`_evaluation` below); every
# result records the merged settings (Evaluation.to_dict), so a number always says how it was computed.
EVALUATION: dict[str, Any] = {
    # Depth maps from these views give the point clouds of both sides (meshes and splats alike):
    # a Fibonacci sphere of directions, so every side of the object is seen, none exactly at a pole.
    # "protocol" instead uses the preset's own cameras (SyncDreamer's evaluation does).
    "geometry_views": {"count": 20, "radius": 2.0, "fov": 49.1, "resolution": 256},
    "geometry_points": "depth",  # "depth": back-projected depth pixels; "surface": area-uniform mesh samples
    "point_sampling": "random",  # "random": `points` drawn with `seed`; "all": every covered pixel
    "points": 30000,  # points drawn from each cloud (depth maps, and mesh surfaces), each side
    "seed": 0,
    "pixel_offset": 0.5,  # pixel (i, j) is back-projected through (i + offset, j + offset); 0.5 = its centre
    # Depth maps of mesh predictions: "renderer" (exact, reconbench's renderer) or "screen-linear"
    # (vertex depths interpolated linearly in screen space, as eval_mesh.py's nvdiffrast call gives).
    "prediction_depth": "renderer",
    "down_sample_voxel": None,  # open3d voxel_down_sample size applied to both clouds, or None
    # "point-to-mesh": distances from each side's points to the other mesh's triangles (exact; a
    # Gaussian-splat prediction has no triangles, so distances to it are to its depth points);
    # "point-to-point": nearest-neighbour distances between the two point clouds.
    "chamfer": "point-to-mesh",
    # Points of each cloud (drawn from its `points`, seed `seed`) whose exact distances to the other mesh are
    # taken: the query is ~40 us a point, and with no sampling floor 10,000 points leave only the Monte
    # Carlo error of a mean (about 1 % relative), so the scoring of a pair stays within its 5 s budget.
    "mesh_distance_points": 10000,
    "length_unit": 1.0,  # reported lengths are multiplied by this: 1 = the object's longest side
    "normalisation": "bounding box centred at the origin, longest side 1",
    "fscore_thresholds": [0.01, 0.02, 0.05, 0.1],  # in reported units (after length_unit)
    "fscore_default": 0.05,
    # "cells": cell centres of a cube of side `extent`, every connected component must be closed;
    # "mesh2sdf": mesh2sdf.compute(v, f, size, fix=False) < 0 (SyncDreamer's eval_mesh.py), see volume.py.
    "volume": {"grid": "cells", "cell": 1 / 64, "extent": 1.5},
    "alignment": "icp",  # the default refinement (`--align` overrides): none | icp | search
    "icp": {"points": 10000, "max_iterations": 100},
    "rotation_search_step": 15.0,  # degrees about +Y, for `--align search`
    "headline": "aligned",  # which metrics are the headline: after ("aligned") or before refinement
    # The other set (before refinement when the headline is after it): "all" its metrics, or only the
    # "geometry" ones, whose points are made anyway as the refinement's input; its image metrics cost a
    # second render of every view, SSIM and LPIPS (docs/metrics.md, "Alignment"). `--other-set` overrides.
    "other_set": "geometry",
    "image": {
        "psnr": "-10 log10(MSE), MSE over all pixels and channels, data range 1",
        "ssim": "skimage",  # "skimage": data range 1; "torchmetrics": data range from the images (metrics/image.py)
        "ssim_border": "crop",  # "crop": mean without a 5-px border; "reflect": whole image, reflect-padded
        "lpips": ["alex"],  # LPIPS backbones computed by default (`--lpips` overrides); the first is `lpips`
        "lpips_input_range": [-1.0, 1.0],
        "background": "white",
        "views": "held-out views (input views reported apart)",
    },
    "reproduces": None,  # {"script", "repository", "commit"} of a published evaluation reproduced exactly
    "approximate": None,  # why a preset only follows a paper's text, or None
    "source": "reconbench's own settings (docs/metrics.md)",
}


def _evaluation(**overrides: Any) -> dict[str, Any]:
    """reconbench's settings with a preset's overrides; "image" merges entry by entry."""
    out = {**EVALUATION, **overrides}
    out["image"] = {**EVALUATION["image"], **overrides.get("image", {})}
    return out


_SYNCDREAMER = "github.com/liuyuan-pal/SyncDreamer"
_SYNCDREAMER_COMMIT = "cc373c8"

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
        "description": (
            "Four input views at elevation 0, azimuths 0/90/180/270; the same 24 held-out views as `default`."
        ),
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
        "radius 1.5, f = 280 px at 256x256 (fov 49.13); view 000 is the input. Geometry and image metrics "
        "as SyncDreamer's eval_mesh.py and eval_nvs.py compute them.",
        "resolution": 256,
        "radius": 1.5,
        # Blender lens 35 mm on a 32 mm sensor at 256 px (SyncDreamer's blender_script.py and
        # meta_info/camera-16.pkl: K = [[280, 0, 128], [0, 280, 128]]): f = 280 exactly, fov 49.134 deg.
        "focal_px": 280.0,
        "fov": math.degrees(2 * math.atan(16 / 35)),
        "lighting": "studio",
        "input_rings": [{"elevation": 30.0, "azimuth_start": 0.0, "azimuth_step": 22.5, "count": 1}],
        "heldout_rings": [{"elevation": 30.0, "azimuth_start": 22.5, "azimuth_step": 22.5, "count": 15}],
        "object_lists": {"gso": "gso30-syncdreamer"},
        "source": "Liu et al., SyncDreamer (ICLR 2024), evaluation on 30 GSO objects.",
        "evaluation": _evaluation(
            geometry_views="protocol",  # eval_mesh.py: depth at its 16 cameras (NUM_IMAGES = 16, POSES)
            point_sampling="all",
            pixel_offset=0.0,  # mask_depth_to_pts back-projects pixel (i, j) through (i, j) itself
            prediction_depth="screen-linear",  # rasterize_depth_map: nvdiffrast with clip w = 1
            down_sample_voxel=0.01,  # ds_and_save: open3d voxel_down_sample(voxel_size=0.01), both clouds
            chamfer="point-to-point",  # nearest_dist both ways, (mean + mean) / 2
            normalisation="bounding box centred at the origin, longest side 1 (eval_mesh.py norm_coords)",
            volume={"grid": "mesh2sdf", "size": 64, "half_extent": 1.0},  # mesh2sdf.compute(v, f, 64, fix=False) < 0
            alignment="none",  # eval_mesh.py compares the prediction as it is, in the renders' frame
            headline="unaligned",
            image={
                "ssim": "torchmetrics",  # structural_similarity_index_measure(pred, gt), its defaults
                # torchmetrics < 1.5 (2023, when SyncDreamer's numbers were made) cut the 5-px border;
                # 1.5+ averages the whole image ("reflect": 0.8943 vs 0.8855 on the shipped chicken pair).
                "ssim_border": "crop",
                "lpips": ["vgg", "alex"],  # lpips.LPIPS(net='vgg') on [-1, 1]; alex kept for reconbench's column
                "views": "all 16 views for SyncDreamer's numbers (eval_nvs.py); held-out and input apart here",
            },
            reproduces={
                "repository": _SYNCDREAMER,
                "commit": _SYNCDREAMER_COMMIT,
                "script": "eval_mesh.py (Chamfer, volume IoU), eval_nvs.py (PSNR, SSIM, LPIPS-VGG)",
            },
            source=f"{_SYNCDREAMER} at {_SYNCDREAMER_COMMIT}: eval_mesh.py, eval_nvs.py",
        ),
    },
    "gso-sf3d-approx": {
        "description": "APPROXIMATE TripoSR / SF3D GSO protocol: frontal input, meshes normalised to [-1, 1], "
        "rotation search then ICP, 10,000 surface points, Chamfer and F-score at 0.1 / 0.2 / 0.5 in those units. "
        "Object lists and scripts unreleased.",
        "resolution": 512,
        "radius": 2.0,
        "fov": 49.1,
        "lighting": "studio",
        "input_rings": [{"elevation": 0.0, "azimuth_start": 0.0, "azimuth_step": 0.0, "count": 1}],
        "heldout_rings": _HELDOUT_RINGS,
        "source": "TripoSR tech report (arXiv 2403.02151) sec. 4 and SF3D (arXiv 2408.00653) sec. 5: "
        "brute-force rotation search for the lowest CD, then ICP; CD and F-score at 0.1/0.2/0.5; 10K points (TripoSR).",
        "evaluation": _evaluation(
            geometry_points="surface",  # marching-cubes meshes sampled on their surface (TripoSR: 10K points)
            points=10000,
            chamfer="point-to-point",
            length_unit=2.0,  # objects normalised to [-1, 1]: lengths are twice reconbench's
            normalisation="bounding box centred at the origin, longest side 2 ([-1, 1]; assumed, not stated)",
            fscore_thresholds=[0.1, 0.2, 0.5],
            fscore_default=0.1,
            alignment="search",
            approximate="object lists (about 300 hand-filtered / 278 random GSO objects), cameras, point "
            "sampling and the normalisation are not released; this follows the papers' text",
            source="TripoSR (arXiv 2403.02151v1) Tables 2-3; SF3D (arXiv 2408.00653v1) Table 1",
        ),
    },
    "gso30-crm-approx": {
        "description": "APPROXIMATE CRM GSO-30 protocol: objects scaled into [-0.5, 0.5], one input view, "
        "24 views at elevations 0/15/30 x 8 azimuths at 512x512, Chamfer, volume IoU and F-score at 0.05. "
        "Object list and script unreleased.",
        "resolution": 512,
        "radius": 2.0,
        "fov": 49.1,
        "lighting": "studio",
        # The input is the first of the 24 views; the other 23 are held out.
        "input_rings": [{"elevation": 0.0, "azimuth_start": 0.0, "azimuth_step": 45.0, "count": 1}],
        "heldout_rings": [
            {"elevation": 0.0, "azimuth_start": 45.0, "azimuth_step": 45.0, "count": 7},
            {"elevation": 15.0, "azimuth_start": 0.0, "azimuth_step": 45.0, "count": 8},
            {"elevation": 30.0, "azimuth_start": 0.0, "azimuth_step": 45.0, "count": 8},
        ],
        "source": "CRM (arXiv 2403.05034v1) sec. 5.1, Tables 1-2: 30 random GSO shapes, pose adjusted and "
        "scaled into [-0.5, 0.5], CD, volume IoU, F-score at 0.05; 24 renders at 512 (elevations 0/15/30).",
        "evaluation": _evaluation(
            geometry_views="protocol",  # visible-surface depth points of the 24 views
            chamfer="point-to-point",
            normalisation="bounding box centred at the origin, inside [-0.5, 0.5] (longest side 1)",
            fscore_thresholds=[0.05],
            fscore_default=0.05,
            volume={
                "grid": "mesh2sdf",
                "size": 64,
                "half_extent": 1.0,
            },  # grid not stated: SyncDreamer's, whose table CRM copies
            alignment="icp",  # CRM adjusted the pose by hand
            approximate="the 30 objects are random and unreleased, the pose was adjusted by hand, point "
            "sampling and the volume grid are not stated; this follows the paper's text",
            source="CRM (arXiv 2403.05034v1) Tables 1-2",
        ),
    },
}
