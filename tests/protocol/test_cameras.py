import math

import numpy as np
import pytest

from reconbench.protocol import orbit_camera, orbit_position
from reconbench.protocol.cameras import Camera


def test_orbit_angles_follow_the_documented_convention():
    assert np.allclose(orbit_position(0, 0, 2), [0, 0, 2])  # azimuth 0 on +Z
    assert np.allclose(orbit_position(0, 90, 2), [2, 0, 0])  # azimuth 90 on +X
    assert orbit_position(30, 0, 1)[1] == pytest.approx(0.5)  # positive elevation is above


def test_camera_on_plus_x_has_the_known_opengl_pose():
    cam = orbit_camera("v", "heldout", 0, 90, 1.5, 49.1, 64, 64)
    # OpenGL camera: columns are right, up, back (the camera looks down -Z).
    expected = np.array([[0, 0, 1, 1.5], [0, 1, 0, 0], [-1, 0, 0, 0], [0, 0, 0, 1]], dtype=float)
    assert np.allclose(cam.c2w, expected, atol=1e-12)


@pytest.mark.parametrize("elev,azim", [(0, 0), (30, 22.5), (-20, 200), (60, 315)])
def test_cameras_look_at_the_origin_with_a_rotation_matrix(elev, azim):
    cam = orbit_camera("v", "heldout", elev, azim, 2.0, 49.1, 32, 32)
    r = cam.c2w[:3, :3]
    assert np.allclose(r.T @ r, np.eye(3)) and np.linalg.det(r) == pytest.approx(1.0)
    forward = -r[:, 2]
    assert np.allclose(forward, -cam.position / np.linalg.norm(cam.position))
    assert r[1, 1] > 0  # image up points to world up


def test_focal_length_reproduces_the_vertical_fov():
    cam = orbit_camera("v", "input", 0, 0, 1.5, 49.1, 256, 256)
    assert math.degrees(2 * math.atan(cam.height / 2 / cam.fy)) == pytest.approx(49.1)
    assert (cam.cx, cam.cy) == (128, 128)


def test_gl_projection_and_pixel_intrinsics_agree():
    cam = orbit_camera("v", "heldout", 20, 40, 2.0, 49.1, 200, 100)
    pts = np.random.default_rng(0).uniform(-0.5, 0.5, (50, 3))
    cam_pts = (cam.w2c @ np.c_[pts, np.ones(len(pts))].T).T
    # Pixel coordinates from K (y down) ...
    u = cam.cx + cam.fx * cam_pts[:, 0] / -cam_pts[:, 2]
    v = cam.cy - cam.fy * cam_pts[:, 1] / -cam_pts[:, 2]
    # ... and from the OpenGL projection (NDC y up).
    clip = (cam.projection(0.1, 10) @ cam_pts.T).T
    ndc = clip[:, :3] / clip[:, 3:]
    assert np.allclose(u, (ndc[:, 0] + 1) / 2 * cam.width)
    assert np.allclose(v, (1 - ndc[:, 1]) / 2 * cam.height)
    assert np.all(np.abs(ndc[:, 2]) < 1)


def test_pixel_rays_pass_through_pixel_centres():
    cam = orbit_camera("v", "heldout", 10, 30, 2.0, 49.1, 8, 6)
    origins, dirs = cam.pixel_rays()
    p = origins + dirs * 1.7
    cam_pts = (cam.w2c @ np.c_[p, np.ones(len(p))].T).T
    u = cam.cx + cam.fx * cam_pts[:, 0] / -cam_pts[:, 2]
    v = cam.cy - cam.fy * cam_pts[:, 1] / -cam_pts[:, 2]
    j, i = np.mgrid[0:6, 0:8]
    assert np.allclose(u, i.ravel() + 0.5) and np.allclose(v, j.ravel() + 0.5)


def test_camera_dict_round_trip():
    cam = orbit_camera("007", "heldout", 10, 30, 2.0, 49.1, 8, 6)
    back = Camera.from_dict(cam.to_dict())
    assert back.name == "007" and back.role == "heldout" and np.allclose(back.c2w, cam.c2w) and back.fx == cam.fx


def test_straight_down_camera_is_rejected():
    with pytest.raises(ValueError, match="elevation"):
        orbit_camera("v", "heldout", 90, 0, 2.0, 49.1, 8, 8)
