"""`reconbench fetch-weights METHOD...`: the weights of methods into the local caches (docs/environments.md)."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from reconbench.cli._args import add_method_names, method_specs

logger = logging.getLogger(__name__)

DESCRIPTION = (
    "Fill the Hugging Face cache (HF_HUB_CACHE / HF_HOME) and $RECONBENCH_CACHE/weights with every weight the "
    "methods declare; what is cached already is skipped. Runs then set HF_HUB_OFFLINE=1."
)
EXAMPLES = """
reconbench fetch-weights triposr lgm
reconbench fetch-weights --from-bundle /shared/bundle     # copy them from an offline bundle instead
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_method_names(p, from_bundle=True)
    p.add_argument("--no-progress", action="store_true", help="no download progress bars")
    p.add_argument(
        "--from-bundle", metavar="DIR", help="copy the weights from an offline bundle instead of downloading"
    )


def run(args: argparse.Namespace) -> int:
    from reconbench.upstream.envs.weights import WeightsMissing, fetch_weights, missing_weights, weight_items

    specs = method_specs(args)
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
        except (WeightsMissing, ValueError) as exc:  # this method's weights; the others are still fetched
            failed += 1
            logger.error(exc)
            continue
        for label in missing:
            print(f"{spec.name}: fetched {label}")
    return 1 if failed else 0


def _weights_from_bundle(specs: list[Any], folder: str) -> int:
    from reconbench.upstream.envs.bundle import BundleError, install_weights, method_entry, read_bundle

    manifest = read_bundle(folder)
    failed = 0
    for spec in specs:
        try:
            copied = install_weights(folder, method_entry(manifest, spec, folder), spec)
        except BundleError as exc:
            failed += 1
            logger.error(exc)
            continue
        print(
            f"{spec.name}: "
            + (f"copied {len(copied)} weight(s) from the bundle" if copied else "all weights already cached")
        )
    return 1 if failed else 0
