"""`reconbench report RUN_DIR [--out FILE]`: the self-contained HTML report and summary.md of a run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the `report` subcommand to an argparse subparsers object; its handler is set as `func`."""
    p = subparsers.add_parser(
        "report",
        help="one self-contained HTML report (tables, figures, qualitative grid) and summary.md of a run",
        description=(
            "Write RUN_DIR/report.html (every image embedded, no external asset or script) and RUN_DIR/summary.md: "
            "conventions and provenance, means with bootstrap CIs, paired comparisons, fidelity/cost/category/anytime "
            "figures, a qualitative grid and the failures."
        ),
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run folder holding results.sqlite")
    p.add_argument(
        "--out",
        metavar="FILE",
        type=Path,
        help="where to write the HTML (default RUN_DIR/report.html); summary.md is "
        "written beside it, and nothing into RUN_DIR, which may then be read-only",
    )
    p.set_defaults(func=cmd_report)
    return p


def cmd_report(args: argparse.Namespace) -> int:
    from reconbench.report import write_report
    from reconbench.results import RecordError

    try:
        path = write_report(Path(args.run_dir), args.out)
    except (FileNotFoundError, RecordError) as exc:  # no run folder; a record this version cannot read
        print(f"reconbench: error: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0
