"""Score one predicted asset against one ground-truth object under a protocol.

The ground truth's renders, point clouds, occupancy and LPIPS features are computed once per
(object, protocol) in `prepare_ground_truth` and reused for every method. A prediction is first
brought into the canonical frame by its declared convention, scored, then (optionally) refined by
similarity ICP / rotation search and scored again; the protocol says which is the headline.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import numpy as np

from reconbench.alignment import Alignment, initial_transform, refine
from reconbench.assets import Asset, MeshAsset
from reconbench.metrics import geometry
from reconbench.metrics import image as image_metrics
from reconbench.metrics import per_view as view_checks
from reconbench.metrics.geometry import PointCloud, threshold_key
from reconbench.metrics.volume import NotWatertight, mesh2sdf_occupancy, occupancy_grid, volume_iou
from reconbench.protocol import OTHER_SETS, UNLIT, Camera, Evaluation, Protocol, Shading
from reconbench.protocol.frames import Frame
from reconbench.render import RenderedViews, render_views
from reconbench.system.cpus import scoring_threads

DEFAULT_LPIPS = ("alex",)
T = TypeVar("T")


class Timer:
    """Seconds spent per named stage, summed over calls. Stages timed on different threads overlap (`evaluate`
    scores one pose's images while it renders the next), so their sum may exceed the wall-clock time."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._lock = threading.Lock()

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            with self._lock:
                self.seconds[stage] = self.seconds.get(stage, 0.0) + elapsed


@dataclass
class GroundTruth:
    """What scoring needs of one ground-truth object under one protocol, computed once."""

    mesh: MeshAsset
    protocol: Protocol
    views: RenderedViews  # every protocol camera, reference shading
    images: np.ndarray  # views composited on white, [0, 1]
    cloud: PointCloud  # the headline geometry points (depth maps at the geometry views, or surface samples)
    surface: PointCloud  # area-uniform surface samples
    occupancy: np.ndarray | None
    occupancy_note: str = ""
    lpips_features: dict[str, list] = field(default_factory=dict)
    per_view: view_checks.Reference | None = None  # the truth's side of the per-view breakage detectors


@dataclass
class EvaluationResult:
    metrics: dict[str, float]
    alignment: Alignment
    timings: dict[str, float]
    notes: list[str]
    renders: RenderedViews  # the headline renders of the prediction, at every protocol camera
    views: dict = field(default_factory=dict)  # per-view sharpness and breakage values (metrics/per_view.py)
    # A splat prediction's depth maps at the geometry views, placed by its declared convention: its
    # geometry metrics used them, and the splat usability figures (TSDF fusion) reuse them.
    geometry_views: RenderedViews | None = None

    def to_dict(self) -> dict:
        return {**self.metrics, "alignment": self.alignment.to_dict(), "notes": self.notes, "views": self.views}


def check_lpips(nets: Sequence[str]) -> None:
    """Fail before any work if an LPIPS backbone's weights are missing (the error says what to install)."""
    if nets:
        from reconbench.metrics.lpips import weights_path

        for net in nets:
            weights_path(net)


def prepare_ground_truth(
    mesh: MeshAsset,
    protocol: Protocol,
    lpips_nets: Sequence[str] | None = None,
    timer: Timer | None = None,
    cache_dir: str | Path | None = None,
    device: str | None = None,
) -> GroundTruth:
    """`lpips_nets` None: the protocol's own (its evaluation settings). `cache_dir`: a folder where the
    products are kept on disk under a fingerprint of the mesh, the protocol and the settings, so a
    resumed or repeated run loads them instead of recomputing (ground_truth_cache.py). `device`: where
    LPIPS runs (None: a visible CUDA GPU, else the CPU; scoring_device)."""
    timer = timer or Timer()
    ev = protocol.evaluation
    lpips_nets = tuple(ev.lpips_nets if lpips_nets is None else lpips_nets)
    device = scoring_device(device)
    if cache_dir is not None:
        from reconbench import ground_truth_cache

        with timer("cache"):
            cached = ground_truth_cache.load(cache_dir, mesh, protocol, lpips_nets, device)
        if cached is not None:
            return cached
    with timer("render"):
        views = render_views(mesh, protocol.cameras, protocol.lighting.references)
        geo_views = (
            _geometry_views(mesh, ev, views, protocol.lighting.references) if ev.geometry_points == "depth" else None
        )
    images = views.composited()
    with timer("geometry"):
        surface = geometry.surface_point_cloud(mesh, ev.points, ev.seed)
        cloud = geometry_cloud(mesh, geo_views, ev) if geo_views is not None else surface
    with timer("volume"):
        try:
            grid, note = occupancy(mesh, ev), ""
        except NotWatertight as exc:
            grid, note = None, f"ground truth not watertight ({exc}): volume IoU not applicable"
    gt = GroundTruth(mesh, protocol, views, images, cloud, surface, grid, note)
    for net in lpips_nets:
        with timer(f"lpips_{net}"):
            gt.lpips_features[net] = truth_features(net, images, device)
    with timer("per_view"):
        gt.per_view = view_checks.prepare_reference(mesh, protocol, views, images, lpips_nets, device)
    if cache_dir is not None:
        with timer("cache"):
            ground_truth_cache.save(cache_dir, gt, lpips_nets)
    return gt


SCORING_DEVICE_ENV = "RECONBENCH_SCORING_DEVICE"


def scoring_device(device: str | None = None) -> str:
    """Where LPIPS and SSIM run: `device` if given, else $RECONBENCH_SCORING_DEVICE, else the first CUDA GPU
    torch sees, else the CPU. On a GPU, scoring holds torch's CUDA context and the ground truth's LPIPS
    features (265 MB for AlexNet under `default`) beside the method's process: RECONBENCH_SCORING_DEVICE=cpu
    keeps it off the GPU."""
    if device is None:
        device = os.environ.get(SCORING_DEVICE_ENV) or None
    if device is not None:
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


# Views of one LPIPS forward pass. On a GPU: all of a protocol's views at once unless their features would
# take more than LPIPS_BATCH_BYTES (AlexNet keeps about 10 MiB a view at 512x512, VGG 122 MiB: one pass over
# 25 VGG views would hold gigabytes). On the CPU: at most CPU_LPIPS_BATCH views and CPU_LPIPS_BATCH_BYTES of
# features a pass -- measured on 2 idle cores (2026-11-30, scored against the truth's features): AlexNet,
# `default`'s 25 views at 512x512 (10 MiB each): batches of 4-5 take 0.44 s, of 2 0.46 s, of 8 0.51-0.55 s,
# of 13 0.74 s; VGG, `gso30-syncdreamer`'s 16 views at 256x256 (30.5 MiB each): batches of 1 or 2 take
# 1.5-1.6 s on the main thread, of 4 1.9-2.0 s; on the scoring thread (`_Scorer`), whose allocations of
# tens of MB glibc maps afresh each time, 1.6 s in batches of 1 but 1.9-2.1 s in batches of 2
# (docs/metrics.md, "Speed").
LPIPS_BATCH_BYTES = 512 * 2**20
CPU_LPIPS_BATCH = 4
CPU_LPIPS_BATCH_BYTES = 48 * 2**20


def lpips_batch(net: str, images: np.ndarray, device: str = "cpu") -> int:
    """How many views to run through LPIPS in one forward pass (docs/metrics.md, "Speed")."""
    from reconbench.metrics.lpips import feature_bytes

    n, h, w = images.shape[:3]
    per_view = feature_bytes(net, h, w)
    if str(device) == "cpu":
        return int(max(1, min(n, CPU_LPIPS_BATCH, CPU_LPIPS_BATCH_BYTES // per_view)))
    return int(max(1, min(n, LPIPS_BATCH_BYTES // per_view)))


def truth_features(net: str, images: np.ndarray, device: str) -> list:
    """The ground truth's LPIPS features for `net`, made once per object and kept for every prediction (also
    after a ground-truth cache hit: they are not kept on disk)."""
    from reconbench.metrics.lpips import lpips_features

    return lpips_features(images, net, batch_size=lpips_batch(net, images, device), device=device)


def evaluate(
    pred: Asset,
    gt: GroundTruth,
    frame: str | Frame = "y-up",
    scale: str = "bbox",
    align: str | None = None,
    lpips_nets: Sequence[str] | None = None,
    other_set: str | None = None,
    device: str | None = None,
) -> EvaluationResult:
    """All metrics of `pred` against `gt`, before and after refinement (see module docstring).
    `align`, `lpips_nets` and `other_set` default to the protocol's evaluation settings.

    `other_set`: the set that is not the headline (unaligned when the headline is aligned), "all" its
    metrics or only its "geometry" ones (whose points are made anyway, as the refinement's input); the
    image metrics of that set cost a second render of every view, SSIM and LPIPS. Each pose is rendered
    once, and not at all when nothing needs it; a refinement that leaves the pose unchanged reuses it."""
    timer = Timer()
    ev = gt.protocol.evaluation
    align = ev.alignment if align is None else align
    other_set = ev.other_set if other_set is None else other_set
    if other_set not in OTHER_SETS:
        raise ValueError(f"other_set must be one of {', '.join(OTHER_SETS)}, got {other_set!r}")
    lpips_nets = tuple(gt.lpips_features) if lpips_nets is None else tuple(lpips_nets)
    device = scoring_device(device)
    notes = [gt.occupancy_note] if gt.occupancy_note else []
    with timer("alignment"):
        initial = initial_transform(pred, frame, scale)
    placed = pred.transformed(initial)
    with _Scorer(gt, lpips_nets, timer, device) as score:
        if align == "none":
            images = score.images(placed)
            points = score.points(placed, images.views)
            shape = score.shape(placed, points, notes)
            metrics, views = _split_views({**images.metrics(), **shape})
            alignment = Alignment(frame, scale, align, initial)
            return EvaluationResult(metrics, alignment, timer.seconds, notes, images.views, views, points.shared)

        # The declared pose's points first: they are the refinement's input. Its images too when they are
        # wanted whatever the refinement does (a protocol whose geometry views are its cameras reuses them).
        headline_aligned = ev.headline == "aligned"
        early = score.images(placed) if not headline_aligned or other_set == "all" else None
        points = score.points(placed, early.views if early else None)
        placed_shape = score.pool.submit(score.shape, placed, points, notes)  # beside the refinement
        with timer("alignment"):
            source, target = (_subsample(c.points, ev.icp_points, ev.seed) for c in (points.cloud, gt.cloud))
            refinement, angle = refine(source, target, align, ev.icp_max_iterations, ev.rotation_search_step)
        alignment = Alignment(frame, scale, align, initial, refinement, angle)
        if np.array_equal(refinement, np.eye(4)):  # refinement rejected: the aligned pose is the declared one
            images = early or score.images(placed)
            shape = placed_shape.result()
            unaligned = aligned = {**images.metrics(), **shape}
            aligned_renders = images.views
        else:
            moved = placed.transformed(refinement)
            later = score.images(moved) if headline_aligned or other_set == "all" else None
            moved_shape = score.shape(moved, score.points(moved, later.views if later else None), [])
            shape = placed_shape.result()
            unaligned = {**(early.metrics() if early else {}), **shape}
            aligned = {**(later.metrics() if later else {}), **moved_shape}
            aligned_renders = later.views if later else None
    if other_set == "geometry":  # the other set keeps its geometric metrics only
        other = aligned if not headline_aligned else unaligned
        other = {k: v for k, v in other.items() if k in shape}
        aligned, unaligned = (aligned, other) if headline_aligned else (other, unaligned)
    if headline_aligned:
        metrics = {**aligned, **{f"unaligned_{k}": v for k, v in unaligned.items()}}
        renders = aligned_renders
    else:
        metrics = {**unaligned, **{f"aligned_{k}": v for k, v in aligned.items()}}
        renders = early.views if early else None
    metrics, views = _split_views(metrics)
    assert renders is not None  # the headline's images are always scored
    return EvaluationResult(metrics, alignment, timer.seconds, notes, renders, views, points.shared)


def _split_views(metrics: dict) -> tuple[dict, dict]:
    """(the scalar metrics, the headline set's per-view values): per-view lists stay out of the metrics."""
    views = metrics.pop(view_checks.VIEWS_KEY, {})
    for prefix in ("unaligned_", "aligned_"):
        metrics.pop(prefix + view_checks.VIEWS_KEY, None)
    return metrics, views


# Metrics that need a ground-truth asset; for input images without one they are "n/a" (not blank, not 0).
GROUND_TRUTH_METRICS = (
    "psnr",
    "psnr_masked",
    "ssim",
    "mask_iou",
    "chamfer",
    "accuracy",
    "completeness",
    "normal_consistency",
    "fscore",
    "volume_iou",
)
NOT_APPLICABLE = "n/a"


def evaluate_input_view(
    pred: Asset,
    image: np.ndarray,
    protocol: Protocol,
    frame: str | Frame = "y-up",
    scale: str = "bbox",
    lpips_nets: Sequence[str] = DEFAULT_LPIPS,
) -> EvaluationResult:
    """Fidelity on the input view only, for an input photo without ground truth: the prediction, placed by
    its declared convention, rendered at the protocol's input camera and compared with the photo
    (composited on white; silhouette from its alpha). Ground-truth metrics are marked not applicable."""
    timer = Timer()
    camera = protocol.input_cameras[0]
    with timer("alignment"):
        initial = initial_transform(pred, frame, scale)
    with timer("render"):
        views = render_views(pred.transformed(initial), [camera], protocol.lighting.predictions)
        ours = views.composited()
    alpha = image[None, ..., 3:].astype(np.float32) / 255
    target = image[None, ..., :3].astype(np.float32) / 255 * alpha + (1 - alpha)
    target_mask = image[None, ..., 3] > 127
    metrics: dict[str, float | str] = {}
    with timer("psnr"):
        metrics["input_psnr"] = float(image_metrics.psnr(ours, target)[0])
        metrics["input_psnr_masked"] = float(image_metrics.psnr(ours, target, views.mask | target_mask)[0])
    with timer("ssim"):
        metrics["input_ssim"] = float(image_metrics.ssim(ours, target)[0])
    metrics["input_mask_iou"] = float(image_metrics.mask_iou(views.mask, target_mask)[0])
    with timer("per_view"):
        checks = view_checks.score_input_image(
            views, target, target_mask, metrics["input_mask_iou"], pred.transformed(initial), protocol, lpips_nets
        )
    per_view_values = checks.pop(view_checks.VIEWS_KEY)
    metrics.update(checks)
    for net in lpips_nets:
        from reconbench.metrics.lpips import lpips_distance

        with timer(f"lpips_{net}"):
            metrics[f"input_lpips_{net}"] = float(lpips_distance(ours, target, net)[0])
    metrics.update(
        {
            name: NOT_APPLICABLE
            for name in (*GROUND_TRUTH_METRICS, *view_checks.GROUND_TRUTH_ONLY, *(f"lpips_{n}" for n in lpips_nets))
        }
    )
    notes = ["no ground truth (input image): only input-view fidelity, usability, time and cost apply"]
    return EvaluationResult(
        metrics, Alignment(frame, scale, "none", initial), timer.seconds, notes, views, per_view_values
    )


def _subsample_cloud(cloud: PointCloud, k: int, seed: int) -> PointCloud:
    if len(cloud) <= k:
        return cloud
    keep = geometry.subsample_indices(len(cloud), k, seed)
    return PointCloud(cloud.points[keep], cloud.normals[keep])


def _subsample(points: np.ndarray, k: int, seed: int) -> np.ndarray:
    """The refinement's input: the same draw as `geometry.subsample_indices`, left unsorted as it always was
    (sorting would reorder ICP's sums, so aligned values would no longer be bit-identical)."""
    if len(points) <= k:
        return points
    return points[np.random.default_rng(seed).choice(len(points), k, replace=False)]


class _Images(NamedTuple):
    """One pose's renders at the protocol's cameras and its image metrics, being computed."""

    views: RenderedViews
    pending: Future

    def metrics(self) -> dict[str, Any]:
        return self.pending.result()


class _Points(NamedTuple):
    """One pose's geometry points, and for a splat the geometry views they came from (its usability figures
    reuse them; None for meshes)."""

    cloud: PointCloud
    shared: RenderedViews | None


class _InlineExecutor(Executor):
    """Runs each submitted call at once, on the calling thread, its errors raised there (one core: nothing to
    overlap)."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


class _Scorer:
    """The metrics of one pose of a prediction against the ground truth: image metrics at the protocol's
    cameras, geometry at the geometry views (rendered once per pose, shared by Chamfer, F-score and normal
    consistency, and returned for the splat usability figures).

    Rendering (one GL context per process, current on this thread) and the refinement run on the calling
    thread; a pose's image metrics (arrays only: LPIPS on one background thread, PSNR, SSIM, mask IoU and the
    per-view checks on the other) as soon as its views are rendered, and geometry metrics wherever the caller
    asks (`pool`), so they overlap the next pose's rendering and geometry. Each value is computed by the same
    code on the same arrays as on one thread: only the order of the work changes. Two background threads
    where scoring may use two cores or more (system.cpus.scoring_threads), none where it may use one: the
    work then runs in order on the calling thread, as it did before the overlap.
    Used as a context manager: leaving it, early or on an error, stops the background work not yet begun
    (work under way finishes on its own; Python threads cannot be interrupted)."""

    def __init__(self, gt: GroundTruth, lpips_nets: Sequence[str], timer: Timer, device: str) -> None:
        self.gt, self.lpips_nets, self.timer, self.device = gt, lpips_nets, timer, device
        self.pool: Executor = (
            ThreadPoolExecutor(max_workers=2, thread_name_prefix="reconbench-scoring")
            if scoring_threads() > 1
            else _InlineExecutor()
        )

    def __enter__(self) -> _Scorer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    def images(self, asset: Asset) -> _Images:
        """Render `asset` at the protocol's cameras (and the Janus back view) here; score them in the background."""
        gt = self.gt
        protocol = gt.protocol
        with self.timer("render"):
            views = render_views(asset, protocol.cameras, protocol.lighting.predictions)
            images = views.composited()
            back = view_checks.janus_view(asset, gt.per_view, protocol)
        # LPIPS on one worker while PSNR, SSIM and mask IoU run on the other. The second task waits for the
        # first, which was queued just before it: by the time a worker takes it, LPIPS has been taken too.
        lpips = self.pool.submit(self._lpips, images)
        return _Images(views, self.pool.submit(self._image_metrics, views, images, back, lpips))

    def _lpips(self, images: np.ndarray) -> dict[str, np.ndarray]:
        from reconbench.metrics.lpips import lpips_against_features

        out = {}
        for net in self.lpips_nets:
            with self.timer(f"lpips_{net}"):
                features = self.gt.lpips_features[net]
                on = str(features[0].device)  # where the truth's features are (prepared there)
                batch = lpips_batch(net, images, on)
                out[f"lpips_{net}"] = lpips_against_features(images, features, net, batch_size=batch, device=on)
        return out

    def _image_metrics(
        self, views: RenderedViews, images: np.ndarray, back: np.ndarray | None, lpips: Future
    ) -> dict[str, Any]:
        gt, timer = self.gt, self.timer
        protocol, ev = gt.protocol, gt.protocol.evaluation
        with timer("psnr"):
            whole, masked = image_metrics.psnr_and_masked(images, gt.images, views.mask | gt.views.mask)
            per_view = {"psnr": whole, "psnr_masked": masked}
        with timer("ssim"):
            per_view["ssim"] = image_metrics.ssim(
                images,
                gt.images,
                data_range=1.0 if ev.ssim == "skimage" else None,
                border=ev.ssim_border,
                device=self.device,
            )
        with timer("mask_iou"):
            per_view["mask_iou"] = image_metrics.mask_iou(views.mask, gt.views.mask)
        with timer("per_view"):  # the Janus detector's LPIPS (one view) while the views' LPIPS runs
            janus = view_checks.janus(back, gt.per_view, self.device)
        per_view.update(lpips.result())
        roles = np.array([c.role for c in protocol.cameras])
        metrics: dict[str, Any] = {}
        for prefix, role in (("", "heldout"), ("input_", "input")):
            for name, values in per_view.items():
                metrics[f"{prefix}{name}"] = float(values[roles == role].mean())
        with timer("per_view"):  # sharpness, collapse, Janus (metrics/per_view.py)
            metrics.update(view_checks.score(janus, views, images, gt, per_view))
        return metrics

    def points(self, asset: Asset, image_views: RenderedViews | None = None) -> _Points:
        """The points geometry metrics compare (`image_views`: this pose's renders at the protocol's cameras,
        reused when the geometry views are those cameras)."""
        ev = self.gt.protocol.evaluation
        mesh = asset if isinstance(asset, MeshAsset) else None
        with self.timer("render"):
            if mesh is not None and ev.geometry_points == "surface":
                geo_views = None  # area-uniform samples of the mesh
            elif mesh is not None and ev.prediction_depth == "screen-linear":
                geo_views = None
            else:  # depth points; splats always (surface samples need triangles)
                geo_views = _geometry_views(asset, ev, image_views, self.gt.protocol.lighting.predictions)
        with self.timer("geometry"):
            if mesh is not None and ev.geometry_points == "depth" and ev.prediction_depth == "screen-linear":
                geo_views = geometry.screen_linear_depth_views(mesh, ev.geometry_cameras)
            cloud = geometry_cloud(mesh, geo_views, ev)
        return _Points(cloud, geo_views if mesh is None else None)

    def shape(self, asset: Asset, points: _Points, notes: list[str]) -> dict[str, float]:
        """Geometry metrics of `asset` from its `points`, and volume IoU."""
        gt, timer = self.gt, self.timer
        ev = gt.protocol.evaluation
        mesh = asset if isinstance(asset, MeshAsset) else None
        cloud = points.cloud
        metrics: dict[str, float] = {}
        with timer("geometry"):
            if ev.chamfer == "point-to-mesh":
                pred_q, gt_q = (_subsample_cloud(c, ev.mesh_distance_points, ev.seed) for c in (cloud, gt.cloud))
                depth_metrics = geometry.mesh_distance_metrics(
                    pred_q, gt_q, mesh, gt.mesh, ev.fscore_thresholds, ev.length_unit, cloud
                )
            else:
                depth_metrics = geometry.cloud_metrics(cloud, gt.cloud, ev.fscore_thresholds, ev.length_unit)
            metrics.update(depth_metrics)
            metrics["fscore"] = depth_metrics[f"fscore_{threshold_key(ev.fscore_default)}"]
            if mesh is not None:
                if ev.geometry_points == "surface" and ev.chamfer != "point-to-mesh":
                    surface = depth_metrics  # the same samples against the truth's same samples: done above
                else:
                    samples = (
                        cloud
                        if ev.geometry_points == "surface"  # geometry_cloud drew these very samples
                        else geometry.surface_point_cloud(mesh, ev.points, ev.seed)
                    )
                    surface = geometry.cloud_metrics(samples, gt.surface, ev.fscore_thresholds, ev.length_unit)
                metrics["surface_chamfer"] = surface["chamfer"]
                metrics["surface_fscore"] = surface[f"fscore_{threshold_key(ev.fscore_default)}"]
                metrics["surface_normal_consistency"] = surface["normal_consistency"]
        with timer("volume"):
            metrics["volume_iou"] = _volume_iou(asset, gt, notes)
        return metrics


def _geometry_views(
    asset: Asset, ev: Evaluation, image_views: RenderedViews | None, image_shading: Shading
) -> RenderedViews:
    """The asset at the geometry cameras, unlit. When those are the protocol's own cameras (`geometry_views:
    "protocol"`) and the protocol views were already rendered unlit, they are the same pixels: reused."""
    if (
        image_views is not None
        and (image_shading == UNLIT or not isinstance(asset, MeshAsset))  # splats are always drawn unlit
        and len(image_views) == len(ev.geometry_cameras)
        and all(_same_view(a, b) for a, b in zip(image_views.cameras, ev.geometry_cameras))
    ):
        return replace(image_views, cameras=tuple(ev.geometry_cameras))
    return render_views(asset, ev.geometry_cameras, UNLIT)


def _same_view(a: Camera, b: Camera) -> bool:
    """Whether two cameras see the same pixels (names and roles aside)."""
    return (a.width, a.height, a.fx, a.fy, a.cx, a.cy) == (b.width, b.height, b.fx, b.fy, b.cx, b.cy) and bool(
        np.array_equal(a.c2w, b.c2w)
    )


def geometry_cloud(mesh: MeshAsset | None, views: RenderedViews | None, ev: Evaluation) -> PointCloud:
    """The points geometry metrics compare, as the evaluation settings say (docs/metrics.md)."""
    if ev.geometry_points == "surface" and mesh is not None:
        return geometry.surface_point_cloud(mesh, ev.points, ev.seed)
    n = ev.points if ev.point_sampling == "random" else None
    return geometry.depth_point_cloud(views, n, ev.seed, ev.pixel_offset, ev.down_sample_voxel)


def occupancy(mesh: MeshAsset, ev: Evaluation) -> np.ndarray:
    """The volume-IoU grid of a mesh under the evaluation settings (NotWatertight where undefined)."""
    v = ev.volume
    if v["grid"] == "mesh2sdf":
        return mesh2sdf_occupancy(mesh, int(v["size"]), float(v["half_extent"]))
    return occupancy_grid(mesh, float(v["cell"]), float(v["extent"]))


def _volume_iou(asset: Asset, gt: GroundTruth, notes: list[str]) -> float:
    if not isinstance(asset, MeshAsset):
        notes.append("volume IoU applies to closed meshes only, not to Gaussian splats")
        return float("nan")
    if gt.occupancy is None:
        return float("nan")
    try:
        return volume_iou(occupancy(asset, gt.protocol.evaluation), gt.occupancy)
    except NotWatertight as exc:
        notes.append(f"prediction not watertight ({exc}): volume IoU not applicable")
        return float("nan")
