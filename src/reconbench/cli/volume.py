"""`reconbench volume RUN_DIR`: wall-clock hours for a volume of assets on K workers (runner/volume.py)."""

from __future__ import annotations

import argparse

from reconbench.cli._args import add_run_dir, positive_int, positive_integers

DESCRIPTION = (
    "How long N assets take on K workers (K GPUs for a GPU method): hours(N, K) = ceil(N / K) x (w + e + o) / 3600, "
    "with w and e the method's and the evaluation's mean seconds per asset in the run and o the harness overhead "
    "per job (--overhead). Wall-clock only; money and break-even volumes are `reconbench cost` (docs/cluster.md, "
    "docs/cost.md)."
)
EXAMPLES = """
reconbench volume runs/gso30
reconbench volume runs/gso30 --assets 1000000 --workers 8,64,512 --overhead 0.2
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_run_dir(p)
    p.add_argument("--assets", type=positive_int, default=10_000, metavar="N", help="asset volume (default 10000)")
    p.add_argument(
        "--workers",
        type=positive_integers,
        default=[1, 8, 64],
        metavar="K,K",
        help="comma-separated worker (GPU) counts (default 1,8,64)",
    )
    p.add_argument(
        "--overhead", type=float, default=0.0, metavar="S", help="harness seconds per job to add (default 0)"
    )


def run(args: argparse.Namespace) -> int:
    from reconbench.runner.volume import volume_table

    print(volume_table(args.run_dir, args.assets, args.workers, args.overhead))
    return 0
