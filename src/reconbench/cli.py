"""The `reconbench` command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from reconbench import __version__
from reconbench.errors import ReconbenchError


def _add_dataset_args(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument(
        "--dataset",
        required=required,
        metavar="SPEC",
        help="procedural | folder:PATH | gso:PATH | omniobject3d:PATH | objaverse:PATH",
    )
    p.add_argument(
        "--object-list",
        metavar="LIST",
        help="file of object ids (or the name of a shipped list, e.g. gso30-syncdreamer)",
    )


def cmd_protocols(args: argparse.Namespace) -> int:
    from reconbench.protocol import get_protocol, protocol_names

    for name in protocol_names():
        p = get_protocol(name)
        w, h = p.resolution
        print(
            f"{name:26s} {len(p.input_cameras)} input, {len(p.heldout_cameras):2d} held-out, {w}x{h}, lighting "
            f"{p.lighting.name}"
        )
        if args.verbose:
            ev = p.evaluation
            print(f"    {p.description}\n    source: {p.source}\n    scoring: {ev.label()}")
            print(
                f"    geometry: {ev.chamfer} Chamfer, F-score at {', '.join(f'{t:g}' for t in ev.fscore_thresholds)} "
                f"(x{ev.length_unit:g} units), volume grid {ev.volume['grid']}, alignment {ev.alignment}; "
                f"SSIM {ev.ssim}, LPIPS {', '.join(ev.lpips_nets)}"
            )
    return 0


def cmd_datasets(args: argparse.Namespace) -> int:
    from reconbench.datasets import SOURCES, open_dataset

    if not args.dataset:
        for name, src in SOURCES.items():
            usage = f"{name}:PATH" if src["needs_path"] else name
            print(f"{usage:20s} {src['description']}  [frame {src['frame']}]")
        return 0
    dataset = open_dataset(args.dataset, args.object_list)
    print(f"{dataset.spec}: {len(dataset)} objects in {len(dataset.categories)} categories")
    failures = 0
    for obj in dataset:
        line = f"  {obj.id:24s} {obj.category:16s} {obj.path}"
        if args.check:
            try:
                mesh = obj.load()
                line += f"  ok, {mesh.n_faces} faces, {len(mesh.parts)} parts" + "".join(
                    f"\n    warning: {w}" for w in mesh.warnings
                )
            except Exception as exc:  # report every object, stop on none
                failures += 1
                line += f"  FAILED: {exc}"
        print(line)
    for problem in dataset.problems:
        print(f"  skipped: {problem}")
    return 1 if failures or (args.check and dataset.problems) else 0


def cmd_render(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from reconbench.datasets import open_dataset, parse_spec
    from reconbench.protocol import get_protocol
    from reconbench.render import render_ground_truth, renderer_info
    from reconbench.render.files import write_views
    from reconbench.runner.paths import run_path

    protocol = get_protocol(args.protocol)
    object_list = args.object_list or protocol.default_object_list(parse_spec(args.dataset)[0])
    dataset = open_dataset(args.dataset, object_list)
    for problem in dataset.problems:  # e.g. listed objects the dataset lacks: say which, and how to map them
        print(f"reconbench: {problem}", file=sys.stderr)
    objects = dataset.select([args.object] if args.object else None, limit=args.limit).objects
    if not objects:
        raise UsageError(f"no object of {args.dataset!r} to render")
    out = Path(args.out)
    failed = []
    for obj in tqdm(
        objects, desc=f"render {protocol.name}", unit="object", disable=not sys.stderr.isatty() and not args.progress
    ):
        try:
            mesh = obj.load()
            views = render_ground_truth(mesh, protocol)
        except Exception as exc:  # one bad object is reported; the others are still rendered
            failed.append((obj.id, str(exc)))
            continue
        extra = {
            "object": obj.id,
            "category": obj.category,
            "protocol": protocol.name,
            "lighting": protocol.lighting.name,
            "renderer": renderer_info(),
        }
        write_views(views, run_path(out, obj.id) if not args.object else out, extra)
    done = len(objects) - len(failed)
    print(f"rendered {done} object(s) x {len(protocol.cameras)} views to {out}")
    for object_id, reason in failed:
        print(f"FAILED {object_id}: {reason}", file=sys.stderr)
    return 1 if failed else 0


def lpips_nets(option: str | None, protocol) -> tuple[str, ...]:
    """The LPIPS backbones of `--lpips` (None: the protocol's; "none": off), checked before any work."""
    from reconbench.evaluation import check_lpips

    if option is None:
        nets = tuple(protocol.evaluation.lpips_nets)
    else:
        nets = () if option == "none" else tuple(option.split(","))
    try:
        check_lpips(nets)
    except Exception as exc:
        raise UsageError(f"{exc} (or pass --lpips none)") from exc
    return nets


def ground_truth_object(args: argparse.Namespace):
    """The ground-truth object of `--gt PATH [--gt-frame F]` or `--dataset SPEC --object ID [--object-list L]`."""
    from reconbench.datasets import DatasetObject, open_dataset

    if args.gt:
        return DatasetObject(Path(args.gt).stem, "unknown", Path(args.gt), frame=args.gt_frame)
    return open_dataset(args.dataset, args.object_list).get(args.object)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from reconbench.alignment import ALIGN_MODES
    from reconbench.assets import AssetLoadError, load_asset
    from reconbench.evaluation import evaluate, prepare_ground_truth
    from reconbench.protocol import get_protocol

    if bool(args.gt) == bool(args.dataset):
        raise UsageError("give the ground truth either as --gt PATH or as --dataset SPEC --object ID")
    if args.dataset and not args.object:
        raise UsageError("--dataset needs --object ID")
    protocol = get_protocol(args.protocol)
    args.align = args.align or protocol.evaluation.alignment  # the preset's own unless given
    if args.align not in ALIGN_MODES:
        raise UsageError(f"--align must be one of {', '.join(ALIGN_MODES)}")
    gt_object = ground_truth_object(args)
    nets = lpips_nets(args.lpips, protocol)
    try:
        gt = prepare_ground_truth(gt_object.load(), protocol, lpips_nets=nets)
    except ValueError as exc:  # a ground truth that loads but cannot be scored (it covers no pixel...)
        raise AssetLoadError(gt_object.path, f"ground truth unusable: {exc}") from exc
    pred = load_asset(args.pred)
    warnings = [f"ground truth {w}" for w in gt.mesh.warnings] + [
        f"prediction {w}" for w in getattr(pred, "warnings", ())
    ]
    for warning in warnings:  # scored anyway, e.g. without a texture that is missing or refused
        print(f"reconbench: warning: {warning}", file=sys.stderr)
    try:
        result = evaluate(pred, gt, frame=args.frame, scale=args.scale, align=args.align, lpips_nets=nets)
    except ValueError as exc:  # a degenerate prediction (all points equal, far outside the view...)
        raise AssetLoadError(args.pred, f"prediction unusable: {exc}") from exc
    if args.save_renders:
        from reconbench.render.files import write_views

        write_views(result.renders, args.save_renders, {"prediction": str(args.pred), "protocol": protocol.name})
    if args.json:
        print(
            json.dumps(
                _json_safe({**result.to_dict(), "warnings": warnings, "evaluation": protocol.evaluation.to_dict()}),
                indent=1,
            )
        )
        return 0
    # Without a refinement (--align none) the only set is the unaligned one, whatever the headline.
    headline = "unaligned" if args.align == "none" else protocol.evaluation.headline
    other = "unaligned" if headline == "aligned" else "aligned"
    print(
        f"{args.pred} vs {gt_object.path} | protocol {protocol.name} | frame {args.frame}, scale {args.scale}, align "
        f"{args.align}"
    )
    rows = [k for k in result.metrics if not k.startswith(("unaligned_", "aligned_", "precision_", "recall_"))]
    has_other = any(k.startswith(f"{other}_") for k in result.metrics)
    print(f"{'metric':28s} {headline:>12s}" + (f" {other:>12s}" if has_other else ""))
    for key in rows:
        line = f"{key:28s} {result.metrics[key]:12.4f}"
        if has_other:
            line += f" {result.metrics.get(f'{other}_{key}', float('nan')):12.4f}"
        print(line)
    print("transform (prediction file -> canonical):")
    print(np.array2string(result.alignment.total, precision=4, suppress_small=True))
    for note in result.notes:
        print(f"note: {note}")
    return 0


def _json_safe(value):
    """JSON has no NaN or infinity: they become null (not applicable / identical images)."""
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def cmd_methods(args: argparse.Namespace) -> int:
    from reconbench.methods import get_method, method_names

    specs = [get_method(n) for n in method_names()]
    width = max(len(s.name) for s in specs) + 1
    print(f"{'method':{width}s} {'paradigm':13s} {'output':7s} {'views':9s} {'GPU':4s} {'code':9s} runs here?")
    for spec in specs:
        ok, why = spec.availability()
        views = (
            ",".join(map(str, spec.input_views))
            if len(spec.input_views) < 4
            else f"{min(spec.input_views)}-{max(spec.input_views)}"
        )
        code = "upstream" if spec.is_external else "built-in"
        print(
            f"{spec.name:{width}s} {spec.paradigm:13s} {spec.representation:7s} {views:9s} "
            f"{'yes' if spec.needs_gpu else 'no':4s} {code:9s} {'yes' if ok else 'no: ' + why}"
        )
        if args.verbose:
            print(f"    {spec.description}")
            if spec.is_external:
                print(f"    upstream: {spec.upstream['repo']} @ {spec.upstream['commit']}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from reconbench.doctor import format_table, run_doctor

    if args.preflight:  # static checks against the upstream source only: no build, no weights, no GPU
        from reconbench.doctor import run_preflight
        from reconbench.methods.external.preflight import format_report

        checks = run_preflight(
            args.methods.split(",") if args.methods else None,
            Path(args.source) if args.source else None,
            Path(args.out),
        )
        print(format_report(checks))
        print(f"\ndetails: {Path(args.out) / 'preflight.json'}")
        return 0 if all(c.ok for c in checks) else 1

    results = run_doctor(
        args.methods.split(",") if args.methods else None,
        Path(args.out),
        protocol=args.protocol,
        install=not args.no_install,
        fetch=not args.no_fetch,
        warm_inputs=args.warm_inputs,
    )
    print(format_table(results))
    print(f"\ndetails: {Path(args.out) / 'doctor.json'}")
    return 0 if all(r.ok for r in results) else 1


def cmd_run(args: argparse.Namespace) -> int:
    from reconbench.runner import RunConfig, run_benchmark

    if args.objects and args.limit:
        raise UsageError("give --objects or --limit, not both")
    if args.executor != "ray" and args.ray_address:
        raise UsageError("--ray-address needs --executor ray")
    if args.executor != "local" and args.workers != 1:
        raise UsageError("--workers is for --executor local; a Ray cluster's size is its own")
    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    cfg = RunConfig(
        dataset=args.dataset,
        methods=[m for m in args.methods.split(",") if m],
        protocol=args.protocol,
        out=Path(args.out),
        objects=args.objects.split(",") if args.objects else None,
        limit=args.limit,
        object_list=args.object_list,
        seeds=[int(s) for s in args.seeds.split(",")],
        align=args.align or _preset_evaluation(args.protocol).alignment,
        lpips=_preset_evaluation(args.protocol).lpips_nets
        if args.lpips is None
        else ()
        if args.lpips == "none"
        else tuple(args.lpips.split(",")),
        timeout_s=args.timeout,
        resume=args.resume,
        retry_failed=args.retry_failed,
        progress=not args.no_progress,
        renders=args.renders,
        executor=args.executor,
        workers=args.workers,
        ray_address=args.ray_address,
    )
    try:
        summary = run_benchmark(cfg)
    except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: finished jobs are kept; run_benchmark said how to resume
        from reconbench.runner.run import Terminated

        return 143 if isinstance(exc, Terminated) else 130
    print(
        f"{summary.ran} of {summary.total} jobs run now ({summary.ok} ok, {summary.failed} failed, {summary.skipped} "
        f"skipped); "
        f"results: {summary.out / 'results.csv'}, {summary.out / 'report.md'}"
    )
    print((summary.out / "report.md").read_text())
    return 0


class UsageError(ReconbenchError):
    """Arguments that do not fit together."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reconbench",
        description=(
            "Feed-forward vs per-scene single/sparse-view 3D reconstruction: every method run and scored the same way."
        ),
    )
    parser.add_argument("--version", action="version", version=f"reconbench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("protocols", help="list evaluation protocols (camera rigs, resolution, lighting)")
    p.add_argument("-v", "--verbose", action="store_true", help="also print descriptions and sources")
    p.set_defaults(func=cmd_protocols)

    p = sub.add_parser("datasets", help="list dataset sources, or the objects of one dataset")
    _add_dataset_args(p, required=False)
    p.add_argument("--check", action="store_true", help="load every object and report the ones that fail")
    p.set_defaults(func=cmd_datasets)

    p = sub.add_parser(
        "render",
        help="render ground-truth objects at a protocol's views (PNG, depth, normals, cameras.json)",
        description="Render objects with the common renderer. With --object, writes that object's views into OUT; "
        "otherwise one sub-folder per object.",
    )
    _add_dataset_args(p)
    p.add_argument("--object", metavar="ID", help="one object id (default: every object)")
    p.add_argument("--limit", type=int, metavar="N", help="only the first N objects")
    p.add_argument(
        "--protocol", default="default", help="protocol preset (see `reconbench protocols`; default: default)"
    )
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--progress", action="store_true", help="show the progress bar even when not on a terminal")
    p.set_defaults(func=cmd_render)

    p = sub.add_parser(
        "evaluate",
        help="score one predicted asset against a ground-truth object (image and geometry metrics)",
        description="Render the prediction and the ground truth with the common renderer at the protocol's views and "
        "print every metric, before and after alignment (docs/metrics.md).",
    )
    p.add_argument("--pred", required=True, metavar="PATH", help="predicted asset file (OBJ, GLB, PLY, ...)")
    p.add_argument("--gt", metavar="PATH", help="ground-truth mesh file (normalised like dataset objects)")
    p.add_argument("--gt-frame", default="y-up", help="frame of the --gt file (default y-up)")
    _add_dataset_args(p, required=False)
    p.add_argument("--object", metavar="ID", help="with --dataset: the ground-truth object")
    p.add_argument("--protocol", default="default", help="protocol preset (default: default)")
    p.add_argument(
        "--frame", default="y-up", help="frame the prediction is written in: y-up, z-up, z-up-front-x (default y-up)"
    )
    p.add_argument(
        "--scale",
        default="bbox",
        choices=["bbox", "none"],
        help="bbox: normalise the prediction's bounding box like the ground truth (default); none: already canonical",
    )
    p.add_argument(
        "--align",
        default=None,
        help=(
            "refinement after the frame conversion: none | icp | search (default: the protocol's, icp for reconbench's "
            "own)"
        ),
    )
    p.add_argument(
        "--lpips",
        default=None,
        help="LPIPS backbones: alex, vgg, alex,vgg or none (default: the protocol's, alex for reconbench's own)",
    )
    p.add_argument("--save-renders", metavar="DIR", help="also write the prediction's renders at the protocol views")
    p.add_argument("--json", action="store_true", help="print one JSON object keyed by metric name")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("methods", help="list every method and whether it can run on this machine (and why not)")
    p.add_argument("-v", "--verbose", action="store_true", help="also print descriptions")
    p.set_defaults(func=cmd_methods)

    p = sub.add_parser(
        "doctor",
        help=(
            "install, fetch weights for and run each upstream method on one object; report built / ran / output valid "
            "/ time"
        ),
        description=(
            "For each method (default: every upstream adapter): build its environment, fetch its weights, run it on "
            "the first procedural object and score the output. Writes OUT/doctor.json; exit 1 if any method is not "
            "usable."
        ),
    )
    p.add_argument("--methods", help="comma-separated method names (default: every upstream adapter)")
    p.add_argument("--out", default="doctor-out", help="folder for the runs and doctor.json (default: doctor-out)")
    p.add_argument("--protocol", default="default", help="protocol of the test run (default: default, one input view)")
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
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser(
        "run",
        help="the benchmark: run and score every (method, object) pair, write results.sqlite, results.csv, report.md",
        description=(
            "Run each method on each object's input views, score its asset with the common renderer, and commit "
            "one record per job to OUT/results.sqlite. A failing job is recorded with its reason and the run goes on; "
            "--resume finishes an interrupted run without redoing finished jobs."
        ),
    )
    _add_dataset_args(p)
    p.add_argument("--methods", required=True, help="comma-separated method names (see `reconbench methods`)")
    p.add_argument("--protocol", default="default", help="protocol preset (default: default)")
    p.add_argument("--out", required=True, metavar="DIR", help="run folder")
    p.add_argument("--objects", metavar="ID,ID", help="only these objects")
    p.add_argument("--limit", type=int, metavar="N", help="only the first N objects")
    p.add_argument("--seeds", default="0", help="comma-separated seeds (default 0)")
    p.add_argument(
        "--align", default=None, help="none | icp | search (default: the protocol's, icp for reconbench's own)"
    )
    p.add_argument(
        "--lpips",
        default=None,
        help="LPIPS backbones: alex, vgg, alex,vgg or none (default: the protocol's, alex for reconbench's own)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        metavar="S",
        help="seconds per method call, and again for scoring its output (default: each method's own limit)",
    )
    p.add_argument("--resume", action="store_true", help="finish a run in OUT, skipping finished jobs")
    p.add_argument("--retry-failed", action="store_true", help="with --resume, also redo failed jobs")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--renders",
        default="small",
        choices=["small", "full", "none"],
        help="PNGs of each prediction in OUT/renders: small (default; longest side 256 px, what the report shows), "
        "full (the protocol's resolution) or none",
    )
    p.add_argument(
        "--executor",
        default="local",
        choices=["local", "ray"],
        help="where jobs run: local (default; this machine) or ray (a Ray cluster, docs/cluster.md)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help=(
            "local: jobs at once in N worker processes, at most the cores (and the GPUs for GPU methods); default 1, "
            "in this process"
        ),
    )
    p.add_argument(
        "--ray-address",
        metavar="ADDR",
        help=(
            "ray: the cluster to join (auto, HOST:6379 or ray://HOST:10001); default: start a local one. --out must "
            "then be an absolute path every node mounts"
        ),
    )
    p.set_defaults(func=cmd_run)

    from reconbench.cost.cli import add_parser as add_cost_parser

    add_cost_parser(sub)

    from reconbench.report.cli import add_parser as add_report_parser

    add_report_parser(sub)

    from reconbench.literature.cli import add_parser as add_literature_parser

    add_literature_parser(sub)

    from reconbench.viewscore.cli import add_parser as add_views_parser

    add_views_parser(sub)  # evaluate-views

    from reconbench.envs.cli import add_parsers as add_envs_parsers

    add_envs_parsers(sub)  # install, fetch-weights, bundle

    from reconbench.methods.training_cli import add_parser as add_train_parser

    add_train_parser(sub)
    return parser


def _preset_evaluation(name: str):
    """The evaluation settings of a protocol, for the defaults of --align and --lpips."""
    from reconbench.protocol import get_protocol

    return get_protocol(name).evaluation


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. A ReconbenchError (bad input, files, machine) is one line and exit 2; an OSError
    (a read-only or full disk, a missing file) too; anything else is a bug: its traceback, a hint, exit 1."""
    import traceback

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ReconbenchError as exc:
        print(f"reconbench: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"reconbench: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except Exception:
        traceback.print_exc()
        print(
            f"reconbench {__version__}: this is a bug in reconbench, not a problem with your input; please report it "
            "with the traceback above and the command you ran",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
