"""The benchmark run: every (method, object, seed) of a dataset under one protocol, evaluated the
same way, each result committed to the store as soon as it is known."""

from __future__ import annotations

import itertools
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from reconbench import __version__
from reconbench.provenance import sha256_file
from reconbench.assets import load_asset
from reconbench.datasets import DatasetObject, open_dataset, parse_spec
from reconbench.evaluation import DEFAULT_LPIPS, GroundTruth, check_lpips, evaluate, evaluate_input_view, prepare_ground_truth
from reconbench.methods import GroundTruthFile, MethodInput, MethodSpec, get_method
from reconbench.protocol import Protocol, get_protocol
from reconbench.render import renderer_info
from reconbench.runner.export import write_anytime_csv, write_csv, write_report
from reconbench.runner.inputs import prepare_image_input, prepare_inputs
from reconbench.runner.jobs import Job, plan_jobs
from reconbench.runner.store import JobRecord, ResultsStore
from reconbench.runner.worker import MethodError, MethodWorker


class RunError(Exception):
    """The run cannot start (an existing run folder without --resume, a changed configuration...)."""


@dataclass
class RunConfig:
    dataset: str
    methods: list[str]
    protocol: str
    out: Path
    objects: list[str] | None = None
    limit: int | None = None
    object_list: str | None = None
    seeds: list[int] = field(default_factory=lambda: [0])
    align: str = "icp"
    lpips: tuple[str, ...] = DEFAULT_LPIPS
    timeout_s: float | None = None  # overrides each method's own limit
    resume: bool = False
    retry_failed: bool = False
    progress: bool = True

    def identity(self) -> dict:
        """What must not change between a run and its resumption."""
        return {"dataset": self.dataset, "protocol": self.protocol, "align": self.align, "lpips": list(self.lpips)}


@dataclass
class RunSummary:
    out: Path
    total: int
    ran: int
    ok: int
    failed: int
    skipped: int


def run_benchmark(cfg: RunConfig, on_job_done: Callable[[JobRecord], None] | None = None) -> RunSummary:
    protocol = get_protocol(cfg.protocol)
    object_list = cfg.object_list or protocol.default_object_list(parse_spec(cfg.dataset)[0])
    dataset = open_dataset(cfg.dataset, object_list).select(cfg.objects, cfg.limit)
    specs = {name: get_method(name) for name in cfg.methods}
    try:
        check_lpips(cfg.lpips)
    except Exception as exc:
        raise RunError(f"{exc} (or run with --lpips none)") from exc
    out = Path(cfg.out)
    with ResultsStore(out / "results.sqlite") as store:
        _check_or_write_meta(store, cfg, protocol, specs)
        jobs = plan_jobs(dataset.objects, cfg.methods, protocol.name, cfg.seeds)
        done = store.done_keys(include_failed=not cfg.retry_failed)
        pending = [j for j in jobs if j.key not in done]
        unavailable = {n: why for n, s in specs.items() for ok, why in [s.availability()] if not ok}
        for name, why in unavailable.items():
            print(f"reconbench: method {name} cannot run on this machine: {why}; its jobs are recorded as skipped", file=sys.stderr)
        counts = {"ok": 0, "failed": 0, "skipped": 0}
        bar = _progress(len(jobs), len(jobs) - len(pending), cfg.progress)
        worker = MethodWorker()
        try:
            for object_id, group in itertools.groupby(pending, key=lambda j: j.object_id):
                group = list(group)
                obj = dataset.get(object_id)
                runnable = [j for j in group if j.method not in unavailable]
                context, reason = None, ""
                try:
                    context = _prepare_object(obj, protocol, out, cfg.lpips) if runnable else None
                except Exception as exc:  # a corrupt object fails its own jobs only
                    reason = f"object unusable: {exc}"
                for job in group:
                    if job.method in unavailable:
                        record = _record(job, "skipped", f"cannot run on this machine: {unavailable[job.method]}")
                    elif context is None:
                        record = _record(job, "failed", reason)
                    else:
                        record = _run_job(job, specs[job.method], context, cfg, worker, out)
                    store.put(record)
                    counts[record.status] += 1
                    if on_job_done:
                        on_job_done(record)
                    bar.update(1)
                    bar.set_postfix(failed=counts["failed"], skipped=counts["skipped"], refresh=False)
        finally:
            worker.stop()
            bar.close()
        export(store, out)
    return RunSummary(out, len(jobs), len(pending), counts["ok"], counts["failed"], counts["skipped"])


def export(store: ResultsStore, out: Path) -> None:
    records = list(store.records())
    write_csv(records, out / "results.csv")
    write_anytime_csv(records, out / "anytime.csv")
    write_report(records, store.get_meta(), out / "report.md")


def _check_or_write_meta(store: ResultsStore, cfg: RunConfig, protocol: Protocol, specs: dict[str, MethodSpec]) -> None:
    existing = store.get_meta()
    if existing and not cfg.resume:
        raise RunError(f"{cfg.out} already holds a run: pass --resume to finish it, or choose another --out")
    identity = cfg.identity()
    changed = {k: (existing[k], v) for k, v in identity.items() if k in existing and existing[k] != v}
    if changed:
        raise RunError(f"{cfg.out}: cannot resume with a different configuration: " + ", ".join(f"{k} was {a!r}, now {b!r}" for k, (a, b) in changed.items()))
    paradigms = {**existing.get("paradigms", {}), **{n: s.paradigm for n, s in specs.items()}}
    store.set_meta({**identity, "headline": protocol.evaluation.headline, "paradigms": paradigms, "reconbench": __version__})


@dataclass
class _ObjectContext:
    obj: DatasetObject
    protocol: Protocol
    gt: GroundTruth | None  # None for an input image without ground truth
    images: tuple
    cameras: tuple
    image_paths: tuple
    gt_sha256: str


def _prepare_object(obj: DatasetObject, protocol: Protocol, out: Path, lpips: tuple[str, ...]) -> _ObjectContext:
    if not obj.has_ground_truth:
        images, cameras, paths = prepare_image_input(obj.path, protocol, out / "inputs" / obj.id)
        return _ObjectContext(obj, protocol, None, images, cameras, paths, sha256_file(obj.path))
    mesh = obj.load()
    images, cameras, paths = prepare_inputs(mesh, protocol, out / "inputs" / obj.id)
    gt = prepare_ground_truth(mesh, protocol, lpips)
    return _ObjectContext(obj, protocol, gt, images, cameras, paths, sha256_file(obj.path))


def _evaluate(asset, ctx: _ObjectContext, frame: str, scale: str, cfg: RunConfig):
    """Full scoring against the ground truth, or input-view scoring for an input image without one."""
    if ctx.gt is None:
        return evaluate_input_view(asset, ctx.images[0], ctx.protocol, frame=frame, scale=scale, lpips_nets=cfg.lpips)
    return evaluate(asset, ctx.gt, frame=frame, scale=scale, align=cfg.align, lpips_nets=cfg.lpips)


def _run_job(job: Job, spec: MethodSpec, ctx: _ObjectContext, cfg: RunConfig, worker: MethodWorker, out: Path) -> JobRecord:
    if spec.needs_ground_truth and ctx.gt is None:
        return _record(job, "skipped", f"{spec.name} needs a ground truth; {job.object_id} is an input image without one")
    if len(ctx.cameras) not in spec.input_views:
        return _record(job, "failed", f"{spec.name} takes {'/'.join(map(str, spec.input_views))} input view(s); protocol {job.protocol} gives {len(ctx.cameras)}")
    workdir = out / "work" / job.method / job.object_id / f"seed{job.seed}"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    gt_file = GroundTruthFile(ctx.obj.path, ctx.obj.frame, ctx.obj.texture_dirs) if spec.needs_ground_truth else None
    inp = MethodInput(ctx.images, ctx.cameras, ctx.image_paths, workdir, job.seed, gt_file)
    try:
        output, wall = worker.run(spec, inp, cfg.timeout_s or spec.timeout_s)
    except MethodError as exc:
        return _record(job, "failed", f"method failed: {exc}")
    try:
        start = time.perf_counter()
        asset = load_asset(output.asset, texture_dirs=output.texture_dirs)
        result = _evaluate(asset, ctx, output.frame or spec.frame, output.scale or spec.scale, cfg)
        usability = asset_usability(asset, output.asset, result.alignment.initial, ctx.gt, ctx.protocol)
        evaluation_wall = time.perf_counter() - start
    except Exception as exc:  # bad output: unreadable, empty, invisible...
        return _record(job, "failed", f"output unusable: {type(exc).__name__}: {exc}", time_s=wall)
    _save_renders(result.renders.composited_uint8(), result.renders.cameras, out / "renders" / job.method / job.object_id)
    anytime = _score_snapshots(output, result.metrics, ctx, spec, cfg)
    provenance = {
        "reconbench": __version__,
        "renderer": renderer_info(),
        "asset": str(output.asset),
        "asset_sha256": sha256_file(output.asset),
        "ground_truth": str(ctx.obj.path),
        "ground_truth_sha256": ctx.gt_sha256,
        "gpu": output.info.get("gpu"),  # {"name", "count"} where the method ran on one; the cost model reads it
        "method": {"entry": spec.entry or "external", "upstream": spec.upstream or None, "frame": output.frame or spec.frame, "scale": output.scale or spec.scale, "info": output.info},
        "notes": result.notes,
    }
    timings = {"method_stages": output.stage_seconds, "method_wall_s": wall, "resources": output.info.get("resources"), "evaluation_wall_s": evaluation_wall, "evaluation": result.timings}
    return _record(job, "ok", None, time_s=wall, metrics={**result.metrics, **usability}, timings=timings,
                   alignment=result.alignment.to_dict(), provenance=provenance, anytime=anytime)


def asset_usability(asset, path: Path, initial: np.ndarray, gt: GroundTruth | None, protocol: Protocol) -> dict[str, float]:
    """Downstream usability of the asset as the method wrote it (docs/metrics.md, "Usability"). Splats:
    their own figures, plus the mesh fused from their depth maps, scored like a mesh (usability, and
    geometry against the ground truth's surface samples), so both representations meet on one footing."""
    from reconbench.assets import MeshAsset
    from reconbench.metrics.geometry import cloud_metrics, surface_point_cloud, threshold_key
    from reconbench.metrics.splat_usability import splat_usability
    from reconbench.metrics.usability import mesh_usability
    from reconbench.protocol import UNLIT
    from reconbench.render import render_views

    if isinstance(asset, MeshAsset):
        return mesh_usability(asset, path)
    ev = protocol.evaluation
    placed = asset.transformed(initial)  # canonical frame: the geometry cameras look at the unit box
    figures, extracted = splat_usability(placed, render_views(placed, ev.geometry_cameras, UNLIT))
    figures["file_size_mb"] = float(Path(path).stat().st_size / 1e6)
    if extracted is not None:
        figures.update({f"extracted_{k}": v for k, v in mesh_usability(extracted).items()})
    if extracted is not None and gt is not None:
        geometry = cloud_metrics(surface_point_cloud(extracted, ev.points, ev.seed), gt.surface, ev.fscore_thresholds)
        figures["extracted_chamfer"] = geometry["chamfer"]
        figures["extracted_fscore"] = geometry[f"fscore_{threshold_key(ev.fscore_default)}"]
    return figures


# Metrics kept for each snapshot of a per-scene method's anytime curve.
ANYTIME_METRICS = ("psnr", "ssim", "lpips_alex", "mask_iou", "chamfer", "fscore", "normal_consistency")


def _score_snapshots(output, final_metrics: dict, ctx: "_ObjectContext", spec: MethodSpec, cfg: RunConfig) -> list[dict]:
    """Score every snapshot a method saved during its optimisation (the final one is the result itself)."""
    curve = []
    for snap in output.info.get("anytime", []):
        if Path(snap["asset"]) == Path(output.asset):
            metrics = final_metrics
        else:
            try:
                asset = load_asset(snap["asset"])
                metrics = _evaluate(asset, ctx, output.frame or spec.frame, output.scale or spec.scale, cfg).metrics
            except Exception as exc:  # a broken snapshot loses its point, not the job
                curve.append({**snap, "error": f"{type(exc).__name__}: {exc}"})
                continue
        curve.append({**snap, **{k: metrics[k] for k in ANYTIME_METRICS if k in metrics}})
    return curve


def _record(job: Job, status: str, error: str | None, **fields) -> JobRecord:
    return JobRecord(job.key, job.method, job.object_id, job.category, job.protocol, job.seed, status, error, **fields)


def _save_renders(images: np.ndarray, cameras, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for image, cam in zip(images, cameras):
        Image.fromarray(image, "RGB").save(folder / f"{cam.name}_{cam.role}.png", compress_level=1)


def _progress(total: int, initial: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="job", desc="run", disable=not enabled, dynamic_ncols=True)
