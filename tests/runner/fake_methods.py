"""Methods that misbehave on purpose, run by the runner's worker process in the failure tests."""

import os
import signal
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


KNOWN_ALLOC_MB = 150


def known_stages(inp):
    """Sleeps a known time in each stage, holding KNOWN_ALLOC_MB during generation, then returns a
    sphere: for the timing and memory tests."""
    stages = {}
    for name, seconds in (("model_load", 0.3), ("generation", 0.4)):
        start = time.perf_counter()
        block = bytearray(KNOWN_ALLOC_MB * 2**20 if name == "generation" else 0)
        block[::4096] = b"x" * len(block[::4096])  # resident, not just reserved
        time.sleep(seconds)
        del block
        stages[name] = time.perf_counter() - start
    out = sphere.run(inp)
    return MethodOutput(out.asset, {**stages, **out.stage_seconds})


def slow_sphere(inp):
    """A sphere after a pause (RECONBENCH_TEST_SLOW_S seconds, default 1.5): jobs long enough to interrupt."""
    time.sleep(float(os.environ.get("RECONBENCH_TEST_SLOW_S", "1.5")))
    return sphere.run(inp)


def kills_its_worker_once(inp):
    """Kills the process executing the job (a local job worker, a Ray worker: this method process's parent)
    on the job's first attempt, and returns a sphere on the next. The marker lives beside the job's work
    folder, which each attempt starts afresh."""
    marker = inp.workdir.parent / f"{inp.workdir.name}.killed"
    if not marker.exists():
        marker.write_text(str(os.getppid()))
        _kill_executing_process()
    return sphere.run(inp)


def kills_its_worker(inp):
    """Kills the process executing the job on every attempt, counting the attempts beside its work folder."""
    with open(inp.workdir.parent / f"{inp.workdir.name}.attempts", "a") as f:
        f.write(f"{os.getppid()}\n")
    _kill_executing_process()


def _kill_executing_process():
    parent = os.getppid()
    if os.environ.get("RECONBENCH_TEST_DRIVER_PID") == str(parent):
        raise RuntimeError("refusing to kill the test process: run this method with --workers 2 or on Ray")
    os.kill(parent, signal.SIGKILL)
    os._exit(0)


def scribbles_on_its_input(inp):
    """Reports a hash of each input image, then overwrites them in place (a careless method): the next job of
    the same object must still get the original pixels."""
    import hashlib

    seen = [hashlib.sha256(image.tobytes()).hexdigest() for image in inp.images]
    for image in inp.images:
        image[...] = 0
    return MethodOutput(asset=inp.workdir / "none.glb", stage_seconds={}, info={"seen": seen})


def marks_its_run(inp):
    """A sphere, marking its start and its end in its work folder (files `started`, `done`), after a pause of
    RECONBENCH_TEST_MARK_S seconds (default 0): the overlap tests see from them when the method ran."""
    (inp.workdir / "started").touch()
    time.sleep(float(os.environ.get("RECONBENCH_TEST_MARK_S", "0")))
    out = sphere.run(inp)
    (inp.workdir / "done").touch()
    return out
