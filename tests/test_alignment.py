import numpy as np
import pytest
import trimesh

from reconbench.alignment import icp_similarity, initial_transform, refine, rotation_about_up, search_rotation
from reconbench.assets import MeshAsset, MeshPart
from reconbench.metrics.geometry import nearest_neighbours
from reconbench.protocol.frames import FRAMES, frame_matrix


def _similarity(angle_deg, axis, scale, translation):
    m = trimesh.transformations.rotation_matrix(np.radians(angle_deg), axis)
    m[:3, :3] *= scale
    m[:3, 3] = translation
    return m


def _shape_points(n=4000, seed=0):
    """An asymmetric shape (an L of two boxes), so a pose is well defined."""
    a = trimesh.creation.box(extents=(0.6, 0.2, 0.2))
    b = trimesh.creation.box(extents=(0.2, 0.5, 0.2))
    b.apply_translation([0.2, 0.35, 0])
    mesh = trimesh.util.concatenate([a, b])
    return trimesh.sample.sample_surface(mesh, n, seed=seed)[0]


def test_frames_are_rotations_and_match_their_descriptions():
    for name in FRAMES:
        r = frame_matrix(name)[:3, :3]
        # Only a frame that says so may mirror (InstantMesh's vertex-colour OBJ writer negates z).
        handedness = -1 if FRAMES[name].get("reflection") else 1
        assert np.allclose(r @ r.T, np.eye(3)) and np.linalg.det(r) == pytest.approx(handedness)
    # z-up (Blender): up +Z -> +Y, front -Y -> +Z.
    assert np.allclose(frame_matrix("z-up")[:3, :3] @ [0, 0, 1], [0, 1, 0])
    assert np.allclose(frame_matrix("z-up")[:3, :3] @ [0, -1, 0], [0, 0, 1])
    # TripoSR: the input camera sits on +X (front), up +Z, image right +Y.
    assert np.allclose(frame_matrix("z-up-front-x")[:3, :3] @ [1, 0, 0], [0, 0, 1])
    assert np.allclose(frame_matrix("z-up-front-x")[:3, :3] @ [0, 1, 0], [1, 0, 0])


def test_initial_transform_brings_a_z_up_prediction_into_the_unit_box():
    tall = trimesh.creation.box(extents=(0.2, 0.4, 3.0))  # tall along Z, like a z-up file
    tall.apply_translation([5, 5, 5])
    asset = MeshAsset((MeshPart(tall.vertices, tall.faces),))
    placed = asset.transformed(initial_transform(asset, "z-up", "bbox"))
    lo, hi = placed.bounds
    assert np.allclose((lo + hi) / 2, 0) and np.allclose(hi - lo, [0.2 / 3, 1, 0.4 / 3])
    with pytest.raises(ValueError, match="scale convention"):
        initial_transform(asset, "y-up", "weird")


def test_icp_recovers_a_known_small_similarity():
    gt = _shape_points()
    truth = _similarity(6, [0.3, 1, 0.2], 1.08, [0.03, -0.02, 0.04])
    moved = trimesh.transform_points(_shape_points(seed=1), truth)
    recovered = icp_similarity(moved, gt, max_iterations=50)
    assert np.allclose(recovered @ truth, np.eye(4), atol=0.01)


def test_rotation_search_finds_a_large_yaw_that_icp_alone_misses():
    gt = _shape_points()
    yawed = _shape_points(seed=1) @ rotation_about_up(150)[:3, :3].T
    angle, _ = search_rotation(yawed, gt, step=15)
    assert angle == pytest.approx(210, abs=7.5)  # undoes the 150-degree yaw
    icp_only, _ = refine(yawed, gt, "icp", 50, 15)
    search, found = refine(yawed, gt, "search", 50, 15)
    cd = lambda m: nearest_neighbours(trimesh.transform_points(yawed, m), gt)[0].mean()  # noqa: E731
    floor = nearest_neighbours(_shape_points(seed=1), gt)[0].mean()  # two samplings of the same shape
    assert cd(search) < 1.1 * floor and cd(icp_only) > 3 * floor and found == angle


def test_refine_none_is_the_identity():
    pts = _shape_points(200)
    assert np.array_equal(refine(pts, pts, "none", 10, 15)[0], np.eye(4))
    with pytest.raises(ValueError, match="unknown alignment"):
        refine(pts, pts, "magic", 10, 15)
