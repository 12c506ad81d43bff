"""Run an upstream method: its steps as commands in its own environment, timed and watched, then
its output file found. This is the entry point of every external spec (MethodSpec.load_entry)."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reconbench.errors import ReconbenchError
from reconbench.methods.base import MethodInput, MethodOutput, MethodSpec
from reconbench.protocol import Camera
from reconbench.system.gpus import visible_gpus
from reconbench.system.monitor import ResourceMonitor, wall_clock
from reconbench.upstream import command, input_camera, inputs, outputs, timing

SHIM = Path(__file__).with_name("shim.py")
HOOKS = Path(__file__).with_name("hooks")
LOG_TAIL_LINES = 20


class ExternalMethodError(ReconbenchError, RuntimeError):
    """An upstream command failed; the message names the step, the exit code, the log and its tail."""


def run_external(spec: MethodSpec, inp: MethodInput) -> MethodOutput:
    recipe = spec.upstream_recipe()
    run = _execute(spec, inp.images, inp.workdir, inp.seed, inp.cameras)
    asset = outputs.discover_output(spec, run.out_dir)
    run.info["resources"]["cold"] = True  # one input per process: every job's time includes start-up and model load
    # Recorded with the result (results.csv, report): a camera the method assumes but cannot be told.
    run.info["outside_assumptions"] = input_camera.outside_assumptions(recipe.input_camera, inp.cameras)
    if recipe.intermediate_views is not None:  # two-stage methods: the generated views, for stage attribution
        run.info["intermediate_views"] = outputs.discover_intermediate_views(spec, run.out_dir)
    return MethodOutput(asset=asset, stage_seconds=run.stage_seconds, info=run.info)


def time_batch(spec: MethodSpec, images: Sequence[np.ndarray], workdir: Path, cameras: Sequence[Camera] = ()) -> dict:
    """Cold and warm times of a method that takes several inputs in one process (spec inputs.batch):
    one run over `images` (one per asset); cold = spawn to the first input's end-of-input marker
    (start-up and model load included), warm = the time between later inputs' markers."""
    if not spec.upstream_recipe().inputs.batch:
        raise ValueError(f"method {spec.name!r} does not take several inputs in one process (inputs.batch)")
    run = _execute(spec, images, workdir, 0, cameras)
    per_input = _per_input_marks(run.steps, len(images))
    if per_input is None:
        raise ExternalMethodError(
            f"{spec.name}: no stage marker appeared once per input ({len(images)} inputs); log: {run.info['log']}"
        )
    stage, marks = per_input
    return {
        "inputs": len(images),
        "per_input_stage": stage,
        "cold_s": marks[0],
        "warm_s": [b - a for a, b in zip(marks, marks[1:])],
        "stage_seconds": run.stage_seconds,
        **run.info,
    }


@dataclass
class _Run:
    out_dir: Path
    steps: list
    stage_seconds: dict[str, float]
    info: dict


def _execute(
    spec: MethodSpec, images: Sequence[np.ndarray], workdir: Path, seed: int, cameras: Sequence[Camera]
) -> _Run:
    from reconbench.upstream.envs import get_backend
    from reconbench.upstream.envs.build_log import host_environment

    env = get_backend().environment(spec)  # EnvironmentMissing says how to build it
    workdir = Path(workdir).resolve()  # upstream commands run from their checkout: no relative paths
    out_dir, input_dir = workdir / "out", workdir / "inputs"
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = inputs.prepare_method_inputs(spec, images, input_dir, "input")
    values = {
        "python": env.python,
        "repo": env.repo,
        "input": str(paths[0]),
        "inputs": [str(p) for p in paths],
        "input_dir": str(input_dir),
        "out": str(out_dir),
        "name": paths[0].stem,
        "seed": str(seed),
        "hooks": str(HOOKS),
    }
    if cameras:  # the first input view's camera, in the method's convention; absent: a step using it is an error
        values.update(input_camera.placeholder_values(spec.upstream_recipe().input_camera, cameras[0]))
    steps = command.run_commands(spec, values)
    markers = timing.compile_markers(spec.upstream_recipe().stage_markers)
    log_path = workdir / "method.log"
    gpu = visible_gpus()
    docker = env.backend == "docker"
    deadline = wall_clock() + spec.timeout_s
    step_timings, peaks = [], []
    with open(log_path, "w", encoding="utf-8") as log:
        for step in steps:
            argv = _with_shim(step.argv, env.python)
            container = f"reconbench-{uuid.uuid4().hex[:12]}" if docker else None
            argv, cwd = env.wrap(
                argv, cwd=step.cwd, mounts=(str(workdir), str(SHIM.parent)), gpu=gpu is not None, name=container
            )
            log.write(f"$ {' '.join(argv)}\n")
            log.flush()
            child_env = {**host_environment(), **env.env, "PYTHONUNBUFFERED": "1"}
            step_timing, step_peaks = _run_step(
                spec, step, argv, cwd, child_env, log, log_path, markers, deadline, container
            )
            step_timings.append(step_timing)
            peaks.append(step_peaks)
    stage_seconds, details = timing.combine(step_timings)
    wall = sum(s.wall_s for s in step_timings)
    gpu_mem = [p.gpu_mem_mb for p in peaks if p.gpu_mem_mb is not None]
    resources = {
        "peak_host_rss_mb": round(max(p.host_rss_mb for p in peaks), 1),
        "peak_gpu_mem_mb": round(max(gpu_mem), 1) if gpu_mem else None,
        "sample_interval_s": peaks[0].interval_s,
        "gpu_seconds": round(wall * gpu["count"], 3) if gpu else 0.0,
    }
    if docker:  # the container's processes are not the docker client's children: not measured, not 0
        resources.update(
            peak_host_rss_mb=None, peak_gpu_mem_mb=None, note="memory not measured under the docker backend"
        )
    info = {
        "resources": resources,
        "gpu": gpu,
        "timing": details,
        "log": str(log_path),
        "commands": [s.argv for s in steps],
        "upstream": spec.upstream_recipe().upstream.to_dict(),
    }
    return _Run(out_dir, step_timings, stage_seconds, info)


def _per_input_marks(steps: list, n: int) -> tuple[str, list[float]] | None:
    """The stage whose marker appeared once per input (the last such), and the marks' times since spawn."""
    elapsed, found = 0.0, None
    for step in steps:
        counts: dict[str, int] = {}
        for label, _ in step.marks:
            counts[label] = counts.get(label, 0) + 1
        repeated = [label for label, c in counts.items() if c == n and label != timing.ENVIRONMENT_START]
        if repeated:
            found = (repeated[-1], [elapsed + t for label, t in step.marks if label == repeated[-1]])
        elapsed += step.wall_s
    return found


def _with_shim(argv: list[str], python: str) -> list[str]:
    """Put the shim between the environment's Python and a script or -m module, to time start-up."""
    if len(argv) >= 2 and argv[0] == python and (argv[1] == "-m" or not argv[1].startswith("-")):
        return [python, str(SHIM), *argv[1:]]
    return list(argv)


def _run_step(spec, step, argv, cwd, child_env, log, log_path, markers, deadline, container):
    lines: list[tuple[float, str]] = []
    start = wall_clock()
    try:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=child_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            bufsize=1,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    except OSError as exc:
        raise ExternalMethodError(f"{spec.name}: step {step.stage!r} could not start {argv[0]!r}: {exc}") from exc
    _ACTIVE[proc.pid] = container
    reader = threading.Thread(target=_read_lines, args=(proc.stdout, lines, log), daemon=True)
    try:
        with ResourceMonitor(proc.pid) as monitor:
            reader.start()
            try:
                code = proc.wait(timeout=max(deadline - start, 0.0))
            except subprocess.TimeoutExpired:
                _kill(proc.pid, container)
                raise ExternalMethodError(
                    f"{spec.name}: timed out after {spec.timeout_s:.0f} s in step {step.stage!r} "
                    f"(log: {log_path}); the command and its children were killed"
                ) from None
            except BaseException:  # interrupted: take the whole command down with us
                _kill(proc.pid, container)
                raise
            exited = wall_clock()
            reader.join(5)  # the last lines may arrive after the exit: the step ends with whichever is later
            end = max([exited] + [t for t, _ in lines[-1:]])
    finally:
        _ACTIVE.pop(proc.pid, None)
        _kill(proc.pid, container)  # whatever the command left behind in its session
        reader.join(5)  # its pipe is closed now: the reader ends, before the log file does
    if code != 0:
        tail = "\n".join(text for _, text in lines[-LOG_TAIL_LINES:])
        raise ExternalMethodError(
            f"{spec.name}: step {step.stage!r} exited with code {code} (log: {log_path}); last lines:\n{tail}"
        )
    return timing.step_timing(lines, start, end, step.stage, markers), monitor.peaks


def _read_lines(stream, lines: list, log) -> None:
    for text in stream:
        lines.append((wall_clock(), text.rstrip("\n")))
        log.write(text)
    log.flush()


# Commands running now: process-group id -> docker container name (None for venv), so that a worker
# told to stop (timeout, Ctrl-C, a dead parent) can take them down (kill_active_commands).
_ACTIVE: dict[int, str | None] = {}
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None  # looked up before any fork


def _die_with_parent() -> None:
    """Linux: the command is killed if the worker running it dies (runs in the child between fork and exec)."""
    if _LIBC is not None:
        _LIBC.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _kill(pgid: int, container: str | None) -> None:
    """Kill a command's whole process group (its own children included) and its container, if any."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if container:
        subprocess.run(["docker", "kill", container], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def kill_active_commands() -> None:
    """Kill every command this process is running (called by the method worker before it exits)."""
    for pgid, container in list(_ACTIVE.items()):
        _kill(pgid, container)
