"""Methods that misbehave on purpose, run by the runner's worker process in the failure tests."""

import os
import time

from reconbench.methods import MethodOutput
from reconbench.methods.reference import sphere


def fails_on_mug(inp):
    if any("mug" in str(p) for p in inp.image_paths):
        raise RuntimeError("this method cannot handle mugs")
    return sphere.run(inp)


def sleeps(inp):
    time.sleep(60)


def crashes(inp):
    os._exit(3)


def writes_garbage(inp):
    path = inp.workdir / "out.glb"
    path.write_bytes(b"definitely not a GLB")
    return MethodOutput(asset=path, stage_seconds={"generate": 0.0})


def known_stages(inp):
    """Sleeps a known time in each stage, then returns a sphere: for timing tests."""
    stages = {}
    for name, seconds in (("model_load", 0.3), ("generation", 0.2)):
        start = time.perf_counter()
        time.sleep(seconds)
        stages[name] = time.perf_counter() - start
    out = sphere.run(inp)
    return MethodOutput(out.asset, {**stages, **out.stage_seconds})
