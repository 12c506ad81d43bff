"""`reconbench datasets`: the dataset sources, or the objects of one dataset (and whether each loads)."""

from __future__ import annotations

import argparse

from reconbench.cli._args import add_dataset

DESCRIPTION = (
    "Without --dataset: every dataset source and its spec. With --dataset: the objects it holds, their category and "
    "file; --check loads each one and reports the ones that fail (exit 1 if any)."
)
EXAMPLES = """
reconbench datasets
reconbench datasets --dataset gso:/data/gso --object-list gso30-syncdreamer --check
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_dataset(p, required=False)
    p.add_argument("--check", action="store_true", help="load every object and report the ones that fail")


def run(args: argparse.Namespace) -> int:
    from reconbench.datasets import SOURCES, open_dataset

    if not args.dataset:
        for name, src in SOURCES.items():
            usage = f"{name}:PATH" if src["needs_path"] else name
            print(f"{usage:20s} {src['description']}  [frame {src['frame']}]")
        return 0
    dataset = open_dataset(args.dataset, args.object_list)
    print(f"{dataset.spec}: {len(dataset)} objects in {len(dataset.categories)} categories")
    failures = 0
    for obj in dataset:
        line = f"  {obj.id:24s} {obj.category:16s} {obj.path}"
        if args.check:
            try:
                mesh = obj.load()
                line += f"  ok, {mesh.n_faces} faces, {len(mesh.parts)} parts" + "".join(
                    f"\n    warning: {w}" for w in mesh.warnings
                )
            except Exception as exc:  # report every object, stop on none
                failures += 1
                line += f"  FAILED: {exc}"
        print(line)
    for problem in dataset.problems:
        print(f"  skipped: {problem}")
    return 1 if failures or (args.check and dataset.problems) else 0
