"""Named coordinate frames as data: the rotation that takes a file's axes to the canonical frame.

Canonical: right-handed, +Y up, the object's front toward +Z (docs/protocol.md). Each entry maps
points written in that frame to canonical axes; scale and centring are handled separately by
bounding-box normalisation (ground truth) or by the method's declared scale (predictions).
"""

from __future__ import annotations

import numpy as np

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
        "description": "+Z up, front toward +X (TripoSR, InstantMesh, threestudio): (x, y, z) -> (y, z, x).",
        "matrix": [[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 0], [0, 0, 0, 1]],
    },
}


def frame_matrix(name: str) -> np.ndarray:
    """4x4 matrix taking points in the named frame to canonical axes."""
    if name not in FRAMES:
        raise KeyError(f"unknown frame {name!r}; known: {', '.join(FRAMES)}")
    return np.asarray(FRAMES[name]["matrix"], dtype=np.float64)
