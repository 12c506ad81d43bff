import json
from pathlib import Path

import numpy as np
import pytest
import trimesh
from conftest import write_glb, write_obj_with_texture, write_vertex_colored_ply
from PIL import Image

from reconbench.assets import (
    AssetLoadError,
    Material,
    MeshAsset,
    MeshPart,
    load_mesh,
    normalisation_transform,
    save_mesh,
)


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


def test_missing_texture_loads_untextured_with_a_warning_naming_it(tmp_path):
    path = write_obj_with_texture(tmp_path)
    (tmp_path / "material_0.png").unlink()
    mesh = load_mesh(path)
    assert not any(p.has_texture for p in mesh.parts)
    assert len(mesh.warnings) == 1 and "texture 'material_0.png' not found" in mesh.warnings[0]


def test_missing_mtl_loads_with_a_warning(tmp_path):
    path = write_obj_with_texture(tmp_path)
    (tmp_path / "material.mtl").unlink()
    mesh = load_mesh(path)
    assert mesh.n_faces == 12
    assert any("material library 'material.mtl' not found" in w for w in mesh.warnings)


def test_a_complete_file_loads_without_warnings(tmp_path):
    assert load_mesh(write_obj_with_texture(tmp_path)).warnings == ()
    assert load_mesh(write_glb(tmp_path / "a.glb")).warnings == ()


def _secret_png(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), (248, 31, 0)).save(folder / "secret.png")
    return folder / "secret.png"


def _obj_with_mtl(folder: Path, mtl_text: str, mtllib: str = "material.mtl") -> Path:
    path = write_obj_with_texture(folder)
    text = path.read_text().replace("mtllib material.mtl", f"mtllib {mtllib}")
    path.write_text(text)
    (folder / "material.mtl").write_text(mtl_text)
    return path


@pytest.mark.parametrize("how", ["absolute", "relative", "symlink"])
def test_texture_outside_the_folder_is_refused(tmp_path, how):
    secret = _secret_png(tmp_path / "secret")
    obj_dir = tmp_path / "data" / "obj"
    obj_dir.mkdir(parents=True)
    if how == "symlink":
        (obj_dir / "link.png").symlink_to(secret)
    ref = {"absolute": str(secret), "relative": "../../secret/secret.png", "symlink": "link.png"}[how]
    path = _obj_with_mtl(obj_dir, f"newmtl material_0\nKd 1 1 1\nmap_Kd {ref}\n")
    mesh = load_mesh(path)
    assert not any(p.has_texture for p in mesh.parts), "a file outside the object's folder was used as its texture"
    assert any(f"texture {ref!r} refused" in w and "outside the asset's folder" in w for w in mesh.warnings)


def test_material_library_outside_the_folder_is_never_read(tmp_path, monkeypatch):
    outside = tmp_path / "secret" / "secret.mtl"
    outside.parent.mkdir()
    outside.write_text("newmtl material_0\nKd 1 0 0\n")
    obj_dir = tmp_path / "obj"
    path = _obj_with_mtl(obj_dir, "", mtllib="../secret/secret.mtl")
    read = []
    original = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: read.append(self.resolve()) or original(self))
    original_text = Path.read_text
    monkeypatch.setattr(
        Path, "read_text", lambda self, *a, **k: read.append(self.resolve()) or original_text(self, *a, **k)
    )
    mesh = load_mesh(path)
    assert outside.resolve() not in read
    assert any("material library '../secret/secret.mtl' refused" in w for w in mesh.warnings)
    # the colour did not come from the secret file either
    assert all(p.material.base_color[:3] != (1.0, 0.0, 0.0) for p in mesh.parts)


def test_gso_texture_folder_is_allowed(tmp_path):
    root = tmp_path / "OBJ"
    path = write_obj_with_texture(root / "meshes")
    textures = root / "materials" / "textures"
    textures.mkdir(parents=True)
    (root / "meshes" / "material_0.png").rename(textures / "material_0.png")
    mesh = load_mesh(path, texture_dirs=(textures,))
    assert mesh.parts[0].has_texture and mesh.warnings == ()


def _gltf_with_external_buffers(folder: Path, prefix: str, data_folder: Path) -> Path:
    """A .gltf whose buffers live in separate files, referred to as `prefix + name`, written to `data_folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    data_folder.mkdir(parents=True, exist_ok=True)
    files = trimesh.Scene(trimesh.creation.box()).export(file_type="gltf")
    tree = json.loads(files.pop("model.gltf"))
    for buffer in tree["buffers"]:
        (data_folder / buffer["uri"]).write_bytes(files[buffer["uri"]])
        buffer["uri"] = prefix + buffer["uri"]
    (folder / "model.gltf").write_text(json.dumps(tree))
    return folder / "model.gltf"


def test_gltf_buffer_outside_the_folder_is_refused(tmp_path):
    path = _gltf_with_external_buffers(tmp_path / "data" / "obj", "../../secret/", tmp_path / "secret")
    with pytest.raises(AssetLoadError):  # the geometry itself lives in the refused buffers
        load_mesh(path)
    inside = _gltf_with_external_buffers(tmp_path / "ok", "", tmp_path / "ok")
    assert load_mesh(inside).n_faces == 12


def _obj_with_texture_file(folder: Path, write_texture) -> Path:
    path = write_obj_with_texture(folder)
    write_texture(folder / "material_0.png")
    return path


def test_texture_over_the_pixel_limit_is_dropped_with_a_warning_before_decoding(tmp_path, monkeypatch):
    path = _obj_with_texture_file(tmp_path, lambda p: Image.new("RGB", (300, 200)).save(p))
    monkeypatch.setenv("RECONBENCH_MAX_TEXTURE_PIXELS", "50000")
    decoded = []
    monkeypatch.setattr(Image.Image, "load", lambda self: decoded.append(self.size))
    mesh = load_mesh(path)
    assert not mesh.parts[0].has_texture and decoded == []
    assert any("300x200" in w and "RECONBENCH_MAX_TEXTURE_PIXELS" in w for w in mesh.warnings)
    monkeypatch.undo()
    assert load_mesh(path).parts[0].has_texture  # under the default limit


def test_embedded_glb_texture_over_the_limit_is_dropped_with_a_warning(tmp_path, monkeypatch):
    path = write_glb(tmp_path / "a.glb")  # 16x16 embedded texture
    monkeypatch.setenv("RECONBENCH_MAX_TEXTURE_PIXELS", "100")
    mesh = load_mesh(path)
    assert not any(p.has_texture for p in mesh.parts)
    assert any(
        "256 pixels is over the limit of 100 pixels" in w and "RECONBENCH_MAX_TEXTURE_PIXELS" in w
        for w in mesh.warnings
    )


def test_corrupt_texture_is_dropped_with_a_warning(tmp_path):
    path = _obj_with_texture_file(tmp_path, lambda p: p.write_bytes(np.random.default_rng(0).bytes(5000)))
    mesh = load_mesh(path)
    assert not mesh.parts[0].has_texture
    assert any("material_0.png" in w and "not a readable image" in w for w in mesh.warnings)


def test_referenced_file_over_the_size_limit_is_not_read(tmp_path, monkeypatch):
    path = write_obj_with_texture(tmp_path)
    monkeypatch.setenv("RECONBENCH_MAX_REFERENCED_FILE_BYTES", "10")
    mesh = load_mesh(path)
    part = mesh.parts[0]  # without its MTL trimesh gives the part a 1x1 placeholder texture
    assert not (part.has_texture and part.material.texture.shape[:2] == (16, 16))
    assert any("RECONBENCH_MAX_REFERENCED_FILE_BYTES" in w for w in mesh.warnings)


def test_mesh_over_the_triangle_limit_is_refused(tmp_path, monkeypatch):
    path = write_obj_with_texture(tmp_path)
    monkeypatch.setenv("RECONBENCH_MAX_TRIANGLES", "11")
    with pytest.raises(AssetLoadError, match="12 triangles is over the limit of 11.*RECONBENCH_MAX_TRIANGLES"):
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


@pytest.mark.parametrize(
    "name,content,reason",
    [("x.obj", "garbage\n", "no triangles"), ("x.fbx", "", "unsupported"), ("none.glb", None, "does not exist")],
)
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


def test_corrupt_embedded_glb_texture_is_dropped_with_a_warning(tmp_path):
    path = write_glb(tmp_path / "a.glb")
    data = path.read_bytes()
    assert data.count(b"\x89PNG") == 1
    path.write_bytes(data.replace(b"\x89PNG", b"\x00PNG"))  # same length: the GLB stays valid, its image does not
    mesh = load_mesh(path)
    assert not any(p.has_texture for p in mesh.parts)
    assert any("failed to load image" in w and "UnidentifiedImageError" in w for w in mesh.warnings)
