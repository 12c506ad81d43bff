"""The evaluation protocol: canonical frame, camera rigs, lighting and presets. Pure, no I/O."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from reconbench.protocol.cameras import Camera, look_at, orbit_camera, orbit_position
from reconbench.protocol.lighting import LIGHTINGS, UNLIT, Lighting, Shading
from reconbench.protocol.presets import EVALUATION, PRESETS

UNLIT_SUFFIX = "-unlit"


@dataclass(frozen=True)
class Protocol:
    """Cameras (input first, then held-out), lighting and provenance of one evaluation setting."""

    name: str
    description: str
    cameras: tuple[Camera, ...]
    lighting: Lighting
    source: str = ""
    object_lists: tuple[tuple[str, str], ...] = ()  # (dataset source, shipped list) applied by default
    evaluation: "Evaluation | None" = None

    def default_object_list(self, source: str) -> str | None:
        """The shipped object list this protocol fixes for a dataset source, if any."""
        return dict(self.object_lists).get(source)

    @property
    def input_cameras(self) -> tuple[Camera, ...]:
        return tuple(c for c in self.cameras if c.role == "input")

    @property
    def heldout_cameras(self) -> tuple[Camera, ...]:
        return tuple(c for c in self.cameras if c.role == "heldout")

    @property
    def resolution(self) -> tuple[int, int]:
        return self.cameras[0].width, self.cameras[0].height

    def shading_for(self, camera: Camera) -> Shading:
        """How the ground truth is shaded in this view: input images vs scoring references."""
        return self.lighting.inputs if camera.role == "input" else self.lighting.references


@dataclass(frozen=True)
class Evaluation:
    """How predictions are scored: geometry views, point counts, seeds, thresholds (docs/metrics.md)."""

    geometry_cameras: tuple[Camera, ...]
    points: int
    seed: int
    fscore_thresholds: tuple[float, ...]
    fscore_default: float
    volume_cell: float
    volume_extent: float
    icp_points: int
    icp_max_iterations: int
    rotation_search_step: float
    headline: str

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> "Evaluation":
        if spec["fscore_default"] not in spec["fscore_thresholds"]:
            raise ValueError("fscore_default must be one of fscore_thresholds")
        if spec["headline"] not in ("aligned", "unaligned"):
            raise ValueError(f"headline must be 'aligned' or 'unaligned', got {spec['headline']!r}")
        g = spec["geometry_views"]
        return cls(
            geometry_cameras=tuple(
                orbit_camera(f"g{k:02d}", "heldout", e, a, g["radius"], g["fov"], g["resolution"], g["resolution"])
                for k, (e, a) in enumerate(fibonacci_directions(g["count"]))
            ),
            points=int(spec["points"]),
            seed=int(spec["seed"]),
            fscore_thresholds=tuple(float(t) for t in spec["fscore_thresholds"]),
            fscore_default=float(spec["fscore_default"]),
            volume_cell=float(spec["volume_cell"]),
            volume_extent=float(spec["volume_extent"]),
            icp_points=int(spec["icp"]["points"]),
            icp_max_iterations=int(spec["icp"]["max_iterations"]),
            rotation_search_step=float(spec["rotation_search_step"]),
            headline=spec["headline"],
        )


def fibonacci_directions(count: int) -> list[tuple[float, float]]:
    """(elevation, azimuth) in degrees of `count` near-uniform directions on the sphere (golden spiral)."""
    out = []
    golden = math.pi * (3 - math.sqrt(5))
    for k in range(count):
        y = 1 - 2 * (k + 0.5) / count
        out.append((math.degrees(math.asin(y)), math.degrees(k * golden) % 360.0))
    return out


def protocol_names() -> list[str]:
    return [n for base in PRESETS for n in (base, base + UNLIT_SUFFIX)]


def get_protocol(name: str) -> Protocol:
    """Build a preset by name; `<preset>-unlit` is the same preset with every image unlit; a path to a
    JSON file with a preset's keys defines a custom protocol (its "evaluation" entries override the defaults)."""
    if name.endswith(".json"):
        return load_protocol_file(Path(name))
    base, lighting_name = name, None
    if name.endswith(UNLIT_SUFFIX) and name[: -len(UNLIT_SUFFIX)] in PRESETS:
        base, lighting_name = name[: -len(UNLIT_SUFFIX)], "unlit"
    if base not in PRESETS:
        raise KeyError(f"unknown protocol {name!r}; known: {', '.join(protocol_names())}")
    proto = build_protocol(base, PRESETS[base])
    if lighting_name:
        proto = replace(proto, name=name, lighting=LIGHTINGS[lighting_name], description=proto.description + " All images unlit.")
    return proto


def load_protocol_file(path: Path) -> Protocol:
    try:
        spec = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise KeyError(f"{path}: cannot read protocol file ({exc})") from exc
    missing = [k for k in ("resolution", "radius", "fov", "lighting", "input_rings", "heldout_rings") if k not in spec]
    if missing:
        raise KeyError(f"{path}: protocol file lacks {', '.join(missing)}")
    spec.setdefault("description", f"custom protocol from {path.name}")
    spec["evaluation"] = {**EVALUATION, **spec.get("evaluation", {})}
    return build_protocol(spec.get("name", path.stem), spec)


def build_protocol(name: str, spec: dict[str, Any]) -> Protocol:
    """Expand a preset's rings into cameras; rejects held-out views that coincide with an input view."""
    size = int(spec["resolution"])
    cameras: list[Camera] = []
    for role, rings in (("input", spec["input_rings"]), ("heldout", spec["heldout_rings"])):
        for ring in rings:
            for k in range(int(ring["count"])):
                azimuth = (ring["azimuth_start"] + k * ring["azimuth_step"]) % 360.0
                cameras.append(
                    orbit_camera(f"{len(cameras):03d}", role, ring["elevation"], azimuth, spec["radius"], spec["fov"], size, size)
                )
    inputs = {(c.elevation, c.azimuth) for c in cameras if c.role == "input"}
    clash = [c.name for c in cameras if c.role == "heldout" and (c.elevation, c.azimuth) in inputs]
    if clash:
        raise ValueError(f"protocol {name!r}: held-out views {clash} coincide with an input view")
    if spec["lighting"] not in LIGHTINGS:
        raise ValueError(f"protocol {name!r}: unknown lighting {spec['lighting']!r}")
    return Protocol(
        name=name,
        description=spec["description"],
        cameras=tuple(cameras),
        lighting=LIGHTINGS[spec["lighting"]],
        source=spec.get("source", ""),
        object_lists=tuple(spec.get("object_lists", {}).items()),
        evaluation=Evaluation.from_spec(spec.get("evaluation", EVALUATION)),
    )


__all__ = [
    "Camera",
    "Evaluation",
    "LIGHTINGS",
    "Lighting",
    "Protocol",
    "Shading",
    "UNLIT",
    "build_protocol",
    "get_protocol",
    "look_at",
    "orbit_camera",
    "orbit_position",
    "protocol_names",
]
