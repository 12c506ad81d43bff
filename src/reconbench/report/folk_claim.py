"""The report's verdict on the folk claim: "feed-forward is coherent but blurry, per-scene SDS is sharp
but sometimes broken", measured with the sharpness and breakage metrics (docs/metrics.md,
"Sharpness and breakage").

Per method: mean sharpness (bootstrap interval over objects) and the share of broken objects (Wilson
interval). Per (feed-forward, per-scene) pair: the paired difference in sharpness (feed-forward − per-scene,
bootstrap over shared objects) and in broken share (per-scene − feed-forward, Newcombe's paired interval),
and one verdict: supported, contradicted, or not significant.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from reconbench.metrics.breakage import REASONS, THRESHOLDS, Thresholds, reasons
from reconbench.stats import (
    Estimate,
    PairedShareDifference,
    Share,
    mean_ci,
    object_values,
    paired_share_difference,
    wilson_interval,
)

CLAIM = (
    "Folk claim: feed-forward models give a coherent but blurry asset in seconds; per-scene optimisation with SDS "
    "on Gaussian splats gives a sharper but sometimes broken one in minutes."
)
FEED_FORWARD, PER_SCENE = "feed-forward", "per-scene"
WORST_VIEWS = 5


@dataclass(frozen=True)
class MethodSummary:
    method: str
    paradigm: str
    sharpness: Estimate
    broken: Share
    reasons: dict[str, int]  # objects each detector fired on


@dataclass(frozen=True)
class PairVerdict:
    feed_forward: str
    per_scene: str
    sharpness: Estimate  # feed-forward − per-scene over shared objects, each capped at 1 (mean, interval, n)
    broken: PairedShareDifference  # share broken: per-scene − feed-forward
    verdict: str  # supported | contradicted | not significant
    sentence: str


def sharpness_metric(records: Iterable[Any]) -> str:
    """`sharpness` (held-out views) when the run has it, else `input_sharpness` (input photos without truth)."""
    for r in records:
        v = r.metrics.get("sharpness") if r.status == "ok" else None
        if isinstance(v, (int, float)) and not math.isnan(v):
            return "sharpness"
    return "input_sharpness"


def broken_flags(
    records: Iterable[Any], method: str, thresholds: Thresholds = THRESHOLDS
) -> tuple[dict[str, bool], Counter]:
    """({object: broken}, objects per reason) of one method. An object is broken when any of its jobs (seeds)
    is; skipped jobs (the method cannot run here) are left out."""
    flags: dict[str, bool] = {}
    why: dict[str, set[str]] = {}
    for r in records:
        if r.method != method or r.status == "skipped":
            continue
        found = reasons(r.status, r.metrics, thresholds)
        flags[r.object] = flags.get(r.object, False) or bool(found)
        why.setdefault(r.object, set()).update(found)
    return flags, Counter(reason for found in why.values() for reason in found)


def summarise(
    records: Sequence[Any], paradigms: dict[str, str], thresholds: Thresholds = THRESHOLDS
) -> list[MethodSummary]:
    metric = sharpness_metric(records)
    out = []
    for method in sorted({r.method for r in records}):
        flags, why = broken_flags(records, method, thresholds)
        values = list(object_values(records, method, metric).values())
        out.append(
            MethodSummary(
                method,
                paradigms.get(method, ""),
                mean_ci(values),
                wilson_interval(sum(flags.values()), len(flags)),
                {k: why.get(k, 0) for k in REASONS},
            )
        )
    return out


def _interval(mean: float, low: float, high: float) -> str:
    if math.isnan(mean):
        return "– (no shared object)"
    return f"{mean:+.3g} [{low:+.3g}, {high:+.3g}]"


def judge(sharp: Estimate, broken: PairedShareDifference) -> tuple[str, str]:
    """(verdict, the halves in words). sharp: feed-forward − per-scene sharpness; broken: per-scene −
    feed-forward broken share. A half counts only when its interval excludes 0 (and, for sharpness, n ≥ 2)."""
    sharp_sig = sharp.n >= 2 and not (sharp.low <= 0.0 <= sharp.high)
    blur = "holds" if sharp_sig and sharp.mean < 0 else "is contradicted" if sharp_sig else "is not significant"
    brk = (
        "holds"
        if broken.significant and broken.mean > 0
        else "is contradicted"
        if broken.significant
        else "is not significant"
    )
    if "is contradicted" in (blur, brk):
        verdict = "contradicted"
    elif blur == brk == "holds":
        verdict = "supported"
    else:
        verdict = "not significant"
    return verdict, f"the 'blurrier' half {blur}, the 'more often broken' half {brk}"


def pair_verdicts(
    records: Sequence[Any], paradigms: dict[str, str], thresholds: Thresholds = THRESHOLDS
) -> list[PairVerdict]:
    metric = sharpness_metric(records)
    methods = sorted({r.method for r in records})
    ffs = [m for m in methods if paradigms.get(m) == FEED_FORWARD]
    pss = [m for m in methods if paradigms.get(m) == PER_SCENE]
    out = []
    for ff in ffs:
        for ps in pss:
            va, vb = object_values(records, ff, metric), object_values(records, ps, metric)
            shared = sorted(set(va) & set(vb))
            # Capped at 1: detail beyond the truth's is noise, not sharpness, so a noisy per-scene result
            # does not make a feed-forward one that matches the truth look blurrier.
            sharp = mean_ci([min(va[o], 1.0) - min(vb[o], 1.0) for o in shared])
            broken = paired_share_difference(
                broken_flags(records, ps, thresholds)[0], broken_flags(records, ff, thresholds)[0], ps, ff
            )
            verdict, halves = judge(sharp, broken)
            sentence = (
                f"{ff} vs {ps}: {verdict} — {halves} (sharpness capped at 1, {ff} − {ps}: "
                f"{_interval(sharp.mean, sharp.low, sharp.high)} over {sharp.n} objects; broken share {ps} − {ff}: "
                f"{_interval(broken.mean, broken.low, broken.high)} over {broken.n} objects)."
            )
            out.append(PairVerdict(ff, ps, sharp, broken, verdict, sentence))
    return out


def missing_sentence(paradigms: dict[str, str], methods: Sequence[str]) -> str | None:
    """Why no verdict can be given (None when the run holds both paradigms)."""
    present = {paradigms.get(m) for m in methods}
    lacking = [p for p in (FEED_FORWARD, PER_SCENE) if p not in present]
    if not lacking:
        return None
    return (
        f"No verdict: this run holds no {' and no '.join(lacking)} method, and the claim compares the two "
        f"(add one with --methods; `reconbench methods` lists each method's paradigm)."
    )


# ---------------------------------------------------------------- the section


def section(run: Any, thresholds: Thresholds = THRESHOLDS) -> Any:
    """The report section (html.Section): claim, per-method table, verdict per pair, two figures."""
    from reconbench.report.html import FigureItem, Section, Table

    paradigms = run.meta.get("paradigms", {})
    metric = sharpness_metric(run.records)
    scope = (
        "held-out views"
        if metric == "sharpness"
        else "the input view only (input images without ground truth: against the input photo)"
    )
    paragraphs = [
        CLAIM,
        f"Sharpness: RMS colour gradient inside the silhouette of the prediction's render over that of the "
        f"truth's render at the same view, on {scope}; 1 = as sharp as the truth, < 1 blurrier, > 1 noisier. "
        f"Broken: a failed job, or more than {thresholds.broken_view_share:.0%} of views collapsed (silhouette IoU < "
        f"{thresholds.collapse_mask_iou}) or far worse than the others (LPIPS above the median of the views by more "
        f"than max({thresholds.outlier_mads:g} scaled MADs, {thresholds.outlier_min_gap:g})), or a Janus back (LPIPS "
        f"margin > {thresholds.janus_margin}), or floaters "
        f"(area share > {thresholds.floater_area_share}) or holes (boundary-edge share > "
        f"{thresholds.boundary_edge_share}); "
        f'docs/metrics.md, "Sharpness and breakage".',
    ]
    summaries = summarise(run.records, paradigms, thresholds)
    rows = []
    for s in summaries:
        e, b = s.sharpness, s.broken
        rows.append(
            [
                s.method,
                s.paradigm,
                "–" if e.n == 0 else f"{e.mean:.3g}\n[{e.low:.3g}, {e.high:.3g}]",
                "–" if b.n == 0 else f"{b.k}/{b.n} = {b.share:.0%}\n[{b.low:.0%}, {b.high:.0%}]",
            ]
            + [str(s.reasons[k]) for k in REASONS]
        )
    tables = [
        Table(
            ["method", "paradigm", f"{metric} [95% CI]", "broken objects [95% Wilson]", *REASONS],
            rows,
            numeric=set(range(2, 4 + len(REASONS))),
            note=(
                "Sharpness: mean over objects, bootstrap interval. Reason columns count objects (one object can have "
                "several)."
            ),
        )
    ]
    verdicts = pair_verdicts(run.records, paradigms, thresholds)
    why_not = missing_sentence(paradigms, run.methods)
    if why_not:
        paragraphs.append(why_not)
    if verdicts:
        tables.append(
            Table(
                [
                    "feed-forward",
                    "per-scene",
                    "sharpness (capped at 1) FF − PS [95% CI]",
                    "broken share PS − FF [95% CI]",
                    "objects",
                    "verdict",
                ],
                [
                    [
                        v.feed_forward,
                        v.per_scene,
                        _interval(v.sharpness.mean, v.sharpness.low, v.sharpness.high),
                        _interval(v.broken.mean, v.broken.low, v.broken.high),
                        str(v.broken.n),
                        (
                            v.verdict,
                            "sig" if v.verdict == "supported" else "bad" if v.verdict == "contradicted" else "ns",
                        ),
                    ]
                    for v in verdicts
                ],
                numeric={2, 3, 4},
                note=(
                    "Supported: both halves significant in the claimed direction; contradicted: either half "
                    "significant "
                    "against it; otherwise not significant. Sharpness: bootstrap over shared objects; broken share: "
                    "Newcombe's interval for paired proportions."
                ),
            )
        )
        paragraphs += [v.sentence for v in verdicts]
    figs = []
    from reconbench.report import figures

    fig = scatter(summaries, metric)
    if fig is not None:
        figs.append(
            FigureItem(
                "Sharpness against broken share",
                figures.data_uri(fig),
                "One point per method: mean sharpness over objects (bootstrap 95% CI) against the share of broken "
                "objects (Wilson 95% CI). The dashed line is the truth's sharpness (1).",
            )
        )
    fig = worst_views_strip(run.folder, run.methods, WORST_VIEWS)
    if fig is not None:
        figs.append(
            FigureItem(
                "Worst views per method",
                figures.data_uri(fig),
                f"Per method, the {WORST_VIEWS} worst views over all objects: collapsed views first, then by "
                "per-view LPIPS where measured (else by silhouette IoU); labels give silhouette IoU and sharpness.",
            )
        )
    return Section("Sharp or broken? The folk claim", paragraphs, tables, figs)


def markdown(sec: Any) -> list[str]:
    """The section as summary.md lines (no figures)."""
    from reconbench.results.tables import md_table

    lines = ["", f"## {sec.title}", ""] + [p for t in sec.paragraphs for p in (t, "")]
    for table in sec.tables:
        lines += md_table(table) + [""]
    return lines


# ---------------------------------------------------------------- figures


def scatter(summaries: Sequence[MethodSummary], metric: str) -> Any | None:
    from reconbench.report.figures import _colors, _figure

    points = [s for s in summaries if s.sharpness.n and s.broken.n]
    if not points:
        return None
    fig, (ax,) = _figure()
    colors = _colors([s.method for s in points])
    for s in points:
        e, b = s.sharpness, s.broken
        ax.errorbar(
            [b.share],
            [e.mean],
            xerr=[[b.share - b.low], [b.high - b.share]],
            yerr=[[e.mean - e.low], [e.high - e.mean]],
            fmt="o",
            capsize=4,
            color=colors[s.method],
            label=f"{s.method} ({s.paradigm})",
        )
    ax.axhline(1.0, ls="--", color="#888", lw=1)
    ax.set_xlim(-0.05, 1.05)
    ax.set_xlabel("share of broken objects")
    ax.set_ylabel(f"{metric} (1 = as sharp as the truth)")
    ax.legend(loc="best")
    return fig


def worst_views(folder: Path, method: str, count: int) -> list[dict[str, Any]]:
    """The `count` worst views of a method over its objects, from renders/METHOD/*/views.json."""
    found = []
    for path in sorted((Path(folder) / "renders" / method).glob("*/views.json")):
        try:
            views = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        scored = "heldout" if "heldout" in views.get("role", []) else "input"
        lpips = views.get("lpips_alex") or views.get("lpips_vgg")
        for k, (name, role) in enumerate(zip(views["name"], views["role"])):
            if role != scored:
                continue
            iou = views["mask_iou"][k]
            badness = lpips[k] if lpips and lpips[k] is not None else 1.0 - (iou if iou is not None else 0.0)
            found.append(
                {
                    "object": path.parent.name,
                    "view": name,
                    "role": role,
                    "collapsed": bool(views["collapsed"][k]),
                    "badness": badness,
                    "mask_iou": iou,
                    "sharpness": views["sharpness"][k],
                    "image": path.parent / f"{name}_{role}.png",
                }
            )
    found.sort(key=lambda v: (not v["collapsed"], -v["badness"]))
    return found[:count]


def worst_views_strip(folder: Path, methods: Sequence[str], count: int) -> Any | None:
    import matplotlib.pyplot as plt
    from PIL import Image

    from reconbench.report.figures import STYLE

    rows = [(m, worst_views(folder, m, count)) for m in methods]
    rows = [(m, v) for m, v in rows if v]
    if not rows:
        return None
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(
            len(rows), count, figsize=(2.0 * count, 2.3 * len(rows)), layout="constrained", squeeze=False
        )
    for i, (method, views) in enumerate(rows):
        for j in range(count):
            ax = axes[i][j]
            ax.set_xticks([]), ax.set_yticks([])
            ax.grid(False)
            if j >= len(views):
                ax.axis("off")
                continue
            v = views[j]
            try:
                ax.imshow(np.asarray(Image.open(v["image"]).convert("RGB")))
            except OSError:
                ax.text(0.5, 0.5, "no render", ha="center", va="center", transform=ax.transAxes)
            sharp = "–" if v["sharpness"] is None else f"{v['sharpness']:.2f}"
            iou = "–" if v["mask_iou"] is None else f"{v['mask_iou']:.2f}"
            ax.set_title(
                f"{v['object']} {v['view']}\nIoU {iou}, sharp {sharp}",
                fontsize=8,
                color="#a11" if v["collapsed"] else "black",
            )
            if j == 0:
                ax.set_ylabel(method, fontsize=9)
    return fig
