"""The report's break-even section, always present: for every (feed-forward, per-scene) pair the volume
N* above which the feed-forward method is cheaper per asset (both prior modes, with the range from the
training-cost ranges), the quality-adjusted N* where anytime curves allow it, and the cost-against-volume
figure with the crossings marked; or, when the run cannot give one, a sentence saying what is missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from reconbench.cost.model import asset_count
from reconbench.report.html import esc, render_table
from reconbench.results.tables import Table, md_table

QUALITY_METRICS = ("fscore", "psnr")  # quality-adjusted break-even at the feed-forward method's mean of these


@dataclass
class BreakEvenSection:
    """The section as markdown lines (summary.md) and as an HTML fragment (report.html)."""

    rows: list[list[str]] = field(
        default_factory=list
    )  # pair, prior, N*, range, unit, training of the feed-forward method
    missing: str = ""  # the sentence saying why there is no N*, when there is none
    quality: list[str] = field(default_factory=list)
    figure_uri: str | None = None
    caption: str = ""

    HEADER = (
        "feed-forward vs per-scene",
        "per-scene prior",
        "break-even",
        "N* range",
        "training of the feed-forward method",
    )

    def _table(self) -> Table:
        return Table(list(self.HEADER), self.rows)

    def markdown(self) -> list[str]:
        lines = ["## Break-even volumes", ""]
        if self.missing:
            lines += [self.missing, ""]
        if self.rows:
            lines += md_table(self._table()) + [""]
        lines += [f"- {q}" for q in self.quality]
        if self.caption:
            lines += ["", f"Figure (report.html): {self.caption}"]
        return lines

    def html(self) -> str:
        parts = []
        if self.missing:
            parts.append(f"<p>{esc(self.missing)}</p>")
        if self.rows:
            parts.append(render_table(self._table()))
        if self.quality:
            parts.append("<ul>" + "".join(f"<li>{esc(q)}</li>" for q in self.quality) + "</ul>")
        if self.figure_uri:
            parts.append(
                f"<figure>\n<h3>Cost per asset against asset volume</h3>\n"
                f'<img src="{esc(self.figure_uri)}" alt="cost per asset against asset volume">\n'
                f"<figcaption>{esc(self.caption)}</figcaption>\n</figure>"
            )
        return "\n".join(parts)


def break_even_section(records: Sequence[Any], cost: Any | None, with_figure: bool = True) -> BreakEvenSection:
    """Build the section from a run's records and its cost report (None: the cost model failed)."""
    section = BreakEvenSection()
    if cost is None:
        section.missing = (
            "No break-even volume: the cost model could not be computed for this run (run `reconbench cost` on it to "
            "see why)."
        )
        return section
    section.missing = missing_sentence(cost)
    for pair in cost.break_evens:
        ff = cost.methods[pair.feed_forward]
        for mode, be in pair.by_prior.items():
            if be.low is not None and be.high is not None and be.low != be.high:
                span = f"{asset_count(be.low)} - {asset_count(be.high)} (training-cost range)"
            else:
                span = object_range(records, cost, pair, mode, be)
            section.rows.append(
                [f"{pair.feed_forward} vs {pair.per_scene}", mode, be.describe(), span, ff.training.source]
            )
    if cost.break_evens:
        from reconbench.cost.reach import quality_break_even

        for metric in QUALITY_METRICS:
            for q in quality_break_even(records, cost, metric):
                if "break_even" in q:
                    section.quality.append(
                        f"At {q['feed_forward']}'s mean {metric} ({q['target']:.4g}): {q['per_scene']} reaches it on "
                        f"{q['reached']} of {q['objects']} objects; {q['break_even'].describe()}"
                    )
        if with_figure:
            _figure(section, cost)
    return section


def object_range(records: Sequence[Any], cost: Any, pair: Any, mode: str, be: Any) -> str:
    """N* with each method's per-asset time at its fastest and slowest object, for a training cost
    without a range (a measured one): how much N* moves with what the objects ask of the methods."""
    from reconbench.cost.model import break_even, record_seconds

    if be.kind not in ("above", "below") or not be.basis:
        return "-"
    ends = []
    for ff_end, ps_end in ((0, 1), (1, 0)):  # (fastest ff, slowest ps) and the reverse
        costs = []
        for name, end in ((pair.feed_forward, ff_end), (pair.per_scene, ps_end)):
            m = cost.methods[name]
            warm = [
                w
                for r in records
                if r.method == name and r.status == "ok"
                for w in [record_seconds(r)[0]]
                if w is not None
            ]
            line = m.lines[mode][be.basis]
            if not warm or not m.per_asset_s or m.timing is None or line.per_asset is None:
                return "-"
            seconds = sorted(warm)[-end] * m.timing.gpu_count + m.timing.cold_s / cost.batch_size
            costs.append((line.training, line.per_asset * seconds / m.per_asset_s))
        point = break_even(costs[0][0], costs[0][1], costs[1][0], costs[1][1])
        if point.kind not in ("above", "below") or point.n is None:
            return f"{point.kind} at the objects' extremes"
        ends.append(point.n)
    return f"{asset_count(min(ends))} - {asset_count(max(ends))} (fastest / slowest objects)"


def missing_sentence(cost: Any) -> str:
    """Why the run has no (feed-forward, per-scene) pair or no finite N*; "" when some pair has one."""
    kinds = {m.paradigm for m in cost.methods.values()}
    have = ", ".join(f"{m.method} ({m.paradigm})" for m in cost.methods.values()) or "none"
    if not cost.break_evens:
        lacking = [p for p in ("feed-forward", "per-scene") if p not in kinds]
        hint = {
            "feed-forward": "a feed-forward method (voxel-cnn runs on a CPU)",
            "per-scene": "a per-scene method (splat-sds runs on a CPU)",
        }
        return (
            f"No break-even volume: the run has no {' and no '.join(lacking)} method (methods: {have}); "
            f"add {' and '.join(hint[p] for p in lacking)} to the run."
        )
    finite = [
        be for p in cost.break_evens for be in p.by_prior.values() if be.kind in ("above", "below", "always", "never")
    ]
    if finite:
        return ""
    reasons = sorted({be.reason for p in cost.break_evens for be in p.by_prior.values() if be.reason})
    return "No finite break-even volume: " + ("; ".join(reasons) or "the costs are not known") + " (see the table)."


def _figure(section: BreakEvenSection, cost: Any) -> None:
    from reconbench.report import figures

    fig, caption = figures.cost_vs_volume(cost)
    section.caption = caption
    if fig is not None:
        section.figure_uri = figures.data_uri(fig)
