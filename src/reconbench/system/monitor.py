"""Peak memory of a method's whole process tree while it runs, and the GPU it ran on.

Sampled, because the upstream commands are separate programs we cannot instrument: host memory is
the sum of resident set sizes over the tree (psutil), GPU memory the sum of what NVML reports for the
tree's processes. A short-lived spike between samples can be missed; the interval is in the result.
"""

from __future__ import annotations

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
        return {
            "peak_host_rss_mb": round(self.host_rss_mb, 1),
            "start_host_rss_mb": start,
            "peak_gpu_mem_mb": None if self.gpu_mem_mb is None else round(self.gpu_mem_mb, 1),
            "samples": self.samples,
            "sample_interval_s": self.interval_s,
        }


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

    def __enter__(self) -> ResourceMonitor:
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


def wall_clock() -> float:
    """The clock every stage time is read from (monotonic, high resolution)."""
    return time.perf_counter()
