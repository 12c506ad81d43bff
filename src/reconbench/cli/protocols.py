"""`reconbench protocols`: the evaluation protocols (camera rigs, resolution, lighting, scoring)."""

from __future__ import annotations

import argparse

from reconbench.cli._args import evaluation_of

DESCRIPTION = (
    "List every protocol preset: input and held-out views, resolution and lighting; with -v also its description, "
    "source and scoring settings (docs/protocol.md, docs/metrics.md)."
)
EXAMPLES = """
reconbench protocols
reconbench protocols -v        # with descriptions, sources and scoring settings
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """None of its own: -v prints the details."""


def run(args: argparse.Namespace) -> int:
    from reconbench.protocol import get_protocol, protocol_names

    for name in protocol_names():
        p = get_protocol(name)
        w, h = p.resolution
        print(
            f"{name:26s} {len(p.input_cameras)} input, {len(p.heldout_cameras):2d} held-out, {w}x{h}, lighting "
            f"{p.lighting.name}"
        )
        if args.verbose:
            ev = evaluation_of(p)
            print(f"    {p.description}\n    source: {p.source}\n    scoring: {ev.label()}")
            print(
                f"    geometry: {ev.chamfer} Chamfer, F-score at {', '.join(f'{t:g}' for t in ev.fscore_thresholds)} "
                f"(x{ev.length_unit:g} units), volume grid {ev.volume['grid']}, alignment {ev.alignment}; "
                f"SSIM {ev.ssim}, LPIPS {', '.join(ev.lpips_nets)}"
            )
    return 0
