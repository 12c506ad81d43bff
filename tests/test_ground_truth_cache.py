"""Ground-truth products on disk (ground_truth_cache.py): a second preparation loads them, gives the same
arrays, and a changed protocol or object misses the cache."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from reconbench import ground_truth_cache
from reconbench.datasets import open_dataset
from reconbench.evaluation import Timer, evaluate, prepare_ground_truth
from reconbench.protocol import get_protocol

NETS = ("alex",)


@pytest.fixture(scope="module")
def mesh():
    return open_dataset("procedural").get("mug").load()


@pytest.fixture(scope="module")
def protocol(small_protocol):
    return get_protocol(small_protocol)


def _prepare(mesh, protocol, folder):
    timer = Timer()
    return prepare_ground_truth(mesh, protocol, NETS, timer=timer, cache_dir=folder), set(timer.seconds)


def _assert_same(a, b):
    for name in ("color", "mask", "depth", "normal"):
        x, y = getattr(a.views, name), getattr(b.views, name)
        assert x.dtype == y.dtype and np.array_equal(x, y), name
    assert repr(a.views.cameras) == repr(b.views.cameras)
    assert np.array_equal(a.images, b.images)
    for cloud in ("cloud", "surface"):
        assert np.array_equal(getattr(a, cloud).points, getattr(b, cloud).points)
        assert np.array_equal(getattr(a, cloud).normals, getattr(b, cloud).normals)
    assert (a.occupancy is None) == (b.occupancy is None) and a.occupancy_note == b.occupancy_note
    if a.occupancy is not None:
        assert a.occupancy.dtype == b.occupancy.dtype and np.array_equal(a.occupancy, b.occupancy)
    assert np.array_equal(a.per_view.gradients, b.per_view.gradients)
    assert a.per_view.gt_distance == b.per_view.gt_distance and repr(a.per_view.camera) == repr(b.per_view.camera)
    assert np.array_equal(a.per_view.input_image, b.per_view.input_image)
    for net in NETS:
        assert all(torch.equal(x, y) for x, y in zip(a.lpips_features[net], b.lpips_features[net]))


def test_a_second_preparation_loads_the_same_products_from_disk(mesh, protocol, tmp_path):
    first, stages = _prepare(mesh, protocol, tmp_path)
    assert {"render", "geometry", "volume"} <= stages
    assert len(list(tmp_path.iterdir())) == 1
    second, stages = _prepare(mesh, protocol, tmp_path)
    assert "render" not in stages and "geometry" not in stages and "volume" not in stages  # nothing recomputed
    _assert_same(first, second)
    assert first.occupancy is not None  # the mug is closed: the grid itself went through the disk
    # Scoring against either gives the same numbers.
    pred = mesh.transformed(np.diag([1.02, 1.0, 0.98, 1.0]))
    assert evaluate(pred, first, align="none").metrics == evaluate(pred, second, align="none").metrics


def test_a_changed_protocol_or_object_misses_the_cache(mesh, protocol, tmp_path):
    _prepare(mesh, protocol, tmp_path)
    other_points = replace(
        protocol, evaluation=replace(protocol.evaluation, spec={**protocol.evaluation.spec, "seed": 1})
    )
    moved = mesh.transformed(np.diag([1.0, 1.0, 1.0 + 1e-9, 1.0]))
    recoloured = replace(
        mesh,
        parts=(
            replace(mesh.parts[0], material=replace(mesh.parts[0].material, base_color=(1, 0, 0, 1))),
            *mesh.parts[1:],
        ),
    )
    for changed_protocol, changed_mesh in ((other_points, mesh), (protocol, moved), (protocol, recoloured)):
        _, stages = _prepare(changed_mesh, changed_protocol, tmp_path)
        assert "render" in stages
    assert len(list(tmp_path.iterdir())) == 4  # one folder per fingerprint
    assert ground_truth_cache.load(tmp_path, mesh, protocol, ("vgg",)) is None  # other backbones: a miss


def test_surface_sampled_geometry_round_trips(mesh, protocol, tmp_path):
    """A preset whose headline cloud is the surface samples (gso-sf3d-approx's setting) keeps one cloud."""
    from reconbench.protocol import Evaluation

    surface = replace(
        protocol,
        evaluation=Evaluation.from_spec({**protocol.evaluation.spec, "geometry_points": "surface"}, protocol.cameras),
    )
    first, _ = _prepare(mesh, surface, tmp_path)
    second, stages = _prepare(mesh, surface, tmp_path)
    assert "render" not in stages and first.cloud is first.surface and second.cloud is second.surface
    _assert_same(first, second)


def test_an_unreadable_cache_is_recomputed(mesh, protocol, tmp_path):
    first, _ = _prepare(mesh, protocol, tmp_path)
    (folder,) = tmp_path.iterdir()
    (folder / "products.npz").write_bytes(b"not an npz")
    again, stages = _prepare(mesh, protocol, tmp_path)
    assert "render" in stages
    _assert_same(first, again)
