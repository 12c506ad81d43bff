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
from pathlib import Path
from typing import Any

from reconbench.cli._args import UsageError, positive_int

DESCRIPTION = (
    "Train a method whose spec has a trainer (voxel-cnn). Checkpoints go to --out; run the same command again to "
    "resume after an interruption. At the end --out holds model.pt and training.json (device, device-seconds, steps, "
    "samples, data source and seeds, final losses, versions), which the cost model reads."
)
EXAMPLES = """
reconbench train voxel-cnn --out train-out/voxel-cnn --threads 1
reconbench train voxel-cnn --steps 200 --samples 64 --fresh       # a short run, from scratch
reconbench train voxel-cnn --install                              # then ship the weights it loads
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("method", metavar="METHOD")
    p.add_argument("--out", metavar="DIR", help="checkpoint and output folder (default train-out/METHOD)")
    p.add_argument("--seed", type=int, default=None, help="training seed (default: the trainer's, 0)")
    p.add_argument("--steps", type=positive_int, default=None, help="optimisation steps (default: the trainer's)")
    p.add_argument(
        "--samples", type=positive_int, default=None, help="training objects to generate (default: the trainer's)"
    )
    p.add_argument("--batch-size", type=positive_int, default=None)
    p.add_argument("--device", choices=("cpu", "cuda"), help="default: cuda when available")
    p.add_argument(
        "--threads",
        type=positive_int,
        default=None,
        help="CPU threads for torch (default: torch's; 1 is fastest on a busy 2-core machine)",
    )
    p.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint in --out and start again")
    p.add_argument(
        "--install",
        action="store_true",
        help="copy model.pt and training.json to the folder the method loads its weights from",
    )


def run(args: argparse.Namespace) -> int:
    from reconbench.registry import get_method

    spec = get_method(args.method)
    if not spec.training.get("entry"):
        raise UsageError(f"{spec.name} is not trained by reconbench (its spec has no trainer)")
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
    return Path(str(importlib.import_module(package).__file__)).resolve().parent / folder


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
