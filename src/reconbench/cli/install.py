"""`reconbench install METHOD...`: build the environments of upstream methods (docs/environments.md)."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from reconbench.cli._args import UsageError, add_method_names, method_specs

logger = logging.getLogger(__name__)

DESCRIPTION = (
    "Clone each method's upstream repository at its pinned commit and build its environment from the recipe in its "
    "spec: a virtual environment in $RECONBENCH_CACHE/envs (venv backend), a Docker image (docker backend) or an "
    "Apptainer SIF image (apptainer backend). Idempotent: a built environment is reused; the build log is kept "
    "either way. Then the spec is checked against the checked-out source (reconbench doctor --preflight). -v streams "
    "the build's output to stderr (it always goes to build.log)."
)
EXAMPLES = """
reconbench install triposr lgm
reconbench install triposr --rebuild -v                  # from scratch, streaming the build output
reconbench install triposr --backend docker
reconbench install --from-bundle /shared/bundle          # offline, every method in the bundle
reconbench install triposr --source ~/src/TripoSR        # a local checkout at the pinned commit
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_method_names(p, from_bundle=True)
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


def run(args: argparse.Namespace) -> int:
    from reconbench.upstream.envs import EnvironmentBuildError, get_backend
    from reconbench.upstream.envs.bundle import BundleError, install_weights, local_sources, method_entry, read_bundle
    from reconbench.upstream.envs.sources import LocalSources

    specs = method_specs(args)
    backend = get_backend(args.backend)
    if (args.from_bundle or args.source) and backend.name != "venv":
        raise UsageError(
            f"--from-bundle / --source build venv environments only (build a {backend.name} image where the network "
            "is reachable, then copy it)"
        )
    if args.source and len(specs) != 1:
        raise UsageError("--source is the checkout of one method's repository: name exactly one METHOD")
    # every file's sha256, checked before anything is built
    manifest = read_bundle(args.from_bundle) if args.from_bundle else None
    failed = 0
    for spec in specs:
        if spec.recipe is None:
            print(f"{spec.name}: runs in-process, needs no environment")
            continue
        entry = None
        try:
            if manifest is not None:
                entry = method_entry(manifest, spec, args.from_bundle)
                backend.sources = local_sources(args.from_bundle, entry)
                for label in install_weights(args.from_bundle, entry, spec):
                    print(f"{spec.name}: weight from the bundle: {label}")
            elif args.source:
                backend.sources = LocalSources(checkout=str(args.source))
        except BundleError as exc:  # this method is not (fully) in the bundle; the others are still built
            failed += 1
            logger.error(exc)
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
            logger.error(exc)
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
            f"--methods {spec.name} --source <a checkout at {spec.recipe.upstream.commit[:12]}>`"
        )
        return
    result = preflight(spec, repo)
    if result.ok:
        print(f"{spec.name}: preflight against the source passed ({', '.join(result.checks)})")
        return
    failures = [result.error] if result.error else [f"{c}: {f}" for c, r in result.checks.items() for f in r.failures]
    logger.warning(
        f"{spec.name}: preflight against the source FAILED (fix before spending GPU time):\n"
        + "\n".join(f"  {line}" for line in failures)
    )
