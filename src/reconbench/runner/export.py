"""Files a person or a program reads after a run: results.csv (one row per job) and report.md."""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from pathlib import Path
from typing import Iterable

import numpy as np

from reconbench.runner.store import JobRecord

# The columns every results.csv starts with; `lpips` is LPIPS-alex, `fscore` at the protocol's
# default threshold; all metrics are the protocol's headline set (docs/metrics.md).
LEAD_COLUMNS = ["method", "object", "category", "seed", "status", "error", "psnr", "ssim", "lpips", "chamfer", "fscore", "normal_consistency", "time_s"]
REPORT_METRICS = [("psnr", "PSNR ↑"), ("ssim", "SSIM ↑"), ("lpips", "LPIPS ↓"), ("chamfer", "CD ↓"), ("fscore", "F-score ↑"),
                  ("normal_consistency", "NC ↑"), ("volume_iou", "vol. IoU ↑"), ("time_s", "time s")]


def flat_row(record: JobRecord) -> dict[str, object]:
    row: dict[str, object] = {
        "method": record.method, "object": record.object, "category": record.category, "seed": record.seed,
        "status": record.status, "error": record.error or "", "time_s": record.time_s,
    }
    metrics = dict(record.metrics)
    if "lpips_alex" in metrics:
        metrics["lpips"] = metrics["lpips_alex"]
    row.update(metrics)
    row.update(resource_columns(record))
    return row


def resource_columns(record: JobRecord) -> dict[str, object]:
    """What the method's time went on and what it held (docs/methods.md, "Timing"): `stage_<name>_s` per
    stage, peak host and GPU memory, GPU-seconds and the GPU model; empty where not measured."""
    timings = record.timings or {}
    resources = timings.get("resources") or {}
    gpu = (record.provenance or {}).get("gpu") or {}
    columns: dict[str, object] = {f"stage_{name}_s": seconds for name, seconds in (timings.get("method_stages") or {}).items()}
    columns.update({key: resources.get(key) for key in ("peak_host_rss_mb", "peak_gpu_mem_mb", "gpu_seconds") if key in resources})
    if gpu:
        columns["gpu"] = f"{gpu.get('count', 1)}x {gpu.get('name', '?')}"
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
    rows = [{"method": r.method, "object": r.object, "category": r.category, "seed": r.seed, **point} for r in records for point in r.anytime]
    if not rows:
        return None
    columns = list(dict.fromkeys(k for row in rows for k in row))
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, restval="")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(v) for k, v in row.items()})
    return path


def write_report(records: list[JobRecord], meta: dict, path: Path) -> Path:
    """A short markdown table of means per method over the jobs that succeeded."""
    from reconbench.viewscore.stages import stage_section

    by_method: dict[str, list[JobRecord]] = defaultdict(list)
    for r in records:
        by_method[r.method].append(r)
    lines = [
        "# reconbench results",
        "",
        f"Dataset `{meta.get('dataset')}`, protocol `{meta.get('protocol')}`, alignment `{meta.get('align')}` "
        f"(headline: {meta.get('headline')} metrics), LPIPS {', '.join(meta.get('lpips') or []) or 'off'}. Means over the objects each method "
        "completed; `n` counts completed / all jobs. Definitions: docs/metrics.md.",
        "",
        "| method | paradigm | n | " + " | ".join(label for _, label in REPORT_METRICS) + " |",
        "| --- | --- | --- | " + " | ".join("---" for _ in REPORT_METRICS) + " |",
    ]
    paradigms = meta.get("paradigms", {})
    for method, recs in sorted(by_method.items()):
        ok = [flat_row(r) for r in recs if r.status == "ok"]
        cells = [mean_cell([row.get(key) for row in ok]) for key, _ in REPORT_METRICS]
        lines.append(f"| {method} | {paradigms.get(method, '')} | {len(ok)}/{len(recs)} | " + " | ".join(cells) + " |")
    lines += usability_table(by_method)
    lines += stage_section(records)  # two-stage methods' stage1_* metrics (viewscore/stages.py)
    problems = [r for r in records if r.status != "ok"]
    if problems:
        lines += ["", "## Jobs that did not complete", "", "| method | object | status | reason |", "| --- | --- | --- | --- |"]
        lines += [f"| {r.method} | {r.object} | {r.status} | {(r.error or '').replace('|', '/')} |" for r in problems]
    path.write_text("\n".join(lines) + "\n")
    return path


USABILITY = [("usable_as_is", "usable as is"), ("watertight", "watertight"), ("floater_area_share", "floater area"),
             ("nonmanifold_edge_share", "non-manifold edges"), ("degenerate_face_share", "degenerate faces"),
             ("triangles", "triangles"), ("has_texture", "textured"), ("file_size_mb", "file MB")]


def usability_table(by_method: dict[str, list[JobRecord]]) -> list[str]:
    """Means of the mesh usability figures per method (shares of assets for the yes/no ones)."""
    rows = []
    for method, recs in sorted(by_method.items()):
        ok = [r.metrics for r in recs if r.status == "ok" and "usable_as_is" in r.metrics]
        if ok:
            rows.append(f"| {method} | {len(ok)} | " + " | ".join(mean_cell([m.get(k) for m in ok]) for k, _ in USABILITY) + " |")
    if not rows:
        return []
    return [
        "",
        "## Usability of the assets (meshes; docs/metrics.md)",
        "",
        "| method | n | " + " | ".join(label for _, label in USABILITY) + " |",
        "| --- | --- | " + " | ".join("---" for _ in USABILITY) + " |",
        *rows,
    ]


def mean_cell(values: list) -> str:
    """Mean over defined values (NaN = not applicable is left out; PSNR of identical images is inf)."""
    defined = [float(v) for v in values if isinstance(v, (int, float)) and not math.isnan(v)]
    if not defined:
        return "–"
    m = float(np.mean(defined))
    return "∞" if math.isinf(m) else f"{m:.4f}" if abs(m) < 10 else f"{m:.2f}"
