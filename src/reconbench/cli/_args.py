"""Arguments that several commands share, defined once: the run folder, --protocol, --dataset and
--object-list, the ground truth of evaluate and evaluate-views, --lpips, method names; argument types
(comma-separated lists, positive numbers, GPU=FACTOR); and how the options that need the library are
resolved. Imports nothing heavy at module level: parsers are built before any command runs."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconbench.errors import ReconbenchError

if TYPE_CHECKING:
    from reconbench.protocol import Evaluation, Protocol


class UsageError(ReconbenchError):
    """Arguments that do not fit together."""


# ---------------------------------------------------------------- argument types


def _positive(convert: Callable[[str], Any], what: str, text: str) -> Any:
    try:
        value = convert(text)
    except ValueError:
        value = 0
    if not value > 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"expected a positive {what}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1."""
    return _positive(int, "integer", text)


def positive_float(text: str) -> float:
    """A number > 0."""
    return _positive(float, "number", text)


def names(text: str) -> list[str]:
    """A comma-separated list of names (empty items dropped); at least one."""
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise argparse.ArgumentTypeError(f"expected NAME,NAME,..., got {text!r}")
    return items


def integers(text: str) -> list[int]:
    """A comma-separated list of integers."""
    try:
        return [int(item) for item in names(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N,N,... (integers), got {text!r}") from None


def positive_integers(text: str) -> list[int]:
    """A comma-separated list of integers >= 1."""
    values = integers(text)
    if any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive integers N,N,..., got {text!r}")
    return values


def gpu_factor(text: str) -> tuple[str, float]:
    """GPU=POSITIVE_NUMBER, the GPU name made canonical (cost.model.gpu_type: "NVIDIA H100 80GB" -> "H100")."""
    from reconbench.cost.model import gpu_type

    name, sep, value = text.rpartition("=")
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not sep or not name or number <= 0:
        raise argparse.ArgumentTypeError(f"expected GPU=POSITIVE_NUMBER, got {text!r}")
    return gpu_type(name), number


def lpips_choice(text: str) -> tuple[str, ...]:
    """alex | vgg | alex,vgg | none (the empty tuple: LPIPS off)."""
    return () if text.strip() == "none" else tuple(names(text))


# ---------------------------------------------------------------- shared arguments


def add_run_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", metavar="RUN_DIR", type=Path, help="a run folder holding results.sqlite")


def add_protocol(p: argparse.ArgumentParser, what: str = "protocol") -> None:
    p.add_argument(
        "--protocol",
        default="default",
        metavar="NAME",
        help=f"{what}: a preset name (see `reconbench protocols`) or a JSON file (default: default)",
    )


def dataset_specs() -> str:
    """Every dataset spec, from the sources themselves (datasets/sources.py), e.g. 'procedural | gso:PATH'."""
    from reconbench.datasets.sources import SOURCES

    return " | ".join(f"{name}:PATH" if source["needs_path"] else name for name, source in SOURCES.items())


def add_dataset(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument(
        "--dataset",
        required=required,
        metavar="SPEC",
        help=f"{dataset_specs()} (see `reconbench datasets`)",
    )
    p.add_argument(
        "--object-list",
        metavar="LIST",
        help="file of object ids (or the name of a shipped list, e.g. gso30-syncdreamer)",
    )


def add_ground_truth(p: argparse.ArgumentParser) -> None:
    """--gt PATH [--gt-frame F] or --dataset SPEC --object ID [--object-list L] (resolved by ground_truth_object)."""
    p.add_argument("--gt", metavar="PATH", help="ground-truth mesh file (normalised like dataset objects)")
    p.add_argument("--gt-frame", default="y-up", metavar="FRAME", help="frame of the --gt file (default y-up)")
    add_dataset(p, required=False)
    p.add_argument("--object", metavar="ID", help="with --dataset: the ground-truth object")


def add_lpips(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--lpips",
        type=lpips_choice,
        default=None,
        metavar="NETS",
        help="LPIPS backbones: alex, vgg, alex,vgg or none (default: the protocol's, alex for reconbench's own, "
        "vgg for gso30-syncdreamer)",
    )


def add_other_set(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--other-set",
        choices=["all", "geometry"],
        default=None,
        help="the set that is not the headline (before alignment, for reconbench's presets): all its metrics, or only "
        "the geometric ones (default: the protocol's, geometry; docs/metrics.md)",
    )


def add_align(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--align",
        default=None,
        metavar="MODE",
        help="refinement after the frame conversion: none | icp | search (default: the protocol's, icp for "
        "reconbench's own)",
    )


def add_throughput(p: argparse.ArgumentParser) -> None:
    from reconbench.cost.published import REFERENCE_GPU

    p.add_argument(
        "--throughput",
        action="append",
        type=gpu_factor,
        default=[],
        metavar="GPU=FACTOR",
        help=f"work per hour of a GPU type relative to {REFERENCE_GPU}, replacing the datasheet ratio (repeatable), "
        "e.g. --throughput H100=2",
    )


def add_methods(p: argparse.ArgumentParser, *, required: bool, default_text: str = "") -> None:
    p.add_argument(
        "--methods",
        type=names,
        required=required,
        metavar="M,M",
        help="comma-separated method names (see `reconbench methods`)"
        + (f"; default: {default_text}" if default_text else ""),
    )


def add_method_names(p: argparse.ArgumentParser, *, from_bundle: bool) -> None:
    """Positional METHOD... (install, fetch-weights, bundle)."""
    p.add_argument(
        "methods",
        nargs="*" if from_bundle else "+",
        metavar="METHOD",
        help="method names (see `reconbench methods`)"
        + ("; with --from-bundle, default: every method in the bundle" if from_bundle else ""),
    )


# ---------------------------------------------------------------- resolving them


def evaluation_of(protocol: Protocol) -> Evaluation:
    """The scoring settings of a protocol (every preset and protocol file has them)."""
    if protocol.evaluation is None:
        raise UsageError(f"protocol {protocol.name!r} has no evaluation settings")
    return protocol.evaluation


def lpips_nets(option: tuple[str, ...] | None, protocol: Protocol) -> tuple[str, ...]:
    """The LPIPS backbones of `--lpips` (None: the protocol's), checked before any work."""
    from reconbench.evaluation import check_lpips

    nets = tuple(evaluation_of(protocol).lpips_nets) if option is None else option
    try:
        check_lpips(nets)
    except Exception as exc:
        raise UsageError(f"{exc} (or pass --lpips none)") from exc
    return nets


def check_ground_truth_source(args: argparse.Namespace, *, ref: bool = False) -> None:
    """Exactly one of --gt, --dataset (and --ref where the command has it); --dataset needs --object."""
    given = [bool(args.gt), bool(args.dataset)] + ([bool(args.ref)] if ref else [])
    if sum(given) != 1:
        raise UsageError(
            "give the reference either as --ref DIR, as --gt PATH, or as --dataset SPEC --object ID"
            if ref
            else "give the ground truth either as --gt PATH or as --dataset SPEC --object ID"
        )
    if args.dataset and not args.object:
        raise UsageError("--dataset needs --object ID")


def ground_truth_object(args: argparse.Namespace) -> Any:
    """The ground-truth object of `--gt PATH [--gt-frame F]` or `--dataset SPEC --object ID [--object-list L]`."""
    from reconbench.datasets import DatasetObject, open_dataset

    if args.gt:
        return DatasetObject(Path(args.gt).stem, "unknown", Path(args.gt), frame=args.gt_frame)
    return open_dataset(args.dataset, args.object_list).get(args.object)


def method_specs(args: argparse.Namespace) -> list[Any]:
    """The specs named on the command line, else (with --from-bundle) every method in the bundle."""
    from reconbench.registry import get_method

    chosen = list(args.methods)
    if not chosen and getattr(args, "from_bundle", None):
        from reconbench.upstream.envs.bundle import read_bundle

        chosen = sorted(read_bundle(args.from_bundle, check_files=False).get("methods", {}))
    if not chosen:
        raise UsageError("name at least one METHOD (or give --from-bundle DIR)")
    return [get_method(name) for name in chosen]  # an unknown name fails before anything is built
