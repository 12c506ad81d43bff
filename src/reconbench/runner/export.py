"""Files a person or a program reads after a run: results.csv (one row per job), anytime.csv and report.md.

report.md is rendered from the same tables as summary.md and report.html (reconbench/results/tables.py)."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from reconbench.results.record import JobRecord
from reconbench.results.run import run_from_records
from reconbench.results.tables import outside_assumptions, run_markdown

# The columns every results.csv starts with; `lpips` is LPIPS-alex, `fscore` at the protocol's
# default threshold; all metrics are the protocol's headline set (docs/metrics.md).
LEAD_COLUMNS = [
    "method",
    "object",
    "category",
    "seed",
    "status",
    "error",
    "psnr",
    "ssim",
    "lpips",
    "chamfer",
    "fscore",
    "normal_consistency",
    "time_s",
]


def flat_row(record: JobRecord) -> dict[str, object]:
    row: dict[str, object] = {
        "method": record.method,
        "object": record.object,
        "category": record.category,
        "seed": record.seed,
        "status": record.status,
        "error": record.error or "",
        "time_s": record.time_s,
        "warnings": "; ".join(record.warnings),  # what was scored differently than given (a texture dropped...)
    }
    metrics = dict(record.metrics)
    if "lpips_alex" in metrics:
        metrics["lpips"] = metrics["lpips_alex"]
    row.update(metrics)
    row.update(resource_columns(record))
    outside = outside_assumptions(record)
    if outside:
        row["outside_assumptions"] = outside
    return row


def resource_columns(record: JobRecord) -> dict[str, object]:
    """What the method's time went on and what it held (docs/methods.md, "Timing"): `stage_<name>_s` per
    stage, peak host and GPU memory, GPU-seconds and the GPU model; empty where not measured."""
    resources, gpu = record.timings.resources, record.provenance.gpu
    columns: dict[str, object] = {f"stage_{name}_s": seconds for name, seconds in record.timings.method_stages.items()}
    if resources is not None:  # memory columns whenever sampled (empty = not measured); GPU-seconds where known
        columns.update(peak_host_rss_mb=resources.peak_host_rss_mb, peak_gpu_mem_mb=resources.peak_gpu_mem_mb)
        if resources.gpu_seconds is not None:
            columns["gpu_seconds"] = resources.gpu_seconds
    if gpu is not None:
        columns["gpu"] = f"{gpu.count}x {gpu.name or '?'}"
    return columns


def write_csv(records: Iterable[JobRecord], path: Path) -> Path:
    rows = [flat_row(r) for r in records]
    extra = sorted({k for row in rows for k in row} - set(LEAD_COLUMNS))
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=LEAD_COLUMNS + extra, restval="")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(v) for k, v in row.items()})
    return path


def _cell(value: object) -> object:
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value) if math.isinf(value) else f"{value:.6g}"
    return "" if value is None else value


def write_anytime_csv(records: Iterable[JobRecord], path: Path) -> Path | None:
    """One row per snapshot of every per-scene optimisation: fidelity against per-scene compute."""
    rows = [
        {"method": r.method, "object": r.object, "category": r.category, "seed": r.seed, **point}
        for r in records
        for point in r.anytime
    ]
    if not rows:
        return None
    columns = list(dict.fromkeys(k for row in rows for k in row))
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, restval="")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(v) for k, v in row.items()})
    return path


def write_report(records: list[JobRecord], meta: Mapping[str, Any], path: Path) -> Path:
    """report.md: the run's result tables (the same as summary.md's) and its failures."""
    path.write_text(run_markdown(run_from_records(records, meta, path.parent)), encoding="utf-8")
    return path
