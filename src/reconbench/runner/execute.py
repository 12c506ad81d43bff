"""One job, start to finish, in whatever process executes it: the driver itself (local executor, one
worker), a local job-worker process, or a Ray worker on another node.

`execute_job(job, task)` is the unit every executor runs (the local executor through runner/pipeline.py,
which runs its steps — `prepare_job`, `start_method`, `method_result`, `score_job` — so that one job is
scored while the next job's method runs). It is a plain picklable function and the
task carries everything it needs (the dataset object, the method's spec itself — a method registered
in the driver is not in a worker's registry —, the protocol, the scoring options, the run folder),
so it needs no state from the driver. Per process it keeps:
- the prepared object (input views, ground-truth renders, point clouds...) of the last few objects,
  so the jobs of one object that land in the same process prepare it once;
- one `MethodWorker` (a child process running the method's entry point), so a method that crashes
  or hangs costs one job, never the process executing the job;
- one `RenderWriter` (threads encoding the renders' PNGs while the job goes on, runner/renders.py).

Every error a job can meet becomes a failed record with its reason; nothing is raised to the caller.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import socket
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from reconbench import __version__
from reconbench.assets import AssetLoadError, load_asset
from reconbench.datasets import DatasetObject
from reconbench.evaluation import GroundTruth, evaluate, evaluate_input_view, prepare_ground_truth
from reconbench.methods import GroundTruthFile, MethodInput, MethodOutput, MethodSpec
from reconbench.metrics.breakage import object_flags
from reconbench.protocol import Protocol
from reconbench.protocol.frames import Frame
from reconbench.provenance import sha256_file
from reconbench.registry import availability
from reconbench.render import renderer_info
from reconbench.runner.deadline import ScoringTimeout, time_limit
from reconbench.runner.inputs import prepare_image_input, prepare_inputs
from reconbench.runner.jobs import Job
from reconbench.runner.legacy import legacy_harness
from reconbench.runner.paths import run_path
from reconbench.runner.renders import DEFAULT_RENDERS, RenderWriter, discard, wait
from reconbench.runner.store import JobRecord
from reconbench.runner.worker import MethodError, MethodWorker
from reconbench.viewscore.stages import intermediate_view_metrics

# Prepared objects kept per process: a ground truth holds every protocol view's renders, so a few only.
CONTEXT_CACHE_SIZE = 2


@dataclass(frozen=True)
class RunSettings:
    """What every job of a run shares: the protocol itself (workers need not have its file), scoring
    options, and the run folder (on a cluster, a folder every node reaches at the same path)."""

    protocol: Protocol
    out: Path
    align: str = "icp"
    lpips: tuple[str, ...] = ()
    timeout_s: float | None = None  # overrides each method's own limit
    check_availability: bool = False  # the driver could not tell whether the method runs where the job lands
    renders: str = DEFAULT_RENDERS  # small | full | none: the prediction's PNGs (runner/renders.py)
    overlap: str = "auto"  # auto | on | off: score a job while the next job's method runs (runner/pipeline.py)


@dataclass(frozen=True)
class JobTask:
    """Everything `execute_job` needs besides the job: picklable, small."""

    obj: DatasetObject
    spec: MethodSpec
    settings: RunSettings


def execute_job(job: Job, task: JobTask) -> JobRecord:
    """Run the method on the object's input views and score its asset: one JobRecord, never an exception."""
    ready = prepare_job(job, task)
    started = ready if isinstance(ready, JobRecord) else start_method(ready)
    if isinstance(started, JobRecord):
        return started
    return score_job(started, method_result(started))


@dataclass
class PreparedJob:
    """A job ready for its method: its object prepared, the method's input and limits set (`_method_call`)."""

    job: Job
    spec: MethodSpec  # with the run's time limit applied
    ctx: _ObjectContext
    settings: RunSettings
    inp: MethodInput
    limit_s: float  # the method worker's limit (an external method's own, plus the grace)


@dataclass
class StartedJob:
    """A job whose method was handed to the process's method worker; `method_result` collects it."""

    prepared: PreparedJob
    worker: MethodWorker


def prepare_job(job: Job, task: JobTask) -> PreparedJob | JobRecord:
    """Check the job and prepare its object and its method's work folder; or the job's record when it ends
    here (skipped, failed)."""
    spec, settings = task.spec, task.settings
    try:
        if settings.check_availability:
            ok, why = availability(spec)
            if not ok:
                return record_for(job, "skipped", f"cannot run on this machine ({socket.gethostname()}): {why}")
        try:
            ctx = _context(task.obj, settings)
        except Exception as exc:  # a corrupt object fails its own jobs only
            return record_for(job, "failed", f"object unusable: {naming(task.obj.path, exc)}")
        ready = _method_call(job, spec, ctx, settings)
        if isinstance(ready, JobRecord):
            return ready
        return PreparedJob(job, ready[0], ctx, settings, ready[1], ready[2])
    except Exception as exc:  # the harness itself (a full disk...): recorded, the run goes on
        return record_for(job, "failed", f"harness error: {type(exc).__name__}: {exc}")


def start_method(prepared: PreparedJob) -> StartedJob | JobRecord:
    """Start the job's method in the process's method worker, without waiting for it."""
    try:
        worker = _method_worker()
        worker.submit(prepared.spec, prepared.inp)
        return StartedJob(prepared, worker)
    except Exception as exc:
        return record_for(prepared.job, "failed", f"harness error: {type(exc).__name__}: {exc}")


def method_result(started: StartedJob) -> tuple[MethodOutput, float] | JobRecord:
    """Wait for a started job's method: (output, wall seconds), or the job's failed record."""
    job = started.prepared.job
    try:
        return started.worker.result(started.prepared.limit_s)
    except MethodError as exc:
        return record_for(job, "failed", f"method failed: {exc}")
    except Exception as exc:
        return record_for(job, "failed", f"harness error: {type(exc).__name__}: {exc}")


def score_job(started: StartedJob, result: tuple[MethodOutput, float] | JobRecord) -> JobRecord:
    """Score a started job's method output (`method_result`'s): its record, never an exception."""
    if isinstance(result, JobRecord):
        return result
    p = started.prepared
    try:
        return _score(p.job, p.spec, p.ctx, p.settings, *result)
    except Exception as exc:
        return record_for(p.job, "failed", f"harness error: {type(exc).__name__}: {exc}")


def reset_process_state() -> None:
    """Stop this process's method worker and render writer (after its last writes) and drop its prepared
    objects (end of an in-driver run, of a job-worker process)."""
    global _WORKER, _WORKER_ENV, _WRITER
    if _WORKER is not None:
        _WORKER.stop()
    _WORKER, _WORKER_ENV = None, None
    if _WRITER is not None:
        _WRITER.close()
    _WRITER = None
    _CONTEXTS.clear()


# --- per-process state -----------------------------------------------------------------------------

_WORKER: MethodWorker | None = None
_WORKER_ENV: tuple | None = None
_WRITER: RenderWriter | None = None
_CONTEXTS: OrderedDict[tuple, _ObjectContext | Exception] = OrderedDict()
_DEVICE_VARIABLES = ("CUDA_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES")


def _method_worker() -> MethodWorker:
    """The process's method worker; a new one when the devices assigned to this process changed (a Ray
    worker runs tasks given different GPUs; the method's process must see the job's own)."""
    global _WORKER, _WORKER_ENV
    env = tuple(os.environ.get(k) for k in _DEVICE_VARIABLES)
    if _WORKER is not None and env != _WORKER_ENV:
        _WORKER.stop()
        _WORKER = None
    if _WORKER is None:
        _WORKER, _WORKER_ENV = MethodWorker(), env
    return _WORKER


def _render_writer() -> RenderWriter:
    global _WRITER
    if _WRITER is None:
        _WRITER = RenderWriter(background=not legacy_harness())
    return _WRITER


def _context(obj: DatasetObject, settings: RunSettings) -> _ObjectContext:
    key = (obj.id, str(obj.path), settings.protocol.name, str(settings.out), tuple(settings.lpips))
    if key in _CONTEXTS:
        _CONTEXTS.move_to_end(key)
        hit = _CONTEXTS[key]
        if isinstance(hit, Exception):
            raise hit
        return hit
    try:
        ctx: _ObjectContext | Exception = prepare_object(obj, settings.protocol, settings.out, settings.lpips)
    except Exception as exc:
        ctx = exc
    _CONTEXTS[key] = ctx
    while len(_CONTEXTS) > CONTEXT_CACHE_SIZE:
        _CONTEXTS.popitem(last=False)
    if isinstance(ctx, Exception):
        raise ctx
    return ctx


# --- the object: input views and ground truth ------------------------------------------------------


@dataclass
class _ObjectContext:
    obj: DatasetObject
    protocol: Protocol
    gt: GroundTruth | None  # None for an input image without ground truth
    images: tuple
    cameras: tuple
    image_paths: tuple
    gt_sha256: str
    warnings: tuple[str, ...] = ()  # the ground truth's loading warnings (a texture dropped...), recorded with each job
    input_mask: str | None = None  # an input photo: how its foreground mask was made (alpha, keyed background, rembg)


def prepare_object(obj: DatasetObject, protocol: Protocol, out: Path, lpips: tuple[str, ...]) -> _ObjectContext:
    gt_sha256 = sha256_file(obj.path)
    mesh = obj.load() if obj.has_ground_truth else None
    images, cameras, paths = _input_views(obj, mesh, protocol, run_path(out, "inputs", obj.id), gt_sha256)
    # The ground truth's products are kept in the run folder: a resumed run loads them (ground_truth_cache.py).
    gt_cache = run_path(out, ".cache", "ground_truth", obj.id)
    gt = prepare_ground_truth(mesh, protocol, lpips, cache_dir=gt_cache) if mesh is not None else None
    warnings = tuple(f"ground truth {w}" for w in mesh.warnings) if mesh is not None else ()
    input_mask = None if mesh is not None else json.loads((paths[0].parent / "cameras.json").read_text()).get("mask")
    return _ObjectContext(obj, protocol, gt, images, cameras, paths, gt_sha256, warnings, input_mask)


def _input_views(obj: DatasetObject, mesh, protocol: Protocol, folder: Path, gt_sha256: str):
    """The object's input views, written once per run folder: the first process to need them renders and
    writes them under a lock; every other process (and a resumed run) reads the same files, so no method
    ever reads a half-rewritten image and every method sees the same pixels."""
    from filelock import FileLock

    lock = run_path(folder.parent, ".locks", f"{obj.id}.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    source = folder / "source.json"
    wanted = {"protocol": protocol.name, "object": obj.id, "sha256": gt_sha256}
    with FileLock(str(lock)):
        try:
            if json.loads(source.read_text()) == wanted:
                cameras = protocol.input_cameras if mesh is not None else protocol.input_cameras[:1]
                paths = tuple(folder / f"{cam.name}.png" for cam in cameras)
                images = tuple(np.array(Image.open(p).convert("RGBA")) for p in paths)
                return images, tuple(cameras), paths
        except (OSError, ValueError):
            pass  # not written yet, or not completely: written now
        source.unlink(missing_ok=True)
        if mesh is None:
            result = prepare_image_input(obj.path, protocol, folder)
        else:
            result = prepare_inputs(mesh, protocol, folder)
        source.write_text(json.dumps(wanted))  # last: marks the folder complete
        return result


# --- the job ---------------------------------------------------------------------------------------


def _evaluate(asset, ctx: _ObjectContext, frame: Frame, scale: str, settings: RunSettings):
    """Full scoring against the ground truth, or input-view scoring for an input image without one."""
    if ctx.gt is None:
        return evaluate_input_view(
            asset, ctx.images[0], ctx.protocol, frame=frame, scale=scale, lpips_nets=settings.lpips
        )
    return evaluate(asset, ctx.gt, frame=frame, scale=scale, align=settings.align, lpips_nets=settings.lpips)


# An upstream command is stopped by the external runner at the method's limit (its whole process group,
# with a clear message); the worker's own limit is this much later, as a backstop.
EXTERNAL_TIMEOUT_GRACE_S = 10.0


def run_job(job: Job, spec: MethodSpec, ctx: _ObjectContext, settings: RunSettings, worker) -> JobRecord:
    """One job on a prepared object, the method run by `worker` (anything with MethodWorker's `run`)."""
    ready = _method_call(job, spec, ctx, settings)
    if isinstance(ready, JobRecord):
        return ready
    spec, inp, limit = ready
    try:
        output, wall = worker.run(spec, inp, limit)
    except MethodError as exc:
        return record_for(job, "failed", f"method failed: {exc}")
    return _score(job, spec, ctx, settings, output, wall)


def _method_call(
    job: Job, spec: MethodSpec, ctx: _ObjectContext, settings: RunSettings
) -> tuple[MethodSpec, MethodInput, float] | JobRecord:
    """What the method worker is given (the spec with the run's limit, the input, the worker's limit), its
    work folder made afresh; or the job's record when the method cannot take this object."""
    out = Path(settings.out)
    if spec.needs_ground_truth and ctx.gt is None:
        return record_for(
            job, "skipped", f"{spec.name} needs a ground truth; {job.object_id} is an input image without one"
        )
    if len(ctx.cameras) not in spec.input_views:
        return record_for(
            job,
            "failed",
            f"{spec.name} takes {'/'.join(map(str, spec.input_views))} input view(s); protocol {job.protocol} gives "
            f"{len(ctx.cameras)}",
        )
    workdir = run_path(out, "work", job.method, job.object_id, f"seed{job.seed}")
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    gt_file = (
        GroundTruthFile(ctx.obj.path, ctx.obj.frame, ctx.obj.texture_dirs, ctx.obj.yaw_deg)
        if spec.needs_ground_truth
        else None
    )
    inp = MethodInput(ctx.images, ctx.cameras, ctx.image_paths, workdir, job.seed, gt_file)
    if settings.timeout_s:  # the run's limit also bounds an upstream command inside the method
        spec = dataclasses.replace(spec, timeout_s=settings.timeout_s)
    grace = EXTERNAL_TIMEOUT_GRACE_S if spec.is_external else 0.0  # the runner stops the command itself first
    return spec, inp, spec.timeout_s + grace


def _score(
    job: Job, spec: MethodSpec, ctx: _ObjectContext, settings: RunSettings, output: MethodOutput, wall: float
) -> JobRecord:
    """Score the method's output against the object: the job's record (failed when the output is unusable)."""
    out = Path(settings.out)
    limit = settings.timeout_s or spec.timeout_s  # scoring runs here, not in the method's process: its own limit
    renders, saving = run_path(out, "renders", job.method, job.object_id), None
    try:
        start = time.perf_counter()
        with time_limit(limit):
            asset = load_asset(output.asset, texture_dirs=output.texture_dirs)
            result = _evaluate(asset, ctx, spec.frame_for(output.frame), output.scale or spec.scale, settings)
            saving = _save_renders(result.renders, renders, settings)  # encoded while the scoring goes on
            usability = asset_usability(
                asset,
                output.asset,
                result.alignment.initial,
                ctx.gt,
                ctx.protocol,
                result.alignment.total,
                result.geometry_views,
            )
            stage1 = intermediate_view_metrics(
                spec,
                output,
                asset,
                result.alignment.initial,
                ctx.gt,
                ctx.protocol,
                settings.lpips,
                run_path(out, "renders", job.method, job.object_id, "stage1"),
                result.notes,
            )
        evaluation_wall = time.perf_counter() - start
    except ScoringTimeout as exc:
        discard(saving)
        return record_for(job, "failed", f"{exc}; output {output.asset}", time_s=wall, warnings=list(ctx.warnings))
    except Exception as exc:  # bad output: unreadable, empty, invisible...
        discard(saving)
        return record_for(
            job, "failed", f"output unusable: {naming(output.asset, exc)}", time_s=wall, warnings=list(ctx.warnings)
        )
    warnings = [*ctx.warnings, *(f"output {w}" for w in getattr(asset, "warnings", ()))]
    _save_view_values(result.views, renders)
    try:
        with time_limit(limit, "scoring the anytime snapshots"):
            anytime = _score_snapshots(output, result.metrics, ctx, spec, settings)
    except ScoringTimeout as exc:  # fired between two snapshots: the curve is lost, not the job
        anytime = [{"error": f"not scored: {exc}"}]
    provenance = {
        "reconbench": __version__,
        "evaluation": ctx.protocol.evaluation.to_dict(),  # the preset's scoring settings (docs/metrics.md)
        "renderer": renderer_info(),
        "host": socket.gethostname(),  # where the job ran (a cluster's nodes may differ)
        "asset": str(output.asset),
        "asset_sha256": sha256_file(output.asset),
        "ground_truth": str(ctx.obj.path),
        "ground_truth_sha256": ctx.gt_sha256,
        "input_mask": ctx.input_mask,
        "gpu": output.info.get("gpu"),  # {"name", "count"} where the method ran on one; the cost model reads it
        "method": {
            "entry": spec.entry or "external",
            "upstream": spec.upstream or None,
            "frame": output.frame or spec.frame,
            "scale": output.scale or spec.scale,
            "info": output.info,
        },
        "notes": result.notes,
    }
    timings = {
        "method_stages": output.stage_seconds,
        "method_wall_s": wall,
        "resources": output.info.get("resources"),
        "evaluation_wall_s": evaluation_wall,
        "evaluation": result.timings,
    }
    metrics = {**result.metrics, **usability, **stage1}
    metrics.update(object_flags(metrics))  # broken or not, and why (metrics/breakage.py)
    warnings += wait(saving, renders)  # on disk before the record leaves: it never points at half-written files
    return record_for(
        job,
        "ok",
        None,
        time_s=wall,
        metrics=metrics,
        timings=timings,
        alignment=result.alignment.to_dict(),
        provenance=provenance,
        anytime=anytime,
        warnings=warnings,
    )


def asset_usability(
    asset,
    path: Path,
    initial: np.ndarray,
    gt: GroundTruth | None,
    protocol: Protocol,
    total: np.ndarray | None = None,
    views=None,
) -> dict[str, float]:
    """Downstream usability of the asset as the method wrote it (docs/metrics.md, "Usability"). Splats:
    their own figures, plus the mesh fused from their depth maps, scored like a mesh (usability, and
    geometry against the ground truth's surface samples), so both representations meet on one footing.
    `views`: the splats' renders at the geometry views, placed by `initial`, when scoring made them already."""
    from reconbench.assets import MeshAsset
    from reconbench.metrics.geometry import cloud_metrics, surface_point_cloud, threshold_key
    from reconbench.metrics.splat_usability import splat_usability
    from reconbench.metrics.usability import mesh_usability
    from reconbench.protocol import UNLIT
    from reconbench.render import render_views

    gt_mesh = gt.mesh if gt is not None else None
    if isinstance(asset, MeshAsset):  # floaters judged against the ground truth, the mesh placed by its alignment
        return mesh_usability(asset, path, gt_mesh, initial if total is None else total)
    ev = protocol.evaluation
    placed = asset.transformed(initial)  # canonical frame: the geometry cameras look at the unit box
    if views is None:
        views = render_views(placed, ev.geometry_cameras, UNLIT)
    figures, extracted = splat_usability(placed, views)
    figures["file_size_mb"] = float(Path(path).stat().st_size / 1e6)
    if extracted is not None:
        figures.update({f"extracted_{k}": v for k, v in mesh_usability(extracted, None, gt_mesh).items()})
    if extracted is not None and gt is not None:
        geometry = cloud_metrics(
            surface_point_cloud(extracted, ev.points, ev.seed), gt.surface, ev.fscore_thresholds, ev.length_unit
        )
        figures["extracted_chamfer"] = geometry["chamfer"]
        figures["extracted_fscore"] = geometry[f"fscore_{threshold_key(ev.fscore_default)}"]
    return figures


# Metrics kept for each snapshot of a per-scene method's anytime curve.
ANYTIME_METRICS = ("psnr", "ssim", "lpips_alex", "mask_iou", "chamfer", "fscore", "normal_consistency")


def _score_snapshots(
    output, final_metrics: dict, ctx: _ObjectContext, spec: MethodSpec, settings: RunSettings
) -> list[dict]:
    """Score every snapshot a method saved during its optimisation (the final one is the result itself)."""
    curve, expired = [], None
    for snap in output.info.get("anytime", []):
        if Path(snap["asset"]) == Path(output.asset):
            metrics = final_metrics
        elif expired:
            curve.append({**snap, "error": f"not scored: {expired}"})
            continue
        else:
            try:
                asset = load_asset(snap["asset"])
                metrics = _evaluate(
                    asset, ctx, spec.frame_for(output.frame), output.scale or spec.scale, settings
                ).metrics
            except ScoringTimeout as exc:  # the rest of the curve is not scored; the job keeps its result
                expired = str(exc)
                curve.append({**snap, "error": expired})
                continue
            except Exception as exc:  # a broken snapshot loses its point, not the job
                curve.append({**snap, "error": f"{type(exc).__name__}: {exc}"})
                continue
        curve.append({**snap, **{k: metrics[k] for k in ANYTIME_METRICS if k in metrics}})
    return curve


def naming(path, exc: Exception) -> str:
    """An error's message that names the file it is about (once)."""
    text = str(exc) if isinstance(exc, AssetLoadError) else f"{type(exc).__name__}: {exc}"
    return text if str(path) in text else f"{path}: {text}"


def record_for(job: Job, status: str, error: str | None, **fields) -> JobRecord:
    return JobRecord(job.key, job.method, job.object_id, job.category, job.protocol, job.seed, status, error, **fields)


def _save_renders(renders, folder: Path, settings: RunSettings):
    """Start writing the prediction's PNGs on the process's writer thread (runner/renders.py)."""
    return _render_writer().submit(renders, folder, settings.renders)


def _save_view_values(views: dict, folder: Path) -> None:
    """Per-view sharpness and breakage values beside the renders (the report's worst views read them)."""
    if views:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "views.json").write_text(json.dumps(views))
