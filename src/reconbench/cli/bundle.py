"""`reconbench bundle METHOD... --out DIR`: an offline bundle of upstream code, packages and weights
(docs/environments.md, docs/cluster.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from reconbench.cli._args import UsageError, add_method_names, method_specs

DESCRIPTION = (
    "On a machine with network: put into DIR a git bundle of each method's upstream repository at the pinned commit, "
    "archives of the recipe's git requirements, the wheels for the target Python and platform (pip download; sdists "
    "where no wheel exists, listed in the manifest) and the weights, with manifest.json (every file's sha256). Copy "
    "DIR to the cluster and run `reconbench install --from-bundle DIR` there. -v streams git and pip output to "
    "stderr (it always goes to bundle.log)."
)
EXAMPLES = """
reconbench bundle triposr lgm --out /shared/bundle
reconbench bundle triposr --out bundle --python 3.10 --platform manylinux2014_x86_64 --no-weights
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_method_names(p, from_bundle=False)
    p.add_argument(
        "--out", required=True, metavar="DIR", help="the bundle folder (created; an existing bundle is added to)"
    )
    p.add_argument("--python", metavar="X.Y", help="target Python (default: each recipe's own)")
    p.add_argument(
        "--platform",
        metavar="TAG",
        help="target wheel platform, e.g. manylinux2014_x86_64 (default: this machine's; with a platform or "
        "another Python than this one only wheels are taken)",
    )
    p.add_argument("--no-weights", action="store_true", help="leave the weights out")


def run(args: argparse.Namespace) -> int:
    from reconbench.upstream.envs.bundle import make_bundle

    specs = method_specs(args)
    try:
        manifest = make_bundle(
            specs, args.out, python=args.python, platform=args.platform, weights=not args.no_weights, echo=args.verbose
        )
    except ValueError as exc:  # a spec that cannot be bundled (an in-process method, a malformed recipe)
        raise UsageError(str(exc)) from exc
    size = sum((Path(args.out) / rel).stat().st_size for rel in manifest["files"])
    print(
        f"bundle {args.out}: {', '.join(s.name for s in specs)}; {len(manifest['files'])} files, {size / 2**20:.1f} "
        f"MiB; platform {manifest['platform']}; log {Path(args.out) / 'bundle.log'}"
    )
    if manifest["sdists"]:
        print(
            f"  {len(manifest['sdists'])} source archive(s) (no wheel for the target, or git requirements): built on "
            f"install, so the cluster node needs their compilers: "
            + ", ".join(Path(f).name for f in manifest["sdists"])
        )
    print(f"  on the cluster: reconbench install --from-bundle {args.out}")
    return 0
