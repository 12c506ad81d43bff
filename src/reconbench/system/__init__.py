"""The machine reconbench runs on: where files are cached (paths), how many cores it may use (cpus), which
GPUs this process may use (gpus: the one answer, from the driver) and what a process tree uses while it runs
(monitor)."""

from __future__ import annotations

from reconbench.system.cpus import cores, scoring_threads
from reconbench.system.gpus import gpus_present, visible_gpu_ids, visible_gpus
from reconbench.system.monitor import ResourceMonitor, wall_clock
from reconbench.system.paths import cache_root, hf_cache_dir, hf_home, hf_offline

__all__ = [
    "ResourceMonitor",
    "cache_root",
    "cores",
    "gpus_present",
    "hf_cache_dir",
    "hf_home",
    "hf_offline",
    "scoring_threads",
    "visible_gpu_ids",
    "visible_gpus",
    "wall_clock",
]
