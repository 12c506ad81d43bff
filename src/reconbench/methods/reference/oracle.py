"""The oracle: hands back the ground-truth file, to be converted exactly as the dataset converts it."""

from __future__ import annotations

from reconbench.methods.base import MethodInput, MethodOutput


def run(inp: MethodInput) -> MethodOutput:
    if inp.ground_truth is None:
        raise ValueError("the oracle needs the ground truth, and the runner gave none")
    gt = inp.ground_truth
    return MethodOutput(asset=gt.path, stage_seconds={}, frame=gt.frame, scale="bbox", texture_dirs=gt.texture_dirs)
