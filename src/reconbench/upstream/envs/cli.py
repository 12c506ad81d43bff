"""`reconbench install METHOD...`, `reconbench fetch-weights METHOD...` and `reconbench bundle METHOD... --out DIR`
(docs/environments.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_parsers(subparsers: Any) -> None:
    """Add the `install` and `fetch-weights` subcommands to an argparse subparsers object."""
    p = subparsers.add_parser(
        "install",
        help="build the environment of upstream methods (a venv in the cache, or a Docker image)",
        description="Clone each method's upstream repository at its pinned commit and build its environment from the "
        "recipe in its spec: a virtual environment in $RECONBENCH_CACHE/envs (venv backend), a Docker image "
        "(docker backend) or an Apptainer SIF image (apptainer backend). Idempotent: a built environment is reused; "
        "the build log is kept either way.",
    )
    p.add_argument(
        "methods",
        nargs="*",
        metavar="METHOD",
        help="method names (see `reconbench methods`); with --from-bundle, default: every method in the bundle",
    )
    p.add_argument(
        "--backend",
        choices=["venv", "docker", "apptainer"],
        default=None,
        help="environment backend (default: $RECONBENCH_BACKEND, else venv)",
    )
    p.add_argument(
        "--rebuild",
        action="store_true",
        help="build again from scratch even if built (in place: not while a run uses it)",
    )
    p.add_argument(
        "-v", "--verbose", action="store_true", help="stream the build's output to stderr (it always goes to build.log)"
    )
    p.add_argument(
        "--no-preflight",
        action="store_true",
        help="do not check the spec against the checked-out source after building (reconbench doctor --preflight)",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--from-bundle",
        metavar="DIR",
        help="build without network from an offline bundle made by `reconbench bundle` (venv backend), "
        "and copy its weights into the caches",
    )
    where.add_argument(
        "--source",
        metavar="DIR",
        help="use this local checkout of the upstream repository (it must be at the pinned commit, "
        "without local changes) instead of cloning it (one method)",
    )
    p.set_defaults(func=cmd_install)

    p = subparsers.add_parser(
        "bundle",
        help="gather upstream code, packages and weights of methods into a folder, for clusters without internet",
        description="On a machine with network: put into DIR a git bundle of each method's upstream repository at the "
        "pinned commit, archives of the recipe's git requirements, the wheels for the target Python and platform "
        "(pip download; sdists where no wheel exists, listed in the manifest) and the weights, with manifest.json "
        "(every file's sha256). Copy DIR to the cluster and run `reconbench install --from-bundle DIR` there.",
    )
    p.add_argument("methods", nargs="+", metavar="METHOD", help="method names (see `reconbench methods`)")
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
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="stream git and pip output to stderr (it always goes to bundle.log)",
    )
    p.set_defaults(func=cmd_bundle)

    p = subparsers.add_parser(
        "fetch-weights",
        help="download the weights of methods into the local caches, so runs work offline",
        description="Fill the Hugging Face cache (HF_HUB_CACHE / HF_HOME) and $RECONBENCH_CACHE/weights with every "
        "weight the methods declare; what is cached already is skipped. Runs then set HF_HUB_OFFLINE=1.",
    )
    p.add_argument(
        "methods",
        nargs="*",
        metavar="METHOD",
        help="method names (see `reconbench methods`); with --from-bundle, default: every method in the bundle",
    )
    p.add_argument("--no-progress", action="store_true", help="no download progress bars")
    p.add_argument(
        "--from-bundle", metavar="DIR", help="copy the weights from an offline bundle instead of downloading"
    )
    p.set_defaults(func=cmd_fetch_weights)


def _methods(args: argparse.Namespace) -> list[Any]:
    """The specs named on the command line, else (with --from-bundle) every method in the bundle."""
    from reconbench.registry import get_method

    names = list(args.methods)
    if not names and getattr(args, "from_bundle", None):
        from reconbench.upstream.envs.bundle import read_bundle

        names = sorted(read_bundle(args.from_bundle, check_files=False).get("methods", {}))
    if not names:
        print("reconbench: error: name at least one METHOD (or give --from-bundle DIR)", file=sys.stderr)
        raise SystemExit(2)
    return [get_method(name) for name in names]  # an unknown name fails before anything is built


def cmd_install(args: argparse.Namespace) -> int:
    from reconbench.upstream.envs import EnvironmentBuildError, get_backend
    from reconbench.upstream.envs.bundle import BundleError, install_weights, local_sources, method_entry, read_bundle
    from reconbench.upstream.envs.sources import LocalSources

    specs = _methods(args)
    backend = get_backend(args.backend)
    local = args.from_bundle or args.source
    if local and backend.name != "venv":
        print(
            f"reconbench: error: --from-bundle / --source build venv environments only (build a {backend.name} "
            f"image where the network is reachable, then copy it)",
            file=sys.stderr,
        )
        return 2
    if args.source and len(specs) != 1:
        print(
            "reconbench: error: --source is the checkout of one method's repository: name exactly one METHOD",
            file=sys.stderr,
        )
        return 2
    manifest = None
    if args.from_bundle:
        try:
            manifest = read_bundle(args.from_bundle)  # every file's sha256, before anything is built
        except BundleError as exc:
            print(f"reconbench: error: {exc}", file=sys.stderr)
            return 1
    failed = 0
    for spec in specs:
        if not spec.upstream.get("repo"):
            print(f"{spec.name}: runs in-process, needs no environment")
            continue
        entry = None
        if manifest is not None:
            try:
                entry = method_entry(manifest, spec, args.from_bundle)
            except BundleError as exc:
                failed += 1
                print(f"reconbench: error: {exc}", file=sys.stderr)
                continue
            backend.sources = local_sources(args.from_bundle, entry)
        elif args.source:
            backend.sources = LocalSources(checkout=str(args.source))
        if entry is not None:
            try:
                for label in install_weights(args.from_bundle, entry, spec):
                    print(f"{spec.name}: weight from the bundle: {label}")
            except BundleError as exc:
                failed += 1
                print(f"reconbench: error: {exc}", file=sys.stderr)
                continue
        folder = backend.env_dir(spec)
        if not args.rebuild and backend.is_built(spec):
            print(f"{spec.name}: already built ({backend.name}) in {folder}")
            continue
        print(
            f"{spec.name}: building the {backend.name} environment in {folder} (log: {backend.log_path(spec)})",
            flush=True,
        )
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
    from reconbench.upstream.preflight import preflight

    repo = checkout_of(spec)
    if repo is None:
        print(
            f"{spec.name}: preflight skipped: the checkout is inside the image; run `reconbench doctor --preflight "
            f"--methods {spec.name} --source <a checkout at {spec.upstream['commit'][:12]}>`"
        )
        return
    result = preflight(spec, repo)
    if result.ok:
        print(f"{spec.name}: preflight against the source passed ({', '.join(result.checks)})")
        return
    print(f"{spec.name}: preflight against the source FAILED (fix before spending GPU time):", file=sys.stderr)
    for line in (
        [result.error] if result.error else [f"  {c}: {f}" for c, r in result.checks.items() for f in r.failures]
    ):
        print(f"  {line}", file=sys.stderr)


def cmd_fetch_weights(args: argparse.Namespace) -> int:
    from reconbench.upstream.envs.weights import WeightsMissing, fetch_weights, missing_weights, weight_items

    specs = _methods(args)
    if args.from_bundle:
        return _weights_from_bundle(specs, args.from_bundle)
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


def _weights_from_bundle(specs: list[Any], folder: str) -> int:
    from reconbench.upstream.envs.bundle import BundleError, install_weights, method_entry, read_bundle

    try:
        manifest = read_bundle(folder)
    except BundleError as exc:
        print(f"reconbench: error: {exc}", file=sys.stderr)
        return 1
    failed = 0
    for spec in specs:
        try:
            copied = install_weights(folder, method_entry(manifest, spec, folder), spec)
        except BundleError as exc:
            failed += 1
            print(f"reconbench: error: {exc}", file=sys.stderr)
            continue
        print(
            f"{spec.name}: "
            + (f"copied {len(copied)} weight(s) from the bundle" if copied else "all weights already cached")
        )
    return 1 if failed else 0


def cmd_bundle(args: argparse.Namespace) -> int:
    from reconbench.upstream.envs import EnvironmentBuildError
    from reconbench.upstream.envs.bundle import BundleError, make_bundle
    from reconbench.upstream.envs.weights import WeightsMissing

    specs = _methods(args)
    try:
        manifest = make_bundle(
            specs, args.out, python=args.python, platform=args.platform, weights=not args.no_weights, echo=args.verbose
        )
    except (BundleError, EnvironmentBuildError, WeightsMissing, ValueError) as exc:
        print(f"reconbench: error: {exc}", file=sys.stderr)
        return 1
    size = sum((Path(args.out) / rel).stat().st_size for rel in manifest["files"])
    print(
        f"bundle {args.out}: {', '.join(s.name for s in specs)}; {len(manifest['files'])} files, {size / 2**20:.1f} "
        f"MiB; "
        f"platform {manifest['platform']}; log {Path(args.out) / 'bundle.log'}"
    )
    if manifest["sdists"]:
        print(
            f"  {len(manifest['sdists'])} source archive(s) (no wheel for the target, or git requirements): built on "
            f"install, so the cluster node needs their compilers: "
            + ", ".join(Path(f).name for f in manifest["sdists"])
        )
    print(f"  on the cluster: reconbench install --from-bundle {args.out}")
    return 0
