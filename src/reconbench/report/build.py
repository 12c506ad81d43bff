"""`reconbench report RUN_DIR`: one self-contained HTML page (figures and thumbnails embedded as base64
PNG) and a markdown summary (summary.md) of a finished or partial run.

Everything is computed from the run folder: results.sqlite (records and meta), inputs/ and renders/.
The ground-truth thumbnails are rendered again with the common renderer when the dataset can be opened,
with the objects the run recorded in its meta (never another object list). The result tables are
reconbench/results/tables.py's, the same as report.md's. This module assembles the page and draws its
figures; the sections live beside it: conventions, tables (methods, paired, published), grid, markdown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from reconbench.report import figures, folk_claim
from reconbench.report.breakeven import break_even_section
from reconbench.report.conventions import conventions
from reconbench.report.grid import THUMB, qualitative_grids
from reconbench.report.html import FigureItem, Page, render_page
from reconbench.report.markdown import write_summary_md
from reconbench.report.tables import method_table, paired_table, published_table
from reconbench.results import JobRecord, Run, load_run, metric
from reconbench.results.catalogue import HEADLINE, metric_set
from reconbench.results.tables import build_tables
from reconbench.stats import Estimate, category_means, method_means


def write_report(run_dir: Path, out: Path | None = None) -> Path:
    """Write the HTML report (default RUN_DIR/report.html) and summary.md beside it; returns the HTML path."""
    run = load_run(Path(run_dir))
    out = Path(out) if out is not None else run.folder / "report.html"
    means = method_means(run.records, [m.name for m in metric_set(HEADLINE)])
    tables = build_tables(run)
    cost = _cost(run)
    page = Page(
        title=f"reconbench report: {run.folder.name}",
        subtitle=(
            f"{len(run.records)} jobs, {len(run.methods)} methods, {len({r.object for r in run.records})} objects. "
            "Means over objects with bootstrap 95% confidence intervals (docs/metrics.md); report.md and summary.md "
            "hold the same tables."
        ),
        conventions=conventions(run),
        method_table=method_table(run),
        summary=tables.summary,
        usability=tables.usability,
        paired=paired_table(run),
        figures=make_figures(run, means, cost),
        grids=qualitative_grids(run),
        grid_note=f"Thumbnails at {THUMB} px, composited on white. Ground truth is rendered with the common renderer "
        "at the held-out cameras, with the protocol's reference (scoring) shading.",
        failures=tables.failures,
        extra_tables=tables.middle_sections(),
        published=published_table(run),
        extra=[folk_claim.section(run)],  # sharp or broken: the folk claim's verdict (report/folk_claim.py)
        break_even=break_even_section(run.records, cost).html(),
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_page(page), encoding="utf-8")
    # summary.md goes beside the HTML: with --out the run folder is only read (it may be on a read-only mount).
    write_summary_md(run, page, cost, out.with_name("summary.md"), tables)
    return out


def _cost(run: Run) -> Any | None:
    from reconbench.cost import cost_report

    try:
        return cost_report(run.records, paradigms=dict(run.meta.paradigms))
    except Exception:  # no figure rather than no report
        return None


def make_figures(run: Run, means: dict[str, dict[str, Estimate]], cost: Any | None) -> list[FigureItem]:
    items = []
    fig = figures.fidelity_vs_time(
        means, [(n, metric(n).label_unit, metric(n).higher_is_better) for n in ("psnr", "chamfer")]
    )
    if fig is not None:
        items.append(
            FigureItem(
                "Fidelity against inference time",
                figures.data_uri(fig),
                "One point per method: mean over objects with 95% bootstrap CI in both directions; the "
                "dashed step line is the Pareto front (no other method is both faster and better).",
            )
        )
    # Cost against volume is drawn in the break-even section (report.breakeven), with the crossings marked.
    name = "fscore" if any("fscore" in r.metrics for r in run.ok) else "chamfer"
    label = "F-score at τ = 0.05 (higher is better)" if name == "fscore" else "Chamfer distance (lower is better)"
    fig = figures.category_bars(category_means(run.records, name), label)
    if fig is not None:
        items.append(
            FigureItem(
                f"Mean {name} per category",
                figures.data_uri(fig),
                "Bars: mean per category and method; whiskers: 95% bootstrap CI.",
            )
        )
    fig = figures.stage_bars(stage_means(run.ok))
    if fig is not None:
        items.append(
            FigureItem(
                "Where the time goes",
                figures.data_uri(fig),
                "Mean seconds per asset in each stage the method reports (upstream methods: environment start, "
                'then the stages their console output marks; docs/methods.md, "Timing"). Scoring is not included.',
            )
        )
    for m in run.methods:
        fig = figures.anytime_curves(run.records, m, [("psnr", "PSNR (dB)"), ("chamfer", "Chamfer distance")])
        if fig is not None:
            items.append(
                FigureItem(
                    f"Anytime curves: {m}",
                    figures.data_uri(fig),
                    "Fidelity of the snapshots saved during each object's optimisation against its optimisation "
                    "time; thin lines: one per object; bold: mean at each snapshot.",
                )
            )
    return items


def stage_means(records: Sequence[JobRecord]) -> dict[str, dict[str, float]]:
    """Per method, the mean seconds of each stage over its jobs (a stage a job did not report counts 0)."""
    by_method: dict[str, list[Mapping[str, float]]] = {}
    for r in records:
        by_method.setdefault(r.method, []).append(r.timings.method_stages)
    means = {}
    for method, jobs in by_method.items():
        names = list(dict.fromkeys(n for stages in jobs for n in stages))
        means[method] = {n: float(np.mean([stages.get(n, 0.0) for stages in jobs])) for n in names}
    return means
