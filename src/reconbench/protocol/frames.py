"""Named coordinate frames as data: the rotation that takes a file's axes to the canonical frame.

Canonical: right-handed, +Y up, the object's front toward +Z (docs/protocol.md). Each entry maps
points written in that frame to canonical axes (a rotation, except where an entry says "reflection":
a writer that mirrored its output, undone exactly); scale and centring are handled separately by
bounding-box normalisation (ground truth) or by the method's declared scale (predictions).

`FRAMES` holds the generic frames only. A frame particular to one upstream writer is declared by its
method's spec (`frames` field, parsed by `Frame.from_dict`) and travels with the spec object, so a job
worker resolves it without a registry (MethodSpec.frame_for).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from reconbench.errors import UnknownName

FRAMES: dict[str, dict] = {
    "y-up": {
        "description": "+Y up, front toward +Z (glTF, OpenGL, the canonical frame itself).",
        "matrix": [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]],
    },
    "z-up": {
        "description": "+Z up, front toward -Y (Blender's convention): (x, y, z) -> (x, z, -y).",
        "matrix": [[1, 0, 0, 0], [0, 0, 1, 0], [0, -1, 0, 0], [0, 0, 0, 1]],
    },
    "z-up-front-x": {
        "description": "+Z up, front toward +X: (x, y, z) -> (y, z, x).",
        "matrix": [[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 0], [0, 0, 0, 1]],
    },
}

FRAME_KEYS = ("name", "matrix", "description", "reflection")


@dataclass(frozen=True)
class Frame:
    """A named frame: `matrix` (4x4, row-major) takes points written in it to canonical axes."""

    name: str
    matrix: tuple[tuple[float, ...], ...]
    description: str
    reflection: bool = False  # determinant -1 on purpose: it undoes a writer that mirrored its output

    @property
    def array(self) -> np.ndarray:
        return np.asarray(self.matrix, dtype=np.float64)

    @classmethod
    def from_dict(cls, owner: str, d: Mapping[str, Any]) -> Frame:
        """A frame declaration read strictly: unknown keys, a matrix that is not a 4x4 rotation (or, flagged
        `reflection`, an orthogonal matrix of determinant -1) without translation, are ValueErrors naming `owner`."""
        if not isinstance(d, Mapping):
            raise ValueError(f"{owner}: a frame is a dict with keys {', '.join(FRAME_KEYS)}, got {d!r}")
        where = f"{owner}: frame {d.get('name', '?')!r}"
        unknown = sorted(str(k) for k in d if k not in FRAME_KEYS)
        if unknown:
            raise ValueError(
                f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(FRAME_KEYS)}"
            )
        missing = [k for k in ("name", "matrix", "description") if not d.get(k)]
        if missing:
            raise ValueError(f"{where}: missing {', '.join(missing)}")
        if not isinstance(d["name"], str) or d["name"] in FRAMES:
            raise ValueError(f"{where}: the name must be a string other than the generic frames ({', '.join(FRAMES)})")
        reflection = d.get("reflection", False)
        if not isinstance(reflection, bool):
            raise ValueError(f"{where}: reflection must be True or False, got {reflection!r}")
        try:
            m = np.asarray(d["matrix"], dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: matrix is not numeric ({exc})") from None
        if m.shape != (4, 4) or not np.allclose(m[3], [0, 0, 0, 1]) or not np.allclose(m[:3, 3], 0):
            raise ValueError(f"{where}: matrix must be 4x4 with no translation and last row [0, 0, 0, 1]")
        r = m[:3, :3]
        if not np.allclose(r.T @ r, np.eye(3), atol=1e-9):
            raise ValueError(f"{where}: the 3x3 part must be orthonormal (scale is the spec's `scale`)")
        if (np.linalg.det(r) < 0) != reflection:
            raise ValueError(
                f"{where}: determinant {np.linalg.det(r):+.0f} but reflection={reflection}; "
                "a mirroring matrix must be flagged reflection=True, a rotation must not"
            )
        return cls(d["name"], tuple(tuple(float(v) for v in row) for row in m), d["description"], reflection)


def generic_frame(name: str) -> Frame:
    """One of the generic frames of FRAMES as a Frame."""
    entry = FRAMES[name]
    matrix = tuple(tuple(float(v) for v in row) for row in entry["matrix"])
    return Frame(name, matrix, entry["description"], bool(entry.get("reflection", False)))


def resolve_frame(name: str, declared: Iterable[Frame] = ()) -> Frame:
    """The frame called `name`: one of `declared` (a method's own) first, then a generic one; UnknownName
    naming every known frame otherwise."""
    declared = tuple(declared)
    for frame in declared:
        if frame.name == name:
            return frame
    if name in FRAMES:
        return generic_frame(name)
    known = [*FRAMES, *(f.name for f in declared)]
    raise UnknownName(f"unknown frame {name!r}; known: {', '.join(known)}")


def frame_matrix(frame: str | Frame) -> np.ndarray:
    """4x4 matrix taking points in `frame` (a Frame, or a generic frame's name) to canonical axes."""
    return frame.array if isinstance(frame, Frame) else resolve_frame(frame).array
