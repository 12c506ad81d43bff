"""The common renderer against independent references: a ray caster, analytic colours and poses."""

import numpy as np
import pytest
import trimesh

from reconbench.assets import Material, MeshAsset, MeshPart
from reconbench.protocol import UNLIT, get_protocol, orbit_camera
from reconbench.protocol.lighting import HEADLIGHT
from reconbench.render import render_ground_truth, render_views


def _front_camera(size=64):
    return orbit_camera("front", "heldout", 0, 0, 2.0, 49.1, size, size)


def _quad(material=None, uv=True, colors=None):
    """Square in the z=0 plane facing +Z (counter-clockwise seen from +Z), uv (0,0) at bottom-left."""
    material = Material() if material is None else material
    v = np.array([[-0.5, -0.5, 0], [0.5, -0.5, 0], [0.5, 0.5, 0], [-0.5, 0.5, 0]], dtype=float)
    f = np.array([[0, 1, 2], [0, 2, 3]])
    return MeshPart(v, f, material, uv=(v[:, :2] + 0.5) if uv else None, vertex_colors=colors)


def test_texture_orientation_matches_the_image_as_stored():
    # Image rows top to bottom: top-left red, top-right green, bottom-left blue, bottom-right white.
    tex = np.zeros((2, 2, 4), np.uint8)
    tex[0, 0], tex[0, 1], tex[1, 0], tex[1, 1] = [255, 0, 0, 255], [0, 255, 0, 255], [0, 0, 255, 255], [255] * 4
    tex = np.kron(tex, np.ones((32, 32, 1), np.uint8))  # big blocks so filtering never mixes colours at the probes
    views = render_views(MeshAsset((_quad(Material("q", texture=tex)),)), [_front_camera(128)], UNLIT)
    img = views.composited()[0]
    c = 64
    probe = lambda dy, dx: img[c + dy, c + dx]  # noqa: E731
    assert np.allclose(probe(-20, -20), [1, 0, 0]) and np.allclose(probe(-20, 20), [0, 1, 0])
    assert np.allclose(probe(20, -20), [0, 0, 1]) and np.allclose(probe(20, 20), [1, 1, 1])


def test_colour_is_base_colour_times_texture_times_vertex_colour():
    tex = np.full((4, 4, 4), [128, 255, 255, 255], np.uint8)
    colors = np.tile([1.0, 0.5, 1.0, 1.0], (4, 1))
    part = _quad(Material("m", base_color=(1.0, 1.0, 0.25, 1.0), texture=tex), colors=colors)
    views = render_views(MeshAsset((part,)), [_front_camera()], UNLIT)
    assert np.allclose(views.composited()[0][32, 32], [128 / 255, 0.5, 0.25], atol=0.5 / 255)


def test_multi_material_parts_keep_their_own_colours():
    left = _quad(Material("red", (1, 0, 0, 1)), uv=False).transformed(np.diag([0.5, 1, 1, 1]) + _translation(-0.3))
    right = _quad(Material("blue", (0, 0, 1, 1)), uv=False).transformed(np.diag([0.5, 1, 1, 1]) + _translation(0.3))
    views = render_views(MeshAsset((left, right)), [_front_camera(64)], UNLIT)
    row = views.composited()[0][32]
    assert np.allclose(row[20], [1, 0, 0]) and np.allclose(row[44], [0, 0, 1])


def _translation(x):
    t = np.zeros((4, 4))
    t[0, 3] = x
    return t


def test_lambert_headlight_shading_matches_the_formula():
    views = render_views(MeshAsset((_quad(Material("w", (0.8, 0.8, 0.8, 1)), uv=False),)), [_front_camera()], HEADLIGHT)
    light = np.array(HEADLIGHT.light_dir_camera)
    expected = 0.8 * (HEADLIGHT.ambient + HEADLIGHT.diffuse * light @ [0, 0, 1])
    assert np.allclose(views.composited()[0][32, 32], expected, atol=0.5 / 255)


def test_background_is_empty_and_composites_on_white():
    views = render_views(MeshAsset((_quad(Material("k", (0, 0, 0, 1)), uv=False),)), [_front_camera()], UNLIT)
    assert not views.mask[0][0, 0] and views.depth[0][0, 0] == 0
    white = views.composited()
    assert np.allclose(white[0][0, 0], 1) and np.allclose(white[0][32, 32], 0)


@pytest.mark.parametrize("flip", [False, True])
def test_normals_follow_the_winding(flip):
    sphere = trimesh.creation.icosphere(subdivisions=3, radius=0.4)
    faces = sphere.faces[:, ::-1] if flip else sphere.faces
    views = render_views(MeshAsset((MeshPart(sphere.vertices, faces),)), [_front_camera()], UNLIT)
    pts = views.points(0)
    normals = views.normal[0][views.mask[0]]
    radial = (normals * pts).sum(1) / np.linalg.norm(pts, axis=1)
    assert np.all(radial < -0.95) if flip else np.all(radial > 0.95)


def test_depth_back_projects_onto_the_surface():
    sphere = trimesh.creation.icosphere(subdivisions=5, radius=0.4)
    views = render_views(
        MeshAsset((MeshPart(sphere.vertices, sphere.faces),)), list(get_protocol("default").cameras[:3]), UNLIT
    )
    for k in range(3):
        r = np.linalg.norm(views.points(k), axis=1)
        assert np.all(np.abs(r - 0.4) < 1e-3)  # tessellation error of the icosphere, not the renderer


def test_ground_truth_inputs_are_shaded_and_heldout_views_are_not():
    mesh = MeshAsset((MeshPart(*_sphere(), Material("w", (1, 1, 1, 1))),))
    proto = get_protocol("default")
    views = render_ground_truth(mesh, proto)
    colors = views.composited()
    inp, held = colors[0][views.mask[0]], colors[1][views.mask[1]]
    assert inp.min() < 0.9 and np.allclose(held, 1)
    unlit = render_ground_truth(mesh, get_protocol("default-unlit"))
    assert np.allclose(unlit.composited()[0][unlit.mask[0]], 1)


def _sphere():
    s = trimesh.creation.icosphere(subdivisions=3, radius=0.45)
    return s.vertices, s.faces


def test_unknown_asset_types_are_refused():
    with pytest.raises(TypeError, match="no renderer"):
        render_views(object(), [_front_camera()], UNLIT)
