"""Stage attribution's pieces: the spec field's checks, reading views out of grid images, and the declared cameras
of InstantMesh, LGM and CRM against test-only ports of the upstream camera formulas (cited in their specs)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from reconbench.methods.base import MethodSpec
from reconbench.protocol.frames import frame_matrix
from reconbench.registry import get_method
from reconbench.viewscore.stages import ORTHO_DISTANCE, check_intermediate_views, read_views, stage_cameras

GOOD = {"path": "v/*.png", "cameras": [{"view": 0, "azimuth": 0.0, "elevation": 10.0}], "fov": 30.0, "distance": 2.0}


@pytest.mark.parametrize(
    "change, message",
    [
        ({"path": ""}, "needs path"),
        ({"path": "/abs/*.png"}, "needs path"),
        ({"path": "../other/*.png"}, "needs path"),
        ({"cameras": []}, "needs cameras"),
        ({"cameras": [{"view": 0, "azimuth": 0.0}]}, "each camera is"),
        ({"cameras": [{"view": 0, "azimuth": 0.0, "elevation": 90.0}]}, "strictly between -90 and 90"),
        ({"orthographic": 1.0}, "either fov and distance"),
        ({"fov": None, "distance": None}, None),  # removed below: neither projection
        ({"grid": [0, 2]}, "grid must be"),
        ({"saved_by": "magic"}, "saved_by"),
        ({"colour": "red"}, "unknown keys"),
    ],
)
def test_bad_declarations_are_refused_with_the_reason(change, message):
    decl = {**GOOD, **change}
    if message is None:
        decl = {k: v for k, v in decl.items() if k not in ("fov", "distance")}
        message = "either fov and distance"
    with pytest.raises(ValueError, match=message):
        check_intermediate_views("m", decl)
    spec = {
        "name": "m",
        "paradigm": "feed-forward",
        "representation": "mesh",
        "description": "",
        "entry": "a:b",
        "intermediate_views": decl,
    }
    with pytest.raises(ValueError, match=message):
        MethodSpec.from_dict(spec)


def test_grid_images_split_row_by_row(tmp_path):
    tiles = [np.full((4, 5, 3), 10 * k, np.uint8) for k in range(6)]
    rows = [np.concatenate(tiles[r * 2 : (r + 1) * 2], axis=1) for r in range(3)]
    Image.fromarray(np.concatenate(rows, axis=0)).save(tmp_path / "a.png")
    Image.fromarray(tiles[0]).save(tmp_path / "b.png")
    views = read_views([tmp_path / "a.png"], (3, 2))
    assert [int(v[0, 0, 0]) for v in views] == [0, 10, 20, 30, 40, 50] and views[0].shape == (4, 5, 3)
    with pytest.raises(ValueError, match="does not split into a 3x4 grid"):
        read_views([tmp_path / "a.png"], (3, 4))


def test_cameras_follow_the_asset_normalisation():
    axes = frame_matrix("z-up-front-x")
    placement = np.diag([0.5, 0.5, 0.5, 1.0]) @ axes
    placement[:3, 3] = (0.1, -0.2, 0.3)
    (cam,) = stage_cameras(GOOD, (64, 64), placement, axes)
    # orbit position at distance 2 about the converted axes, then scaled by 0.5 and moved like the asset
    e = math.radians(10.0)
    assert np.allclose(cam.position, 0.5 * 2.0 * np.array([0, math.sin(e), math.cos(e)]) + (0.1, -0.2, 0.3))
    assert cam.fov == 30.0 and cam.width == 64 and np.allclose(np.linalg.det(cam.c2w[:3, :3]), 1.0)


def _positions(name: str, size: int) -> dict[int, np.ndarray]:
    spec = get_method(name)
    axes = spec.frame_for().array  # its declared frame (instantmesh-obj, crm-obj live in the adapters)
    cams = stage_cameras(spec.intermediate_views, (size, size), axes, axes)  # no normalisation: file units
    return {c["view"]: cam.position for c, cam in zip(spec.intermediate_views["cameras"], cams)}


def test_instantmesh_views_sit_where_zero123plus_cameras_are():
    # Port of get_zero123plus_input_cameras (src/utils/camera_util.py:51-53, 95-111): model frame z up, front +X;
    # the OBJ writer mirrors z (the frame instantmesh-obj undoes it), so a model point p is the file point diag(1,1,-1)
    # p.
    found = _positions("instantmesh", 320)
    assert sorted(found) == list(range(6))
    frame = get_method("instantmesh").frame_for().array[:3, :3]
    for k, (az, el) in enumerate(zip((30, 90, 150, 210, 270, 330), (20, -10, 20, -10, 20, -10))):
        a, e = math.radians(az), math.radians(el)
        model = 4.0 * np.array([math.cos(e) * math.cos(a), math.cos(e) * math.sin(a), math.sin(e)])
        assert np.allclose(found[k], frame @ (np.diag([1, 1, -1]) @ model), atol=1e-9)


def test_lgm_views_sit_where_its_reconstruction_model_assumes():
    # infer.py:92 feeds the returned images [1, 2, 3, 0] to slots 0..3; slot s is kiui's orbit_camera(0, 90 s, 1.5):
    # x = r cos(e) sin(a), y = -r sin(e), z = r cos(e) cos(a), in LGM's y-up frame.
    found = _positions("lgm", 256)
    for image in range(4):
        slot = [1, 2, 3, 0].index(image)
        a = math.radians(90 * slot)
        assert np.allclose(found[image], 1.5 * np.array([math.sin(a), 0.0, math.cos(a)]), atol=1e-9)
    assert get_method("lgm-mesh").intermediate_views == get_method("lgm").intermediate_views


def test_crm_views_sit_where_its_camera_table_puts_them():
    # camera_views [1, 2, 3, 4, 5, 0] (the reference frame popped); get_camera_for_index's (elevation, azimuth) table;
    # create_camera_to_world_matrix: (cos e sin a, sin e, cos e cos a). Frames 1 and 4 (straight down / up) are not
    # declared.
    table = [(0, 0), (0, -90), (-90, 0), (0, 180), (0, 90), (90, 0)]
    found = _positions("crm", 256)
    assert sorted(found) == [0, 2, 3, 5]
    for frame, index in enumerate([1, 2, 3, 4, 5, 0]):
        if frame not in found:
            assert abs(table[index][0]) == 90
            continue
        e, a = (math.radians(x) for x in table[index])
        direction = np.array([math.cos(e) * math.sin(a), math.sin(e), math.cos(e) * math.cos(a)])
        assert np.allclose(found[frame], ORTHO_DISTANCE * direction, atol=1e-9)
    spec = get_method("crm").intermediate_views
    assert spec["orthographic"] == 1.0 and spec["background"] == [127, 127, 127]


@pytest.mark.parametrize("name, saved_by", [("instantmesh", "upstream"), ("lgm", "hook"), ("crm", "upstream")])
def test_declarations_cite_their_source_at_the_pinned_commit(name, saved_by):
    spec = get_method(name)
    decl = spec.intermediate_views
    assert decl["saved_by"] == saved_by and spec.upstream["commit"][:7] in decl["source"]
    assert all(":" in part for part in decl["source"].split(" ", 1)[1].split("; "))  # file:line references
