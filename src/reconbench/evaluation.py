"""Score one predicted asset against one ground-truth object under a protocol.

The ground truth's renders, point clouds, occupancy and LPIPS features are computed once per
(object, protocol) in `prepare_ground_truth` and reused for every method. A prediction is first
brought into the canonical frame by its declared convention, scored, then (optionally) refined by
similarity ICP / rotation search and scored again; the protocol says which is the headline.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from reconbench.alignment import Alignment, initial_transform, refine
from reconbench.assets import Asset, MeshAsset
from reconbench.metrics import geometry
from reconbench.metrics import image as image_metrics
from reconbench.metrics import per_view as view_checks
from reconbench.metrics.geometry import PointCloud, threshold_key
from reconbench.metrics.volume import NotWatertight, mesh2sdf_occupancy, occupancy_grid, volume_iou
from reconbench.protocol import UNLIT, Evaluation, Protocol
from reconbench.protocol.frames import Frame
from reconbench.render import RenderedViews, render_views

DEFAULT_LPIPS = ("alex",)


class Timer:
    """Seconds spent per named stage, summed over calls."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - start


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

    def to_dict(self) -> dict:
        return {**self.metrics, "alignment": self.alignment.to_dict(), "notes": self.notes, "views": self.views}


def check_lpips(nets: Sequence[str]) -> None:
    """Fail before any work if an LPIPS backbone's weights are missing (the error says what to install)."""
    if nets:
        from reconbench.metrics.lpips import weights_path

        for net in nets:
            weights_path(net)


def prepare_ground_truth(
    mesh: MeshAsset, protocol: Protocol, lpips_nets: Sequence[str] | None = None, timer: Timer | None = None
) -> GroundTruth:
    """`lpips_nets` None: the protocol's own (its evaluation settings)."""
    timer = timer or Timer()
    ev = protocol.evaluation
    lpips_nets = ev.lpips_nets if lpips_nets is None else lpips_nets
    with timer("render"):
        views = render_views(mesh, protocol.cameras, protocol.lighting.references)
        geo_views = render_views(mesh, ev.geometry_cameras, UNLIT) if ev.geometry_points == "depth" else None
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
        from reconbench.metrics.lpips import lpips_features

        with timer(f"lpips_{net}"):
            gt.lpips_features[net] = lpips_features(images, net)
    with timer("per_view"):
        gt.per_view = view_checks.prepare_reference(mesh, protocol, views, images, lpips_nets)
    return gt


def evaluate(
    pred: Asset,
    gt: GroundTruth,
    frame: str | Frame = "y-up",
    scale: str = "bbox",
    align: str | None = None,
    lpips_nets: Sequence[str] | None = None,
) -> EvaluationResult:
    """All metrics of `pred` against `gt`, before and after refinement (see module docstring).
    `align` and `lpips_nets` default to the protocol's evaluation settings."""
    timer = Timer()
    ev = gt.protocol.evaluation
    align = ev.alignment if align is None else align
    lpips_nets = tuple(gt.lpips_features) if lpips_nets is None else lpips_nets
    notes = [gt.occupancy_note] if gt.occupancy_note else []
    with timer("alignment"):
        initial = initial_transform(pred, frame, scale)
    placed = pred.transformed(initial)
    unaligned, renders, cloud = _score(placed, gt, lpips_nets, timer, notes)
    alignment = Alignment(frame, scale, align, initial)
    if align == "none":
        metrics, views = _split_views(unaligned)
        return EvaluationResult(metrics, alignment, timer.seconds, notes, renders, views)

    with timer("alignment"):
        source, target = (_subsample(c.points, ev.icp_points, ev.seed) for c in (cloud, gt.cloud))
        refinement, angle = refine(source, target, align, ev.icp_max_iterations, ev.rotation_search_step)
    alignment = Alignment(frame, scale, align, initial, refinement, angle)
    aligned, aligned_renders, _ = _score(placed.transformed(refinement), gt, lpips_nets, timer, [])
    if ev.headline == "aligned":
        metrics = {**aligned, **{f"unaligned_{k}": v for k, v in unaligned.items()}}
        renders = aligned_renders
    else:
        metrics = {**unaligned, **{f"aligned_{k}": v for k, v in aligned.items()}}
    metrics, views = _split_views(metrics)
    return EvaluationResult(metrics, alignment, timer.seconds, notes, renders, views)


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
    keep = np.sort(np.random.default_rng(seed).choice(len(cloud), k, replace=False))
    return PointCloud(cloud.points[keep], cloud.normals[keep])


def _subsample(points: np.ndarray, k: int, seed: int) -> np.ndarray:
    if len(points) <= k:
        return points
    return points[np.random.default_rng(seed).choice(len(points), k, replace=False)]


def _score(
    asset: Asset, gt: GroundTruth, lpips_nets: Sequence[str], timer: Timer, notes: list[str]
) -> tuple[dict[str, float], RenderedViews, PointCloud]:
    protocol, ev = gt.protocol, gt.protocol.evaluation
    with timer("render"):
        views = render_views(asset, protocol.cameras, protocol.lighting.predictions)
        geo_views = render_views(asset, ev.geometry_cameras, UNLIT) if ev.geometry_points == "depth" else None
        images = views.composited()
    with timer("psnr"):
        per_view = {
            "psnr": image_metrics.psnr(images, gt.images),
            "psnr_masked": image_metrics.psnr(images, gt.images, views.mask | gt.views.mask),
        }
    with timer("ssim"):
        per_view["ssim"] = image_metrics.ssim(
            images, gt.images, data_range=1.0 if ev.ssim == "skimage" else None, border=ev.ssim_border
        )
    with timer("mask_iou"):
        per_view["mask_iou"] = image_metrics.mask_iou(views.mask, gt.views.mask)
    for net in lpips_nets:
        from reconbench.metrics.lpips import lpips_features, lpips_from_features

        with timer(f"lpips_{net}"):
            per_view[f"lpips_{net}"] = lpips_from_features(lpips_features(images, net), gt.lpips_features[net], net)
    roles = np.array([c.role for c in protocol.cameras])
    metrics: dict[str, float] = {}
    for prefix, role in (("", "heldout"), ("input_", "input")):
        for name, values in per_view.items():
            metrics[f"{prefix}{name}"] = float(values[roles == role].mean())
    with timer("per_view"):  # sharpness, collapse, Janus (metrics/per_view.py)
        metrics.update(view_checks.score(asset, views, images, gt, per_view))

    with timer("geometry"):
        mesh = asset if isinstance(asset, MeshAsset) else None
        if mesh is not None and ev.prediction_depth == "screen-linear":
            geo_views = geometry.screen_linear_depth_views(mesh, ev.geometry_cameras)
        if geo_views is None and mesh is None:  # surface samples need triangles: splats give depth points
            geo_views = render_views(asset, ev.geometry_cameras, UNLIT)
        cloud = geometry_cloud(mesh, geo_views, ev)
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
            surface = geometry.cloud_metrics(
                geometry.surface_point_cloud(mesh, ev.points, ev.seed), gt.surface, ev.fscore_thresholds, ev.length_unit
            )
            metrics["surface_chamfer"] = surface["chamfer"]
            metrics["surface_fscore"] = surface[f"fscore_{threshold_key(ev.fscore_default)}"]
            metrics["surface_normal_consistency"] = surface["normal_consistency"]
    with timer("volume"):
        metrics["volume_iou"] = _volume_iou(asset, gt, notes)
    return metrics, views, cloud


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
