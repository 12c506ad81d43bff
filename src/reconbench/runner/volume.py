"""How long a volume of assets takes on K workers (K GPUs for a GPU method), from the per-asset times a
run recorded. Wall-clock only; money and break-even volumes are `reconbench cost` (docs/cost.md).

    hours(N, K) = ceil(N / K) x (w + e + o) / 3600

w: the method's seconds per asset (`time_s` in results.csv), e: the evaluation's seconds per asset
(`timings.evaluation_wall_s` in results.sqlite), o: the harness overhead per job
(benchmarks/harness_overhead.py; benchmarks/executor_throughput.py adds preparing objects), averaged
over the method's completed jobs. Each worker holds its GPU for the whole job, evaluation included, so
w + e is the per-asset time on the cluster; w alone is what a pipeline that does not score its assets
would spend. Start-up (cluster, workers, model load before the first asset) comes on top, once per
worker.

    reconbench volume RUN_DIR [--assets 10000] [--workers 1,8,64] [--overhead 0.2]
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from pathlib import Path

from reconbench.results import JobRecord
from reconbench.runner.store import ResultsStore


def mean_job_seconds(records: Iterable[JobRecord]) -> dict[str, dict[str, float]]:
    """Per method, over its completed jobs: mean method seconds (w), evaluation seconds (e), and jobs."""
    by_method: dict[str, list[JobRecord]] = {}
    for r in records:
        if r.status == "ok":
            by_method.setdefault(r.method, []).append(r)
    return {
        m: {
            "method_s": statistics.mean(r.time_s or 0.0 for r in rs),
            "evaluation_s": statistics.mean(r.timings.evaluation_wall_s or 0.0 for r in rs),
            "jobs": len(rs),
        }
        for m, rs in sorted(by_method.items())
    }


def volume_hours(seconds_per_asset: float, assets: int, workers: int) -> float:
    """Hours for `assets` jobs of `seconds_per_asset` each on `workers` workers running one job at a time."""
    return math.ceil(assets / workers) * seconds_per_asset / 3600


def volume_table(
    run_dir: str | Path, assets: int = 10_000, workers: Sequence[int] = (1, 8, 64), overhead_s: float = 0.0
) -> str:
    with ResultsStore(Path(run_dir) / "results.sqlite", readonly=True) as store:
        times = mean_job_seconds(store.records())
    head = "| method | jobs | w s/asset | e s/asset | " + " | ".join(f"{assets:,} on {k}" for k in workers) + " |"
    lines = [head, "|" + " --- |" * (4 + len(workers))]
    for method, t in times.items():
        per_asset = t["method_s"] + t["evaluation_s"] + overhead_s
        cells = " | ".join(_duration(volume_hours(per_asset, assets, k)) for k in workers)
        lines.append(f"| {method} | {t['jobs']} | {t['method_s']:.2f} | {t['evaluation_s']:.2f} | {cells} |")
    return "\n".join(lines)


def _duration(hours: float) -> str:
    if hours < 1:
        return f"{hours * 60:.0f} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"
