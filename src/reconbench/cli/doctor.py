"""`reconbench doctor`: per upstream method, built / weights / ran / output valid / time (or --preflight)."""

from __future__ import annotations

import argparse
from pathlib import Path

from reconbench.cli._args import add_methods, add_protocol

DESCRIPTION = (
    "For each method (default: every upstream adapter): build its environment, fetch its weights, run it on the "
    "first procedural object and score the output. Writes OUT/doctor.json; exit 1 if any method is not usable. "
    "--preflight only checks each adapter's spec against its upstream source: no build, no weights, no GPU "
    "(docs/adapters.md)."
)
EXAMPLES = """
reconbench doctor --methods triposr,lgm --out doctor-out
reconbench doctor --preflight                              # every adapter against its installed checkout
reconbench doctor --preflight --methods triposr --source ~/src/TripoSR
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_methods(p, required=False, default_text="every upstream adapter")
    p.add_argument("--out", default="doctor-out", help="folder for the runs and doctor.json (default: doctor-out)")
    add_protocol(p, "protocol of the test run (the default preset has one input view)")
    p.add_argument("--no-install", action="store_true", help="do not build missing environments, only check")
    p.add_argument("--no-fetch", action="store_true", help="do not download missing weights, only check")
    p.add_argument(
        "--warm-inputs",
        type=int,
        default=3,
        metavar="N",
        help=(
            "for methods that take several inputs in one process: time N objects in one run (cold and warm; default 3, "
            "0 = off)"
        ),
    )
    p.add_argument(
        "--preflight",
        action="store_true",
        help="only check each adapter's spec against its upstream source (flags, config keys, stage markers, "
        "weights, output path, imported modules): no build, no weights, no GPU (docs/adapters.md)",
    )
    p.add_argument(
        "--source", metavar="DIR", help="with --preflight: the upstream checkout to read (default: the installed one)"
    )


def run(args: argparse.Namespace) -> int:
    from reconbench.doctor import format_table, run_doctor

    if args.preflight:  # static checks against the upstream source only: no build, no weights, no GPU
        from reconbench.doctor import run_preflight
        from reconbench.upstream.preflight import format_report

        checks = run_preflight(args.methods, Path(args.source) if args.source else None, Path(args.out))
        print(format_report(checks))
        print(f"\ndetails: {Path(args.out) / 'preflight.json'}")
        return 0 if all(c.ok for c in checks) else 1

    results = run_doctor(
        args.methods,
        Path(args.out),
        protocol=args.protocol,
        install=not args.no_install,
        fetch=not args.no_fetch,
        warm_inputs=args.warm_inputs,
    )
    print(format_table(results))
    print(f"\ndetails: {Path(args.out) / 'doctor.json'}")
    return 0 if all(r.ok for r in results) else 1
