"""End-to-end scoring: the oracle is perfect, a moved copy is recovered by alignment."""

import numpy as np
import pytest
from conftest import needs_cuda

from reconbench.alignment import rotation_about_up
from reconbench.datasets import open_dataset
from reconbench.evaluation import evaluate, prepare_ground_truth
from reconbench.protocol import get_protocol

NO_LPIPS = ()


@pytest.fixture(scope="module")
def chair_gt():
    mesh = open_dataset("procedural").get("chair").load()
    return mesh, prepare_ground_truth(mesh, get_protocol("default"), lpips_nets=NO_LPIPS)


def test_the_ground_truth_scores_perfectly_against_itself(chair_gt):
    mesh, gt = chair_gt
    m = evaluate(mesh, gt, scale="none", align="none", lpips_nets=NO_LPIPS).metrics
    assert m["psnr"] == np.inf and m["ssim"] == pytest.approx(1.0) and m["mask_iou"] == 1.0
    assert m["input_psnr"] == np.inf
    assert (
        m["chamfer"] < 1e-6 and m["fscore"] == 1.0 and m["normal_consistency"] == pytest.approx(1.0, abs=1e-3)
    )  # float32 depth
    assert m["surface_chamfer"] == 0.0 and m["volume_iou"] == 1.0


@pytest.mark.parametrize("object_id", ["chair", "car"])
def test_a_known_small_similarity_is_recovered(object_id):
    mesh = open_dataset("procedural").get(object_id).load()
    gt = prepare_ground_truth(mesh, get_protocol("default"), lpips_nets=NO_LPIPS)
    moved = rotation_about_up(5.0)
    moved[:3, :3] *= 1.06
    moved[:3, 3] = [0.03, -0.02, 0.025]
    result = evaluate(mesh.transformed(moved), gt, scale="none", align="icp", lpips_nets=NO_LPIPS, other_set="all")
    m = result.metrics
    assert m["surface_chamfer"] <= 0.002 < 3 * 0.002 < m["unaligned_surface_chamfer"]
    # No sampling floor on `default`: distances go to the other mesh's triangles, so a
    # perfect prediction recovered by alignment scores (almost) 0, far below the 0.004 of depth-cloud Chamfer.
    assert m["chamfer"] <= 0.0005 and m["fscore_01"] >= 0.99
    assert m["unaligned_chamfer"] > 0.01
    assert m["psnr"] > m["unaligned_psnr"] + 5
    assert np.allclose(np.array(result.alignment.to_dict()["total"]) @ moved, np.eye(4), atol=0.01)


def test_bbox_convention_undoes_any_offset_and_scale(chair_gt):
    mesh, gt = chair_gt
    blown_up = np.diag([3.0, 3.0, 3.0, 1.0])
    blown_up[:3, 3] = [10, -4, 2]
    m = evaluate(mesh.transformed(blown_up), gt, scale="bbox", align="none", lpips_nets=NO_LPIPS).metrics
    assert m["chamfer"] < 1e-3 and m["volume_iou"] > 0.98


def test_a_wrong_frame_is_penalised_and_the_right_one_is_exact(chair_gt):
    mesh, gt = chair_gt
    z_up_file = mesh.transformed(np.linalg.inv(np.array([[1, 0, 0, 0], [0, 0, 1, 0], [0, -1, 0, 0], [0, 0, 0, 1.0]])))
    right = evaluate(z_up_file, gt, frame="z-up", scale="none", align="none", lpips_nets=NO_LPIPS).metrics
    wrong = evaluate(z_up_file, gt, frame="y-up", scale="none", align="none", lpips_nets=NO_LPIPS).metrics
    assert right["chamfer"] < 1e-6 and wrong["chamfer"] > 0.05


def test_results_record_the_transform_and_both_metric_sets(chair_gt):
    mesh, gt = chair_gt
    result = evaluate(mesh, gt, scale="bbox", align="icp", lpips_nets=NO_LPIPS, other_set="all")
    d = result.to_dict()
    assert {"psnr", "unaligned_psnr", "chamfer", "unaligned_chamfer", "fscore_01", "fscore_02", "fscore_05"} <= set(d)
    assert np.array(d["alignment"]["total"]).shape == (4, 4) and d["alignment"]["mode"] == "icp"
    assert result.renders.color.shape[0] == len(get_protocol("default").cameras)


@pytest.mark.parametrize("moved", [True, False])
def test_the_other_set_by_default_is_its_geometry_equal_to_the_full_sets(chair_gt, moved):
    """`default` keeps only the geometric metrics of the unaligned set (its points are the refinement's
    input anyway); they and the whole headline set are the values the full computation gives, whether
    the refinement moved the prediction (two poses) or was rejected (one pose, scored once)."""
    mesh, gt = chair_gt
    shift = np.eye(4)
    shift[:3, 3] = [0.03, -0.02, 0.025] if moved else [0, 0, 0]
    pred = mesh.transformed(shift)
    assert get_protocol("default").evaluation.other_set == "geometry"
    full = evaluate(pred, gt, scale="none", lpips_nets=NO_LPIPS, other_set="all")
    part = evaluate(pred, gt, scale="none", lpips_nets=NO_LPIPS)
    assert np.array_equal(full.alignment.refinement, np.eye(4)) != moved
    unaligned = {k for k in part.metrics if k.startswith("unaligned_")}
    assert {"unaligned_chamfer", "unaligned_fscore", "unaligned_volume_iou", "unaligned_surface_chamfer"} <= unaligned
    assert not unaligned & {"unaligned_psnr", "unaligned_ssim", "unaligned_mask_iou", "unaligned_sharpness"}
    assert set(part.metrics) < set(full.metrics)
    assert all(part.metrics[k] == full.metrics[k] or np.isnan(full.metrics[k]) for k in part.metrics)
    assert np.array_equal(part.renders.color, full.renders.color) and part.views == full.views


def test_an_unknown_other_set_is_refused(chair_gt):
    mesh, gt = chair_gt
    with pytest.raises(ValueError, match="other_set"):
        evaluate(mesh, gt, other_set="images", lpips_nets=NO_LPIPS)
    with pytest.raises(ValueError, match="other_set"):
        get_protocol("default").evaluation.with_other_set("some")
    assert get_protocol("default").evaluation.with_other_set("all").to_dict()["other_set"] == "all"


@pytest.mark.slow
@pytest.mark.parametrize(
    "preset,keys", [("gso-sf3d-approx", ("fscore_10", "fscore_20", "fscore_50")), ("gso30-crm-approx", ("fscore_05",))]
)
def test_approximate_presets_score_in_their_papers_units(preset, keys):
    """The TripoSR/SF3D preset reports lengths in [-1, 1] units (twice reconbench's) after rotation search
    and ICP; CRM's in [-0.5, 0.5] at F@0.05. A yawed, shifted copy of the ground truth is recovered."""
    mesh = open_dataset("procedural").get("car").load()
    protocol = get_protocol(preset)
    gt = prepare_ground_truth(mesh, protocol, lpips_nets=NO_LPIPS)
    moved = rotation_about_up(70.0 if preset.startswith("gso-sf3d") else 4.0)
    moved[:3, 3] = [0.02, 0.0, -0.03]
    result = evaluate(mesh.transformed(moved), gt, scale="none", lpips_nets=NO_LPIPS)
    m = result.metrics
    assert result.alignment.mode == protocol.evaluation.alignment
    assert all(m[k] >= 0.99 for k in keys) and m["chamfer"] < 0.2 * m["unaligned_chamfer"]
    assert m["accuracy"] < m["unaligned_accuracy"]
    same = evaluate(mesh, gt, scale="none", align="none", lpips_nets=NO_LPIPS).metrics
    assert same["chamfer"] < 0.02 * protocol.evaluation.length_unit  # surface samples vs samples: a floor remains


def test_lpips_and_ssim_run_on_a_visible_gpu_unless_told(monkeypatch):
    import torch

    from reconbench.evaluation import scoring_device

    monkeypatch.delenv("RECONBENCH_SCORING_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert scoring_device() == "cuda" and scoring_device("cpu") == "cpu"
    monkeypatch.setenv("RECONBENCH_SCORING_DEVICE", "cpu")  # kept off the method's GPU
    assert scoring_device() == "cpu" and scoring_device("cuda:1") == "cuda:1"
    monkeypatch.delenv("RECONBENCH_SCORING_DEVICE")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert scoring_device() == "cpu"


def test_lpips_batches_hold_every_view_on_a_gpu_within_the_memory_bound():
    from reconbench.evaluation import CPU_LPIPS_BATCH, LPIPS_BATCH_BYTES, lpips_batch
    from reconbench.metrics.lpips import feature_bytes

    views = np.zeros((25, 512, 512, 3), np.float32)
    assert lpips_batch("alex", views, "cuda") == 25  # one forward pass for `default`
    vgg = lpips_batch("vgg", views, "cuda")
    assert 1 <= vgg < 25 and vgg * feature_bytes("vgg", 512, 512) <= LPIPS_BATCH_BYTES
    assert lpips_batch("vgg", views[:16, :256, :256], "cuda") == 16  # gso30-syncdreamer: 16 views at 256
    # On the CPU a few views at a time, fewer for larger features (faster there, docs/metrics.md).
    assert lpips_batch("alex", views) == CPU_LPIPS_BATCH
    assert lpips_batch("vgg", views[:16, :256, :256]) == 1 and lpips_batch("vgg", views) == 1


def _counting_renders(monkeypatch):
    """Every render scoring asks for, as (number of cameras, asset id)."""
    from reconbench import evaluation
    from reconbench.metrics import per_view

    calls = []
    real = evaluation.render_views

    def counted(asset, cameras, shading):
        calls.append((len(cameras), id(asset)))
        return real(asset, cameras, shading)

    monkeypatch.setattr(evaluation, "render_views", counted)
    monkeypatch.setattr(per_view, "render_views", counted)
    return calls


@pytest.mark.parametrize("other_set,moved,expected", [("geometry", True, 4), ("all", True, 6), ("geometry", False, 3)])
def test_each_pose_is_rendered_once_and_only_where_needed(small_protocol, monkeypatch, other_set, moved, expected):
    """Renders per pair: the declared pose's geometry views (the refinement's input), then the aligned pose's
    protocol views, geometry views and Janus back view; the unaligned pose's protocol views and back view only
    for --other-set all; a rejected refinement scores the declared pose once (main drew 6 in every case)."""
    protocol = get_protocol(small_protocol)
    mesh = open_dataset("procedural").get("mug").load()
    gt = prepare_ground_truth(mesh, protocol, lpips_nets=("alex",))
    shift = np.eye(4)
    shift[:3, 3] = [0.03, -0.02, 0.025] if moved else [0, 0, 0]
    calls = _counting_renders(monkeypatch)
    result = evaluate(mesh.transformed(shift), gt, scale="none", other_set=other_set)
    assert np.array_equal(result.alignment.refinement, np.eye(4)) != moved
    assert len(calls) == expected
    sizes = [n for n, _ in calls]
    n_views, n_geometry = len(protocol.cameras), len(protocol.evaluation.geometry_cameras)
    assert n_views != n_geometry  # 12 and 8: the counts below tell the two apart
    assert sizes.count(n_views) == (2 if other_set == "all" else 1)  # protocol views: once per pose scored
    assert sizes.count(n_geometry) == (2 if moved else 1)  # geometry views: once per pose
    assert sizes.count(1) == sizes.count(n_views)  # the Janus back view beside each protocol render


def test_protocol_camera_geometry_reuses_the_protocol_renders_and_splats_share_theirs(small_protocol, monkeypatch):
    """geometry_views "protocol" (gso30-syncdreamer's): a splat prediction's unlit protocol renders are its
    depth maps too, drawn once; the result hands them on (the splat usability figures fuse them)."""
    from dataclasses import replace

    from reconbench.assets.splats import splats_on_surface
    from reconbench.protocol import UNLIT, Evaluation
    from reconbench.render import render_views

    base = get_protocol(small_protocol)
    protocol = replace(
        base, evaluation=Evaluation.from_spec({**base.evaluation.spec, "geometry_views": "protocol"}, base.cameras)
    )
    mesh = open_dataset("procedural").get("mug").load()
    gt = prepare_ground_truth(mesh, protocol, lpips_nets=NO_LPIPS)
    splats = splats_on_surface(mesh.to_trimesh(), 5000)
    calls = _counting_renders(monkeypatch)
    result = evaluate(splats, gt, scale="none", align="none", lpips_nets=NO_LPIPS)
    assert [n for n, _ in calls] == [len(protocol.cameras)]  # no Janus without LPIPS, no second render
    fresh = render_views(splats, protocol.evaluation.geometry_cameras, UNLIT)
    assert result.geometry_views is not None
    assert np.array_equal(result.geometry_views.depth, fresh.depth)
    assert np.array_equal(result.geometry_views.alpha, fresh.alpha)
    assert [c.name for c in result.geometry_views.cameras] == [c.name for c in protocol.evaluation.geometry_cameras]


def _same_metrics(a: dict, b: dict) -> bool:
    """The same keys in the same order and the same values, NaN equal to NaN."""
    return list(a) == list(b) and all(x == y or (x != x and y != y) for x, y in zip(a.values(), b.values()))


@pytest.mark.parametrize(
    "other_set,align,headline,moved",
    [
        ("geometry", None, "aligned", True),
        ("all", None, "aligned", True),
        ("geometry", "none", "aligned", True),
        ("geometry", None, "unaligned", True),
        ("all", None, "unaligned", True),
        ("geometry", None, "aligned", False),  # the truth itself: the refinement is rejected
        ("all", None, "aligned", False),
    ],
)
def test_scoring_on_background_threads_equals_scoring_in_order(
    small_protocol, monkeypatch, other_set, align, headline, moved
):
    """Two cores: image metrics (and the declared pose's geometry) run beside the rendering; one core: every
    step in order on one thread. The results are the same to the bit, key order and notes included, on every
    path (headline aligned or not, refinement kept or rejected, no refinement); every render stays on the thread
    that owns the GL context, and the image metrics do run elsewhere."""
    import threading
    from dataclasses import replace

    from reconbench.metrics import image as image_metrics
    from reconbench.protocol import Evaluation

    base = get_protocol(small_protocol)
    protocol = replace(
        base, evaluation=Evaluation.from_spec({**base.evaluation.spec, "headline": headline}, base.cameras)
    )
    mesh = open_dataset("procedural").get("mug").load()
    gt = prepare_ground_truth(mesh, protocol, lpips_nets=("alex",))
    shift = rotation_about_up(4.0)
    shift[:3, 3] = [0.03, -0.02, 0.025]
    prediction = mesh.transformed(shift) if moved else mesh
    results = {}
    for threads in ("1", "2"):
        monkeypatch.setenv("OMP_NUM_THREADS", threads)
        results[threads] = evaluate(prediction, gt, scale="none", other_set=other_set, align=align)
    one, two = results["1"], results["2"]
    assert np.array_equal(one.alignment.refinement, np.eye(4)) == (not moved or align == "none")
    assert _same_metrics(one.metrics, two.metrics) and one.views == two.views and one.notes == two.notes
    assert np.array_equal(one.alignment.refinement, two.alignment.refinement)
    assert np.array_equal(one.renders.color, two.renders.color)

    from reconbench import evaluation
    from reconbench.metrics import per_view

    threads_of = {"render": [], "ssim": []}

    def on_thread(stage, real):
        return lambda *a, **k: threads_of[stage].append(threading.current_thread()) or real(*a, **k)

    for module in (evaluation, per_view):
        monkeypatch.setattr(module, "render_views", on_thread("render", module.render_views))
    monkeypatch.setattr(image_metrics, "ssim", on_thread("ssim", image_metrics.ssim))
    evaluate(prediction, gt, scale="none", other_set=other_set, align=align)
    assert threads_of["render"] and set(threads_of["render"]) == {threading.main_thread()}
    assert threads_of["ssim"] and threading.main_thread() not in threads_of["ssim"]


def test_an_error_in_background_scoring_reaches_the_caller(small_protocol, monkeypatch):
    from reconbench.metrics import image as image_metrics

    protocol = get_protocol(small_protocol)
    mesh = open_dataset("procedural").get("mug").load()
    gt = prepare_ground_truth(mesh, protocol, lpips_nets=NO_LPIPS)

    def broken(*args, **kwargs):
        raise FloatingPointError("SSIM failed on purpose")

    monkeypatch.setattr(image_metrics, "ssim", broken)
    for threads in ("1", "2"):
        monkeypatch.setenv("OMP_NUM_THREADS", threads)
        with pytest.raises(FloatingPointError, match="on purpose"):
            evaluate(mesh, gt, scale="none", lpips_nets=NO_LPIPS)


def test_an_error_in_the_geometry_scored_beside_the_refinement_reaches_the_caller(small_protocol, monkeypatch):
    from reconbench import evaluation

    protocol = get_protocol(small_protocol)
    mesh = open_dataset("procedural").get("mug").load()
    gt = prepare_ground_truth(mesh, protocol, lpips_nets=NO_LPIPS)
    real = evaluation._volume_iou
    shift = np.eye(4)
    shift[:3, 3] = [0.03, -0.02, 0.025]
    prediction = mesh.transformed(shift)

    def broken_for_the_declared_pose(asset, truth, notes):  # scored on the pool beside ICP (two threads)
        if np.array_equal(asset.parts[0].vertices, prediction.parts[0].vertices):
            raise ArithmeticError("volume failed on purpose")
        return real(asset, truth, notes)

    monkeypatch.setattr(evaluation, "_volume_iou", broken_for_the_declared_pose)
    for threads in ("1", "2"):
        monkeypatch.setenv("OMP_NUM_THREADS", threads)
        with pytest.raises(ArithmeticError, match="on purpose"):
            evaluate(prediction, gt, scale="none", lpips_nets=NO_LPIPS)


@pytest.mark.gpu
@needs_cuda
def test_scoring_on_a_gpu_gives_the_cpus_values(small_protocol):
    """LPIPS and SSIM on CUDA (float32, IEEE convolutions) against the CPU's, the same renders (the renderer is
    the same either way): within float32 rounding; every other metric the same to the bit."""
    protocol = get_protocol(small_protocol)
    mesh = open_dataset("procedural").get("mug").load()
    moved = rotation_about_up(4.0)
    moved[:3, 3] = [0.03, -0.02, 0.025]
    prediction = mesh.transformed(moved)
    on = {d: evaluate(prediction, prepare_ground_truth(mesh, protocol, device=d), device=d) for d in ("cpu", "cuda")}
    cpu, gpu = on["cpu"].metrics, on["cuda"].metrics
    assert list(cpu) == list(gpu)
    for key, value in cpu.items():
        if "lpips" in key or "ssim" in key or "janus" in key:
            assert gpu[key] == pytest.approx(value, rel=1e-4, abs=1e-6), key
        else:
            assert gpu[key] == value or (value != value and gpu[key] != gpu[key]), key
