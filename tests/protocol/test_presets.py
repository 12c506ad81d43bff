import math

import numpy as np
import pytest

from reconbench.protocol import build_protocol, get_protocol, protocol_names
from reconbench.protocol.presets import PRESETS


def _key(cam):
    return tuple(np.round(cam.position, 9))


def test_default_has_one_input_at_azimuth_0_and_enough_distinct_heldout_views():
    p = get_protocol("default")
    (inp,) = p.input_cameras
    assert inp.azimuth == 0 and np.allclose(inp.position / np.linalg.norm(inp.position), [0, 0, 1])
    held = p.heldout_cameras
    assert len(held) >= 24 and p.resolution == (512, 512)
    assert len({c.elevation for c in held}) >= 3
    assert _key(inp) not in {_key(c) for c in held}
    assert len({_key(c) for c in held}) == len(held)


def test_sparse4_inputs_and_the_same_heldout_views_as_default():
    p, d = get_protocol("sparse4"), get_protocol("default")
    assert sorted(c.azimuth for c in p.input_cameras) == [0, 90, 180, 270]
    assert [_key(c) for c in p.heldout_cameras] == [_key(c) for c in d.heldout_cameras]
    assert not {_key(c) for c in p.input_cameras} & {_key(c) for c in p.heldout_cameras}


def test_gso30_preset_is_exactly_syncdreamers_setting():
    """Cameras as SyncDreamer's camera-16 (f = 280 px: lens 35 mm on a 32 mm sensor at 256 px); the pose
    check against the camera file itself is in tests/metrics/test_syncdreamer_reproduction.py."""
    p = get_protocol("gso30-syncdreamer")
    assert len(p.cameras) == 16 and p.cameras[0].name == "000" and p.cameras[0].role == "input"
    assert all(c.role == "heldout" for c in p.cameras[1:])
    for k, cam in enumerate(p.cameras):
        assert cam.azimuth == pytest.approx(22.5 * k)
        assert np.linalg.norm(cam.position) == pytest.approx(1.5)
        elevation = math.degrees(math.asin(cam.position[1] / 1.5))
        assert elevation == pytest.approx(30)
        assert cam.fx == cam.fy == 280.0 and (cam.cx, cam.cy) == (128.0, 128.0)
        assert cam.fov == pytest.approx(math.degrees(2 * math.atan(16 / 35))) == pytest.approx(49.134, abs=1e-3)
        assert (cam.width, cam.height) == (256, 256)
    assert p.default_object_list("gso") == "gso30-syncdreamer"


def test_unlit_variants_shade_nothing_and_default_shades_only_inputs():
    for name in protocol_names():
        p = get_protocol(name)
        assert p.lighting.references.mode == "unlit" and p.lighting.predictions.mode == "unlit"
        if name.endswith("-unlit"):
            assert p.lighting.inputs.mode == "unlit"
    assert get_protocol("default").lighting.inputs.mode == "lambert"


def test_unknown_protocol_names_the_known_ones():
    with pytest.raises(KeyError, match="sparse4"):
        get_protocol("nope")


def test_a_heldout_view_equal_to_an_input_view_is_rejected():
    spec = dict(PRESETS["default"])
    spec["heldout_rings"] = [{"elevation": 0.0, "azimuth_start": 0.0, "azimuth_step": 90.0, "count": 2}]
    with pytest.raises(ValueError, match="coincide"):
        build_protocol("bad", spec)


def test_a_protocol_file_defines_a_custom_protocol(tmp_path):
    import json

    spec = {
        "name": "tiny",
        "resolution": 64,
        "radius": 2.0,
        "fov": 49.1,
        "lighting": "unlit",
        "input_rings": [{"elevation": 0, "azimuth_start": 0, "azimuth_step": 90, "count": 4}],
        "heldout_rings": [{"elevation": 20, "azimuth_start": 45, "azimuth_step": 90, "count": 4}],
        "evaluation": {"points": 2000, "geometry_views": {"count": 6, "radius": 2.0, "fov": 49.1, "resolution": 64}},
    }
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(spec))
    p = get_protocol(str(path))
    assert p.name == "tiny" and p.resolution == (64, 64) and len(p.input_cameras) == 4 and len(p.heldout_cameras) == 4
    assert p.evaluation.points == 2000 and len(p.evaluation.geometry_cameras) == 6
    assert p.evaluation.fscore_default == 0.05  # defaults kept
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(KeyError, match="lacks resolution"):
        get_protocol(str(tmp_path / "bad.json"))


def test_every_preset_records_its_evaluation_settings_as_plain_data():
    import json

    for name in protocol_names():
        ev = get_protocol(name).evaluation
        d = ev.to_dict()
        assert json.loads(json.dumps(d)) == d  # plain data
        for key in (
            "geometry_views",
            "point_sampling",
            "down_sample_voxel",
            "chamfer",
            "fscore_thresholds",
            "length_unit",
            "normalisation",
            "volume",
            "alignment",
            "image",
            "reproduces",
            "approximate",
        ):
            assert key in d, (name, key)
        assert {"psnr", "ssim", "lpips", "lpips_input_range", "background"} <= set(d["image"])
        # A preset either reproduces a named script at a commit, is labelled approximate, or is reconbench's own.
        assert bool(d["reproduces"]) + bool(d["approximate"]) <= 1
        if d["reproduces"]:
            assert d["reproduces"]["commit"] and d["reproduces"]["script"] and "reproduces" in ev.label()
        if d["approximate"]:
            assert name.split("-unlit")[0].endswith("-approx") and ev.label().startswith("APPROXIMATE")


def test_published_protocol_presets_follow_their_papers_text():
    sf3d = get_protocol("gso-sf3d-approx").evaluation
    assert sf3d.alignment == "search" and sf3d.points == 10000 and sf3d.geometry_points == "surface"
    assert sf3d.fscore_thresholds == (0.1, 0.2, 0.5) and sf3d.length_unit == 2.0 and sf3d.approximate
    crm = get_protocol("gso30-crm-approx")
    assert (
        crm.evaluation.fscore_thresholds == (0.05,) and crm.evaluation.length_unit == 1.0 and crm.evaluation.approximate
    )
    views = crm.cameras
    assert len(views) == 24 and crm.resolution == (512, 512)
    assert sorted({round(c.elevation) for c in views}) == [0, 15, 30]
    assert all(sum(1 for c in views if round(c.elevation) == e) == 8 for e in (0, 15, 30))
    sd = get_protocol("gso30-syncdreamer").evaluation
    assert (sd.chamfer, sd.down_sample_voxel, sd.pixel_offset, sd.alignment) == ("point-to-point", 0.01, 0.0, "none")
    assert sd.volume == {"grid": "mesh2sdf", "size": 64, "half_extent": 1.0} and len(sd.geometry_cameras) == 16
    default = get_protocol("default").evaluation
    assert default.chamfer == "point-to-mesh" and default.approximate is None and not default.spec["reproduces"]


def test_a_protocol_file_cannot_claim_to_reproduce_a_published_script(tmp_path):
    import json

    spec = dict(PRESETS["default"], evaluation={"reproduces": {"script": "x", "repository": "y", "commit": "z"}})
    path = tmp_path / "claim.json"
    path.write_text(json.dumps(spec))
    with pytest.raises(KeyError, match="cannot claim"):
        get_protocol(str(path))


@pytest.mark.parametrize("key,value", [("chamfer", "squared"), ("volume", {"grid": "octree"}), ("alignment", "magic")])
def test_unknown_evaluation_settings_are_rejected_by_name(key, value):
    spec = dict(PRESETS["default"], evaluation={key: value})
    with pytest.raises(ValueError, match=key.split("_")[0]):
        build_protocol("bad", spec)
