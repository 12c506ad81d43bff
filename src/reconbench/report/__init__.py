"""`reconbench report RUN_DIR`: one self-contained HTML page (figures and thumbnails embedded as base64
PNG) and a markdown summary (summary.md) of a finished or partial run.

Everything is computed from the run folder: results.sqlite (records and meta), inputs/ and renders/.
The ground-truth thumbnails are rendered again with the common renderer when the dataset can be opened,
with the objects the run recorded in its meta (never another object list). The result tables are
reconbench/results/tables.py's, the same as report.md's.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from reconbench import __version__
from reconbench.report import figures, folk_claim
from reconbench.report.breakeven import break_even_section
from reconbench.report.html import FigureItem, ObjectGrid, Page, Table, render_page
from reconbench.results import JobRecord, Run, load_run, metric
from reconbench.results.catalogue import HEADLINE, metric_set
from reconbench.results.tables import (
    ResultTables,
    build_tables,
    failures_markdown,
    md_table,
    results_markdown,
)
from reconbench.stats import Estimate, category_means, method_means, paired_difference, win_rate

PAIRED_METRICS = ("psnr", "chamfer", "fscore")
GRID_OBJECTS = 4
GRID_VIEWS = 3
THUMB = 160


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
    # With --out the run folder is only read (it may be on a read-only mount): summary.md goes beside the HTML.
    summary = out.with_name("summary.md") if out != run.folder / "report.html" else run.folder / "summary.md"
    write_summary_md(run, page, cost, summary, tables)
    return out


def published_table(run: Run) -> Table:
    """Measured next to published (literature/compare.py): every figure on the run's dataset, labelled."""
    from reconbench.literature.compare import compare_run
    from reconbench.literature.render import comparison_table

    comparisons, notes = compare_run(run.records, run.meta, _protocol(run))
    return comparison_table(comparisons, notes)


# ---------------------------------------------------------------- section 1: conventions


def _protocol(run: Run) -> Any | None:
    from reconbench.protocol import get_protocol

    try:
        return get_protocol(run.meta.protocol or "")
    except Exception:  # a protocol file that moved, an unknown preset: show its name only
        return None


def conventions(run: Run) -> list[tuple[str, str]]:
    """(label, value) pairs: dataset, protocol, alignment, LPIPS, versions, renderer and hardware."""
    meta, proto = run.meta, _protocol(run)
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
        ("evaluation", str(meta.get("evaluation_label") or (proto.evaluation.label() if proto is not None else "?"))),
        ("LPIPS nets", ", ".join(meta.lpips) or "off"),
        ("reconbench", f"run with {meta.reconbench or '?'}; report by {__version__}"),
        ("renderer", "; ".join(renderers) or "unknown (no completed job)"),
        ("hardware", hardware(run.ok)),
    ]


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


def method_table(run: Run) -> Table:
    """Per method: paradigm and the entry point, frame and scale its provenance records, and whether its
    results ran outside the input camera it assumes (upstream/input_camera.py)."""
    from reconbench.runner.export import outside_assumptions

    paradigms = run.meta.paradigms
    rows = []
    for m in run.methods:
        ok = [r for r in run.ok if r.method == m]
        prov = next((r.provenance.method for r in ok if r.provenance.method), None)
        reasons = list(dict.fromkeys(filter(None, (outside_assumptions(r) for r in ok))))
        outside = sum(1 for r in ok if outside_assumptions(r))
        camera = (
            f"outside its assumptions in {outside} of {len(ok)}: " + "; ".join(reasons) if outside else "as assumed"
        )
        rows.append(
            [m, paradigms.get(m, "")]
            + [str(getattr(prov, k, None) or "–") for k in ("entry", "frame", "scale")]
            + [(camera, "bad") if outside else camera]
        )
    return Table(["method", "paradigm", "entry", "frame", "scale", "input camera"], rows)


# ---------------------------------------------------------------- sections 2, 3, 6: tables


def paired_rows(run: Run) -> list[dict[str, Any]]:
    """Every pair of methods on each paired metric: difference a − b with CI, verdict and win rate of a."""
    methods = sorted({r.method for r in run.ok})
    out = []
    for name in PAIRED_METRICS:
        for a, b in combinations(methods, 2):
            d = paired_difference(run.records, a, b, name)
            if d.n == 0:
                continue
            w = win_rate(run.records, a, b, name)
            verdict = (
                "one object: no interval" if d.n < 2 else f"favours {d.better}" if d.significant else "not significant"
            )
            out.append(
                {"metric": name, "label": metric(name).header, "a": a, "b": b, "diff": d, "win": w, "verdict": verdict}
            )
    return out


def paired_table(run: Run) -> Table:
    rows = []
    for p in paired_rows(run):
        d, w, f = p["diff"], p["win"], metric(p["metric"]).format
        rows.append(
            [
                p["label"],
                p["a"],
                p["b"],
                f"{f(d.mean)} [{f(d.low)}, {f(d.high)}]",
                str(d.n),
                (p["verdict"], "sig" if d.significant and d.n > 1 else "ns"),
                f"{w.rate:.0%} ({w.wins}-{w.ties}-{w.losses})",
            ]
        )
    return Table(
        ["metric", "A", "B", "A − B [95% CI]", "objects", "verdict", "win rate of A (W-T-L)"],
        rows,
        numeric={3, 4},
        note="Paired over the objects both methods completed, objects resampled (bootstrap). "
        "'not significant': the interval contains 0.",
    )


# ---------------------------------------------------------------- section 4: figures


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
    by_method: dict[str, list[dict[str, float]]] = {}
    for r in records:
        by_method.setdefault(r.method, []).append(r.timings.method_stages)
    means = {}
    for method, jobs in by_method.items():
        names = list(dict.fromkeys(n for stages in jobs for n in stages))
        means[method] = {n: float(np.mean([stages.get(n, 0.0) for stages in jobs])) for n in names}
    return means


# ---------------------------------------------------------------- section 5: qualitative grid


def image_uri(image: np.ndarray | Image.Image, size: int = THUMB) -> str:
    """A thumbnail (RGBA composited on white, longest side `size`) as a PNG data URI."""
    img = image if isinstance(image, Image.Image) else Image.fromarray(np.asarray(image))
    if img.mode in ("RGBA", "LA", "P"):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    img = img.convert("RGB")
    img.thumbnail((size, size), Image.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _file_uri(path: Path) -> str | None:
    try:
        with Image.open(path) as img:
            return image_uri(img.copy())
    except (OSError, ValueError):
        return None


def pick_objects(run: Run, count: int = GRID_OBJECTS) -> list[JobRecord]:
    """Up to `count` objects, one per category in turn, preferring those most methods completed."""
    by_object: dict[str, list[JobRecord]] = {}
    for r in run.records:
        by_object.setdefault(r.object, []).append(r)
    ranked = sorted(by_object.values(), key=lambda rs: (-sum(r.status == "ok" for r in rs), rs[0].object))
    by_category: dict[str, list[JobRecord]] = {}
    for rs in ranked:
        by_category.setdefault(rs[0].category, []).append(rs[0])
    picked: list[JobRecord] = []
    queues = list(by_category.values())
    while len(picked) < count and any(queues):
        for q in queues:
            if q and len(picked) < count:
                picked.append(q.pop(0))
    return picked


def _views(run: Run, proto: Any | None, obj: str) -> tuple[list[Any], list[str]]:
    """(held-out cameras or [], their names): GRID_VIEWS views spread over the held-out set."""
    if proto is not None:
        cams = list(proto.heldout_cameras)
    else:
        names = sorted(
            {p.name[: -len("_heldout.png")] for p in (run.folder / "renders").glob(f"*/{obj}/*_heldout.png")}
        )
        cams = names
    if not cams:
        return [], []
    idx = sorted(set(np.linspace(0, len(cams) - 1, min(GRID_VIEWS, len(cams))).round().astype(int).tolist()))
    chosen = [cams[i] for i in idx]
    return (chosen if proto is not None else []), [c.name if proto is not None else c for c in chosen]


def _ground_truth(run: Run, proto: Any | None, obj: str, cameras: list[Any]) -> tuple[list[str] | None, str]:
    """Thumbnails of the ground truth at `cameras`, or (None, why not)."""
    if proto is None or not cameras:
        return None, "ground truth unavailable (protocol cannot be built)"
    try:
        from reconbench.datasets import apply_object_list, open_dataset, parse_spec
        from reconbench.render import render_views

        spec = run.meta.dataset
        entries = run.meta.object_entries
        if entries is not None:  # the objects the run selected, under the names it gave them
            dataset = apply_object_list(open_dataset(spec), entries)
        else:  # a run folder from before the meta recorded its objects
            dataset = open_dataset(spec, proto.default_object_list(parse_spec(spec)[0]))
        mesh = dataset.get(obj).load()
        images = render_views(mesh, cameras, proto.lighting.references).composited_uint8()
    except Exception:  # no dataset here, no renderer: the grid says so
        return None, "ground truth unavailable"
    return [image_uri(im) for im in images], ""


def _input_view(run: Run, proto: Any | None, obj: str) -> tuple[str | None, str]:
    folder = run.folder / "inputs" / obj
    name = proto.input_cameras[0].name if proto is not None and proto.input_cameras else None
    path = folder / f"{name}.png" if name else next(iter(sorted(folder.glob("*.png"))), None)
    if path is None or not path.is_file():
        return None, name or "?"
    return _file_uri(path), path.stem


def qualitative_grids(run: Run) -> list[ObjectGrid]:
    proto = _protocol(run)
    grids = []
    for rec in pick_objects(run):
        cameras, names = _views(run, proto, rec.object)
        gt, why = _ground_truth(run, proto, rec.object, cameras)
        input_uri, input_name = _input_view(run, proto, rec.object)
        rows = []
        for k, view in enumerate(names):
            cells = [gt[k] if gt else None]
            cells += [_file_uri(run.folder / "renders" / m / rec.object / f"{view}_heldout.png") for m in run.methods]
            rows.append((view, cells))
        missing = {"ground truth": why or "ground truth unavailable"}
        missing.update({m: _render_missing(run, m, rec.object) for m in run.methods})
        grids.append(
            ObjectGrid(rec.object, rec.category, input_uri, input_name, ["ground truth"] + run.methods, rows, missing)
        )
    return grids


def _render_missing(run: Run, method: str, obj: str) -> str:
    status = next((r.status for r in run.records if r.method == method and r.object == obj), "not run")
    return f"no render ({status})" if status != "ok" else "no render"


# ---------------------------------------------------------------- summary.md


def write_summary_md(run: Run, page: Page, cost: Any | None, path: Path, tables: ResultTables | None = None) -> Path:
    """The report's tables as markdown (no images): conventions, the result tables (the same as report.md's),
    paired comparisons, break-even, failures."""
    tables = tables or build_tables(run)
    lines = [f"# {page.title}", "", page.subtitle, "", "## Conventions", ""]
    lines += [f"- **{k}**: {v}" for k, v in page.conventions]
    lines += ["", "## Methods", ""] + md_table(page.method_table) + [""]
    lines += results_markdown(tables)
    lines += ["## Paired comparisons", ""] + (
        md_table(page.paired) if page.paired.rows else ["No pair of methods shares a completed object."]
    )
    lines += [""] + break_even_section(run.records, cost, with_figure=False).markdown()
    if page.published is not None:
        lines += ["", "## Measured next to published", ""] + (
            md_table(page.published)
            if page.published.rows
            else ["No method of this run has a published figure on its dataset.", "", page.published.note]
        )
    for sec in page.extra:
        lines += folk_claim.markdown(sec)
    lines += [""] + failures_markdown(tables)
    lines += ["", "Figures and the qualitative grid: report.html."]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


__all__ = ["write_report", "load_run"]
