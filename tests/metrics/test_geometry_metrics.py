import numpy as np
import pytest
import trimesh

from reconbench.assets import MeshAsset, MeshPart
from reconbench.metrics.geometry import PointCloud, cloud_metrics, nearest_neighbours, surface_point_cloud, threshold_key
from reconbench.metrics.volume import NotWatertight, occupancy_grid, volume_iou


def _cloud(points, normals=None):
    points = np.asarray(points, float)
    return PointCloud(points, np.tile([0, 0, 1.0], (len(points), 1)) if normals is None else np.asarray(normals, float))


def test_nearest_neighbours_match_brute_force():
    rng = np.random.default_rng(0)
    a, b = rng.random((300, 3)), rng.random((200, 3))
    brute = np.linalg.norm(a[:, None] - b[None], axis=2)
    dist, index = nearest_neighbours(a, b)
    assert np.allclose(dist, brute.min(1)) and np.array_equal(index, brute.argmin(1))


def test_chamfer_is_syncdreamers_half_sum_of_unsquared_means():
    rng = np.random.default_rng(1)
    a, b = rng.random((150, 3)), rng.random((120, 3))
    brute = np.linalg.norm(a[:, None] - b[None], axis=2)
    expected = 0.5 * (brute.min(1).mean() + brute.min(0).mean())
    assert cloud_metrics(_cloud(a), _cloud(b), [0.1])["chamfer"] == pytest.approx(expected)


def test_fscore_on_a_hand_computed_case():
    gt = _cloud([[0, 0, 0], [1, 0, 0], [2, 0, 0], [3, 0, 0]])
    # Distances to GT: 0.005, 0.03, 0.5 -> precision at 0.01 = 1/3, at 0.05 = 2/3.
    pred = _cloud([[0, 0.005, 0], [1, 0.03, 0], [2, 0.5, 0]])
    m = cloud_metrics(pred, gt, [0.01, 0.05])
    # Recall: GT points 0,1 covered at 0.05 (0.005, 0.03); GT 2 is 0.5 away; GT 3 is ~1.1 away.
    assert m["precision_01"] == pytest.approx(1 / 3) and m["recall_01"] == pytest.approx(1 / 4)
    assert m["fscore_01"] == pytest.approx(2 * (1 / 3) * (1 / 4) / (1 / 3 + 1 / 4))
    assert m["precision_05"] == pytest.approx(2 / 3) and m["recall_05"] == pytest.approx(2 / 4)
    assert m["fscore_05"] == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))


def test_normal_consistency_ignores_orientation_and_sees_tilt():
    pts = np.random.default_rng(2).random((50, 3))
    up = np.tile([0, 0, 1.0], (50, 1))
    assert cloud_metrics(_cloud(pts, up), _cloud(pts, -up), [0.1])["normal_consistency"] == pytest.approx(1.0)
    tilted = np.tile([0, np.sin(0.5), np.cos(0.5)], (50, 1))
    assert cloud_metrics(_cloud(pts, tilted), _cloud(pts, up), [0.1])["normal_consistency"] == pytest.approx(np.cos(0.5))


def test_threshold_keys():
    assert [threshold_key(t) for t in (0.01, 0.02, 0.05, 0.1)] == ["01", "02", "05", "10"]
    with pytest.raises(ValueError):
        threshold_key(0.015)


def test_surface_samples_lie_on_the_surface_with_outward_normals():
    s = trimesh.creation.icosphere(subdivisions=4, radius=0.4)
    cloud = surface_point_cloud(MeshAsset((MeshPart(s.vertices, s.faces),)), 2000, seed=0)
    r = np.linalg.norm(cloud.points, axis=1)
    assert np.all(r <= 0.4 + 1e-9) and np.all(r > 0.39)
    assert np.all((cloud.normals * cloud.points).sum(1) > 0)
    again = surface_point_cloud(MeshAsset((MeshPart(s.vertices, s.faces),)), 2000, seed=0)
    assert np.array_equal(again.points, cloud.points)  # the seed fixes the samples


def _asset(mesh):
    return MeshAsset((MeshPart(mesh.vertices, mesh.faces),))


def test_occupancy_volume_matches_analytic_volumes():
    cell = 1 / 64
    sphere = trimesh.creation.icosphere(subdivisions=4, radius=0.4)
    box = trimesh.creation.box(extents=(0.5, 0.25, 0.75))  # faces on cell boundaries: the hard case
    for mesh in (sphere, box):
        grid = occupancy_grid(_asset(mesh), cell, 1.5)
        assert grid.sum() * cell**3 == pytest.approx(mesh.volume, rel=0.01)


def test_overlapping_closed_parts_are_united():
    a = trimesh.creation.box(extents=(0.4, 0.4, 0.4))
    b = trimesh.creation.box(extents=(0.4, 0.4, 0.4))
    b.apply_translation([0.2, 0, 0])
    asset = MeshAsset((MeshPart(a.vertices, a.faces), MeshPart(b.vertices, b.faces)))
    centres = (np.arange(96) + 0.5) / 64 - 0.75
    expected = ((centres > -0.2) & (centres < 0.4)).sum() * ((centres > -0.2) & (centres < 0.2)).sum() ** 2
    assert occupancy_grid(asset, 1 / 64, 1.5).sum() == expected  # the union, cell for cell


def test_volume_iou_of_shifted_boxes():
    a = occupancy_grid(_asset(trimesh.creation.box(extents=(0.5, 0.5, 0.5))), 1 / 64, 1.5)
    moved = trimesh.creation.box(extents=(0.5, 0.5, 0.5))
    moved.apply_translation([0.25, 0, 0])
    b = occupancy_grid(_asset(moved), 1 / 64, 1.5)
    assert volume_iou(a, b) == pytest.approx(1 / 3, abs=0.01) and volume_iou(a, a) == 1.0


def test_open_meshes_have_no_volume():
    box = trimesh.creation.box()
    with pytest.raises(NotWatertight):
        occupancy_grid(MeshAsset((MeshPart(box.vertices, box.faces[:-1]),)), 1 / 64, 1.5)
