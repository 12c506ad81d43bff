"""`reconbench literature [--json] [--html FILE] [--throughput GPU=F]`: the published answer, without any run."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from reconbench.cli._args import add_throughput

logger = logging.getLogger(__name__)

DESCRIPTION = (
    "Print (a) the published fidelity tables, one protocol per table and per column, (b) published time per asset "
    "and training compute per method, (c) the break-even volume of every feed-forward method against every "
    "per-scene one, computed by the cost model from published figures only (docs/literature.md)."
)
EXAMPLES = """
reconbench literature
reconbench literature --html literature.html --throughput H100=2
reconbench literature --json
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print everything as JSON instead of text")
    p.add_argument("--html", metavar="FILE", type=Path, help="also write an HTML page (the run report's look)")
    add_throughput(p)


def run(args: argparse.Namespace) -> int:
    from reconbench.cost.model import Pricing
    from reconbench.literature.render import literature_data, literature_html, literature_text

    data = literature_data(Pricing.default(throughput=dict(args.throughput)))
    if args.html:
        args.html.write_text(literature_html(data), encoding="utf-8")
    print(json.dumps(data, indent=1) if args.json else literature_text(data))
    if args.html:
        logger.info(f"wrote {args.html}")
    return 0
