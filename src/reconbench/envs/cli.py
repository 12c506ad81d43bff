"""`reconbench install METHOD...` and `reconbench fetch-weights METHOD...` (docs/environments.md)."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parsers(subparsers: Any) -> None:
    """Add the `install` and `fetch-weights` subcommands to an argparse subparsers object."""
    p = subparsers.add_parser(
        "install",
        help="build the environment of upstream methods (a venv in the cache, or a Docker image)",
        description="Clone each method's upstream repository at its pinned commit and build its environment from the "
        "recipe in its spec: a virtual environment in $RECONBENCH_CACHE/envs (venv backend), a Docker image "
        "(docker backend) or an Apptainer SIF image (apptainer backend). Idempotent: a built environment is reused; the build log is kept either way.",
    )
    p.add_argument("methods", nargs="+", metavar="METHOD", help="method names (see `reconbench methods`)")
    p.add_argument("--backend", choices=["venv", "docker", "apptainer"], default=None,
                   help="environment backend (default: $RECONBENCH_BACKEND, else venv)")
    p.add_argument("--rebuild", action="store_true", help="build again from scratch even if built (in place: not while a run uses it)")
    p.add_argument("-v", "--verbose", action="store_true", help="stream the build's output to stderr (it always goes to build.log)")
    p.add_argument("--no-preflight", action="store_true",
                   help="do not check the spec against the checked-out source after building (reconbench doctor --preflight)")
    p.set_defaults(func=cmd_install)

    p = subparsers.add_parser(
        "fetch-weights",
        help="download the weights of methods into the local caches, so runs work offline",
        description="Fill the Hugging Face cache (HF_HUB_CACHE / HF_HOME) and $RECONBENCH_CACHE/weights with every "
        "weight the methods declare; what is cached already is skipped. Runs then set HF_HUB_OFFLINE=1.",
    )
    p.add_argument("methods", nargs="+", metavar="METHOD", help="method names (see `reconbench methods`)")
    p.add_argument("--no-progress", action="store_true", help="no download progress bars")
    p.set_defaults(func=cmd_fetch_weights)


def cmd_install(args: argparse.Namespace) -> int:
    from reconbench.envs import EnvironmentBuildError, get_backend
    from reconbench.methods import get_method

    specs = [get_method(name) for name in args.methods]  # an unknown name fails before anything is built
    backend = get_backend(args.backend)
    failed = 0
    for spec in specs:
        if not spec.upstream.get("repo"):
            print(f"{spec.name}: runs in-process, needs no environment")
            continue
        folder = backend.env_dir(spec)
        if not args.rebuild and backend.is_built(spec):
            print(f"{spec.name}: already built ({backend.name}) in {folder}")
            continue
        print(f"{spec.name}: building the {backend.name} environment in {folder} (log: {backend.log_path(spec)})", flush=True)
        try:
            env = backend.build(spec, rebuild=args.rebuild, echo=args.verbose)
        except (EnvironmentBuildError, ValueError) as exc:
            failed += 1
            print(f"reconbench: error: {exc}", file=sys.stderr)
            continue
        where = f"image {env.image}, " if env.image else ""
        print(f"{spec.name}: built ({backend.name}): {where}folder {folder}, build log {backend.log_path(spec)}")
        if not args.no_preflight:
            _report_preflight(spec)
    return 1 if failed else 0


def _report_preflight(spec: Any) -> None:
    """The preflight of a freshly built method against its checkout; a warning, not a build failure."""
    from reconbench.doctor import checkout_of
    from reconbench.methods.external.preflight import preflight

    repo = checkout_of(spec)
    if repo is None:
        print(f"{spec.name}: preflight skipped: the checkout is inside the image; run `reconbench doctor --preflight "
              f"--methods {spec.name} --source <a checkout at {spec.upstream['commit'][:12]}>`")
        return
    result = preflight(spec, repo)
    if result.ok:
        print(f"{spec.name}: preflight against the source passed ({', '.join(result.checks)})")
        return
    print(f"{spec.name}: preflight against the source FAILED (fix before spending GPU time):", file=sys.stderr)
    for line in [result.error] if result.error else [f"  {c}: {f}" for c, r in result.checks.items() for f in r.failures]:
        print(f"  {line}", file=sys.stderr)


def cmd_fetch_weights(args: argparse.Namespace) -> int:
    from reconbench.envs.weights import WeightsMissing, fetch_weights, missing_weights, weight_items
    from reconbench.methods import get_method

    specs = [get_method(name) for name in args.methods]
    failed = 0
    for spec in specs:
        try:
            if not weight_items(spec):
                print(f"{spec.name}: declares no weights")
                continue
            missing = missing_weights(spec)
            if not missing:
                print(f"{spec.name}: all {len(weight_items(spec))} weight(s) already cached")
                continue
            fetch_weights(spec, progress=not args.no_progress)
        except (WeightsMissing, ValueError) as exc:
            failed += 1
            print(f"reconbench: error: {exc}", file=sys.stderr)
            continue
        for label in missing:
            print(f"{spec.name}: fetched {label}")
    return 1 if failed else 0
