"""A test method (tests/methods/test_frames.py) whose writer uses a frame no generic entry has: it hands back the
canonical ground truth written in X_UP's axes, so only that frame's matrix brings it back."""

from __future__ import annotations

import numpy as np

from reconbench.methods.base import MethodInput, MethodOutput

# Up along +X, front (the input camera's side) toward -Y, right toward -Z.
X_UP = {
    "name": "toy-x-up",
    "description": "+X up, front toward -Y",
    # rows: canonical x, y, z as file axes: right (-Z) -> x, up (+X) -> y, front (-Y) -> z
    "matrix": [[0, 0, -1, 0], [1, 0, 0, 0], [0, -1, 0, 0], [0, 0, 0, 1]],
}


def run(inp: MethodInput) -> MethodOutput:
    from reconbench.assets import save_mesh
    from reconbench.datasets.base import DatasetObject

    gt = inp.ground_truth
    if gt is None:
        raise ValueError("frame_writer needs the ground truth")
    canonical = DatasetObject("ground-truth", "", gt.path, gt.frame, gt.texture_dirs, yaw_deg=gt.yaw_deg).load()
    written = canonical.transformed(np.linalg.inv(np.asarray(X_UP["matrix"], dtype=float)))
    return MethodOutput(asset=save_mesh(written, inp.workdir / "pred.glb"), stage_seconds={}, scale="none")
