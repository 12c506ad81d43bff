"""`reconbench evaluate-views`: score a folder of generated views, view by view and averaged."""

from __future__ import annotations

import argparse
from pathlib import Path

from reconbench.cli._args import (
    add_ground_truth,
    add_lpips,
    add_protocol,
    check_ground_truth_source,
    ground_truth_object,
    lpips_nets,
)
from reconbench.cli._output import print_json

DESCRIPTION = (
    "Score PRED/NNN.png view by view against the ground truth rendered with the common renderer at the protocol's "
    "cameras (--gt PATH, or --dataset SPEC --object ID), or against REF/NNN.png (--ref DIR); prints per-view metrics "
    'and their means (docs/metrics.md, "Scoring views on their own").'
)
EXAMPLES = """
reconbench evaluate-views --pred views/mug --dataset procedural --object mug --protocol gso30-syncdreamer
reconbench evaluate-views --pred views/mug --ref renders/mug --masked --json
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--pred", required=True, metavar="DIR", help="folder of predicted views NNN.png (RGBA, or RGB on white)"
    )
    p.add_argument(
        "--ref", metavar="DIR", help="folder of reference views NNN.png to score against (instead of rendering)"
    )
    add_ground_truth(p)
    add_protocol(p, "protocol whose cameras name the views")
    p.add_argument(
        "--views",
        default="all",
        choices=["all", "heldout", "input"],
        help="which protocol views to score (default all)",
    )
    p.add_argument("--masked", action="store_true", help="also masked PSNR and mask IoU (needs alpha in every view)")
    add_lpips(p)
    p.add_argument("--json", action="store_true", help="print one JSON object: per-view metrics and means")


def run(args: argparse.Namespace) -> int:
    from reconbench.protocol import get_protocol
    from reconbench.viewscore.score import ViewScoring, score_against_folder, score_against_renders

    check_ground_truth_source(args, ref=True)
    protocol = get_protocol(args.protocol)
    nets = lpips_nets(args.lpips, protocol)
    settings = ViewScoring.for_evaluation(protocol.evaluation, nets)  # the preset's image metrics
    if args.ref:
        report = score_against_folder(Path(args.pred), Path(args.ref), settings, args.masked)
        against = str(args.ref)
    else:
        gt_object = ground_truth_object(args)
        report = score_against_renders(Path(args.pred), gt_object.load(), protocol, settings, args.masked, args.views)
        against = f"{gt_object.path} rendered at protocol {args.protocol} ({args.views} views)"
    if args.json:
        print_json(report.to_dict())
        return 0
    keys = list(report.per_view)
    print(f"{args.pred} vs {against}")
    print(f"{'view':8s} {'role':8s} " + " ".join(f"{k:>12s}" for k in keys))
    for i, (name, role) in enumerate(zip(report.names, report.roles)):
        print(f"{name:8s} {role:8s} " + " ".join(f"{report.per_view[k][i]:12.4f}" for k in keys))
    summary = report.to_dict()
    for label in ("mean", "mean_input", "mean_heldout"):
        if label in summary:
            print(f"{label:17s} " + " ".join(f"{summary[label][k]:12.4f}" for k in keys))
    return 0
