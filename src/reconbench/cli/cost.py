"""`reconbench cost RUN_DIR`: cost per asset over asset volumes and the break-even volumes of a run."""

from __future__ import annotations

import argparse
import json

from reconbench.cli._args import add_run_dir, add_throughput, gpu_factor, positive_float, positive_int
from reconbench.cost import published
from reconbench.cost.model import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_VOLUMES,
    PRIOR_MODES,
    CostLine,
    CostReport,
    GPUHours,
    MethodCost,
    Pricing,
    cost_report,
    user_hours,
)

DESCRIPTION = (
    "Cost per asset at volume N = training GPU-hours / N + per-asset GPU-hours measured by the run (warm work + "
    "cold-start overhead / batch size), in GPU-hours and USD, and the volume above which each feed-forward method is "
    "cheaper per asset than each per-scene method (docs/cost.md)."
)
EXAMPLES = """
reconbench cost runs/gso30 --price H100=2.5 --volumes 1,100,10000,1000000
reconbench cost runs/gso30 --measured-on A100-80GB --training-gpu-hours triposr=1000:1500@A100-80GB --json
reconbench cost runs/cpu --cpu-as H100=0.01 --reach psnr=18 --reach fscore
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_run_dir(p)
    p.add_argument(
        "--price",
        action="append",
        type=gpu_factor,
        default=[],
        metavar="GPU=USD_PER_HOUR",
        help="price of one GPU-hour on a GPU type (repeatable), e.g. --price H100=2.5",
    )
    p.add_argument(
        "--provider",
        default=published.DEFAULT_PROVIDER,
        choices=sorted(published.PRICES),
        help=f"default price table (default {published.DEFAULT_PROVIDER})",
    )
    add_throughput(p)
    p.add_argument(
        "--gpu",
        metavar="GPU",
        help="price every GPU-hour as hours on this GPU type (converted by throughput); "
        "default: each on the type it was spent on",
    )
    p.add_argument(
        "--volumes",
        type=_volumes,
        default=DEFAULT_VOLUMES,
        metavar="N,N,...",
        help="asset volumes (default 1,10,...,1e7)",
    )
    p.add_argument(
        "--training-gpu-hours",
        action="append",
        type=_training,
        default=[],
        metavar="METHOD=H[:H][@GPU]",
        help=f"training GPU-hours of a method (a per-scene method: of its prior), one value or low:high, "
        f"in {published.REFERENCE_GPU} hours unless @GPU (repeatable)",
    )
    p.add_argument(
        "--prior",
        choices=PRIOR_MODES,
        default="sunk",
        help=(
            "per-scene methods: count the training of their diffusion prior or treat it as sunk; both are shown "
            "(default sunk)"
        ),
    )
    p.add_argument(
        "--batch-size",
        type=positive_int,
        default=DEFAULT_BATCH_SIZE,
        metavar="B",
        help=f"assets per process start, over which the cold-start overhead is spread (default {DEFAULT_BATCH_SIZE})",
    )
    p.add_argument(
        "--measured-on",
        metavar="GPU",
        help="the GPU type the run's times stand for (required to price times measured on a CPU)",
    )
    p.add_argument(
        "--reach",
        action="append",
        type=_metric_target,
        default=[],
        metavar="METRIC[=VALUE]",
        help="per-scene methods with an anytime curve: optimisation time to first reach this fidelity, "
        "e.g. --reach psnr=18 or --reach chamfer=0.03; without a value (--reach fscore), the break-even of "
        "each feed-forward / per-scene pair at the feed-forward method's mean fidelity (repeatable)",
    )
    p.add_argument(
        "--cpu-as",
        type=gpu_factor,
        metavar="GPU=FACTOR",
        help="convert CPU-hours of the run's machine into GPU-hours: one CPU-hour = FACTOR hours on GPU. "
        "Without it CPU and GPU hours are never mixed",
    )
    p.add_argument("--cpu-price", type=positive_float, metavar="USD", help="price of one CPU-hour of the run's machine")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")


def run(args: argparse.Namespace) -> int:
    from reconbench.results import load_run

    loaded = load_run(args.run_dir)  # no run folder, or a record this version cannot read: a one-line error
    records = loaded.records
    pricing = Pricing.default(
        args.provider, dict(args.price), dict(args.throughput), args.gpu, args.cpu_as, args.cpu_price
    )
    report = cost_report(
        records,
        paradigms=dict(loaded.meta.paradigms),
        volumes=args.volumes,
        batch_size=args.batch_size,
        prior=args.prior,
        pricing=pricing,
        training_overrides=dict(args.training_gpu_hours),
        measured_on=args.measured_on,
    )
    from reconbench.cost.reach import format_quality, format_reach, quality_break_even, time_to_reach

    reach = [time_to_reach(records, metric, value) for metric, value in args.reach if value is not None]
    quality = [q for metric, value in args.reach if value is None for q in quality_break_even(records, report, metric)]
    if args.json:
        as_dict = [
            {**q, "break_even": {**q["break_even"].__dict__, "text": q["break_even"].describe()}}
            if "break_even" in q
            else q
            for q in quality
        ]
        print(json.dumps({**report.to_dict(), "reach": reach, "quality_break_even": as_dict}, indent=1))
    else:
        print(format_report(report, str(args.run_dir)))
        for result in reach:
            print(format_reach(result))
        if any(value is None for _, value in args.reach):
            print(format_quality(quality))
    return 0


def _metric_target(text: str) -> tuple[str, float | None]:
    name, sep, value = text.partition("=")
    if not name.strip():
        raise argparse.ArgumentTypeError(f"expected METRIC or METRIC=VALUE, got {text!r}")
    if not sep:
        return name.strip(), None
    try:
        return name.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None


# ---------------------------------------------------------------- text output


def format_report(report: CostReport, title: str = "") -> str:
    """The per-method table, the cost-per-asset tables in GPU-hours and USD, the break-even lines, the notes."""
    other = [m for m in PRIOR_MODES if m != report.prior][0]
    pricing = report.pricing
    prices = ", ".join(f"{g} ${v:g}/h" for g, v in sorted(pricing.prices.items()))
    where = (
        f"every GPU-hour priced on {pricing.target}"
        if pricing.target
        else "each GPU-hour priced on the type it was spent on"
    )
    out = [
        f"Cost per asset{': ' + title if title else ''}",
        f"cost(N) = training / N + per-asset, in device-hours (CPU-hours of the run's machine, or GPU-hours) or USD; "
        f"per-asset = warm + cold / {report.batch_size} (batch size); "
        f"per-scene prior {report.prior} (also shown {other})",
        f"prices ({pricing.provider}): {prices}; {where}",
        "",
        f"{'method':22s} {'paradigm':13s} {'done':>4s} {'device':10s} {'warm s':>9s} {'cold s':>9s} "
        f"{'per-asset s':>12s}  training device-h [range] (device)",
    ]
    for m in report.methods.values():
        t = m.timing
        device = "-" if t is None else (f"{t.device} x{t.gpu_count}" if t.on_gpu else "CPU")
        kind = "GPU-s" if t is not None and t.on_gpu else "CPU-s"
        per_asset = "-" if m.per_asset_s is None else f"{_fmt(m.per_asset_s)} {kind}"
        out.append(
            f"{m.method:22s} {m.paradigm:13s} {t.n if t else 0:4d} {device:10s} {_fmt(t.warm_s) if t else '-':>9s} "
            f"{_fmt(t.cold_s) if t else '-':>9s} {per_asset:>12s}  {_training_text(m)}"
        )
    units = [("gpu_h", f"{report.unit_gpu} GPU-hours"), ("usd", "USD")]
    if any(m.lines[report.prior]["cpu_h"].per_asset is not None for m in report.methods.values()):
        units.insert(0, ("cpu_h", "CPU-hours of the run's machine"))
    for unit, label in units:
        if all(m.lines[mode][unit].per_asset is None for m in report.methods.values() for mode in PRIOR_MODES):
            out += [
                "",
                f"Cost per asset in {label}: n/a for every method (no per-asset time in this unit; see the notes)",
            ]
            continue
        out += ["", f"Cost per asset in {label} at N assets ('>=' = per-asset part only: training cost unknown)"]
        out.append(f"{'method':34s}" + "".join(f"{_volume(n):>11s}" for n in report.volumes))
        for m in report.methods.values():
            modes = [report.prior, other] if m.paradigm == "per-scene" else [report.prior]
            for mode in modes:
                label_row = m.method if mode == report.prior else f"{m.method} [prior {mode}]"
                line = m.lines[mode][unit]
                out.append(f"{label_row:34s}" + "".join(f"{_cell(line, n):>11s}" for n in report.volumes))
    out += ["", "Break-even, feed-forward vs per-scene (N* in assets; range from the training-cost ranges)"]
    if not report.break_evens:
        out.append("  none: the run needs at least one feed-forward and one per-scene method")
    for pair in report.break_evens:
        out.append(f"  {pair.feed_forward} vs {pair.per_scene}")
        for mode in (report.prior, other):
            out.append(f"    prior {mode + ':':9s} {pair.by_prior[mode].describe()}")
    sources = [(m.method, m.training) for m in report.methods.values() if m.paradigm != "reference"]
    if sources:
        out += ["", "Training figures"]
        out += [f"  {name}: {h.source}" + (f" ({h.note})" if h.note else "") for name, h in sources]
    notes = report.notes + [f"{m.method}: {n}" for m in report.methods.values() for n in m.notes]
    if notes:
        out += ["", "Notes"] + [f"  - {n}" for n in notes]
    return "\n".join(out)


def _training_text(m: MethodCost) -> str:
    h = m.training
    if m.paradigm == "reference":
        return "none (reference method)"
    prefix = f"prior {m.prior or '(unnamed)'}: " if m.paradigm == "per-scene" else ""
    if not h.known:
        return prefix + "unknown"
    span = f" [{_hours(h.low)}-{_hours(h.high)}]" if h.low != h.high else ""
    return f"{prefix}{_hours(h.value)}{span} ({h.gpu or '?'})"


def _cell(line: CostLine, n: float) -> str:
    value = line.at(n)
    if value is not None:
        return _fmt(value)
    return f">={_fmt(line.per_asset)}" if line.per_asset is not None else "n/a"


def _fmt(x: float) -> str:
    return "0" if x == 0 else f"{x:.3g}"


def _hours(x: float | None) -> str:
    return "?" if x is None else (f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}")


def _volume(n: float) -> str:
    return f"{n:,.0f}" if n < 1e6 else f"{n:.0e}"


# ---------------------------------------------------------------- argument types


def _volumes(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        values = ()
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive asset volumes N,N,..., got {text!r}")
    return tuple(int(v) if v.is_integer() else v for v in values)


def _training(text: str) -> tuple[str, GPUHours]:
    method, sep, rest = text.partition("=")
    hours, _, gpu = rest.partition("@")
    low, _, high = hours.partition(":")
    try:
        figure = user_hours(float(low), float(high) if high else None, gpu or published.REFERENCE_GPU)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected METHOD=H[:H][@GPU], got {text!r} ({exc})") from None
    if not sep or not method:
        raise argparse.ArgumentTypeError(f"expected METHOD=H[:H][@GPU], got {text!r}")
    return method, figure
