"""`reconbench literature` output (text, JSON, HTML) and the report's measured-versus-published table.

The HTML uses the run report's stylesheet and table renderer (report/html.py), so both pages look alike."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from reconbench.cost.model import Pricing
from reconbench.literature.breakeven import LiteratureCost, literature_cost
from reconbench.literature.collect import FigureTable, entries, fidelity_tables, side_by_side
from reconbench.literature.compare import NOT_COMPARABLE, Comparison
from reconbench.literature.papers import PAPERS, PROTOCOLS
from reconbench.report.html import CSS, Table, esc, render_table

SIDE_BY_SIDE = (("gso", "chamfer"), ("gso", "fscore@0.1"), ("omniobject3d", "chamfer"), ("omniobject3d", "fscore@0.1"))


def literature_data(pricing: Pricing | None = None) -> dict[str, Any]:
    """Everything `reconbench literature` shows, as plain JSON-ready data."""
    items = entries()
    cost = literature_cost(items, pricing)
    return {
        "papers": {k: asdict(p) for k, p in PAPERS.items()},
        "protocols": {k: asdict(p) for k, p in PROTOCOLS.items()},
        "fidelity": [_table_dict(t) for t in fidelity_tables(items)],
        "side_by_side": [_table_dict(side_by_side(d, m, items)) for d, m in SIDE_BY_SIDE],
        "methods": _methods_dict(items, cost),
        "break_even": {
            "unit_gpu": cost.unit,
            "throughput_factors": {g: {"factor": f, "source": s} for g, (f, s) in cost.factors.items()},
            "pairs": [
                {
                    "feed_forward": p.feed_forward,
                    "per_scene": p.per_scene,
                    "prior": p.mode,
                    "kind": p.result.kind,
                    "n": p.result.n,
                    "n_low": p.n_low,
                    "n_high": p.n_high,
                    "n_per_1000_gpu_h": p.n_per_1000_gpu_h,
                    "text": p.text(),
                    "settle": p.settle,
                    "notes": p.notes,
                }
                for p in cost.pairs
            ],
        },
    }


def _table_dict(t: FigureTable) -> dict[str, Any]:
    return {
        "title": t.title,
        "columns": [{"protocol": c.protocol, "metric": c.metric} for c in t.columns],
        "rows": [
            {"label": label, "values": [None if v is None else v.value for v in values]} for label, values in t.rows
        ],
        "notes": list(t.notes),
    }


def _methods_dict(items: Sequence[Any], cost: LiteratureCost) -> dict[str, Any]:
    out = {}
    for e in items:
        if e.method is None:
            continue
        pa = cost.per_asset.get(e.label)
        hours = {id(t): h for t, h in pa.used} if pa else {}
        out[e.label] = {
            "paradigm": e.paradigm,
            "names_in_papers": list(e.published.names),
            "times": [
                {
                    **asdict(t),
                    f"hours_{cost.unit}": hours.get(id(t)),
                    "source": f"{PAPERS[t.paper].cite()}, {t.where}",
                    "source_short": f"{PAPERS[t.paper].short()}, {t.where}",
                }
                for t in e.published.times
            ],
            "training": asdict(e.published.training) if e.published.training else None,
            "training_note": e.published.training_note,
            "prior": e.published.prior,
            "training_counted": {m: asdict(t) for m, t in cost.training.get(e.label, {}).items()},
        }
    return out


# ---------------------------------------------------------------- tables (shared by text and HTML)


def _fmt(v: float | None) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    a = abs(v)
    return f"{v:.4g}" if a < 1 else f"{v:.2f}" if a < 100 else f"{v:,.0f}"


def _as_published(v: float | None) -> str:
    """A published figure with the digits it was published with (up to 6 significant)."""
    return "-" if v is None else f"{v:.6g}"


def figure_table(t: FigureTable) -> Table:
    header = ["method"] + [c.header for c in t.columns]
    rows = [[label, *(_as_published(None if v is None else v.value) for v in values)] for label, values in t.rows]
    return Table(header, rows, set(range(1, len(header))), " ".join(t.notes))


def times_table(data: dict[str, Any]) -> Table:
    unit = data["break_even"]["unit_gpu"]
    rows = []
    for name, m in data["methods"].items():
        for t in m["times"]:
            used = (
                "used"
                if t[f"hours_{unit}"] is not None
                else ("not this configuration" if not t["applies"] else "not used (no GPU stated)")
            )
            rows.append(
                [
                    name,
                    _as_published(t["seconds"]),
                    t["gpu"] or "not stated",
                    t["covers"],
                    t["source_short"],
                    f"{t['check']['status']}",
                    used,
                ]
            )
        if not m["times"]:
            rows.append([name, "-", "-", "no per-asset time published", "", "", ""])
    return Table(
        ["method", "s / asset", "GPU", "what it covers", "source", "check", f"break-even ({unit} h)"],
        rows,
        {1},
        "Times are as published, on the paper's own hardware and accounting.",
    )


def training_table(data: dict[str, Any]) -> Table:
    rows = []
    for name, m in data["methods"].items():
        if m["paradigm"] == "per-scene":
            prior = f"prior {m['prior']}" if m["prior"] else "prior not named in its spec"
            rows.append([name, "none of its own", prior, "cost/published.py PRIORS" if m["prior"] else "", ""])
        elif m["training"]:
            t = m["training"]
            rows.append(
                [
                    name,
                    f"{_fmt(t['value'])} ({_fmt(t['low'])}-{_fmt(t['high'])})",
                    t["gpu"],
                    t["source"],
                    t["check"]["status"],
                ]
            )
        else:
            rows.append([name, "unknown", "", m["training_note"] or "not published", ""])
    return Table(["method", "training GPU-h", "GPU", "source", "check"], rows, {1})


def break_even_table(data: dict[str, Any]) -> Table:
    be = data["break_even"]
    rows = [
        [p["feed_forward"], p["per_scene"], p["prior"], p["text"], "; ".join(p["settle"] + p["notes"])]
        for p in be["pairs"]
    ]
    factors = "; ".join(
        f"{g} hours = {_fmt(f['factor'])} {be['unit_gpu']} hours ({f['source']})"
        for g, f in be["throughput_factors"].items()
    )
    return Table(
        ["feed-forward", "per-scene", "prior", f"break-even (in {be['unit_gpu']} GPU-hours)", "what would settle it"],
        rows,
        note=f"Computed by the run cost model (cost/model.py) from published figures only. Throughput "
        f"factors used: {factors}. Peak ratios are an upper bound on real speed-ups, so times moved "
        "from faster GPUs are at their most expensive. prior: sunk = the diffusion prior's training "
        "is not counted; counted = it is.",
    )


def _text_table(t: Table) -> list[str]:
    cells = [t.header] + [[c if isinstance(c, str) else c[0] for c in row] for row in t.rows]
    widths = [min(max(len(r[i]) for r in cells), 60) for i in range(len(t.header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(t.header, widths))]
    lines += ["  ".join(str(c)[:200].ljust(w) for c, w in zip(r, widths)) for r in cells[1:]]
    if t.note:
        lines.append(f"  note: {t.note}")
    return lines


def answer_lines(data: dict[str, Any]) -> list[str]:
    """The short answer first: every pair the published figures decide, and how many they leave open."""
    be = data["break_even"]
    pairs = [p for p in be["pairs"] if p["prior"] == "sunk"]
    decided = [p for p in pairs if p["kind"] in ("above", "below", "always", "never")]
    proportional = [p for p in pairs if p["n_per_1000_gpu_h"] is not None]
    lines = [
        f"The published answer (prior sunk, {be['unit_gpu']} GPU-hours; details and the prior-counted case in (c)):"
    ]
    lines += [f"  {p['feed_forward']} vs {p['per_scene']}: {p['text']}" for p in decided + proportional]
    open_ = len(pairs) - len(decided) - len(proportional)
    if open_:
        lines.append(f"  {open_} more pair(s) cannot be answered from published figures (see 'what would settle it')")
    factors = ", ".join(f"{g} x{_fmt(f['factor'])}" for g, f in be["throughput_factors"].items() if f["factor"] != 1)
    if factors:
        lines.append(
            f"  Times moved to {be['unit_gpu']} hours with datasheet peak ratios ({factors}): an upper bound "
            "on real speed-ups; --throughput GPU=F replaces one."
        )
    return lines + [""]


def _side_by_side_tables(items: Sequence[Any]) -> list[FigureTable]:
    """One table per (dataset, metric) of SIDE_BY_SIDE, each built once for its title and its rows."""
    return [side_by_side(d, m, items) for d, m in SIDE_BY_SIDE]


def literature_text(data: dict[str, Any]) -> str:
    items = entries()
    out = answer_lines(data)
    out += ["Published results (every column is one protocol; tables of different protocols are not comparable)", ""]
    for t in fidelity_tables(items):
        out += [f"== {t.title}", *_text_table(figure_table(t)), ""]
    for t in _side_by_side_tables(items):
        out += [f"== {t.title}", *_text_table(figure_table(t)), ""]
    out += ["== Published time per asset", *_text_table(times_table(data)), ""]
    out += ["== Training compute", *_text_table(training_table(data)), ""]
    out += ["== Break-even volume from published figures", *_text_table(break_even_table(data)), ""]
    return "\n".join(out)


def literature_html(data: dict[str, Any]) -> str:
    items = entries()
    sections = [
        (
            "(a) Published fidelity, one table per protocol",
            "".join(f"<h3>{esc(t.title)}</h3>" + render_table(figure_table(t)) for t in fidelity_tables(items)),
        ),
        (
            "Side by side: the same method under different protocols",
            "".join(f"<h3>{esc(t.title)}</h3>" + render_table(figure_table(t)) for t in _side_by_side_tables(items)),
        ),
        (
            "(b) Published time per asset and training compute",
            render_table(times_table(data)) + "<h3>Training compute</h3>" + render_table(training_table(data)),
        ),
        ("(c) Break-even volume from published figures", render_table(break_even_table(data))),
        ("Protocols", render_table(protocols_table())),
    ]
    answer = "<pre>" + esc("\n".join(answer_lines(data))) + "</pre>"
    body = answer + "\n" + "\n".join(f"<section>\n<h2>{esc(h)}</h2>\n{inner}\n</section>" for h, inner in sections)
    title = "reconbench literature: the published answer"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<h1>{esc(title)}</h1>\n"
        '<p class="note">Published figures with their sources; nothing here was measured by reconbench '
        "(docs/literature.md).</p>\n" + body + "\n</body>\n</html>\n"
    )


def protocols_table() -> Table:
    rows = [
        [
            p.id,
            f"{PAPERS[p.paper].short()}, {p.where}",
            p.dataset,
            str(p.objects or "?"),
            p.normalisation,
            p.alignment,
            p.chamfer,
            p.fscore,
            p.views,
            f"{p.check.status}: {p.check.note}",
            p.notes,
        ]
        for p in PROTOCOLS.values()
    ]
    return Table(
        [
            "id",
            "source",
            "dataset",
            "objects",
            "normalisation",
            "alignment",
            "Chamfer",
            "F-score",
            "views",
            "check",
            "notes",
        ],
        rows,
    )


# ---------------------------------------------------------------- the run report's section


def comparison_table(comparisons: Sequence[Comparison], notes: Sequence[str]) -> Table:
    """Measured next to published, for the run report (report/tables.py)."""
    rows = []
    for c in comparisons:
        m = c.measured
        measured = (
            "not measured" if m is None or math.isnan(m.mean) else f"{_fmt(m.mean)} [{_fmt(m.low)}, {_fmt(m.high)}]"
        )
        diff = c.difference
        rows.append(
            [
                c.method,
                c.metric,
                c.protocol,
                _as_published(c.published),
                measured,
                "-" if diff is None else f"{diff:+.4g}",
                (c.label, "ns" if c.label == NOT_COMPARABLE else ""),
                c.why,
                c.source + (f" ({c.note})" if c.note else ""),
            ]
        )
    note = (
        " ".join(notes)
        + (" " if notes else "")
        + (
            "difference = measured mean − published; given only for same-protocol and comparable pairs. "
            "Measured means carry bootstrap 95% intervals."
        )
    )
    return Table(
        [
            "method",
            "metric",
            "published protocol",
            "published",
            "measured [95% CI]",
            "difference",
            "label",
            "what differs / why not",
            "source",
        ],
        rows,
        {3, 4, 5},
        note,
    )
