"""summary.md: the report's tables as markdown, without images."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reconbench.report import folk_claim
from reconbench.report.breakeven import break_even_section
from reconbench.report.html import Page
from reconbench.results import Run
from reconbench.results.tables import ResultTables, build_tables, failures_markdown, md_table, results_markdown


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
