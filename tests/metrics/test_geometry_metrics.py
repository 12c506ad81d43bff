import numpy as np
import pytest
import trimesh

from reconbench.assets import MeshAsset, MeshPart
from reconbench.metrics.geometry import (
    PointCloud,
    cloud_metrics,
    nearest_neighbours,
    surface_point_cloud,
    threshold_key,
)
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
    assert cloud_metrics(_cloud(pts, tilted), _cloud(pts, up), [0.1])["normal_consistency"] == pytest.approx(
        np.cos(0.5)
    )


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


# --- the settings published protocols need ---------------------------------------------------------


def test_voxel_down_sample_is_open3ds_mean_per_voxel():
    import syncdreamer_port as sd  # tests/metrics is on sys.path: a loop-by-loop port of open3d's rule

    from reconbench.metrics.geometry import voxel_down_sample

    pts = np.random.default_rng(3).random((5000, 3)) * [0.3, 0.2, 0.1] - 0.1
    ours, normals = voxel_down_sample(pts, np.tile([0.0, 0.0, 2.0], (len(pts), 1)), 0.01)
    ref = sd.voxel_down_sample(pts, 0.01)
    assert len(ours) == len(ref) < len(pts)
    assert np.allclose(
        np.sort(ours.view([("", float)] * 3), axis=0).view(float),
        np.sort(ref.view([("", float)] * 3), axis=0).view(float),
    )
    assert np.allclose(normals, [0, 0, 1])


def test_point_to_mesh_distance_is_exact_on_a_box():
    from reconbench.metrics.geometry import point_mesh_distance

    box = MeshAsset((MeshPart(trimesh.creation.box().vertices, trimesh.creation.box().faces),))  # [-0.5, 0.5]^3
    points = np.array([[0.0, 0.0, 0.7], [0.8, 0.9, 0.0], [0.1, 0.2, 0.5], [0.0, 0.0, 0.0]])
    dist, normals = point_mesh_distance(points, box)
    assert np.allclose(dist, [0.2, np.hypot(0.3, 0.4), 0.0, 0.5], atol=1e-9)
    assert np.allclose(np.abs(normals[0]), [0, 0, 1])


def test_mesh_distance_metrics_have_no_sampling_floor_while_point_clouds_do():
    from reconbench.metrics.geometry import mesh_distance_metrics

    box = trimesh.creation.box()
    mesh = MeshAsset((MeshPart(box.vertices, box.faces),))
    a, b = surface_point_cloud(mesh, 3000, 0), surface_point_cloud(mesh, 3000, 1)
    assert mesh_distance_metrics(a, b, mesh, mesh, [0.01])["chamfer"] < 1e-9
    assert cloud_metrics(a, b, [0.01])["chamfer"] > 0.005  # two samplings of one surface never coincide
    # A splat prediction (no triangles) is reached through its points on the completeness side only.
    half = mesh_distance_metrics(a, b, None, mesh, [0.01])
    assert half["accuracy"] < 1e-9 < half["completeness"]


@pytest.mark.parametrize("shift", [(0.0, 0.0, 0.0), (0.013, -0.021, 0.0312)])
def test_mesh2sdf_occupancy_matches_a_port_of_makelevelset3(shift):
    import syncdreamer_port as sd

    from reconbench.metrics.volume import mesh2sdf_occupancy

    parts = [trimesh.creation.box((0.5, 0.25, 0.75)), trimesh.creation.icosphere(2, 0.3)]
    parts[1].apply_translation([0.2, 0.1, 0.0])  # overlaps the box: mesh2sdf counts the overlap as outside
    mesh = trimesh.util.concatenate(parts)
    v = np.asarray(mesh.vertices) + shift
    ours = mesh2sdf_occupancy(MeshAsset((MeshPart(v, mesh.faces),)), 64)
    # The port counts along its first axis (x); reconbench along canonical z: same lattice, axes renamed.
    ref = sd.mesh2sdf_inside(v[:, [2, 0, 1]], np.asarray(mesh.faces), 64).transpose(1, 2, 0)
    assert ours.sum() > 1000 and np.array_equal(ours, ref)
    # Grid points -1 + k/32: the overlap of the two closed parts is outside (parity over all triangles).
    i, j, k = np.round((np.array([0.2, 0.05, 0.0]) + shift + 1) * 32).astype(int)
    assert not ours[i, j, k]
