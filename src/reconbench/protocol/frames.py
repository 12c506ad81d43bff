"""Named coordinate frames as data: the rotation that takes a file's axes to the canonical frame.

Canonical: right-handed, +Y up, the object's front toward +Z (docs/protocol.md). Each entry maps
points written in that frame to canonical axes (a rotation, except where an entry says "reflection":
a writer that mirrored its output, undone exactly); scale and centring are handled separately by
bounding-box normalisation (ground truth) or by the method's declared scale (predictions).
"""

from __future__ import annotations

import numpy as np

from reconbench.errors import UnknownName

FRAMES: dict[str, dict] = {
    "y-up": {
        "description": "+Y up, front toward +Z (glTF, OpenGL, the canonical frame itself; LGM's and DreamGaussian's "
        "outputs, whose input camera orbit_camera(0, 0) sits on +Z).",
        "matrix": [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]],
    },
    "z-up": {
        "description": "+Z up, front toward -Y (Blender's convention; OpenLRM, whose source camera sits at "
        "(0, -2, 0) looking toward +Y): (x, y, z) -> (x, z, -y).",
        "matrix": [[1, 0, 0, 0], [0, 0, 1, 0], [0, -1, 0, 0], [0, 0, 0, 1]],
    },
    "z-up-front-x": {
        "description": "+Z up, front toward +X (TripoSR, InstantMesh, threestudio): (x, y, z) -> (y, z, x).",
        "matrix": [[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 0], [0, 0, 0, 1]],
    },
    # Frames of upstream writers (upstream/adapters/, docs/adapters.md). "Front" is the side the input camera
    # sees; the canonical input camera looks at the object's front from +Z.
    "instantmesh-obj": {
        "description": "InstantMesh's vertex-colour OBJ (run.py without --export_texmap): its model works in "
        "z-up-front-x, and its OBJ writer multiplies vertices by diag(1, 1, -1) and reverses the winding, so "
        "the file is -Z up, front toward +X. This undoes both exactly (a reflection; applying it reverses "
        "the winding back, as MeshAsset.transformed does for any reflection): (x, y, z) -> (y, -z, x). "
        "Its --export_texmap OBJ is plain z-up-front-x.",
        "matrix": [[0, 1, 0, 0], [0, 0, -1, 0], [1, 0, 0, 0], [0, 0, 0, 1]],
        "reflection": True,  # determinant -1, on purpose: it undoes the writer's mirroring
    },
    "y-up-front-neg-z": {
        "description": "+Y up, front toward -Z: Stable Fast 3D's GLB (its model works in z-up-front-x with the input "
        "camera at +X, and its exporter applies Rx(-90 deg) then Ry(+90 deg), which puts the input camera on -Z); "
        "unverified upstream (read from the code, not yet run): (x, y, z) -> (-x, y, -z).",
        "matrix": [[-1, 0, 0, 0], [0, 1, 0, 0], [0, 0, -1, 0], [0, 0, 0, 1]],
    },
    "crm-obj": {
        "description": "CRM's OBJ (inside output3d.zip): its exporter writes (x, z, -y) of its internal z-up "
        "coordinates, assumed to give +Y up with the front toward +Z, i.e. the canonical axes; unverified upstream "
        "(read from the code, not yet run). A separate name so that a correction lands in one place.",
        "matrix": [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]],
    },
}


def frame_matrix(name: str) -> np.ndarray:
    """4x4 matrix taking points in the named frame to canonical axes."""
    if name not in FRAMES:
        raise UnknownName(f"unknown frame {name!r}; known: {', '.join(FRAMES)}")
    return np.asarray(FRAMES[name]["matrix"], dtype=np.float64)
