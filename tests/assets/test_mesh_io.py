from pathlib import Path

import numpy as np
import pytest
import trimesh

from conftest import write_glb, write_obj_with_texture, write_vertex_colored_ply
from reconbench.assets import AssetLoadError, Material, MeshAsset, MeshPart, load_mesh, normalisation_transform, save_mesh


def test_obj_with_mtl_and_texture_loads_textured(tmp_path):
    mesh = load_mesh(write_obj_with_texture(tmp_path))
    (part,) = mesh.parts
    assert part.has_texture and part.material.texture.shape == (16, 16, 4)
    assert part.material.base_color == (1.0, 1.0, 1.0, 1.0)  # map_Kd replaces Kd
    assert np.allclose(mesh.bounds, [[-0.5, -1, -0.25], [0.5, 1, 0.25]])


def test_glb_keeps_materials_as_separate_parts(tmp_path):
    mesh = load_mesh(write_glb(tmp_path / "a.glb"))
    assert len(mesh.parts) == 2
    textured = [p for p in mesh.parts if p.has_texture]
    coloured = [p for p in mesh.parts if p.vertex_colors is not None]
    assert len(textured) == 1 and len(coloured) == 1
    assert np.allclose(coloured[0].vertex_colors[0], np.array([20, 200, 20, 255]) / 255)


def test_ply_vertex_colours(tmp_path):
    (part,) = load_mesh(write_vertex_colored_ply(tmp_path / "b.ply")).parts
    assert not part.has_texture and np.allclose(part.vertex_colors[:, 0], 200 / 255)


def test_save_then_load_round_trip_keeps_geometry_and_colour(tmp_path):
    original = load_mesh(write_glb(tmp_path / "a.glb"))
    again = load_mesh(save_mesh(original, tmp_path / "b.glb"))
    assert again.n_faces == original.n_faces
    assert np.allclose(again.bounds, original.bounds)
    tex_a = next(p for p in original.parts if p.has_texture).material.texture
    tex_b = next(p for p in again.parts if p.has_texture).material.texture
    assert np.array_equal(tex_a, tex_b)


def test_missing_texture_names_the_material_file_and_texture(tmp_path):
    path = write_obj_with_texture(tmp_path)
    (tmp_path / "material_0.png").unlink()
    with pytest.raises(AssetLoadError, match=r"material\.mtl: texture 'material_0\.png' not found"):
        load_mesh(path)


def test_missing_mtl_is_an_error(tmp_path):
    path = write_obj_with_texture(tmp_path)
    (tmp_path / "material.mtl").unlink()
    with pytest.raises(AssetLoadError, match="material library 'material.mtl' not found"):
        load_mesh(path)


def test_truncated_glb_names_the_file(tmp_path):
    path = write_glb(tmp_path / "a.glb")
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(AssetLoadError) as err:
        load_mesh(path)
    assert err.value.path == path and str(path) in str(err.value)


def test_point_cloud_ply_is_not_a_mesh(tmp_path):
    path = tmp_path / "cloud.ply"
    trimesh.PointCloud(np.random.default_rng(0).random((20, 3))).export(path)
    with pytest.raises(AssetLoadError, match="no triangles"):
        load_mesh(path)


@pytest.mark.parametrize("name,content,reason", [("x.obj", "garbage\n", "no triangles"), ("x.fbx", "", "unsupported"), ("none.glb", None, "does not exist")])
def test_unreadable_files_give_a_reason(tmp_path, name, content, reason):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(AssetLoadError, match=reason):
        load_mesh(path)


def test_nan_vertices_are_rejected():
    with pytest.raises(ValueError, match="NaN"):
        MeshPart(np.array([[0, 0, np.nan], [1, 0, 0], [0, 1, 0]]), np.array([[0, 1, 2]]))


def test_normalisation_centres_the_box_and_scales_longest_side_to_one():
    part = MeshPart(np.array([[1.0, 2, 3], [5, 2, 3], [1, 4, 4]]), np.array([[0, 1, 2]]), Material())
    mesh = MeshAsset((part,)).transformed(normalisation_transform(MeshAsset((part,)).bounds))
    lo, hi = mesh.bounds
    assert np.allclose((lo + hi) / 2, 0) and (hi - lo).max() == pytest.approx(1.0)


def test_mirroring_transform_flips_winding_to_keep_normals_outward():
    box = trimesh.creation.box()
    part = MeshPart(box.vertices, box.faces)
    mirrored = part.transformed(np.diag([-1.0, 1, 1, 1]))
    assert trimesh.Trimesh(mirrored.vertices, mirrored.faces).volume > 0
