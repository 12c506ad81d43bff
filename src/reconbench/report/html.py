"""The report page: plain HTML with inline CSS from string templates, no script and no external asset.

Every value that reaches the page goes through html.escape; images are data URIs made here or in
`figures`, so the file can be mailed or archived on its own."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field

# One table type for report.md, summary.md and this page (Cell re-exported for callers of this module).
from reconbench.results.tables import Cell, Table  # noqa: F401

CSS = """
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; margin: 24px auto; max-width: 1400px;
       padding: 0 16px; color: #1d1d1f; background: #fff; line-height: 1.4; }
h1 { font-size: 26px; margin-bottom: 4px; }
h2 { font-size: 20px; margin-top: 32px; border-bottom: 2px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 16px; margin: 18px 0 6px; }
table { border-collapse: collapse; margin: 8px 0 4px; font-size: 13px; }
th, td { border: 1px solid #d0d0d0; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f2f4f7; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: pre-line; }
tr:nth-child(even) td { background: #fafafa; }
.ns { color: #888; } .sig { color: #0a6b2b; font-weight: bold; } .bad { color: #a11; }
.note { color: #555; font-size: 13px; max-width: 1100px; }
figure { margin: 12px 0 24px; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #444; font-size: 13px; max-width: 1100px; }
table.grid td, table.grid th { text-align: center; padding: 2px; font-size: 12px; }
table.grid img { width: 160px; height: 160px; display: block; }
.missing { width: 160px; height: 160px; display: flex; align-items: center; justify-content: center;
           background: #f4f4f4; color: #888; font-size: 12px; }
dl.conv { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; font-size: 14px; }
dl.conv dt { font-weight: bold; } dl.conv dd { margin: 0; }
"""


@dataclass
class FigureItem:
    title: str
    uri: str
    caption: str


@dataclass
class ObjectGrid:
    """One object's qualitative rows: per held-out view, the ground truth and each method's render."""

    object: str
    category: str
    input_uri: str | None
    input_view: str
    columns: list[str]  # "ground truth", then the methods
    rows: list[tuple[str, list[str | None]]]  # (view name, image URI per column; None = unavailable)
    missing_text: dict[str, str] = field(default_factory=dict)  # column -> why it is empty


@dataclass
class Section:
    """A self-contained section a report module adds (paragraphs, tables, figures), after the figures."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[FigureItem] = field(default_factory=list)


@dataclass
class Page:
    title: str
    subtitle: str
    conventions: list[tuple[str, str]]
    method_table: Table
    summary: Table
    usability: Table
    paired: Table
    figures: list[FigureItem]
    grids: list[ObjectGrid]
    grid_note: str
    failures: Table
    extra_tables: list[tuple[str, Table]] = field(default_factory=list)  # more result tables, shown after the summary
    published: Table | None = None  # measured next to published (literature/compare.py)
    extra: list[Section] = field(default_factory=list)
    break_even: str = ""  # HTML fragment from report.breakeven (always filled by write_report)


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def render_page(page: Page) -> str:
    """The whole HTML document."""
    body = "\n".join(
        [
            f'<h1>{esc(page.title)}</h1>\n<p class="note">{esc(page.subtitle)}</p>',
            _section(
                "1. Run conventions and provenance",
                _conventions(page.conventions) + "<h3>Method entries</h3>" + render_table(page.method_table),
            ),
            _section(
                "2. Summary",
                render_table(page.summary)
                + "".join(f"<h3>{esc(title)}</h3>" + render_table(table) for title, table in page.extra_tables)
                + "<h3>Usability of the assets</h3>"
                + (
                    render_table(page.usability)
                    if page.usability.rows
                    else '<p class="note">No mesh asset in this run.</p>'
                ),
            ),
            _section("3. Paired comparisons", render_table(page.paired)),
            _section(
                "4. Break-even: feed-forward against per-scene",
                page.break_even or "<p>No break-even section was computed.</p>",
            ),
            _section(
                "5. Figures",
                "\n".join(_figure(f) for f in page.figures) or '<p class="note">No figure could be drawn.</p>',
            ),
            *(
                _section(
                    x.title,
                    "".join(f"<p>{esc(t)}</p>" for t in x.paragraphs)
                    + "".join(render_table(t) for t in x.tables)
                    + "\n".join(_figure(f) for f in x.figures),
                )
                for x in page.extra
            ),
            _section(
                "6. Qualitative results",
                f'<p class="note">{esc(page.grid_note)}</p>' + "\n".join(_grid(g) for g in page.grids),
            ),
            _section(
                "7. Failures", render_table(page.failures) if page.failures.rows else "<p>Every job completed.</p>"
            ),
            _section("8. Measured next to published", _published(page.published)) if page.published is not None else "",
        ]
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>{esc(page.title)}</title>\n'
        f"<style>{CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _published(table: Table) -> str:
    if table.rows:
        return render_table(table)
    return f'<p>No method of this run has a published figure on its dataset.</p><p class="note">{esc(table.note)}</p>'


def _section(title: str, inner: str) -> str:
    return f"<section>\n<h2>{esc(title)}</h2>\n{inner}\n</section>"


def _conventions(items: Sequence[tuple[str, str]]) -> str:
    rows = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in items)
    return f'<dl class="conv">{rows}</dl>'


def render_table(table: Table) -> str:
    """A <table> with escaped cells; a cell given as (text, class) gets that class."""
    head = "".join(f"<th>{esc(h)}</th>" for h in table.header)
    body = []
    for row in table.rows:
        cells = []
        for i, cell in enumerate(row):
            text, cls = cell if isinstance(cell, tuple) else (cell, "")
            classes = " ".join(c for c in ("num" if i in table.numeric else "", cls) if c)
            cells.append(f'<td class="{esc(classes)}">{esc(text)}</td>' if classes else f"<td>{esc(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    note = f'<p class="note">{esc(table.note)}</p>' if table.note else ""
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(body) + "\n</tbody>\n</table>" + note


def _figure(item: FigureItem) -> str:
    return (
        f'<figure>\n<h3>{esc(item.title)}</h3>\n<img src="{esc(item.uri)}" alt="{esc(item.title)}">\n'
        f"<figcaption>{esc(item.caption)}</figcaption>\n</figure>"
    )


def _img(uri: str | None, alt: str, missing: str) -> str:
    if uri is None:
        return f'<div class="missing">{esc(missing)}</div>'
    return f'<img src="{esc(uri)}" alt="{esc(alt)}" width="160" height="160">'


def _grid(grid: ObjectGrid) -> str:
    """Input view in the first column (spanning the rows), then ground truth and each method per held-out view."""
    head = (
        "<th>input view "
        + esc(grid.input_view)
        + "</th><th>held-out view</th>"
        + "".join(f"<th>{esc(c)}</th>" for c in grid.columns)
    )
    rows = []
    for k, (view, uris) in enumerate(grid.rows):
        first = (
            f'<td rowspan="{len(grid.rows)}">{_img(grid.input_uri, f"{grid.object} input", "input unavailable")}</td>'
            if k == 0
            else ""
        )
        cells = "".join(
            f"<td>{_img(u, f'{grid.object} {c} {view}', grid.missing_text.get(c, 'not available'))}</td>"
            for c, u in zip(grid.columns, uris)
        )
        rows.append(f"<tr>{first}<td>{esc(view)}</td>{cells}</tr>")
    return (
        f'<h3>{esc(grid.object)} <span class="note">({esc(grid.category)})</span></h3>\n'
        f'<table class="grid">\n<thead><tr>{head}</tr></thead>\n<tbody>\n' + "\n".join(rows) + "\n</tbody>\n</table>"
    )
