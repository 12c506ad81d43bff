"""Alignment of a prediction into the canonical frame: an exact frame conversion declared as data,
then an optional similarity refinement (ICP) and rotation search about the up axis.

Every evaluation records the transforms it used (`Alignment.to_dict`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from reconbench.assets import MeshAsset, normalisation_transform
from reconbench.protocol.frames import Frame, frame_matrix

ALIGN_MODES = ("none", "icp", "search")
SCALE_CONVENTIONS = {
    "bbox": "centre the prediction's bounding box at the origin and scale its longest side to 1, like the ground truth",
    "none": "the prediction is already in canonical units (object bounding box centred, longest side 1)",
}


@dataclass(frozen=True)
class Alignment:
    """`initial` = exact frame conversion (+ scale convention); `refinement` is applied after it."""

    frame: str | Frame  # a generic frame's name, or the Frame a method declared (MethodSpec.frame_for)
    scale: str
    mode: str
    initial: np.ndarray
    refinement: np.ndarray = field(default_factory=lambda: np.eye(4))
    search_angle: float | None = None

    @property
    def total(self) -> np.ndarray:
        return self.refinement @ self.initial

    def to_dict(self) -> dict:
        return {
            "frame": self.frame.name if isinstance(self.frame, Frame) else self.frame,
            "scale": self.scale,
            "mode": self.mode,
            "initial": self.initial.tolist(),
            "refinement": self.refinement.tolist(),
            "total": self.total.tolist(),
            "refinement_scale": float(np.cbrt(np.linalg.det(self.refinement[:3, :3]))),
            "search_angle_deg": self.search_angle,
        }


def initial_transform(asset: MeshAsset, frame: str | Frame = "y-up", scale: str = "bbox") -> np.ndarray:
    """4x4 taking the prediction's file coordinates to the canonical frame by its declared convention: `frame` is
    a generic frame's name or a Frame (a method's own, resolved from its spec by MethodSpec.frame_for)."""
    if scale not in SCALE_CONVENTIONS:
        raise ValueError(f"unknown scale convention {scale!r}; known: {', '.join(SCALE_CONVENTIONS)}")
    axes = frame_matrix(frame)
    if scale == "none":
        return axes
    return normalisation_transform(asset.transformed(axes).bounds) @ axes


def icp_similarity(
    source: np.ndarray, target: np.ndarray, max_iterations: int, initial: np.ndarray | None = None
) -> np.ndarray:
    """4x4 similarity (rotation, translation, uniform scale; no reflection) moving `source` onto `target`."""
    import trimesh

    matrix, _, _ = trimesh.registration.icp(
        source,
        target,
        initial=np.eye(4) if initial is None else initial,
        threshold=1e-7,
        max_iterations=max_iterations,
        reflection=False,
        translation=True,
        scale=True,
    )
    return np.asarray(matrix, np.float64)


def rotation_about_up(degrees: float) -> np.ndarray:
    a = math.radians(degrees)
    m = np.eye(4)
    m[0, 0], m[0, 2], m[2, 0], m[2, 2] = math.cos(a), math.sin(a), -math.sin(a), math.cos(a)
    return m


def search_rotation(source: np.ndarray, target: np.ndarray, step: float) -> tuple[float, np.ndarray]:
    """The rotation about +Y (every `step` degrees) whose Chamfer distance to the target is lowest."""
    best = (math.inf, 0.0)
    for angle in np.arange(0.0, 360.0, step):
        best = min(best, (_chamfer(_apply(rotation_about_up(angle), source), target), float(angle)))
    return best[1], rotation_about_up(best[1])


def refine(
    source: np.ndarray, target: np.ndarray, mode: str, max_iterations: int, search_step: float
) -> tuple[np.ndarray, float | None]:
    """The refinement transform for `mode` (none | icp | search): search picks the best rotation about
    the up axis, then ICP refines it, as the TripoSR and SF3D evaluations did.

    ICP minimises distances from the prediction to the ground truth only, which can shrink or shift a
    poor prediction away from the truth; a refinement that does not lower the symmetric Chamfer
    distance is discarded, so refinement never makes a prediction look worse than its declared pose.
    """
    if mode not in ALIGN_MODES:
        raise ValueError(f"unknown alignment {mode!r}; known: {', '.join(ALIGN_MODES)}")
    if mode == "none":
        return np.eye(4), None
    angle, start = (None, np.eye(4)) if mode == "icp" else search_rotation(source, target, search_step)
    matrix = icp_similarity(source, target, max_iterations, initial=start)
    if _chamfer(_apply(matrix, source), target) >= _chamfer(source, target):
        return np.eye(4), None
    return matrix, angle


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ matrix[:3, :3].T + matrix[:3, 3]


def _chamfer(a: np.ndarray, b: np.ndarray) -> float:
    from reconbench.metrics.geometry import nearest_neighbours

    return float(nearest_neighbours(a, b)[0].mean() + nearest_neighbours(b, a)[0].mean()) / 2
