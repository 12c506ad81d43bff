"""`reconbench render`: ground-truth objects rendered by the common renderer at a protocol's views."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from reconbench.cli._args import UsageError, add_dataset, add_protocol, positive_int

logger = logging.getLogger(__name__)

DESCRIPTION = (
    "Render objects with the common renderer at the protocol's cameras: per view NNN_rgba.png, NNN_depth.npz, "
    "NNN_normal.png and cameras.json. With --object, writes that object's views into OUT; otherwise one sub-folder "
    "per object. An object that fails is named and the others are still rendered (exit 1)."
)
EXAMPLES = """
reconbench render --dataset procedural --object mug --protocol gso30-syncdreamer --out renders/mug
reconbench render --dataset gso:/data/gso --protocol gso30-syncdreamer --limit 3 --out renders
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_dataset(p)
    p.add_argument("--object", metavar="ID", help="one object id (default: every object)")
    p.add_argument("--limit", type=positive_int, metavar="N", help="only the first N objects")
    add_protocol(p)
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--progress", action="store_true", help="show the progress bar even when not on a terminal")


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from reconbench.datasets import open_dataset, parse_spec
    from reconbench.protocol import get_protocol
    from reconbench.render import render_ground_truth, renderer_info
    from reconbench.render.files import write_views
    from reconbench.runner.paths import run_path

    protocol = get_protocol(args.protocol)
    object_list = args.object_list or protocol.default_object_list(parse_spec(args.dataset)[0])
    dataset = open_dataset(args.dataset, object_list)
    for problem in dataset.problems:  # e.g. listed objects the dataset lacks: say which, and how to map them
        logger.warning(problem)
    objects = dataset.select([args.object] if args.object else None, limit=args.limit).objects
    if not objects:
        raise UsageError(f"no object of {args.dataset!r} to render")
    out = Path(args.out)
    failed = []
    for obj in tqdm(
        objects, desc=f"render {protocol.name}", unit="object", disable=not sys.stderr.isatty() and not args.progress
    ):
        try:
            mesh = obj.load()
            views = render_ground_truth(mesh, protocol)
        except Exception as exc:  # one bad object is reported; the others are still rendered
            failed.append((obj.id, str(exc)))
            continue
        extra = {
            "object": obj.id,
            "category": obj.category,
            "protocol": protocol.name,
            "lighting": protocol.lighting.name,
            "renderer": renderer_info(),
        }
        write_views(views, run_path(out, obj.id) if not args.object else out, extra)
    done = len(objects) - len(failed)
    print(f"rendered {done} object(s) x {len(protocol.cameras)} views to {out}")
    for object_id, reason in failed:
        logger.error(f"FAILED {object_id}: {reason}")
    return 1 if failed else 0
