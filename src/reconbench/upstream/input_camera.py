"""The protocol's input camera as a method sees it: placeholder values in the method's own convention,
and whether the method was run outside the input camera it assumes (docs/adapters.md, "Input camera").

A spec's `input_camera` is data:

    "input_camera": {
        "elevation": 0.0 | "given" | None,  # degrees, protocol sign (positive above the horizon)
        "azimuth": 0.0 | "given" | None,    # degrees, 0 on the object's front, 90 toward canonical +X
        "fov": 49.1 | "given" | None,       # vertical field of view, degrees
        "elevation_sign": 1 | -1,           # {input_elevation} = sign x the protocol's elevation
        "source": "file:line at the pinned commit, for each value",
    }

A number is a camera the method assumes and cannot be told (a fixed training or reference camera); the
protocol's input camera is compared against it. "given" means a step passes it through a placeholder.
None (or absent) means the method assumes nothing about it. Distance is carried as a placeholder but
never compared: each method measures it in its own scene units, and most recentre the input image,
which removes the distance from what the network sees.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconbench.methods.recipe import InputCamera
from reconbench.protocol import Camera
from reconbench.protocol.cameras import orbit_angles, vertical_fov

FIELDS = ("elevation", "azimuth", "fov")  # what a spec may declare as assumed or given
PLACEHOLDERS = ("input_elevation", "input_azimuth", "input_distance", "input_fov")
TOLERANCE_DEG = 0.5  # a protocol camera this close to the assumed one is within the assumption


def placeholder_values(assumed: InputCamera, camera: Camera) -> dict[str, str]:
    """The input camera's placeholders for a method's steps: degrees and protocol units, the elevation's
    sign converted to the method's convention (`elevation_sign`)."""
    sign = int(assumed.elevation_sign)
    orbit = orbit_of(camera)
    return {
        "input_elevation": _number(sign * orbit["elevation"]),
        "input_azimuth": _number(orbit["azimuth"]),
        "input_distance": _number(orbit["radius"]),
        "input_fov": _number(orbit["fov"]),
    }


def orbit_of(camera: Camera) -> dict[str, float]:
    """The camera's orbit parameters (docs/protocol.md, "Cameras"): those it was built from, or, for a
    camera given only by its matrices, the same quantities from its position and intrinsics."""
    elevation, azimuth, radius = orbit_angles(camera)
    return {
        "elevation": float(elevation),
        "azimuth": float(azimuth),
        "radius": float(radius),
        "fov": float(vertical_fov(camera)),
    }


def outside_assumptions(assumed_camera: InputCamera, cameras: Sequence[Camera]) -> str | None:
    """Why the protocol's input cameras are not the camera the method assumes (its typed recipe's
    input_camera), or None when they are (or when it assumes none)."""
    reasons = []
    for camera in cameras:
        orbit = orbit_of(camera)
        for name in FIELDS:
            assumed = getattr(assumed_camera, name)
            if not isinstance(assumed, (int, float)) or isinstance(assumed, bool):
                continue
            actual = orbit[name]
            difference = actual - assumed
            if name == "azimuth":  # angles on a circle: 359.9 is 0.1 from 0
                difference = (difference + 180.0) % 360.0 - 180.0
            if abs(difference) > TOLERANCE_DEG:
                reasons.append(
                    f"input view {camera.name}: {name} {_number(actual)}° where the method assumes {_number(assumed)}°"
                )
    if not reasons:
        return None
    return "; ".join(reasons) + f" (it cannot be told: {assumed_camera.source or 'see its spec'})"


def check_spec(spec_input_camera: Mapping[str, Any], steps: Sequence[Mapping[str, Any]]) -> list[str]:
    """Problems of a spec's input_camera against its steps: a field declared "given" must be passed
    by some step, and a step using {input_elevation} must say which sign convention it wants."""
    problems = []
    unknown = set(spec_input_camera) - {*FIELDS, "elevation_sign", "source"}
    if unknown:
        problems.append(
            f"input_camera: unknown field(s) {', '.join(sorted(unknown))}; known: {', '.join(FIELDS)}, elevation_sign, "
            f"source"
        )
    used = {p for step in steps for arg in step.get("argv", ()) for p in PLACEHOLDERS if f"{{{p}}}" in arg}
    for name in FIELDS:
        value = spec_input_camera.get(name)
        if value == "given" and f"input_{name}" not in used:
            problems.append(f"input_camera.{name} is 'given' but no step passes {{input_{name}}}")
        elif f"input_{name}" in used and value != "given":
            problems.append(f"a step passes {{input_{name}}} but input_camera.{name} is {value!r}, not 'given'")
        elif value not in (None, "given") and not (isinstance(value, (int, float)) and not isinstance(value, bool)):
            problems.append(f"input_camera.{name} must be a number (assumed), 'given' or None, got {value!r}")
    if spec_input_camera.get("elevation_sign", 1) not in (1, -1):
        problems.append(f"input_camera.elevation_sign must be 1 or -1, got {spec_input_camera.get('elevation_sign')!r}")
    if "input_elevation" in used and "elevation_sign" not in spec_input_camera:
        problems.append(
            "a step passes {input_elevation}: input_camera.elevation_sign must state the method's sign convention"
        )
    if any(
        isinstance(spec_input_camera.get(n), (int, float)) or spec_input_camera.get(n) == "given" for n in FIELDS
    ) and not spec_input_camera.get("source"):
        problems.append("input_camera.source missing: cite where the method's camera convention is defined")
    return problems


def _number(value: float) -> str:
    """Degrees or lengths as a short decimal ("30", "-30", "49.1"), never "-0"."""
    value = round(float(value), 6) + 0.0
    return f"{value:g}"
