"""The HTML report and summary.md of a run (`reconbench report RUN_DIR`).

`build` assembles the page and its figures (`figures`); the sections are `conventions`, `tables` (how
each method ran, paired comparisons, measured next to published), `breakeven`, `folk_claim` and `grid`
(the qualitative grid); `html` renders the page and `markdown` writes summary.md. Reading the run itself
is reconbench.results'.
"""

from reconbench.report.build import write_report
from reconbench.report.markdown import write_summary_md
from reconbench.results import load_run

__all__ = ["load_run", "write_report", "write_summary_md"]
