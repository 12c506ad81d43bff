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
    assert u["boundary_edge_share"] == u["nonmanifold_edge_share"] == u["floater_area_share"] == u["degenerate_face_share"] == 0
    assert u["triangles"] == 12 and u["vertex_colour_only"] == 1 and u["has_texture"] == 0 and u["file_size_mb"] > 0


def test_a_hole_is_seen_and_does_not_by_itself_make_it_unusable():
    box = trimesh.creation.box()
    u = mesh_usability(MeshAsset((_coloured(box, box.faces[:-1]),)))
    assert u["watertight"] == 0 and u["boundary_edge_share"] == pytest.approx(3 / 18)  # 3 of the 18 edges border the hole
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
