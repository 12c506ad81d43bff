"""`reconbench evaluate-views`: score a folder of generated views, view by view and averaged."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the `evaluate-views` subcommand; its handler is set as `func`."""
    p = subparsers.add_parser(
        "evaluate-views",
        help=(
            "score a folder of images (a multi-view generator's output) against ground-truth renders or another folder"
        ),
        description="Score PRED/NNN.png view by view against the ground truth rendered with the common renderer at the "
        "protocol's cameras (--gt PATH, or --dataset SPEC --object ID), or against REF/NNN.png (--ref DIR); prints "
        'per-view metrics and their means (docs/metrics.md, "Scoring views on their own").',
    )
    p.add_argument(
        "--pred", required=True, metavar="DIR", help="folder of predicted views NNN.png (RGBA, or RGB on white)"
    )
    p.add_argument(
        "--ref", metavar="DIR", help="folder of reference views NNN.png to score against (instead of rendering)"
    )
    p.add_argument("--gt", metavar="PATH", help="ground-truth mesh file to render at the protocol's cameras")
    p.add_argument("--gt-frame", default="y-up", help="frame of the --gt file (default y-up)")
    p.add_argument("--dataset", metavar="SPEC", help="dataset holding the ground truth (with --object)")
    p.add_argument("--object-list", metavar="LIST", help="file of object ids, or a shipped list name")
    p.add_argument("--object", metavar="ID", help="with --dataset: the ground-truth object")
    p.add_argument(
        "--protocol", default="default", help="protocol preset whose cameras name the views (default: default)"
    )
    p.add_argument(
        "--views",
        default="all",
        choices=["all", "heldout", "input"],
        help="which protocol views to score (default all)",
    )
    p.add_argument("--masked", action="store_true", help="also masked PSNR and mask IoU (needs alpha in every view)")
    p.add_argument(
        "--lpips",
        default=None,
        help="LPIPS backbones: alex, vgg, alex,vgg or none (default: the protocol's, "
        "alex for reconbench's own, vgg for gso30-syncdreamer)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object: per-view metrics and means")
    p.set_defaults(func=cmd_evaluate_views)
    return p


def cmd_evaluate_views(args: argparse.Namespace) -> int:
    from reconbench.cli import UsageError, _json_safe, lpips_nets
    from reconbench.viewscore.score import ViewError, ViewScoring, score_against_folder, score_against_renders

    sources = sum(bool(x) for x in (args.ref, args.gt, args.dataset))
    if sources != 1:
        raise UsageError("give the reference either as --ref DIR, as --gt PATH, or as --dataset SPEC --object ID")
    if args.dataset and not args.object:
        raise UsageError("--dataset needs --object ID")
    from reconbench.protocol import get_protocol

    protocol = get_protocol(args.protocol)
    nets = lpips_nets(args.lpips, protocol)
    settings = ViewScoring.for_evaluation(protocol.evaluation, nets)  # the preset's image metrics
    try:
        if args.ref:
            report = score_against_folder(Path(args.pred), Path(args.ref), settings, args.masked)
            against = str(args.ref)
        else:
            mesh, against = _ground_truth(args)
            report = score_against_renders(Path(args.pred), mesh, protocol, settings, args.masked, args.views)
            against += f" rendered at protocol {args.protocol} ({args.views} views)"
    except ViewError as exc:
        print(f"reconbench: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(_json_safe(report.to_dict()), indent=1))
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


def _ground_truth(args: argparse.Namespace):
    from reconbench.cli import ground_truth_object

    obj = ground_truth_object(args)
    return obj.load(), str(obj.path)
