"""Every published figure gathered in one place: from the method specs and from `others`, arranged as
tables in which each value column belongs to exactly one protocol."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reconbench.literature.others import OTHERS
from reconbench.literature.papers import PAPERS, PROTOCOLS
from reconbench.literature.types import METRICS, Protocol, Published, Result


@dataclass(frozen=True)
class Entry:
    """One method's published figures: a reconbench method (`method` set) or one it does not run."""

    label: str
    method: str | None
    paradigm: str | None
    published: Published


def entries() -> list[Entry]:
    """Every registered method but the reference ones (by name; those without a published figure too, so
    the output says so), then the methods reconbench does not run (by name)."""
    from reconbench.registry import get_method, method_names

    out = []
    for name in method_names():
        spec = get_method(name)
        if spec.paradigm != "reference":
            out.append(Entry(name, name, spec.paradigm, spec.published))
    out += [Entry(name, None, None, pub) for name, pub in sorted(OTHERS.items())]
    return out


@dataclass(frozen=True)
class Column:
    """A value column: one metric under one protocol (never more than one protocol)."""

    protocol: str
    metric: str

    @property
    def header(self) -> str:
        return f"{metric_label(self.metric)} [{self.protocol}]"


@dataclass(frozen=True)
class FigureTable:
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[str, tuple[Result | None, ...]], ...]  # (row label, one Result or None per column)
    notes: tuple[str, ...] = ()


def metric_label(metric: str) -> str:
    return {
        "chamfer": "CD",
        "volume_iou": "vol. IoU",
        "psnr": "PSNR",
        "ssim": "SSIM",
        "lpips": "LPIPS",
        "clip_similarity": "CLIP-sim",
    }.get(metric, metric.replace("fscore@", "F@"))


def _rows(columns: Sequence[Column], items: Sequence[Entry]) -> list[tuple[str, tuple[Result | None, ...]]]:
    """One row per distinct set of figures: methods sharing the same figures (lgm, lgm-mesh) share a row."""
    rows: list[tuple[list[str], tuple[Result | None, ...]]] = []
    for e in items:
        values = tuple(e.published.results_for(c.protocol).get(c.metric) for c in columns)
        if all(v is None for v in values):
            continue
        for labels, existing in rows:
            if existing == values:
                labels.append(e.label)
                break
        else:
            rows.append(([e.label], values))
    return [(", ".join(labels), values) for labels, values in rows]


def protocol_table(protocol: Protocol, items: Sequence[Entry] | None = None) -> FigureTable:
    """A paper's table as published: every metric it reports, every method it lists."""
    items = entries() if items is None else items
    present = {r.metric for e in items for r in e.published.results if r.protocol == protocol.id}
    columns = tuple(Column(protocol.id, m) for m in METRICS if m in present)
    paper = PAPERS[protocol.paper]
    notes = (f"{paper.cite()}, {protocol.where}; check: {protocol.check.status} ({protocol.check.note})",)
    return FigureTable(
        f"{protocol.id}: {paper.title.split(':')[0]}, {protocol.where}",
        columns,
        tuple(_rows(columns, items)),
        notes + ((protocol.notes,) if protocol.notes else ()),
    )


def fidelity_tables(items: Sequence[Entry] | None = None) -> list[FigureTable]:
    items = entries() if items is None else items
    return [protocol_table(p, items) for p in PROTOCOLS.values()]


def side_by_side(dataset: str, metric: str, items: Sequence[Entry] | None = None) -> FigureTable:
    """One metric on one dataset, one column per protocol that reports it: how far the papers disagree."""
    items = entries() if items is None else items
    columns = tuple(
        Column(p.id, metric)
        for p in PROTOCOLS.values()
        if p.dataset == dataset
        and any(r.protocol == p.id and r.metric == metric for e in items for r in e.published.results)
    )
    return FigureTable(
        f"{metric_label(metric)} on {dataset}, side by side (one column per protocol; columns are not "
        "comparable with each other)",
        columns,
        tuple(_rows(columns, items)),
    )
