"""Mesh usability on hand-made meshes with known defects."""

import numpy as np
import pytest
import trimesh

from reconbench.assets import Material, MeshAsset, MeshPart, save_mesh
from reconbench.metrics.usability import mesh_usability


def _coloured(mesh, faces=None):
    faces = mesh.faces if faces is None else faces
    colors = np.tile([0.8, 0.2, 0.2, 1.0], (len(mesh.vertices), 1))
    return MeshPart(mesh.vertices, faces, Material("c"), vertex_colors=colors)


def test_a_clean_closed_mesh_is_usable_as_is(tmp_path):
    box = trimesh.creation.box()
    asset = MeshAsset((_coloured(box),))
    u = mesh_usability(asset, save_mesh(asset, tmp_path / "box.glb"))
    assert u["usable_as_is"] == 1 and u["watertight"] == 1 and u["components"] == 1
    assert (
        u["boundary_edge_share"]
        == u["nonmanifold_edge_share"]
        == u["floater_area_share"]
        == u["degenerate_face_share"]
        == 0
    )
    assert u["triangles"] == 12 and u["vertex_colour_only"] == 1 and u["has_texture"] == 0 and u["file_size_mb"] > 0


def test_a_hole_is_seen_and_does_not_by_itself_make_it_unusable():
    box = trimesh.creation.box()
    u = mesh_usability(MeshAsset((_coloured(box, box.faces[:-1]),)))
    assert u["watertight"] == 0 and u["boundary_edge_share"] == pytest.approx(
        3 / 18
    )  # 3 of the 18 edges border the hole
    assert u["usable_as_is"] == 1


def test_a_floating_cluster_is_measured_by_its_area_share():
    box = trimesh.creation.box()  # area 6
    tri = trimesh.Trimesh([[3, 0, 0], [4, 0, 0], [3, 1, 0]], [[0, 1, 2]])  # area 0.5, far away
    u = mesh_usability(MeshAsset((_coloured(box), _coloured(tri))))
    assert u["components"] == 2 and u["floater_area_share"] == pytest.approx(0.5 / 6.5)
    assert u["usable_as_is"] == 0


def test_a_non_manifold_edge_is_counted():
    # Three triangles sharing the edge (0, 1): a "book" of pages.
    v = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [0, -1, 0]], float)
    f = np.array([[0, 1, 2], [1, 0, 3], [0, 1, 4]])
    u = mesh_usability(MeshAsset((_coloured(trimesh.Trimesh(v, f, process=False)),)))
    assert u["nonmanifold_edge_share"] == pytest.approx(1 / 7) and u["usable_as_is"] == 0


def test_a_degenerate_face_is_counted():
    box = trimesh.creation.box()
    v = np.vstack([box.vertices, [[0.5, 0.5, 0.5]]])
    f = np.vstack([box.faces, [[0, 0, 8]]])  # repeated vertex: zero area
    u = mesh_usability(MeshAsset((_coloured(trimesh.Trimesh(v, f, process=False)),)))
    assert u["degenerate_face_share"] == pytest.approx(1 / 13) and u["usable_as_is"] == 0


def test_texture_seams_are_not_holes_and_texture_resolution_is_reported():
    box = trimesh.creation.box()
    box.unmerge_vertices()  # every face has its own vertices, as with per-face UVs
    uv = np.random.default_rng(0).random((len(box.vertices), 2))
    tex = np.zeros((32, 64, 4), np.uint8)
    u = mesh_usability(MeshAsset((MeshPart(box.vertices, box.faces, Material("t", texture=tex), uv=uv),)))
    assert u["watertight"] == 1 and u["has_uv"] == 1 and u["has_texture"] == 1 and u["texture_resolution"] == 64
    assert u["vertex_colour_only"] == 0 and u["usable_as_is"] == 1


def test_an_uncoloured_mesh_is_not_usable_as_is_but_a_material_colour_counts():
    box = trimesh.creation.box()
    assert mesh_usability(MeshAsset((MeshPart(box.vertices, box.faces),)))["usable_as_is"] == 0
    red = MeshAsset((MeshPart(box.vertices, box.faces, Material("red_plastic", (1, 0, 0, 1))),))
    assert mesh_usability(red)["has_colour"] == 1 and mesh_usability(red)["usable_as_is"] == 1


# --- floaters are judged against the object, not against the largest component ---


def _multi_part():
    """A hand-made three-part object: a body, a separate lid resting on it, a handle beside it."""
    body = trimesh.creation.box((1.0, 0.6, 0.6))
    lid = trimesh.creation.box((0.8, 0.1, 0.5))
    lid.apply_translation([0, 0.35, 0])  # resting on the body's top face (y = 0.3), a separate component
    handle = trimesh.creation.box((0.1, 0.3, 0.1))
    handle.apply_translation([0.56, 0, 0])  # 0.01 away from the body's side
    return MeshAsset(tuple(_coloured(m) for m in (body, lid, handle)))


def test_a_multi_part_object_has_no_floaters_when_it_is_the_ground_truth():
    obj = _multi_part()
    u = mesh_usability(obj, None, ground_truth=obj)
    assert u["components"] == 3 and u["floater_area_share"] == 0 and u["usable_as_is"] == 1
    # The old rule (all but the largest component float) would have failed it: lid and handle are > 1 %.
    body_area = 2 * (0.6 + 0.6 + 0.36)
    assert 1 - body_area / float(obj.to_trimesh().area) > 0.01
    assert mesh_usability(obj)["floater_area_share"] == 0  # without a ground truth too: the parts touch


def test_a_far_piece_floats_against_the_ground_truth_and_without_one():
    obj = _multi_part()
    far = trimesh.Trimesh([[3, 0, 0], [4, 0, 0], [3, 1, 0]], [[0, 1, 2]])  # area 0.5, 2.5 away
    pred = MeshAsset(obj.parts + (_coloured(far),))
    total = float(pred.to_trimesh().area)
    with_gt = mesh_usability(pred, None, ground_truth=obj)
    assert with_gt["floater_area_share"] == pytest.approx(0.5 / total) and with_gt["usable_as_is"] == 0
    assert mesh_usability(pred)["floater_area_share"] == pytest.approx(0.5 / total)


def test_a_piece_hovering_off_the_ground_truth_surface_floats_even_when_near_the_prediction():
    gt = MeshAsset((_coloured(trimesh.creation.box()),))
    blob = trimesh.creation.icosphere(subdivisions=1, radius=0.05)
    blob.apply_translation([0, 0.8, 0])  # 0.3 above the box's top face: off the object
    pred = MeshAsset(gt.parts + (_coloured(blob),))
    u = mesh_usability(pred, None, ground_truth=gt)
    assert u["floater_area_share"] == pytest.approx(blob.area / (6 + blob.area), rel=1e-6)


def test_the_alignment_places_the_prediction_before_floaters_are_judged():
    obj = _multi_part()
    moved = np.eye(4)
    moved[:3, 3] = [5.0, 0, 0]
    pred = obj.transformed(moved)
    assert mesh_usability(pred, None, ground_truth=obj, to_canonical=np.linalg.inv(moved))["floater_area_share"] == 0


@pytest.mark.slow
def test_the_oracle_has_no_floaters_on_every_procedural_object():
    from reconbench.datasets import open_dataset

    for obj in open_dataset("procedural"):
        mesh = obj.load()
        u = mesh_usability(mesh, None, ground_truth=mesh)
        assert u["floater_area_share"] == 0 and u["usable_as_is"] == 1, obj.id


def test_the_gso_chicken_a_real_multi_part_model_has_no_floaters_as_its_own_ground_truth():
    from pathlib import Path

    path = (
        Path(__file__).resolve().parents[1]
        / "data"
        / "syncdreamer-gso-chicken"
        / "CHICKEN_NESTING"
        / "meshes"
        / "model.obj"
    )
    v, f = [], []
    for line in path.read_text().splitlines():
        if line.startswith("v "):
            v.append([float(x) for x in line.split()[1:4]])
        elif line.startswith("f "):
            f.append([int(t.split("/")[0]) - 1 for t in line.split()[1:4]])
    chicken = MeshAsset((MeshPart(np.asarray(v), np.asarray(f), Material("chicken", (0.9, 0.8, 0.3, 1.0))),))
    u = mesh_usability(chicken, None, ground_truth=chicken)
    assert u["components"] > 1 and u["floater_area_share"] == 0 and u["usable_as_is"] == 1
