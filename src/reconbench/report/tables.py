"""The tables only the HTML report and summary.md show: how each method ran, paired comparisons and measured
next to published. The result tables shared with report.md are reconbench/results/tables.py's."""

from __future__ import annotations

from itertools import combinations
from typing import Any

from reconbench.report.conventions import run_protocol
from reconbench.report.html import Table
from reconbench.results import Run, metric
from reconbench.results.tables import Cell, outside_assumptions
from reconbench.stats import paired_difference, win_rate

PAIRED_METRICS = ("psnr", "chamfer", "fscore")


def method_table(run: Run) -> Table:
    """Per method: paradigm and the entry point, frame and scale its provenance records, and whether its
    results ran outside the input camera it assumes (upstream/input_camera.py)."""
    paradigms = run.meta.paradigms
    rows: list[list[Cell]] = []
    for m in run.methods:
        ok = [r for r in run.ok if r.method == m]
        prov = next((r.provenance.method for r in ok if r.provenance.method), None)
        flagged = [why for why in map(outside_assumptions, ok) if why]
        reasons, outside = list(dict.fromkeys(flagged)), len(flagged)
        camera = (
            f"outside its assumptions in {outside} of {len(ok)}: " + "; ".join(reasons) if outside else "as assumed"
        )
        row: list[Cell] = [m, paradigms.get(m, "")]
        row += [str(getattr(prov, k, None) or "–") for k in ("entry", "frame", "scale")]
        row.append((camera, "bad") if outside else camera)
        rows.append(row)
    return Table(["method", "paradigm", "entry", "frame", "scale", "input camera"], rows)


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


def published_table(run: Run) -> Table:
    """Measured next to published (literature/compare.py): every figure on the run's dataset, labelled."""
    from reconbench.literature.compare import compare_run
    from reconbench.literature.render import comparison_table

    comparisons, notes = compare_run(run.records, run.meta, run_protocol(run))
    return comparison_table(comparisons, notes)
