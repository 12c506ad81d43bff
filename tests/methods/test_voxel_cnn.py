"""voxel-cnn: input preparation, targets, deterministic training, resume, the shipped checkpoint and its record."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from reconbench.assets.mesh import MeshAsset, MeshPart
from reconbench.methods.voxel_cnn import data as vdata
from reconbench.methods.voxel_cnn.train import MODEL, RECORD, TrainConfig, batch_indices, train


def test_input_image_is_the_central_crop_box_filtered_and_premultiplied():
    img = np.zeros((512, 512, 4), np.uint8)
    img[:64] = (255, 255, 255, 255)  # outside the central 384 pixels: never seen
    img[64:70, 64:70] = (200, 100, 0, 255)  # the 6x6 block of the crop's top-left output pixel, opaque
    x = vdata.image_to_input(img)
    assert x.shape == (4, 64, 64) and x.dtype == np.float32
    assert x[:, 0, 0] == pytest.approx([200 / 255, 100 / 255, 0, 1.0])
    assert x[:, 0, 1].max() == 0
    quarter = img.copy()
    quarter[64:70, 64:70, 3] = 0
    quarter[64:67, 64:67, 3] = 255  # 9 of 36 pixels covered: colour premultiplied, coverage 1/4
    assert vdata.image_to_input(quarter)[:, 0, 0] == pytest.approx([50 / 255, 25 / 255, 0, 0.25])
    with pytest.raises(ValueError, match="square"):
        vdata.image_to_input(np.zeros((64, 32, 4), np.uint8))


def _cube(half: float) -> MeshAsset:
    import trimesh

    box = trimesh.creation.box(extents=(2 * half,) * 3)
    return MeshAsset((MeshPart(np.asarray(box.vertices), np.asarray(box.faces, dtype=np.int64)),))


def test_occupancy_target_fills_a_closed_mesh_to_its_volume():
    occ = vdata.occupancy_targets(_cube(0.25), np.random.default_rng(0))
    cell = (2 * 0.55 / 32) ** 3
    # filled volume within one fine voxel layer of the true 0.125 (the shell is conservative)
    assert occ.sum() * cell == pytest.approx(0.125, rel=0.25)
    assert occ[16, 16, 16] == 1.0 and occ[0, 0, 0] == 0.0  # inside full, corner empty


def test_batches_are_a_function_of_seed_and_step():
    cfg = TrainConfig(samples=20, steps=5, batch_size=4)
    a, b = batch_indices(cfg, 3), batch_indices(cfg, 3)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(batch_indices(cfg, 4)[0], a[0]) or not np.array_equal(batch_indices(cfg, 4)[1], a[1])


TINY = dict(samples=6, steps=4, batch_size=3, checkpoint_every=1)


@pytest.fixture
def tiny_cache(tmp_path_factory, monkeypatch):
    cache = tmp_path_factory.getbasetemp() / "voxel-cnn-cache"  # one tiny training set for the whole session
    monkeypatch.setenv("RECONBENCH_CACHE", str(cache))
    return cache


def _weights(folder) -> dict[str, torch.Tensor]:
    return torch.load(folder / MODEL, weights_only=True)


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.slow
def test_training_is_deterministic_for_a_seed(tiny_cache, tmp_path):
    cfg = TrainConfig(**{**TINY, "steps": 2})
    r1 = train(cfg, tmp_path / "a", progress=False)
    r2 = train(cfg, tmp_path / "b", progress=False)
    assert _same(_weights(tmp_path / "a"), _weights(tmp_path / "b"))
    assert r1["final_losses"] == r2["final_losses"] and r1["checkpoint_sha256"] == r2["checkpoint_sha256"]
    train(TrainConfig(**{**TINY, "steps": 2, "seed": 1}), tmp_path / "c", progress=False)
    assert not _same(_weights(tmp_path / "a"), _weights(tmp_path / "c"))


@pytest.mark.slow
def test_resuming_after_an_interruption_gives_the_uninterrupted_weights(tiny_cache, tmp_path):
    cfg = TrainConfig(**TINY)
    full = train(cfg, tmp_path / "full", progress=False)
    assert train(cfg, tmp_path / "cut", progress=False, stop_after=2) is None  # interrupted after 2 of 4 steps
    assert not (tmp_path / "cut" / MODEL).exists()
    resumed = train(cfg, tmp_path / "cut", progress=False)
    assert _same(_weights(tmp_path / "full"), _weights(tmp_path / "cut"))
    assert resumed["steps"] == full["steps"] == 4 and resumed["final_losses"] == full["final_losses"]
    with pytest.raises(ValueError, match="another configuration"):
        train(TrainConfig(**{**TINY, "lr": 1e-4}), tmp_path / "cut", progress=False)


@pytest.mark.slow
def test_the_training_record_states_device_data_and_versions(tiny_cache, tmp_path):
    from reconbench import __version__
    from reconbench.datasets.procedural.variants import SEED_START

    record = train(TrainConfig(**{**TINY, "steps": 2}), tmp_path, progress=False)
    assert json.loads((tmp_path / RECORD).read_text()) == record
    assert record["device"]["kind"] == "cpu" and record["device"]["name"]
    assert record["device_seconds"] > 0 and record["data_cpu_seconds"] > 0
    assert record["steps"] == 2 and record["samples"] == 2 * TINY["batch_size"]
    assert record["data"]["seeds"] == [SEED_START, SEED_START + TINY["samples"] - 1]
    assert set(record["final_losses"]) == {"total", "bce", "iou", "colour_l1"}
    assert record["reconbench"] == __version__ and record["commit"]


def test_train_command_refuses_a_method_reconbench_does_not_train(capsys):
    from reconbench.cli import main

    assert main(["train", "sphere"]) == 2
    assert "not trained by reconbench" in capsys.readouterr().err


def test_the_method_refuses_a_camera_it_was_not_trained_for():
    from reconbench.methods.voxel_cnn.method import check_camera
    from reconbench.protocol import get_protocol

    check_camera(get_protocol("sparse4").input_cameras[0])  # the trained camera: accepted
    with pytest.raises(ValueError, match="trained for the input camera"):
        check_camera(get_protocol("gso30-syncdreamer").input_cameras[0])


def test_the_shipped_checkpoint_is_small_safe_and_matches_its_record():
    from reconbench.methods.voxel_cnn.method import SHIPPED, load_record
    from reconbench.methods.voxel_cnn.network import VoxelCNN
    from reconbench.provenance import sha256_file

    path = SHIPPED / MODEL
    assert path.stat().st_size < 5_000_000
    state = torch.load(path, weights_only=True)  # plain tensors only: no pickled code
    VoxelCNN().load_state_dict(state)
    record = load_record(SHIPPED)
    assert record["checkpoint_sha256"] == sha256_file(path)
    assert record["device_seconds"] > 0 and record["steps"] == TrainConfig().steps
    assert record["config"] == {**TrainConfig().__dict__}  # `reconbench train voxel-cnn` reproduces it


@pytest.mark.slow
def test_the_shipped_checkpoint_reconstructs_an_evaluation_object(tmp_path):
    """Load + inference on the mug (default protocol): a closed coloured mesh inside the input silhouette
    and covering most of it, whose surface is closer to the ground truth than the sphere's."""
    from reconbench.assets import load_asset
    from reconbench.assets.mesh import normalisation_transform
    from reconbench.datasets.procedural import build_object
    from reconbench.methods.base import MethodInput
    from reconbench.methods.reference import sphere
    from reconbench.methods.voxel_cnn.method import run
    from reconbench.metrics.geometry import cloud_metrics, surface_point_cloud, threshold_key
    from reconbench.protocol import UNLIT, get_protocol
    from reconbench.render import render_views

    proto = get_protocol("default")
    gt = build_object("mug")
    gt = gt.transformed(normalisation_transform(gt.bounds))
    images = tuple(render_views(gt, proto.input_cameras, proto.lighting.inputs).rgba())
    inp = MethodInput(images, proto.input_cameras, (), tmp_path)
    out = run(inp)
    assert set(out.stage_seconds) == {"model_load", "inference", "mesh", "colour", "export"}
    assert out.info["training"]["checkpoint_sha256"]
    pred = load_asset(out.asset)
    part = pred.parts[0]
    assert len(part.faces) > 500 and part.vertex_colors is not None
    assert part.vertex_colors.min() >= 0 and part.vertex_colors.max() <= 1
    assert pred.to_trimesh().is_watertight
    mask = render_views(pred, proto.input_cameras, UNLIT).mask[0]
    target = images[0][..., 3] > 127
    # carving by the input silhouette: (almost) nothing outside it; the learned shape covers most of it
    assert (mask & ~target).sum() / mask.sum() < 0.03
    assert (mask & target).sum() / target.sum() > 0.7

    def fscore(asset) -> float:
        metrics = cloud_metrics(surface_point_cloud(asset, 20000, 0), surface_point_cloud(gt, 20000, 1), (0.05,))
        return metrics[f"fscore_{threshold_key(0.05)}"]

    sphere_out = sphere.run(MethodInput(images, proto.input_cameras, (), tmp_path / "sphere"))
    assert fscore(pred) > fscore(load_asset(sphere_out.asset))


def test_training_set_cache_is_under_the_shared_cache_root(tmp_path, monkeypatch):
    """An empty RECONBENCH_CACHE means the default, as for every other user of the cache root (system.paths)."""
    from reconbench.system.paths import cache_root

    monkeypatch.setenv("RECONBENCH_CACHE", "")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert vdata.cache_dir() == cache_root() / "voxel_cnn" == tmp_path / "home" / ".cache" / "reconbench" / "voxel_cnn"
