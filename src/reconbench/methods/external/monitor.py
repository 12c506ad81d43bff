"""Peak memory of a method's whole process tree while it runs, and the GPU it ran on.

Sampled, because the upstream commands are separate programs we cannot instrument: host memory is
the sum of resident set sizes over the tree (psutil), GPU memory the sum of what NVML reports for the
tree's processes. A short-lived spike between samples can be missed; the interval is in the result.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass

import psutil


@dataclass
class ResourcePeaks:
    host_rss_mb: float = 0.0
    start_host_rss_mb: float | None = None  # the first sample: what the process held before the work
    gpu_mem_mb: float | None = None  # None: no NVML here, so not measured (never 0 by default)
    samples: int = 0
    interval_s: float = 0.05

    def to_dict(self) -> dict:
        start = None if self.start_host_rss_mb is None else round(self.start_host_rss_mb, 1)
        return {"peak_host_rss_mb": round(self.host_rss_mb, 1), "start_host_rss_mb": start,
                "peak_gpu_mem_mb": None if self.gpu_mem_mb is None else round(self.gpu_mem_mb, 1),
                "samples": self.samples, "sample_interval_s": self.interval_s}


def process_tree(pid: int) -> list[psutil.Process]:
    """The process and all its descendants that are still alive."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def tree_rss_bytes(procs: list[psutil.Process]) -> int:
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


class _Nvml:
    """GPU memory per process through NVML (nvidia-ml-py), when the library and a driver are present."""

    def __init__(self) -> None:
        self.handles = []
        try:
            import pynvml

            pynvml.nvmlInit()
            self._nvml = pynvml
            self.handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())]
        except Exception:  # no module, no driver, no device: GPU memory is simply not measured
            self.handles = []

    @property
    def available(self) -> bool:
        return bool(self.handles)

    def used_by(self, pids: set[int]) -> int:
        total = 0
        for h in self.handles:
            try:
                for proc in self._nvml.nvmlDeviceGetComputeRunningProcesses(h):
                    if proc.pid in pids and proc.usedGpuMemory:
                        total += proc.usedGpuMemory
            except Exception:
                continue
        return total


class ResourceMonitor:
    """Samples a process tree in a background thread: `with ResourceMonitor(pid) as m: ...; m.peaks`."""

    def __init__(self, pid: int, interval_s: float = 0.05) -> None:
        self.pid = pid
        self.peaks = ResourcePeaks(interval_s=interval_s)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="reconbench-resource-monitor")
        self._nvml = _Nvml()
        if self._nvml.available:
            self.peaks.gpu_mem_mb = 0.0

    def __enter__(self) -> "ResourceMonitor":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while True:
            self.sample()
            if self._stop.wait(self.peaks.interval_s):
                return

    def sample(self) -> None:
        procs = process_tree(self.pid)
        if not procs:
            return
        self.peaks.samples += 1
        rss = tree_rss_bytes(procs) / 2**20
        if self.peaks.start_host_rss_mb is None:
            self.peaks.start_host_rss_mb = rss
        self.peaks.host_rss_mb = max(self.peaks.host_rss_mb, rss)
        if self._nvml.available:
            used = self._nvml.used_by({p.pid for p in procs})
            self.peaks.gpu_mem_mb = max(self.peaks.gpu_mem_mb or 0.0, used / 2**20)


def visible_gpu_ids() -> list[str]:
    """The GPUs this process may use, as CUDA_VISIBLE_DEVICES entries (what an executor pins a worker to):
    the variable's entries when it is set, else every installed GPU's index."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [v.strip() for v in visible.split(",") if v.strip() and v.strip() != "-1"]
    return [str(i) for i in range(len(_installed_gpus()))]


def visible_gpus() -> dict | None:
    """{"name", "count"} of the NVIDIA GPUs this process may use (CUDA_VISIBLE_DEVICES respected, by index
    or by GPU-/MIG- UUID), or None. The cost model prices GPU-seconds by this name."""
    gpus = list(_installed_gpus())  # [(name, uuid)] in device order
    chosen = []
    for item in visible_gpu_ids():
        if item.isdigit() and int(item) < len(gpus):
            chosen.append(gpus[int(item)])
        elif item.startswith(("GPU-", "MIG-")):  # a MIG slice counts as its machine's GPU model (priced whole)
            chosen += [g for g in gpus if g[1] and (g[1] == item or item.startswith("MIG-"))][:1]
    if not chosen:
        return None
    return {"name": chosen[0][0], "count": len(chosen)}


@functools.lru_cache(maxsize=1)
def _installed_gpus() -> tuple[tuple[str, str], ...]:
    """(name, uuid) of every NVIDIA GPU of this machine, from NVML when installed, else nvidia-smi; read
    once per process (the hardware does not change under it)."""
    return tuple(_nvml_gpus() or _smi_gpus())


def _nvml_gpus() -> list[tuple[str, str]]:
    try:
        import pynvml

        pynvml.nvmlInit()
        out = []
        for i in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(i)
            name, uuid = pynvml.nvmlDeviceGetName(handle), pynvml.nvmlDeviceGetUUID(handle)
            out.append(tuple(v.decode() if isinstance(v, bytes) else v for v in (name, uuid)))
        return out
    except Exception:  # no module, no driver: try nvidia-smi
        return []


def _smi_gpus() -> list[tuple[str, str]]:
    smi = shutil.which("nvidia-smi")
    if not smi:
        return []
    try:
        done = subprocess.run([smi, "--query-gpu=name,uuid", "--format=csv,noheader"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return []
    if done.returncode != 0:
        return []
    return [tuple(part.strip() for part in line.rsplit(",", 1)) for line in done.stdout.splitlines() if "," in line]


def wall_clock() -> float:
    """The clock every stage time is read from (monotonic, high resolution)."""
    return time.perf_counter()
