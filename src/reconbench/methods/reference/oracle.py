"""The oracle: hands back the ground-truth file, to be converted exactly as the dataset converts it."""

from __future__ import annotations

from reconbench.methods.base import MethodInput, MethodOutput


def run(inp: MethodInput) -> MethodOutput:
    if inp.ground_truth is None:
        raise ValueError("the oracle needs the ground truth, and the runner gave none")
    gt = inp.ground_truth
    if gt.yaw_deg:  # an object list turns this object: no file frame says that, so hand back the canonical mesh
        from reconbench.assets import save_mesh
        from reconbench.datasets.base import DatasetObject

        canonical = DatasetObject("ground-truth", "", gt.path, gt.frame, gt.texture_dirs, yaw_deg=gt.yaw_deg).load()
        path = save_mesh(canonical, inp.workdir / "ground_truth.glb")
        return MethodOutput(asset=path, stage_seconds={}, frame="y-up", scale="none")
    return MethodOutput(asset=gt.path, stage_seconds={}, frame=gt.frame, scale="bbox", texture_dirs=gt.texture_dirs)
