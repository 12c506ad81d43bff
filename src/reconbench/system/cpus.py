"""How many CPU cores this process may use, and how many threads scoring may spread its per-view work over."""

from __future__ import annotations

import os


def cores() -> int:
    """Cores this process may run on (its affinity mask: a Slurm or taskset limit, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def scoring_threads() -> int:
    """Threads for per-view work that releases the GIL (SciPy's filters): OMP_NUM_THREADS when set (the local
    executor shares the cores out between its workers through it, Ray sets it per task), else every core."""
    try:
        return max(1, int(os.environ["OMP_NUM_THREADS"]))
    except (KeyError, ValueError):
        return cores()
