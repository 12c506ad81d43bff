"""A protocol (cameras, lighting, object lists and scoring settings) and building one: from a preset by name,
from a JSON file, or from a preset's data. Pure but for reading a protocol file."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from reconbench.errors import ProtocolFileError, UnknownName
from reconbench.protocol.cameras import Camera, orbit_camera
from reconbench.protocol.lighting import LIGHTINGS, Lighting, Shading
from reconbench.protocol.presets import EVALUATION, PRESETS
from reconbench.protocol.scoring import Evaluation

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
    evaluation: Evaluation | None = None

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
        raise UnknownName(f"unknown protocol {name!r}; known: {', '.join(protocol_names())}")
    proto = build_protocol(base, PRESETS[base])
    if lighting_name:
        proto = replace(
            proto, name=name, lighting=LIGHTINGS[lighting_name], description=proto.description + " All images unlit."
        )
    return proto


def load_protocol_file(path: Path) -> Protocol:
    try:
        spec = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ProtocolFileError(f"{path}: cannot read protocol file ({exc})") from exc
    missing = [k for k in ("resolution", "radius", "fov", "lighting", "input_rings", "heldout_rings") if k not in spec]
    if missing:
        raise ProtocolFileError(f"{path}: protocol file lacks {', '.join(missing)}")
    spec.setdefault("description", f"custom protocol from {path.name}")
    spec["evaluation"] = {**EVALUATION, **spec.get("evaluation", {})}
    if spec["evaluation"].get("reproduces"):
        raise ProtocolFileError(f"{path}: a protocol file cannot claim to reproduce a published evaluation")
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
                    orbit_camera(
                        f"{len(cameras):03d}",
                        role,
                        ring["elevation"],
                        azimuth,
                        spec["radius"],
                        spec["fov"],
                        size,
                        size,
                        focal=spec.get("focal_px"),
                    )
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
        evaluation=Evaluation.from_spec(spec.get("evaluation", EVALUATION), tuple(cameras)),
    )
