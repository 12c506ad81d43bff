"""The report's figures, drawn with matplotlib's Agg backend and returned as base64 PNG data URIs,
so the HTML page embeds them and needs no file next to it."""

from __future__ import annotations

import base64
import io
import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from reconbench.cost import CostReport  # noqa: E402
from reconbench.stats import Estimate, clean_value  # noqa: E402

DPI = 100
# Any keys: matplotlib types rc_context's keys as a Literal of every rc name, which a plain dict never is.
STYLE: dict[Any, Any] = {
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.fontsize": 9,
    "axes.grid": True,
    "grid.alpha": 0.3,
}
CPU_CAPTION = (
    "All per-asset times were measured on a CPU: CPU seconds per asset are drawn instead of a priced cost "
    "(CPU time is never priced as GPU time; give `reconbench cost --measured-on GPU` to price it)."
)


def data_uri(fig: Figure) -> str:
    """The figure as a data:image/png;base64 URI (and the figure closed, so memory does not pile up)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(ncols: int = 1, width: float = 6.4, height: float = 4.2) -> tuple[Figure, list[Any]]:
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), layout="constrained", squeeze=False)
    for ax in axes[0]:
        ax.grid(True, alpha=0.3)
    return fig, list(axes[0])


def _colors(methods: Sequence[str]) -> dict[str, Any]:
    cmap = plt.get_cmap("tab10")
    return {m: cmap(i % 10) for i, m in enumerate(methods)}


# ---------------------------------------------------------------- fidelity against time


def pareto_front(points: Sequence[tuple[float, float]], higher_is_better: bool) -> list[tuple[float, float]]:
    """The points no other point beats on both time (lower) and metric, sorted by time."""
    front: list[tuple[float, float]] = []
    best = -math.inf
    for t, v in sorted(points, key=lambda p: (p[0], -p[1] if higher_is_better else p[1])):
        score = v if higher_is_better else -v
        if score > best:
            front.append((t, v))
            best = score
    return front


def fidelity_vs_time(means: dict[str, dict[str, Estimate]], panels: Sequence[tuple[str, str, bool]]) -> Figure | None:
    """One panel per (metric, label, higher_is_better): mean time (log x) against the metric, CI error bars
    both ways, one point per method, the Pareto front dashed. None when no method has a time."""
    methods = [m for m in means if "time_s" in means[m] and means[m]["time_s"].mean > 0]
    if not methods:
        return None
    fig, axes = _figure(len(panels), width=5.6)
    colors = _colors(list(means))
    for ax, (metric, label, higher) in zip(axes, panels):
        points = []
        for m in methods:
            if metric not in means[m]:
                continue
            t, v = means[m]["time_s"], means[m][metric]
            ax.errorbar(
                [t.mean],
                [v.mean],
                xerr=[[t.mean - t.low], [t.high - t.mean]],
                yerr=[[v.mean - v.low], [v.high - v.mean]],
                fmt="o",
                ms=7,
                capsize=3,
                color=colors[m],
                label=m,
            )
            ax.annotate(m, (t.mean, v.mean), textcoords="offset points", xytext=(6, 6), fontsize=9)
            points.append((t.mean, v.mean))
        front = pareto_front(points, higher)
        if len(front) > 1:
            xs, ys = zip(*front)
            ax.step(xs, ys, where="post", ls="--", color="0.4", lw=1.2, label="Pareto front")
        ax.set_xscale("log")
        ax.set_xlabel("mean inference time per asset (s, log scale)")
        ax.set_ylabel(f"{label} ({'higher' if higher else 'lower'} is better)")
        ax.set_title(f"{label} against time")
        ax.legend(loc="best")
    return fig


# ---------------------------------------------------------------- cost against volume


def cost_unit(report: CostReport) -> str | None:
    """ "cpu_h", "usd" or "gpu_h" when some method has a complete cost line in it (CPU-hours first: a run and a
    training measured on CPUs compare in device-hours of one machine), "cpu_s" when every time is CPU time."""
    prior = report.prior
    for unit in ("cpu_h", "usd", "gpu_h"):
        if any(_complete(m.lines[prior][unit]) for m in report.methods.values()):
            return unit
    timings = [m.timing for m in report.methods.values() if m.timing is not None]
    if timings and all(not t.on_gpu for t in timings):
        return "cpu_s"
    return None


def _complete(line: Any) -> bool:
    return line.training is not None and line.per_asset is not None


def cost_vs_volume(report: CostReport) -> tuple[Figure | None, str]:
    """Cost per asset against asset volume (log-log), one line per method, break-even volumes marked.

    Returns (figure or None, caption). When every time is CPU time the figure shows CPU seconds per asset."""
    unit = cost_unit(report)
    if unit is None:
        return (
            None,
            "No cost line could be drawn: no method has both a known training cost and a priced per-asset time.",
        )
    volumes = np.asarray(sorted(report.volumes), dtype=float)
    fig, (ax,) = _figure(1, width=7.5, height=4.6)
    colors = _colors(list(report.methods))
    left_out = []
    for name, m in report.methods.items():
        ys = _cost_curve(m, unit, report.prior, report.batch_size, volumes)
        if ys is None:
            left_out.append(name)
            continue
        ax.plot(volumes, ys, marker="o", ms=3, color=colors[name], label=f"{name} ({m.paradigm})")
    marked = _mark_break_evens(ax, report, unit) if unit != "cpu_s" else 0
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("asset volume N (assets)")
    ax.set_ylabel(
        {
            "usd": "cost per asset (USD)",
            "gpu_h": f"cost per asset ({report.unit_gpu} GPU-hours)",
            "cpu_h": "cost per asset (CPU-hours, this machine)",
            "cpu_s": "CPU seconds per asset",
        }[unit]
    )
    ax.set_title("Amortised cost per asset" if unit != "cpu_s" else "Per-asset compute (CPU, unpriced)")
    ax.legend(loc="best")
    caption = _cost_caption(report, unit, left_out, marked)
    return fig, caption


def _cost_curve(m: Any, unit: str, prior: str, batch_size: int, volumes: np.ndarray) -> np.ndarray | None:
    if unit == "cpu_s":
        if m.per_asset_s is None or m.per_asset_s <= 0:
            return None
        return np.full_like(volumes, m.per_asset_s)
    line = m.lines[prior][unit]
    if not _complete(line):
        return None
    ys = np.asarray([line.at(n) for n in volumes], dtype=float)
    return ys if np.all(ys > 0) else None


def _mark_break_evens(ax: Any, report: CostReport, unit: str) -> int:
    """Vertical dotted lines at each (feed-forward, per-scene) break-even volume drawn in this unit."""
    count = 0
    for pair in report.break_evens:
        be = pair.by_prior.get(report.prior)
        if be is None or be.kind not in ("above", "below") or be.basis != unit or not be.n or be.n <= 0:
            continue
        ax.axvline(be.n, ls=":", color="0.3", lw=1.2)
        ax.annotate(
            f"N* {pair.feed_forward} vs {pair.per_scene}\n= {be.n:,.0f}",
            (be.n, 0.95),
            xycoords=("data", "axes fraction"),
            rotation=90,
            va="top",
            ha="right",
            fontsize=8,
        )
        count += 1
    return count


def _cost_caption(report: CostReport, unit: str, left_out: list[str], marked: int) -> str:
    if unit == "cpu_s":
        text = CPU_CAPTION
    else:
        what = {"usd": "US dollars", "cpu_h": "CPU-hours of the run's machine"}.get(
            unit, f"{report.unit_gpu} GPU-hours"
        )
        text = (
            f"Cost per asset in {what}: training / N + per-asset time (batch size {report.batch_size}, "
            f"per-scene prior {report.prior})."
        )
        text += f" Dotted lines: break-even volumes ({marked})." if marked else ""
    if left_out:
        text += f" Not drawn (cost unknown): {', '.join(left_out)}."
    return text


# ---------------------------------------------------------------- per category


def category_bars(by_category: dict[str, dict[str, Estimate]], label: str) -> Figure | None:
    """Grouped bars: the mean of one metric per category (groups) and method (bars), CI whiskers."""
    if not by_category:
        return None
    categories = list(by_category)
    methods = sorted({m for per in by_category.values() for m in per})
    colors = _colors(methods)
    fig, (ax,) = _figure(1, width=max(6.4, 1.2 * len(categories) * max(1, len(methods)) / 2.5), height=4.2)
    width = 0.8 / max(len(methods), 1)
    x = np.arange(len(categories))
    for i, m in enumerate(methods):
        est = [by_category[c].get(m) for c in categories]
        ys = [e.mean if e else np.nan for e in est]
        err = np.asarray([[e.mean - e.low, e.high - e.mean] if e else [0, 0] for e in est]).T
        ax.bar(x + (i - (len(methods) - 1) / 2) * width, ys, width, yerr=err, capsize=2, color=colors[m], label=m)
    ax.set_xticks(x, categories, rotation=20 if len(categories) > 5 else 0)
    ax.set_xlabel("category")
    ax.set_ylabel(label)
    ax.set_title(f"{label} per category")
    ax.legend(loc="best")
    return fig


def stage_bars(stages: dict[str, dict[str, float]]) -> Figure | None:
    """Horizontal stacked bars: a method's mean seconds per asset, split into its stages."""
    stages = {m: per for m, per in stages.items() if per}
    if not stages:
        return None
    methods = sorted(stages)
    names = list(dict.fromkeys(n for m in methods for n in stages[m]))
    colors = _colors(names)
    fig, (ax,) = _figure(1, width=7.2, height=1.2 + 0.45 * len(methods))
    left = np.zeros(len(methods))
    for name in names:
        widths = np.asarray([stages[m].get(name, 0.0) for m in methods])
        ax.barh(methods, widths, left=left, color=colors[name], label=name)
        left += widths
    ax.set_xlabel("mean seconds per asset")
    ax.invert_yaxis()
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", title="stage")
    ax.set_title("Where the method's time goes")
    return fig


# ---------------------------------------------------------------- anytime curves


def anytime_curves(records: Sequence[Any], method: str, panels: Sequence[tuple[str, str]]) -> Figure | None:
    """Fidelity against optimisation time of one per-scene method: a thin line per object, their mean bold."""
    curves = {
        r.object: [p for p in r.anytime if "seconds" in p and "error" not in p]
        for r in records
        if r.method == method and r.status == "ok" and r.anytime
    }
    curves = {o: sorted(c, key=lambda p: p["seconds"]) for o, c in curves.items() if c}
    if not curves:
        return None
    fig, axes = _figure(len(panels), width=5.4, height=3.9)
    for ax, (metric, label) in zip(axes, panels):
        for points in curves.values():
            xs, ys = _series(points, metric)
            if xs:
                ax.plot(xs, ys, color="tab:blue", alpha=0.35, lw=1)
        mx, my = _mean_curve(curves.values(), metric)
        if mx:
            ax.plot(mx, my, color="black", lw=2.5, marker="o", label=f"mean over {len(curves)} objects")
            ax.legend(loc="best")
        ax.set_xlabel("optimisation time (s)")
        ax.set_ylabel(label)
        ax.set_title(f"{method}: {label} over time")
    return fig


def _series(points: Sequence[dict], metric: str) -> tuple[list[float], list[float]]:
    pairs = [(float(p["seconds"]), clean_value(metric, p.get(metric))) for p in points]
    kept = [(t, v) for t, v in pairs if v is not None]
    return [t for t, _ in kept], [v for _, v in kept]


def _mean_curve(curves: Any, metric: str) -> tuple[list[float], list[float]]:
    """Mean time and value at each snapshot index (snapshots are taken at the same iterations for every object)."""
    by_step: dict[Any, list[tuple[float, float]]] = defaultdict(list)
    for points in curves:
        for k, p in enumerate(points):
            v = clean_value(metric, p.get(metric))
            if v is not None:
                by_step[p.get("iteration", k)].append((float(p["seconds"]), v))
    steps = sorted(by_step, key=lambda s: np.mean([t for t, _ in by_step[s]]))
    return [float(np.mean([t for t, _ in by_step[s]])) for s in steps], [
        float(np.mean([v for _, v in by_step[s]])) for s in steps
    ]
