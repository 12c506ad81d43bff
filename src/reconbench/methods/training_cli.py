"""`reconbench train METHOD`: train a method that is trained here (its spec has a `training` entry).

The method's trainer writes checkpoints into --out as it goes (run the same command again to
resume), then the weights and a training record (training.json) that the cost model reads.
`--install` copies both to the folder the method loads its weights from (the shipped checkpoint).
"""

from __future__ import annotations

import argparse
import importlib
import json
import shutil
import sys
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the `train` subcommand; its handler is set as `func`."""
    p = subparsers.add_parser(
        "train",
        help="train a method that is trained here (voxel-cnn): checkpoints, resume, a training record",
        description=(
            "Train a method whose spec has a trainer (voxel-cnn). Checkpoints go to --out; run the same command "
            "again to resume after an interruption. At the end --out holds model.pt and training.json (device, "
            "device-seconds, steps, samples, data source and seeds, final losses, versions), which the cost model "
            "reads."
        ),
    )
    p.add_argument("method", metavar="METHOD")
    p.add_argument("--out", metavar="DIR", help="checkpoint and output folder (default train-out/METHOD)")
    p.add_argument("--seed", type=int, default=None, help="training seed (default: the trainer's, 0)")
    p.add_argument("--steps", type=_positive, default=None, help="optimisation steps (default: the trainer's)")
    p.add_argument(
        "--samples", type=_positive, default=None, help="training objects to generate (default: the trainer's)"
    )
    p.add_argument("--batch-size", type=_positive, default=None)
    p.add_argument("--device", choices=("cpu", "cuda"), help="default: cuda when available")
    p.add_argument(
        "--threads",
        type=_positive,
        default=None,
        help="CPU threads for torch (default: torch's; 1 is fastest on a busy 2-core machine)",
    )
    p.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint in --out and start again")
    p.add_argument(
        "--install",
        action="store_true",
        help="copy model.pt and training.json to the folder the method loads its weights from",
    )
    p.set_defaults(func=cmd_train)
    return p


def cmd_train(args: argparse.Namespace) -> int:
    from reconbench.registry import get_method

    spec = get_method(args.method)
    if not spec.training.get("entry"):
        print(f"reconbench: error: {spec.name} is not trained by reconbench (its spec has no trainer)", file=sys.stderr)
        return 2
    module, _, func = spec.training["entry"].partition(":")
    trainer = getattr(importlib.import_module(module), func)
    out = Path(args.out or Path("train-out") / spec.name)
    options = {
        k: v
        for k, v in (
            ("seed", args.seed),
            ("steps", args.steps),
            ("samples", args.samples),
            ("batch_size", args.batch_size),
        )
        if v is not None
    }
    try:
        record = trainer(out, options=options, device=args.device, resume=not args.fresh, threads=args.threads)
    except KeyboardInterrupt:
        return 130
    print(summary(record, out))
    if args.install:
        dest = weights_folder(spec.training["weights"])
        dest.mkdir(parents=True, exist_ok=True)
        for name in ("model.pt", "training.json"):
            shutil.copy2(out / name, dest / name)
        print(f"installed into {dest}")
    return 0


def weights_folder(location: str) -> Path:
    """ "package:folder" -> the folder inside that installed package."""
    package, _, folder = location.partition(":")
    return Path(importlib.import_module(package).__file__).resolve().parent / folder


def summary(record: dict[str, Any], out: Path) -> str:
    device = record["device"]
    name = (
        f"{device['name']} x{device['count']}"
        if device["kind"] == "gpu"
        else f"CPU {device['name']} ({device.get('threads')} threads)"
    )
    rate = record["samples"] / max(record["device_seconds"], 1e-9)
    return "\n".join(
        [
            f"trained {record['method']}: {record['steps']} steps, {record['samples']} samples in "
            f"{record['device_seconds']:.0f} device-seconds on {name} ({rate:.1f} samples/s); training set built in "
            f"{record['data_cpu_seconds']:.0f} CPU-seconds",
            f"final losses: {json.dumps({k: round(v, 4) for k, v in record['final_losses'].items()})}",
            f"wrote {out / 'model.pt'} and {out / 'training.json'}",
        ]
    )


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value
