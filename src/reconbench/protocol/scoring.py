"""How a protocol scores predictions (its `Evaluation` settings): geometry views, point sampling, Chamfer
variant, F-score thresholds, volume grid, alignment and image metrics, built from a preset's "evaluation" data
(presets.py EVALUATION holds the defaults; docs/metrics.md the definitions)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from typing import Any

from reconbench.protocol.cameras import Camera, orbit_camera
from reconbench.protocol.presets import EVALUATION

GEOMETRY_POINTS = ("depth", "surface")
POINT_SAMPLING = ("random", "all")
CHAMFER_KINDS = ("point-to-mesh", "point-to-point")
VOLUME_GRIDS = ("cells", "mesh2sdf")
SSIM_KINDS = ("skimage", "torchmetrics")
OTHER_SETS = ("all", "geometry")  # the non-headline set: every metric, or the geometric ones only


@dataclass(frozen=True)
class Evaluation:
    """How predictions are scored: geometry views, point sampling, Chamfer variant, thresholds, volume
    grid, alignment and image metrics (docs/metrics.md). `spec` is the data it was built from; it is
    recorded with every result (`to_dict`)."""

    geometry_cameras: tuple[Camera, ...]
    geometry_points: str
    point_sampling: str
    points: int
    seed: int
    pixel_offset: float
    prediction_depth: str
    down_sample_voxel: float | None
    chamfer: str
    mesh_distance_points: int
    length_unit: float
    fscore_thresholds: tuple[float, ...]
    fscore_default: float
    volume: dict[str, Any]
    alignment: str
    icp_points: int
    icp_max_iterations: int
    rotation_search_step: float
    headline: str
    other_set: str
    ssim: str
    ssim_border: str
    lpips_nets: tuple[str, ...]
    spec: dict[str, Any]

    @classmethod
    def from_spec(cls, spec: dict[str, Any], protocol_cameras: tuple[Camera, ...] = ()) -> Evaluation:
        def choice(key: str, value: Any, known: tuple[str, ...]) -> Any:
            if value not in known:
                raise ValueError(f"evaluation {key} must be one of {', '.join(known)}, got {value!r}")
            return value

        spec = {**EVALUATION, **spec, "image": {**EVALUATION["image"], **spec.get("image", {})}}
        if spec["fscore_default"] not in spec["fscore_thresholds"]:
            raise ValueError("fscore_default must be one of fscore_thresholds")
        choice("headline", spec["headline"], ("aligned", "unaligned"))
        g = spec["geometry_views"]
        if g == "protocol":
            if not protocol_cameras:
                raise ValueError("geometry_views 'protocol' needs the protocol's cameras")
            geometry_cameras = tuple(replace(c, name=f"g{c.name}", role="heldout") for c in protocol_cameras)
        else:
            geometry_cameras = tuple(
                orbit_camera(f"g{k:02d}", "heldout", e, a, g["radius"], g["fov"], g["resolution"], g["resolution"])
                for k, (e, a) in enumerate(fibonacci_directions(g["count"]))
            )
        volume = dict(spec["volume"])
        choice("volume grid", volume.get("grid"), VOLUME_GRIDS)
        voxel = spec.get("down_sample_voxel")
        return cls(
            geometry_cameras=geometry_cameras,
            geometry_points=choice("geometry_points", spec["geometry_points"], GEOMETRY_POINTS),
            point_sampling=choice("point_sampling", spec["point_sampling"], POINT_SAMPLING),
            points=int(spec["points"]),
            seed=int(spec["seed"]),
            pixel_offset=float(spec["pixel_offset"]),
            prediction_depth=choice("prediction_depth", spec["prediction_depth"], ("renderer", "screen-linear")),
            down_sample_voxel=None if voxel is None else float(voxel),
            chamfer=choice("chamfer", spec["chamfer"], CHAMFER_KINDS),
            mesh_distance_points=int(spec["mesh_distance_points"]),
            length_unit=float(spec["length_unit"]),
            fscore_thresholds=tuple(float(t) for t in spec["fscore_thresholds"]),
            fscore_default=float(spec["fscore_default"]),
            volume=volume,
            alignment=choice("alignment", spec["alignment"], ("none", "icp", "search")),
            icp_points=int(spec["icp"]["points"]),
            icp_max_iterations=int(spec["icp"]["max_iterations"]),
            rotation_search_step=float(spec["rotation_search_step"]),
            headline=spec["headline"],
            other_set=choice("other_set", spec["other_set"], OTHER_SETS),
            ssim=choice("image ssim", spec["image"]["ssim"], SSIM_KINDS),
            ssim_border=choice("image ssim_border", spec["image"]["ssim_border"], ("crop", "reflect")),
            lpips_nets=tuple(spec["image"]["lpips"]),
            spec=spec,
        )

    def with_other_set(self, other_set: str) -> Evaluation:
        """These settings with another `other_set` (a run option), recorded in `spec` like the rest."""
        if other_set not in OTHER_SETS:
            raise ValueError(f"evaluation other_set must be one of {', '.join(OTHER_SETS)}, got {other_set!r}")
        return replace(self, other_set=other_set, spec={**self.spec, "other_set": other_set})

    @property
    def approximate(self) -> str | None:
        """Why this preset only approximates a published evaluation (None: exact, or reconbench's own)."""
        return self.spec.get("approximate")

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain JSON-able data (recorded with every result and shown in the report)."""
        return json.loads(json.dumps(self.spec))

    def label(self) -> str:
        """One line for reports: whose evaluation this is, and whether it is exact or approximate."""
        if self.spec.get("reproduces"):
            r = self.spec["reproduces"]
            return f"reproduces {r['script']} of {r['repository']} at {r['commit']}"
        if self.approximate:
            return f"APPROXIMATE ({self.approximate})"
        return str(self.spec.get("source", "reconbench"))


def fibonacci_directions(count: int) -> list[tuple[float, float]]:
    """(elevation, azimuth) in degrees of `count` near-uniform directions on the sphere (golden spiral)."""
    out = []
    golden = math.pi * (3 - math.sqrt(5))
    for k in range(count):
        y = 1 - 2 * (k + 0.5) / count
        out.append((math.degrees(math.asin(y)), math.degrees(k * golden) % 360.0))
    return out
