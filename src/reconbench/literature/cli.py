"""`reconbench literature [--json] [--html FILE] [--throughput GPU=F]`: the published answer, without any run."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the `literature` subcommand to an argparse subparsers object; its handler is set as `func`."""
    p = subparsers.add_parser(
        "literature",
        help="published results, times, training compute and break-even volumes, with sources (no run needed)",
        description="Print (a) the published fidelity tables, one protocol per table and per column, (b) published "
        "time per asset and training compute per method, (c) the break-even volume of every feed-forward method "
        "against every per-scene one, computed by the cost model from published figures only (docs/literature.md).",
    )
    p.add_argument("--json", action="store_true", help="print everything as JSON instead of text")
    p.add_argument("--html", metavar="FILE", type=Path, help="also write an HTML page (the run report's look)")
    p.add_argument(
        "--throughput",
        action="append",
        default=[],
        metavar="GPU=F",
        help="work per hour of a GPU type relative to the reference type, replacing the datasheet ratio "
        "(repeatable), e.g. --throughput H100=2",
    )
    p.set_defaults(func=cmd_literature)
    return p


def cmd_literature(args: argparse.Namespace) -> int:
    from reconbench.cost.model import Pricing
    from reconbench.literature.render import literature_data, literature_html, literature_text

    throughput = {}
    for item in args.throughput:
        gpu, sep, value = item.partition("=")
        try:
            throughput[gpu] = float(value)
        except ValueError:
            sep = ""
        if not sep or throughput[gpu] <= 0:
            print(
                f"reconbench: error: --throughput takes GPU=FACTOR with a positive factor, got {item!r}",
                file=sys.stderr,
            )
            return 2
    data = literature_data(Pricing.default(throughput=throughput))
    if args.html:
        args.html.write_text(literature_html(data), encoding="utf-8")
    print(json.dumps(data, indent=1) if args.json else literature_text(data))
    if args.html:
        print(f"wrote {args.html}", file=sys.stderr)
    return 0
