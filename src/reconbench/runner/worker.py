"""A child process that runs method entry points, so a crash or a hang costs one job, not the run.

The input images travel to it once per object: the jobs of one object send the same images, so after the
first the parent sends the job without them and the child hands the method a fresh copy of the ones it
kept (4 MB of pickling and piping less per job under sparse4; a method that changes its input arrays in
place still cannot change the next method's).
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
from multiprocessing.connection import Connection

from reconbench.methods.base import MethodInput, MethodOutput, MethodSpec
from reconbench.registry import load_entry
from reconbench.runner.legacy import legacy_harness


class MethodError(Exception):
    """A method raised, timed out, or took its process down; the message says which and why."""


class MethodWorker:
    """Persistent worker process (spawned, so it owns its own GL context and imports); restarted
    after a timeout or a crash."""

    def __init__(self) -> None:
        self._ctx = multiprocessing.get_context("spawn")
        self._proc = None
        self._conn: Connection | None = None
        self._sent_images: tuple | None = None  # the images the child holds (the very tuple, so never a reused id)
        self._submitted = 0.0  # time.monotonic() when the running method was sent

    def _start(self) -> None:
        parent, child = self._ctx.Pipe()
        self._proc = self._ctx.Process(target=_serve, args=(child,), daemon=True, name="reconbench-method-worker")
        self._proc.start()
        child.close()
        self._conn = parent
        self._sent_images = None

    def run(self, spec: MethodSpec, inp: MethodInput, timeout_s: float) -> tuple[MethodOutput, float]:
        """(output, wall seconds of the entry point) or MethodError."""
        self.submit(spec, inp)
        return self.result(timeout_s)

    def submit(self, spec: MethodSpec, inp: MethodInput) -> None:
        """Start the method in the child and return at once (`result` collects it): the job's caller can
        score the previous job meanwhile (runner/pipeline.py)."""
        if self._proc is None or not self._proc.is_alive():
            self._start()
        assert self._conn is not None
        if inp.images is self._sent_images and not legacy_harness():
            self._conn.send((spec, dataclasses.replace(inp, images=()), True))
        else:
            self._sent_images = None  # until the child has them
            self._conn.send((spec, inp, False))
            self._sent_images = inp.images
        self._submitted = time.monotonic()

    def result(self, timeout_s: float) -> tuple[MethodOutput, float]:
        """The submitted method's (output, wall seconds of the entry point), waiting at most until `timeout_s`
        after its submission; or MethodError."""
        assert self._conn is not None and self._proc is not None
        if not self._conn.poll(max(0.0, timeout_s - (time.monotonic() - self._submitted))):
            self.stop()
            raise MethodError(f"timed out after {timeout_s:.0f} s")
        try:
            status, payload = self._conn.recv()
        except EOFError:
            self._proc.join(5)
            code = self._proc.exitcode
            self.stop()
            raise MethodError(f"the method's process died (exit code {code})") from None
        if status == "error":
            raise MethodError(payload)
        if payload[1] > timeout_s:  # finished while the caller was busy scoring, but after its limit: as if stopped
            raise MethodError(f"timed out after {timeout_s:.0f} s")
        return payload

    def stop(self) -> None:
        if self._proc is not None:
            if self._proc.is_alive():
                self._proc.terminate()  # SIGTERM: the worker kills the upstream commands it runs, then exits
                self._proc.join(3)
            if self._proc.is_alive():
                self._proc.kill()
            self._proc.join(5)
        if self._conn is not None:
            self._conn.close()
        self._proc, self._conn, self._sent_images = None, None, None


def exit_with_parent(poll_s: float = 0.5) -> None:
    """End this process soon after its parent dies (killed executor worker, killed driver), so no orphan
    keeps running a method nobody will read the result of."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(poll_s)
            if os.getppid() != parent:
                _exit_now()

    threading.Thread(target=watch, name="reconbench-exit-with-parent", daemon=True).start()


def _exit_now() -> None:
    """Exit at once, taking down the upstream commands this worker is running (their own sessions and
    containers would otherwise outlive it)."""
    external = sys.modules.get("reconbench.upstream.run")
    if external is not None:
        external.kill_active_commands()
    os._exit(1)


def _serve(conn: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle; it stops this process
    signal.signal(signal.SIGTERM, lambda signum, frame: _exit_now())
    exit_with_parent()
    kept: tuple = ()  # the last input images received
    while True:
        try:
            spec, inp, reuse = conn.recv()
        except (EOFError, OSError):  # the parent closed the pipe, or died (killed on Ctrl-C/SIGTERM): exit quietly
            return
        if reuse:
            inp = dataclasses.replace(inp, images=tuple(image.copy() for image in kept))
        else:
            kept = tuple(image.copy() for image in inp.images)
        try:
            entry = load_entry(spec)
            if spec.is_external:  # the external runner measures its own command's process tree
                start = time.perf_counter()
                output = entry(inp)
                wall = time.perf_counter() - start
            else:
                output, wall = _run_measured(entry, inp)
            if not isinstance(output, MethodOutput):
                raise TypeError(f"{spec.entry or spec.name} returned {type(output).__name__}, not MethodOutput")
            conn.send(("ok", (output, wall)))
        except Exception as exc:  # reported to the parent, which records the job as failed
            where = traceback.extract_tb(exc.__traceback__)[-1]
            conn.send(("error", f"{type(exc).__name__}: {exc} (at {where.filename}:{where.lineno})"))


def _run_measured(entry, inp: MethodInput) -> tuple[MethodOutput, float]:
    """Run an in-process method while sampling this process's memory; with CUDA in use, also its peak
    GPU memory (PyTorch's allocator) and the GPU model, unless the method reported them itself."""
    from reconbench.system.gpus import visible_gpus
    from reconbench.system.monitor import ResourceMonitor

    torch = sys.modules.get("torch")
    cuda = torch is not None and torch.cuda.is_initialized()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    with ResourceMonitor(os.getpid()) as monitor:
        start = time.perf_counter()
        output = entry(inp)
        wall = time.perf_counter() - start
    if not isinstance(output, MethodOutput):
        return output, wall
    torch = sys.modules.get("torch")
    cuda = torch is not None and torch.cuda.is_initialized()
    resources = monitor.peaks.to_dict()
    gpu = output.info.get("gpu")
    if cuda:
        resources["peak_gpu_mem_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
        gpu = gpu or visible_gpus() or {"name": torch.cuda.get_device_name(), "count": torch.cuda.device_count()}
        resources["gpu_seconds"] = round(wall * gpu["count"], 3)
    info = {**output.info, "resources": output.info.get("resources") or resources, "gpu": gpu}
    return dataclasses.replace(output, info=info), wall
