"""The report's first section: the run's conventions and provenance (dataset, protocol, alignment, LPIPS,
versions, renderer, hardware), each read from the run folder."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reconbench import __version__
from reconbench.protocol import Protocol, get_protocol
from reconbench.results import JobRecord, Run


def run_protocol(run: Run) -> Protocol | None:
    """The run's protocol, rebuilt from the name its meta records; None when it cannot be built."""
    try:
        return get_protocol(run.meta.protocol or "")
    except Exception:  # a protocol file that moved, an unknown preset: show its name only
        return None


def conventions(run: Run) -> list[tuple[str, str]]:
    """(label, value) pairs: dataset, protocol, alignment, LPIPS, versions, renderer and hardware."""
    meta, proto = run.meta, run_protocol(run)
    protocol = str(meta.protocol or "?")
    if proto is not None:
        w, h = proto.resolution
        protocol = (
            f"{proto.name}: {len(proto.input_cameras)} input view(s), {len(proto.heldout_cameras)} held-out views, "
            f"{w}x{h} px, lighting {proto.lighting.name} (inputs {proto.lighting.inputs.mode}, "
            f"scoring references {proto.lighting.references.mode})"
        )
    renderers = sorted({_renderer(r.provenance.renderer) for r in run.ok if r.provenance.renderer})
    return [
        ("dataset", str(meta.dataset or "?")),
        ("objects", _objects_line(run)),
        ("protocol", protocol),
        ("alignment", f"{meta.align or '?'}; headline metrics: {meta.headline} set"),
        # Whose evaluation the numbers follow; "APPROXIMATE (...)" for presets that only follow a paper's text.
        ("evaluation", str(meta.get("evaluation_label") or _evaluation_label(proto))),
        ("LPIPS nets", ", ".join(meta.lpips) or "off"),
        ("reconbench", f"run with {meta.reconbench or '?'}; report by {__version__}"),
        ("renderer", "; ".join(renderers) or "unknown (no completed job)"),
        ("hardware", hardware(run.ok)),
    ]


def _evaluation_label(proto: Protocol | None) -> str:
    return proto.evaluation.label() if proto is not None and proto.evaluation is not None else "?"


def _objects_line(run: Run) -> str:
    """How many objects the run selected, from which list, and its seeds."""
    meta = run.meta
    count = len(meta.objects) or len({r.object for r in run.records})
    source = f"object list {meta.object_list}" if meta.object_list else "no object list (the dataset's objects)"
    seeds = f"; seeds {', '.join(map(str, meta.seeds))}" if meta.seeds else ""
    return f"{count} selected, {source}{seeds}"


def _renderer(info: Any) -> str:
    if isinstance(info, dict):
        return " / ".join(str(info[k]) for k in ("renderer", "version", "vendor") if info.get(k))
    return str(info)


def hardware(records: Sequence[JobRecord]) -> str:
    """The GPUs named in the jobs' provenance, else CPU."""
    gpus = {
        f"{r.provenance.gpu.name} x{r.provenance.gpu.count}"
        for r in records
        if r.provenance.gpu and r.provenance.gpu.name
    }
    return ", ".join(sorted(gpus)) if gpus else "CPU"
