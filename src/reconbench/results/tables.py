"""The result tables of a run, built once and rendered three ways: report.md (end of every run),
summary.md and report.html (`reconbench report`). Every number goes through stats (object means,
bootstrap intervals, the failure policy) and the metric catalogue (direction, unit, format, the
infinite-PSNR rule), so the three files agree number for number.

Per method, the metric tables have a row over the objects it completed and, when it has failed jobs, a
row over all its objects with each failed job scored as the run's worst value (docs/metrics.md,
"Tables, and failed jobs").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconbench import stats
from reconbench.results.catalogue import (
    HEADLINE,
    INPUT_VIEW,
    NOT_APPLICABLE,
    OTHER_ALIGNMENT,
    PSNR_CAP_DB,
    USABILITY,
    Metric,
    metric,
    metric_set,
)
from reconbench.results.record import JobRecord
from reconbench.results.run import Run

Cell = str | tuple[str, str]  # text, or (text, css class)

COMPLETED = "completed"
ALL_OBJECTS = "all objects"


@dataclass
class Table:
    """A table of text cells; `numeric` columns are right-aligned in HTML."""

    header: list[str]
    rows: Sequence[Sequence[Cell]]
    numeric: set[int] = field(default_factory=set)
    note: str = ""


@dataclass
class ResultTables:
    """The tables report.md, summary.md and report.html share."""

    summary: Table
    input_view: Table
    other_alignment: Table
    other_alignment_title: str
    usability: Table
    failures: Table
    notices: list[tuple[str, Table]] = field(default_factory=list)  # results to read with care, when there are any

    def middle_sections(self) -> list[tuple[str, Table]]:
        """The sections between the summary and the usability table (the HTML page places those two itself)."""
        return [(title, t) for title, t in self.sections() if t is not self.summary and t is not self.usability]

    def sections(self) -> list[tuple[str, Table]]:
        """(heading, table) of the metric tables to show, in reading order (failures apart): the summary always,
        the others when they hold a number."""
        named = [("Input-view fidelity", self.input_view), (self.other_alignment_title, self.other_alignment)]
        shown = [(title, t) for title, t in named if _has_numbers(t)]
        return (
            [("Summary", self.summary), *shown]
            + ([("Usability of the assets", self.usability)] if self.usability.rows else [])
            + [(title, t) for title, t in self.notices if t.rows]
        )


_FIRST_METRIC = 5  # metric tables: method, paradigm, over, ok / jobs, failure rate, then the metrics


def _has_numbers(table: Table) -> bool:
    return any(_text(c) != "–" for row in table.rows for c in row[_FIRST_METRIC:])


def _text(cell: Cell) -> str:
    return cell[0] if isinstance(cell, tuple) else cell


def estimate_cell(m: Metric, e: stats.Estimate | None) -> str:
    """`mean\n[low, high]` in the metric's format; `–` without a value; the mean alone for one object."""
    if e is None or e.n == 0:
        return "–"
    if e.n == 1:
        return m.format(e.mean)
    return f"{m.format(e.mean)}\n[{m.format(e.low)}, {m.format(e.high)}]"


def build_tables(run: Run) -> ResultTables:
    headline = run.meta.headline or "aligned"
    has_gt = not _no_ground_truth(run)
    summary = metric_table(run, metric_set(HEADLINE), note=_summary_note(run, has_gt))
    input_view = metric_table(
        run,
        metric_set(INPUT_VIEW),
        note=(
            "Fidelity on the input view(s), reported apart from the held-out views (per-scene methods fit the input by "
            "construction)"
            + ("" if has_gt else "; for input images without ground truth this is all the fidelity there is")
            + ". "
            + _common_note()
        ),
    )
    other = metric_table(
        run,
        metric_set(OTHER_ALIGNMENT, headline),
        note=(
            f"The {'unaligned' if headline == 'aligned' else 'aligned'} set: the headline metrics "
            f"{'before' if headline == 'aligned' else 'after'} alignment (docs/metrics.md). " + _common_note()
        ),
    )
    title = "Before alignment" if headline == "aligned" else "After alignment"
    notices = [
        ("Lost in reconstruction (two-stage methods)", stage_table(run)),
        ("Results run outside the method's assumptions", outside_assumptions_table(run)),
        ("Warnings", warnings_table(run)),
    ]
    return ResultTables(summary, input_view, other, title, usability_table(run), failures_table(run), notices)


STAGE_PREFIX = "stage1_"  # a two-stage method's generated views vs ground truth (viewscore/stages.py)
STAGE_FINAL_PREFIX = "stage1_final_"  # its final asset at the same cameras vs ground truth
STAGE_METRICS = ("psnr", "ssim", "lpips_alex")
STAGE_NOTE = (
    "Fidelity of the method's generated multi-view images and of its final asset, both against the ground truth "
    "rendered at the cameras the views were generated at; 'lost' = generated minus final (PSNR, SSIM) or final "
    "minus generated (LPIPS): positive means the reconstruction lost fidelity the views had (docs/metrics.md, "
    '"Stage attribution").'
)


def stage_table(run: Run) -> Table:
    """Per method with stage1_* metrics: mean fidelity of the generated views, of the final asset at the same
    cameras, and what was lost in reconstruction (signed so that positive = lost). Plain means over the
    objects (infinite PSNR counted at the catalogue's cap)."""
    by_method: dict[str, list[Mapping[str, Any]]] = {}
    for r in run.ok:
        if STAGE_PREFIX + "psnr" in r.metrics:
            by_method.setdefault(r.method, []).append(r.metrics)
    header = ["method", "n"]
    rows: list[Sequence[Cell]] = []
    for key in STAGE_METRICS:
        m = metric(key)
        header += [f"{m.label} {part}" for part in ("generated", "final", "lost")]
    for method, ms in sorted(by_method.items()):
        row: list[Cell] = [method, str(len(ms))]
        for key in STAGE_METRICS:
            m = metric(key)
            gen = [m.clean(x.get(STAGE_PREFIX + key)) for x in ms]
            fin = [m.clean(x.get(STAGE_FINAL_PREFIX + key)) for x in ms]
            sign = 1.0 if m.higher_is_better else -1.0
            lost = [sign * (g - f) for g, f in zip(gen, fin) if g is not None and f is not None]
            row += [_mean_text(m, gen), _mean_text(m, fin), _mean_text(m, lost)]
        rows.append(row)
    return Table(header, rows, numeric=set(range(1, len(header))), note=STAGE_NOTE)


def _mean_text(m: Metric, values: Sequence[float | None]) -> str:
    finite = [v for v in values if v is not None]
    return m.format(sum(finite) / len(finite)) if finite else "–"


def outside_assumptions(record: JobRecord) -> str | None:
    """Why the job ran outside the input camera its method assumes (upstream/input_camera.py), if it did."""
    method = record.provenance.method
    return method.info.get("outside_assumptions") if method is not None else None


def outside_assumptions_table(run: Run) -> Table:
    rows: list[Sequence[Cell]] = [[r.method, r.object, reason] for r in run.ok if (reason := outside_assumptions(r))]
    return Table(
        ["method", "object", "reason"],
        rows,
        note="The protocol's input camera is not the one these methods "
        'assume and cannot be told (docs/adapters.md, "Input camera"); their figures above include these results.',
    )


def warnings_table(run: Run) -> Table:
    rows: list[Sequence[Cell]] = [[r.method, r.object, w] for r in run.records for w in r.warnings]
    return Table(
        ["method", "object", "warning"],
        rows,
        note="Scored, but not exactly as given (e.g. a texture missing, "
        'refused or over the limit: colour scored against the untextured material; docs/protocol.md, "Limits").',
    )


def _common_note() -> str:
    return (
        f"Mean [95% bootstrap CI] over objects (seeds averaged first); '{COMPLETED}': the objects each method "
        f"completed; "
        f"'{ALL_OBJECTS}' (methods with failed jobs): each failed job scored as the worst value any completed job of "
        f"the "
        f"run reached on that metric (not for time; objects no method completed are left out). PSNR of identical "
        f"images (∞) counts as {PSNR_CAP_DB:g} dB."
    )


def _summary_note(run: Run, has_gt: bool) -> str:
    note = (
        _common_note()
        + " ↑ higher is better, ↓ lower is better; LPIPS is LPIPS-alex; F-score at the protocol's default threshold."
    )
    if not has_gt:
        note = (
            f"No ground truth: dataset {run.meta.dataset} is input images, so the ground-truth metrics (held-out "
            "views, geometry) are not applicable ('n/a' in results.csv) and show '–'; input-view fidelity, usability, "
            "time and cost are measured. " + note
        )
    return note


def _no_ground_truth(run: Run) -> bool:
    """Every completed job marks the ground-truth metrics not applicable (an images:PATH run)."""
    return bool(run.ok) and all(r.metrics.get("chamfer") == NOT_APPLICABLE for r in run.ok)


def metric_table(run: Run, metrics: Sequence[Metric], note: str = "") -> Table:
    """Per method: paradigm, jobs, failure rate and each metric's mean [CI]: one row over completed objects,
    and one over all objects when the method has failed jobs."""
    names = [m.name for m in metrics]
    completed = stats.method_means(run.records, names)
    everything = stats.method_means(run.records, names, failures=stats.WORST)
    rates = stats.failure_rates(run.records)
    header = ["method", "paradigm", "over", "ok / jobs", "failure rate"] + [m.header for m in metrics]
    rows: list[Sequence[Cell]] = []
    for method in run.methods:
        fr = rates[method]
        paradigm = run.meta.paradigms.get(method, "")
        rows.append(
            [method, paradigm, COMPLETED, f"{fr.ok} / {fr.total}", f"{fr.rate:.0%}"]
            + [estimate_cell(m, completed.get(method, {}).get(m.name)) for m in metrics]
        )
        scored = len(stats.scored_failures(run.records, method))
        if scored:
            rows.append(
                [method, paradigm, ALL_OBJECTS, f"{fr.ok} + {scored} failed / {fr.total}", ""]
                + [estimate_cell(m, everything.get(method, {}).get(m.name)) if m.on_failure else "–" for m in metrics]
            )
    return Table(header, rows, numeric=set(range(3, len(header))), note=note)


def usability_table(run: Run) -> Table:
    """Per method, mean usability figures of its mesh assets (shares of assets for the yes/no ones), over the
    objects it completed; no interval (these describe the assets, they are not a sample estimate)."""
    metrics = metric_set(USABILITY)
    means = stats.method_means([r for r in run.ok if "usable_as_is" in r.metrics], [m.name for m in metrics])
    rows: list[Sequence[Cell]] = []
    for method in run.methods:
        if method not in means:
            continue
        n = max(e.n for e in means[method].values())
        rows.append(
            [method, str(n)]
            + [m.format(means[method][m.name].mean) if m.name in means[method] else "–" for m in metrics]
        )
    return Table(
        ["method", "objects"] + [m.header for m in metrics],
        rows,
        numeric=set(range(1, len(metrics) + 2)),
        note="Mesh assets as the methods wrote them, means over the objects each method completed; 'usable as is' = "
        "no non-manifold edge, no degenerate face, floater area ≤ 1 %, coloured, ≤ 1M triangles (docs/metrics.md).",
    )


def failures_table(run: Run) -> Table:
    rows: list[Sequence[Cell]] = [
        [r.method, r.object, str(r.seed), (r.status, "bad"), r.error or ""] for r in run.records if r.status != "ok"
    ]
    return Table(["method", "object", "seed", "status", "reason"], rows)


# ---------------------------------------------------------------- markdown


def md_table(table: Table) -> list[str]:
    """The table as markdown lines (a cell's line breaks become spaces), its note after it."""

    def cell(c: Cell) -> str:
        return str(_text(c)).replace("|", "/").replace("\n", " ")

    lines = ["| " + " | ".join(table.header) + " |", "| " + " | ".join("---" for _ in table.header) + " |"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in table.rows]
    return lines + (["", table.note] if table.note else [])


def results_markdown(tables: ResultTables, level: str = "##") -> list[str]:
    """The metric tables as markdown sections (the same sections in report.md and summary.md)."""
    lines: list[str] = []
    for title, table in tables.sections():
        lines += [f"{level} {title}", ""] + md_table(table) + [""]
    return lines


def failures_markdown(tables: ResultTables, level: str = "##") -> list[str]:
    return [f"{level} Failures", ""] + (md_table(tables.failures) if tables.failures.rows else ["Every job completed."])


def run_markdown(run: Run) -> str:
    """report.md: the run's identity, the result tables and the failures (summary.md adds paired comparisons
    and break-even volumes; report.html adds figures and the qualitative grid)."""
    meta = run.meta
    tables = build_tables(run)
    lines = [
        "# reconbench results",
        "",
        f"Dataset `{meta.dataset}`, protocol `{meta.protocol}`, alignment `{meta.align}` (headline: {meta.headline} "
        f"metrics), "
        f"LPIPS {', '.join(meta.lpips) or 'off'}; {len(run.records)} jobs, {len(run.methods)} methods, "
        f"{len({r.object for r in run.records})} objects. Definitions: docs/metrics.md. "
        "`reconbench report` adds paired comparisons, figures and a qualitative grid.",
        "",
    ]
    lines += results_markdown(tables) + failures_markdown(tables)
    return "\n".join(lines) + "\n"
