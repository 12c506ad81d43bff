"""Costs read off anytime curves: the time each method needs to reach a stated fidelity (`time_to_reach`,
`reconbench cost --reach METRIC=VALUE`), and the quality-adjusted break-even (`--reach METRIC`).

Quality-adjusted break-even: a per-scene method costed at the time it needs to match a feed-forward
method's fidelity (from its anytime curves), instead of at the time of its full optimisation.

For a pair (feed-forward F, per-scene P) and a metric m: the target is F's mean m over the objects
both completed; on each such object, P's anytime curve gives the optimisation seconds at which it first
reaches the target (cost.model.cost_to_reach); P's per-asset cost at F's quality is the median of those
seconds plus P's cold-start overhead / batch size, priced in the same unit as the plain break-even.
Objects whose curve never reaches the target are counted and reported: when fewer than half reach it,
no quality-matched per-asset cost is given (P does not match F's fidelity on most assets).
"""

from __future__ import annotations

from collections.abc import Sequence
from statistics import mean, median
from typing import Any

from reconbench.cost.model import BreakEven, CostLine, CostReport, break_even_lines, cost_to_reach


def anytime_curve(record: Any, metric: str) -> list[tuple[float, float]]:
    """(optimisation seconds, value) of `metric` along a record's anytime snapshots that have it."""
    return [(p["seconds"], p[metric]) for p in record.anytime if p.get(metric) is not None]


def quality_break_even(records: Sequence[Any], report: CostReport, metric: str) -> list[dict[str, Any]]:
    """One entry per (feed-forward, per-scene) pair of `report` for `metric` (e.g. "psnr", "fscore")."""
    from reconbench.stats import higher_is_better

    better = higher_is_better(metric)
    ok = [r for r in records if r.status == "ok"]
    out = []
    for pair in report.break_evens:
        ff, ps = report.methods[pair.feed_forward], report.methods[pair.per_scene]
        ff_values = {
            r.object: r.metrics[metric] for r in ok if r.method == ff.method and r.metrics.get(metric) is not None
        }
        curves = {r.object: anytime_curve(r, metric) for r in ok if r.method == ps.method and r.anytime}
        objects = sorted(set(ff_values) & set(curves))
        entry: dict[str, Any] = {
            "feed_forward": ff.method,
            "per_scene": ps.method,
            "metric": metric,
            "objects": len(objects),
        }
        if not objects:
            entry["reason"] = f"no object has both a {ff.method} result and a {ps.method} anytime curve with {metric}"
            out.append(entry)
            continue
        target = mean(ff_values[o] for o in objects)
        reached = {
            o: s for o in objects if (s := cost_to_reach(target, curves[o], higher_is_better=better)) is not None
        }
        entry.update({"target": target, "reached": len(reached)})
        if 2 * len(reached) < len(objects):
            entry["break_even"] = BreakEven(
                "always",
                reason=f"{ps.method} reaches {ff.method}'s mean {metric} "
                f"{target:.4g} on only {len(reached)} of {len(objects)} objects",
            )
            out.append(entry)
            continue
        reach_s = median(reached.values()) * (ps.timing.gpu_count if ps.timing else 1)
        entry["median_reach_s"] = reach_s
        entry["break_even"] = _at_quality(ff, ps, report, reach_s)
        out.append(entry)
    return out


def _at_quality(ff, ps, report: CostReport, reach_s: float) -> BreakEven:
    """The plain break-even's unit and lines, with the per-scene per-asset cost at the reach time."""
    if ps.timing is None or not ps.per_asset_s:
        return BreakEven("unavailable", reason=f"{ps.method}: no measured per-asset time")
    seconds = reach_s + ps.timing.cold_s / report.batch_size
    for unit in ("cpu_h", "usd", "gpu_h"):
        a, b = ff.lines[report.prior][unit], ps.lines[report.prior][unit]
        if a.per_asset is None or b.per_asset is None:
            continue
        scaled = CostLine(b.training, b.training_low, b.training_high, b.per_asset * seconds / ps.per_asset_s, b.unit)
        return break_even_lines(a, scaled, unit)
    return BreakEven("unavailable", reason="per-asset costs not comparable in one unit (see the plain break-even)")


def format_quality(results: list[dict[str, Any]]) -> str:
    if not results:
        return "Quality-adjusted break-even: none (the run needs a feed-forward and a per-scene method)\n"
    lines = []
    for e in results:
        head = (
            f"Quality-adjusted break-even, {e['feed_forward']} vs {e['per_scene']} at {e['feed_forward']}'s mean "
            f"{e['metric']}"
        )
        if "reason" in e:
            lines.append(f"{head}: unavailable ({e['reason']})")
            continue
        when = (
            f"median {e['median_reach_s']:.3g} s to reach it"
            if "median_reach_s" in e
            else "not reached on most objects"
        )
        lines.append(
            f"{head} {e['target']:.4g}: {e['per_scene']} reaches it on {e['reached']} of {e['objects']} objects "
            f"({when}); {e['break_even'].describe()}"
        )
    return "\n".join(lines) + "\n"


def time_to_reach(records: Sequence[Any], metric: str, target: float) -> dict[str, Any]:
    """Per method with anytime curves: for each object, the optimisation seconds at which the curve first
    reaches `target` (linear interpolation, cost.model.cost_to_reach), and their median over the objects
    that reach it. Seconds are on the device the run used (see the per-method table)."""
    from reconbench.stats import higher_is_better

    better = higher_is_better(metric)
    methods: dict[str, dict[str, Any]] = {}
    for r in records:
        curve = anytime_curve(r, metric)
        if r.status != "ok" or not curve:
            continue
        entry = methods.setdefault(r.method, {"objects": 0, "reached": {}})
        entry["objects"] += 1
        seconds = cost_to_reach(target, curve, higher_is_better=better)
        if seconds is not None:
            entry["reached"][r.object] = seconds
    for entry in methods.values():
        entry["median_s"] = median(entry["reached"].values()) if entry["reached"] else None
    return {"metric": metric, "target": target, "methods": methods}


def format_reach(result: dict[str, Any]) -> str:
    """time_to_reach's result as text lines."""
    lines = [f"Optimisation time to reach {result['metric']} {result['target']:g} (anytime curves)"]
    if not result["methods"]:
        lines.append("  no method in this run recorded an anytime curve with this metric")
    for method, entry in sorted(result["methods"].items()):
        med = "never reached" if entry["median_s"] is None else f"median {entry['median_s']:.3g} s"
        lines.append(f"  {method}: reached on {len(entry['reached'])} of {entry['objects']} objects, {med}")
    return "\n".join(lines) + "\n"
