"""`reconbench evaluate`: one predicted asset scored against a ground-truth object."""

from __future__ import annotations

import argparse
import dataclasses
import logging

from reconbench.cli._args import (
    UsageError,
    add_align,
    add_ground_truth,
    add_lpips,
    add_other_set,
    add_protocol,
    check_ground_truth_source,
    evaluation_of,
    ground_truth_object,
    lpips_nets,
)
from reconbench.cli._output import print_json

logger = logging.getLogger(__name__)

DESCRIPTION = (
    "Render the prediction and the ground truth with the common renderer at the protocol's views and print every "
    "metric, before and after alignment (docs/metrics.md). The ground truth is a mesh file (--gt) or an object of a "
    "dataset (--dataset, --object)."
)
EXAMPLES = """
reconbench evaluate --pred out/mug.glb --dataset procedural --object mug
reconbench evaluate --pred model.obj --gt gt/chicken.obj --gt-frame z-up --protocol gso30-syncdreamer --json
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pred", required=True, metavar="PATH", help="predicted asset file (OBJ, GLB, PLY, ...)")
    add_ground_truth(p)
    add_protocol(p)
    p.add_argument(
        "--frame",
        default="y-up",
        help="frame the prediction is written in: a generic one (y-up, z-up, z-up-front-x) or one a method declares, "
        'e.g. instantmesh-obj (docs/adapters.md, "Frames declared by adapters"; default y-up)',
    )
    p.add_argument(
        "--scale",
        default="bbox",
        choices=["bbox", "none"],
        help="bbox: normalise the prediction's bounding box like the ground truth (default); none: already canonical",
    )
    add_align(p)
    add_lpips(p)
    add_other_set(p)
    p.add_argument("--save-renders", metavar="DIR", help="also write the prediction's renders at the protocol views")
    p.add_argument("--json", action="store_true", help="print one JSON object keyed by metric name")


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from reconbench.alignment import ALIGN_MODES
    from reconbench.assets import AssetLoadError, load_asset
    from reconbench.evaluation import evaluate, prepare_ground_truth
    from reconbench.protocol import get_protocol
    from reconbench.registry import frame_named

    check_ground_truth_source(args)
    frame = frame_named(args.frame)  # before any loading: a misspelled name fails at once, listing the known ones
    protocol = get_protocol(args.protocol)
    evaluation = evaluation_of(protocol)
    if args.other_set:  # recorded with the settings (--json prints them)
        evaluation = evaluation.with_other_set(args.other_set)
        protocol = dataclasses.replace(protocol, evaluation=evaluation)
    args.align = args.align or evaluation.alignment  # the preset's own unless given
    if args.align not in ALIGN_MODES:
        raise UsageError(f"--align must be one of {', '.join(ALIGN_MODES)}")
    gt_object = ground_truth_object(args)
    nets = lpips_nets(args.lpips, protocol)
    try:
        gt = prepare_ground_truth(gt_object.load(), protocol, lpips_nets=nets)
    except ValueError as exc:  # a ground truth that loads but cannot be scored (it covers no pixel...)
        raise AssetLoadError(gt_object.path, f"ground truth unusable: {exc}") from exc
    pred = load_asset(args.pred)
    warnings = [f"ground truth {w}" for w in gt.mesh.warnings] + [
        f"prediction {w}" for w in getattr(pred, "warnings", ())
    ]
    for warning in warnings:  # scored anyway, e.g. without a texture that is missing or refused
        logger.warning(warning)
    try:
        result = evaluate(pred, gt, frame=frame, scale=args.scale, align=args.align, lpips_nets=nets)
    except ValueError as exc:  # a degenerate prediction (all points equal, far outside the view...)
        raise AssetLoadError(args.pred, f"prediction unusable: {exc}") from exc
    if args.save_renders:
        from reconbench.render.files import write_views

        write_views(result.renders, args.save_renders, {"prediction": str(args.pred), "protocol": protocol.name})
    if args.json:
        print_json({**result.to_dict(), "warnings": warnings, "evaluation": evaluation.to_dict()})
        return 0
    # Without a refinement (--align none) the only set is the unaligned one, whatever the headline.
    headline = "unaligned" if args.align == "none" else evaluation.headline
    other = "unaligned" if headline == "aligned" else "aligned"
    print(
        f"{args.pred} vs {gt_object.path} | protocol {protocol.name} | frame {args.frame}, scale {args.scale}, align "
        f"{args.align}"
    )
    rows = [k for k in result.metrics if not k.startswith(("unaligned_", "aligned_", "precision_", "recall_"))]
    has_other = any(k.startswith(f"{other}_") for k in result.metrics)
    print(f"{'metric':28s} {headline:>12s}" + (f" {other:>12s}" if has_other else ""))
    for key in rows:
        line = f"{key:28s} {result.metrics[key]:12.4f}"
        if has_other:
            line += f" {result.metrics.get(f'{other}_{key}', float('nan')):12.4f}"
        print(line)
    print("transform (prediction file -> canonical):")
    print(np.array2string(result.alignment.total, precision=4, suppress_small=True))
    for note in result.notes:
        print(f"note: {note}")
    return 0
