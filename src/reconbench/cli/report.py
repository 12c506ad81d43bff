"""`reconbench report RUN_DIR [--out FILE]`: the self-contained HTML report and summary.md of a run."""

from __future__ import annotations

import argparse
from pathlib import Path

from reconbench.cli._args import add_run_dir

DESCRIPTION = (
    "Write RUN_DIR/report.html (every image embedded, no external asset or script) and RUN_DIR/summary.md: "
    "conventions and provenance, means with bootstrap CIs, paired comparisons, fidelity/cost/category/anytime "
    "figures, a qualitative grid and the failures."
)
EXAMPLES = """
reconbench report runs/gso30
reconbench report /readonly/runs/gso30 --out ~/reports/gso30.html     # nothing written into the run folder
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_run_dir(p)
    p.add_argument(
        "--out",
        metavar="FILE",
        type=Path,
        help="where to write the HTML (default RUN_DIR/report.html); summary.md is "
        "written beside it, and nothing into RUN_DIR, which may then be read-only",
    )


def run(args: argparse.Namespace) -> int:
    from reconbench.report import write_report

    print(write_report(args.run_dir, args.out))  # no run folder, or an unreadable record: a one-line error
    return 0
