"""Measured next to published: for each method of a run and each metric with a published value on the run's
dataset, the published figure, the measured mean with its interval, and the difference, labelled

- "same protocol": the run's preset names the published protocol (its id) and that protocol is public;
- "comparable": the metric means the same thing in the same units, but the evaluation differs (listed);
- "not comparable": the numbers mean different things (the reason says why); no difference is given.

A published protocol on another dataset is not compared at all (the notes say so). Published times are
compared when measured on the same GPU type; otherwise they are listed as not comparable.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconbench.cost.model import gpu_type, record_device
from reconbench.literature.papers import PAPERS, PROTOCOLS
from reconbench.literature.types import Protocol, Published, Result, TimeFigure
from reconbench.results.run import RunMeta
from reconbench.stats import Estimate, method_means

SAME, COMPARABLE, NOT_COMPARABLE = "same protocol", "comparable", "not comparable"
# reconbench presets that reproduce a published protocol, for presets that do not name one themselves.
PRESET_PROTOCOLS: dict[str, str] = {"gso30-syncdreamer": "syncdreamer-gso30"}
RECONBENCH_THRESHOLDS = (0.01, 0.02, 0.05, 0.1)  # protocol/presets.py EVALUATION["fscore_thresholds"]


@dataclass(frozen=True)
class RunContext:
    """What a comparison needs to know about a run."""

    dataset: str  # dataset family: "gso", "omniobject3d", "procedural", ...
    protocol: str  # the run's preset name
    published_protocol: str | None  # the published protocol id the preset reproduces
    align: str
    fscore_thresholds: tuple[float, ...] = RECONBENCH_THRESHOLDS
    views: str = ""


def run_context(meta: Mapping[str, Any] | RunMeta, proto: Any | None = None) -> RunContext:
    """From a run's store meta and its Protocol object (if the preset could be opened).

    The published protocol id comes from meta["published_protocol"], else the Protocol's
    `published_protocol` attribute, else the preset data's "published_protocol" key (protocol/presets.py),
    else PRESET_PROTOCOLS by preset name ("-unlit" variants included).
    """
    name = str(meta.get("protocol", ""))
    base = name.removesuffix("-unlit")
    claimed = meta.get("published_protocol") or getattr(proto, "published_protocol", None)
    if not claimed:
        from reconbench.protocol.presets import PRESETS

        claimed = PRESETS.get(base, {}).get("published_protocol") or PRESET_PROTOCOLS.get(base)
    thresholds = RECONBENCH_THRESHOLDS
    views = ""
    evaluation = getattr(proto, "evaluation", None)
    if evaluation is not None:
        thresholds = tuple(evaluation.fscore_thresholds)
    if proto is not None:
        w, h = proto.resolution
        views = f"{len(proto.input_cameras)} input, {len(proto.heldout_cameras)} held-out views at {w}x{h}"
    dataset = str(meta.get("dataset", "")).split(":", 1)[0].strip().lower()
    return RunContext(dataset, name, claimed, str(meta.get("align", "?")), thresholds, views)


def reconbench_metric(metric: str, protocol: Protocol, ctx: RunContext) -> tuple[str | None, str]:
    """The run's metric key a published metric can be set against, or (None, why not)."""
    if metric == "chamfer":
        if protocol.scale != "unit":
            return "chamfer", "object normalisation not stated (Chamfer distances scale with it)"
        if protocol.chamfer_kind != "syncdreamer":
            return "chamfer", "Chamfer variant not stated (squared or not, halved or summed)"
        return "chamfer", ""
    if metric.startswith("fscore@"):
        tau = float(metric.split("@")[1])
        if not any(abs(tau - t) < 1e-9 for t in ctx.fscore_thresholds):
            return None, f"reconbench measures no F-score at {tau}"
        key = f"fscore_{round(tau * 100):02d}"
        if protocol.scale != "unit":
            return key, f"threshold {tau} is in units of an unstated normalisation"
        return key, ""
    if metric == "volume_iou":
        return ("volume_iou", "") if protocol.scale == "unit" else ("volume_iou", "object normalisation not stated")
    if metric in ("psnr", "ssim", "lpips"):
        if protocol.image_metrics == "generated-views":
            return (
                metric,
                "published on the images a multi-view diffusion model generates, not on renders of a 3D asset",
            )
        return metric, ""
    return None, "reconbench does not measure it"


def differences(protocol: Protocol, metric: str, ctx: RunContext, n_objects: int) -> str:
    """What differs between the published evaluation and this run, for a comparable pair."""
    parts = [
        f"objects: {protocol.objects or '?'} ({protocol.object_list}) vs {n_objects} here",
        f"alignment: {protocol.alignment} vs {ctx.align}",
    ]
    if metric in ("psnr", "ssim", "lpips"):
        size = f", {protocol.image_size}px" if protocol.image_size else ""
        parts.append(f"views: {protocol.views}{size} vs {ctx.views or ctx.protocol}")
        if metric == "lpips":
            parts.append("LPIPS network: paper's not stated vs AlexNet here")
    else:
        parts.append(f"points: {protocol.points} vs reconbench's depth-map clouds")
    return "; ".join(parts)


def classify(protocol: Protocol, metric: str, why_not: str, ctx: RunContext, n_objects: int) -> tuple[str, str]:
    """(label, what differs or why not) for one published figure against this run.

    A run whose preset names the protocol used the paper's conventions as far as the paper states them:
    an unstated normalisation or Chamfer variant then makes the pair approximate, not incomparable. Image
    metrics of generated views stay incomparable whatever the preset.
    """
    if ctx.published_protocol == protocol.id:
        if why_not and metric in ("psnr", "ssim", "lpips") and protocol.image_metrics == "generated-views":
            return NOT_COMPARABLE, why_not
        gaps = [g for g in (why_not, "" if protocol.reproducible else protocol.object_list) if g]
        return (COMPARABLE, "the preset approximates it: " + "; ".join(gaps)) if gaps else (SAME, "")
    if why_not:
        return NOT_COMPARABLE, why_not
    return COMPARABLE, differences(protocol, metric, ctx, n_objects)


@dataclass(frozen=True)
class Comparison:
    method: str
    metric: str  # the run's metric key (or the published metric when there is none)
    protocol: str  # published protocol id, or "time" for a time figure
    published: float
    source: str
    measured: Estimate | None
    label: str
    why: str  # what differs (comparable) or why not (not comparable)
    note: str = ""

    @property
    def difference(self) -> float | None:
        """measured − published, only where the two may be set side by side."""
        if self.label == NOT_COMPARABLE or self.measured is None or math.isnan(self.measured.mean):
            return None
        return self.measured.mean - self.published


def compare_run(
    records: Sequence[Any],
    meta: Mapping[str, Any] | RunMeta,
    proto: Any | None = None,
    published: Mapping[str, Published] | None = None,
) -> tuple[list[Comparison], list[str]]:
    """Every (method, metric) of the run with a published value on its dataset, labelled; and notes.

    `published` maps method name -> Published (default: the registered specs' figures).
    """
    ctx = run_context(meta, proto)
    methods = sorted({_get(r, "method") for r in records})
    figures = dict(published) if published is not None else _spec_figures(methods)
    ok = [r for r in records if _get(r, "status") == "ok"]
    out: list[Comparison] = []
    notes: list[str] = []
    elsewhere = sorted(
        {
            PROTOCOLS[r.protocol].dataset
            for m in methods
            for r in figures.get(m, Published()).results
            if r.protocol in PROTOCOLS and PROTOCOLS[r.protocol].dataset != ctx.dataset
        }
    )
    if elsewhere:
        notes.append(
            f"published figures measured on {', '.join(elsewhere)} are not compared: this run's dataset is "
            f"{ctx.dataset or 'unknown'} (`reconbench literature` lists them)"
        )
    if ctx.published_protocol and ctx.published_protocol not in PROTOCOLS:
        notes.append(
            f"the preset names published protocol {ctx.published_protocol!r}, which has no published figures here"
        )
    for method in methods:
        pub = figures.get(method)
        if pub is None:
            continue
        mine = [r for r in ok if _get(r, "method") == method]
        n_objects = len({_get(r, "object") for r in mine})
        rows: list[tuple[Result, Protocol, str | None, str, str]] = []
        for res in pub.results:
            protocol = PROTOCOLS.get(res.protocol)
            if protocol is None or protocol.dataset != ctx.dataset:
                continue
            key, why_not = reconbench_metric(res.metric, protocol, ctx)
            if key is None:
                continue  # nothing measured to set it against
            label, why = classify(protocol, res.metric, why_not, ctx, n_objects)
            rows.append((res, protocol, key, label, why))
        keys = sorted({k for _, _, k, _, _ in rows if k} | {"time_s"})
        means = method_means(mine, keys).get(method, {}) if mine else {}
        for res, protocol, key, label, why in rows:
            paper = PAPERS[protocol.paper]
            out.append(
                Comparison(
                    method,
                    key or res.metric,
                    protocol.id,
                    res.value,
                    f"{paper.short()}, {protocol.where}",
                    means.get(key or ""),
                    label,
                    why,
                    res.note,
                )
            )
        out += _time_rows(method, pub.times, mine, means.get("time_s"))
    return out, notes


def _time_rows(
    method: str, times: Sequence[TimeFigure], records: Sequence[Any], measured: Estimate | None
) -> list[Comparison]:
    devices = {record_device(r)[0] for r in records}
    device = devices.pop() if len(devices) == 1 else None
    rows = []
    for t in times:
        if not t.applies:
            continue
        paper = PAPERS[t.paper].short() + f", {t.where}"
        if t.gpu is None:
            label, why = NOT_COMPARABLE, "hardware not published"
        elif device is None:
            label, why = NOT_COMPARABLE, "jobs ran on several device types" if records else "no completed job"
        elif gpu_type(t.gpu) != device:
            label, why = (
                NOT_COMPARABLE,
                f"published on {t.gpu}, measured on {device} (`reconbench literature` converts with a stated "
                f"throughput factor)",
            )
        else:
            label, why = COMPARABLE, f"what the times cover: {t.covers} vs the method's wall time here"
        rows.append(Comparison(method, "time_s", "time", t.seconds, paper, measured, label, why, t.covers))
    return rows


def _spec_figures(methods: Sequence[str]) -> dict[str, Published]:
    from reconbench.registry import get_method

    out = {}
    for m in methods:
        try:
            out[m] = get_method(m).published
        except KeyError:
            continue
    return out


def _get(record: Any, name: str) -> Any:
    return record.get(name) if isinstance(record, Mapping) else getattr(record, name, None)
