import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import trimesh
from conftest import write_glb, write_obj_with_texture

from reconbench.assets import AssetLoadError
from reconbench.datasets import SOURCES, DatasetError, open_dataset, parse_spec, read_object_list


def _is_normalised(mesh):
    lo, hi = mesh.bounds
    return np.allclose((lo + hi) / 2, 0, atol=1e-9) and (hi - lo).max() == pytest.approx(1.0)


def test_folder_finds_files_and_subfolders_and_normalises_them(mesh_folder):
    ds = open_dataset(f"folder:{mesh_folder}")
    assert ds.ids == ["ball", "crate", "mug", "tower"]
    assert not ds.problems
    for obj in ds:
        assert _is_normalised(obj.load())
    tower = ds.get("tower").load()
    extent = tower.bounds[1] - tower.bounds[0]
    assert extent[1] == pytest.approx(1.0) and extent[0] == pytest.approx(0.1)  # y-up kept


def test_folder_categories_from_index_json(mesh_folder):
    (mesh_folder / "index.json").write_text(json.dumps([{"id": "mug", "category": "container"}]))
    ds = open_dataset(f"folder:{mesh_folder}")
    assert ds.get("mug").category == "container" and ds.get("crate").category == "uncategorised"


def test_folder_reports_unusable_subfolders_without_failing(mesh_folder):
    (mesh_folder / "empty").mkdir()
    write_obj_with_texture(mesh_folder / "twins", "a")
    write_glb(mesh_folder / "twins" / "b.glb")
    ds = open_dataset(f"folder:{mesh_folder}")
    reasons = {p.path.name: p.reason for p in ds.problems}
    assert "no mesh file" in reasons["empty"] and "several mesh files" in reasons["twins"]
    assert len(ds) == 4


def test_a_corrupt_object_fails_alone_naming_its_file(mesh_folder):
    (mesh_folder / "broken.glb").write_bytes(b"glTF\x02\x00\x00\x00garbage")
    ds = open_dataset(f"folder:{mesh_folder}")
    with pytest.raises(AssetLoadError, match="broken.glb"):
        ds.get("broken").load()
    assert _is_normalised(ds.get("mug").load())


def _write_gso_object(root, name, category=None):
    """The Google Scanned Objects layout: Z-up OBJ whose MTL points at a texture kept elsewhere."""
    obj_dir = root / name
    path = write_obj_with_texture(obj_dir / "meshes", "model", extents=(0.2, 0.3, 1.0))  # tall along Z
    textures = obj_dir / "materials" / "textures"
    textures.mkdir(parents=True)
    shutil.move(obj_dir / "meshes" / "material_0.png", textures / "texture.png")
    mtl = obj_dir / "meshes" / "material.mtl"
    mtl.write_text(mtl.read_text().replace("material_0.png", "texture.png"))
    if category:
        (obj_dir / "metadata.pbtxt").write_text(f'name: "{name}"\ncategories {{\n  first: "{category}"\n}}\n')
    return path


def test_gso_layout_texture_lookup_and_z_up_conversion(tmp_path):
    _write_gso_object(tmp_path, "Toy_Train", category="Toys")
    (tmp_path / "not_an_object").mkdir()
    ds = open_dataset(f"gso:{tmp_path}")
    assert ds.ids == ["Toy_Train"] and [p.path.name for p in ds.problems] == ["not_an_object"]
    mesh = ds.get("Toy_Train").load()
    assert mesh.parts[0].has_texture
    extent = mesh.bounds[1] - mesh.bounds[0]
    assert np.argmax(extent) == 1  # the file's +Z (up) became canonical +Y


def test_gso_category_from_metadata(tmp_path):
    _write_gso_object(tmp_path, "A", category="Toys")
    _write_gso_object(tmp_path, "B")
    ds = open_dataset(f"gso:{tmp_path}")
    assert ds.get("A").category == "toys" and ds.get("B").category == "gso"


def test_omniobject3d_layout(tmp_path):
    write_obj_with_texture(tmp_path / "toy_train" / "toy_train_001" / "Scan", "Scan")
    (tmp_path / "toy_train" / "toy_train_002").mkdir()
    ds = open_dataset(f"omniobject3d:{tmp_path}")
    assert ds.ids == ["toy_train_001"] and ds.get("toy_train_001").category == "toy_train"
    assert len(ds.problems) == 1 and _is_normalised(ds.get("toy_train_001").load())


def test_objaverse_nested_glbs(tmp_path):
    write_glb(tmp_path / "glbs" / "000-001" / "abc123.glb")
    write_glb(tmp_path / "glbs" / "000-002" / "def456.glb")
    ds = open_dataset(f"objaverse:{tmp_path}")
    assert ds.ids == ["abc123", "def456"] and _is_normalised(ds.get("def456").load())


def test_object_list_selects_renames_and_reports_missing(mesh_folder, tmp_path):
    lst = tmp_path / "list.txt"
    lst.write_text("# subset\nbox crate\nmug\nghost  # not there\n")
    ds = open_dataset(f"folder:{mesh_folder}", object_list=lst)
    assert ds.ids == ["box", "mug"]
    assert ds.get("box").path.name == "crate.obj"
    (reason,) = [p.reason for p in ds.problems]
    assert (
        reason.startswith("listed as 'ghost' but not found in dataset " + repr(f"folder:{mesh_folder}"))
        and "second column" in reason
    )


def test_shipped_gso30_list_has_the_thirty_syncdreamer_names():
    entries = read_object_list("gso30-syncdreamer")
    assert len(entries) == 30 and entries[0][:2] == ("alarm", "alarm") and ("turtle", "turtle", 45.0) in entries
    # SyncDreamer's per-object angles A (eval_mesh.py get_gt_rotate_angle) as yaw = 270 - A.
    yaw = {e.id: e.yaw_deg for e in entries}
    assert (yaw["chicken"], yaw["sofa"], yaw["elephant"], yaw["sorter"], yaw["bell"]) == (0.0, 0.0, 90.0, 157.5, 270.0)


@pytest.mark.parametrize("angle", [180.0, 225.0, 112.5, 0.0])
def test_list_yaw_puts_the_object_where_syncdreamers_cameras_see_it(angle):
    """yaw = 270 - A reproduces eval_mesh.py's transform_gt (normalise, then turn by A about +z) in the
    frame where the preset's cameras are SyncDreamer's (established on the chicken, A = 270)."""
    from reconbench.assets import MeshAsset, MeshPart
    from reconbench.datasets.base import DatasetObject
    from reconbench.protocol.frames import frame_matrix

    rng = np.random.default_rng(0)
    v = rng.random((48, 3)) * [0.3, 0.2, 0.1] + [1.0, -2.0, 0.5]  # a GSO-like file: z up, off-centre, not unit
    raw = MeshAsset((MeshPart(v, np.arange(48).reshape(16, 3)),))
    obj = DatasetObject("x", "", Path("x.obj"), "z-up", yaw_deg=270.0 - angle)
    ours = raw.transformed(obj.canonical_transform(raw)).parts[0].vertices

    def rz(deg):
        c, s_ = np.cos(np.radians(deg)), np.sin(np.radians(deg))
        return np.array([[c, -s_, 0], [s_, c, 0], [0, 0, 1.0]])

    norm = v / np.max(np.ptp(v, 0))
    norm = norm - (norm.max(0) + norm.min(0)) / 2
    syncdreamer = norm @ rz(-angle).T  # transform_gt: euler2mat(-radians(A), 0, 0, 'szyx')
    s_to_canonical = frame_matrix("z-up")[:3, :3] @ rz(270.0)  # the chicken's mapping (A = 270)
    assert np.allclose(ours, syncdreamer @ s_to_canonical.T, atol=1e-12)


def test_list_options_are_checked(tmp_path):
    lst = tmp_path / "l.txt"
    lst.write_text("a  A_FOLDER  yaw=12.5\nb yaw=-90\n")
    assert read_object_list(lst) == [("a", "A_FOLDER", 12.5), ("b", "b", -90.0)]
    for bad, reason in (("a yaw=north\n", "yaw must be a number"), ("a tilt=3\n", "expected 'ID")):
        lst.write_text(bad)
        with pytest.raises(DatasetError, match=reason):
            read_object_list(lst)


@pytest.mark.parametrize(
    "text,reason", [("a b c\n", "expected 'ID"), ("a\na\n", "listed twice"), ("# nothing\n", "empty")]
)
def test_bad_object_lists_name_the_problem(tmp_path, text, reason):
    lst = tmp_path / "l.txt"
    lst.write_text(text)
    with pytest.raises(DatasetError, match=reason):
        read_object_list(lst)


@pytest.mark.parametrize("bad_id", ["/abs/victim", "../../victim2", "a/b", "a\\b", "..", ".hidden", "a..b", "x\x00y"])
def test_object_list_ids_that_could_leave_the_run_folder_are_refused(tmp_path, bad_id):
    lst = tmp_path / "l.txt"
    lst.write_text(f"good\n{bad_id} box\n")
    with pytest.raises(DatasetError, match=rf"{lst}, line 2: object id .* is not allowed"):
        read_object_list(lst)


def test_object_list_ids_may_use_letters_of_any_script(tmp_path):
    lst = tmp_path / "l.txt"
    lst.write_text("lunch_bag\nünïcødé-物体 box\nv1.2+x\n")
    assert [e[0] for e in read_object_list(lst)] == ["lunch_bag", "ünïcødé-物体", "v1.2+x"]


@pytest.mark.parametrize(
    "spec,reason",
    [("nope", "unknown dataset source"), ("gso", "needs a folder"), ("folder:/does/not/exist", "does not exist")],
)
def test_bad_specs_are_explained(spec, reason):
    with pytest.raises(DatasetError, match=reason):
        open_dataset(spec)


def test_the_package_docstring_names_every_source_with_its_spec_form():
    import reconbench.datasets

    forms = [f"`{name}:PATH`" if source["needs_path"] else f"`{name}`" for name, source in SOURCES.items()]
    assert [f for f in forms if f not in (reconbench.datasets.__doc__ or "")] == []


def test_select_keeps_order_and_rejects_unknown_ids(mesh_folder):
    ds = open_dataset(f"folder:{mesh_folder}")
    assert ds.select(["tower", "ball"]).ids == ["tower", "ball"]
    assert ds.select(limit=2).ids == ["ball", "crate"]
    with pytest.raises(KeyError, match="ghost"):
        ds.select(["ghost"])
    assert parse_spec("procedural") == ("procedural", None)


def test_an_original_gso_folder_works_with_the_shipped_list_through_the_mapped_chicken(tmp_path):
    """chicken -> CHICKEN_NESTING (public mapping); the 29 unmapped names are reported with how to map them."""
    shutil.copytree(
        Path(__file__).resolve().parents[1] / "data" / "syncdreamer-gso-chicken" / "CHICKEN_NESTING",
        tmp_path / "CHICKEN_NESTING",
    )
    ds = open_dataset(f"gso:{tmp_path}", "gso30-syncdreamer")
    assert ds.ids == ["chicken"] and ds.objects[0].path.parent.parent.name == "CHICKEN_NESTING"
    missing = [str(p) for p in ds.problems]
    assert len(missing) == 29 and all("second column" in m for m in missing) and any("alarm" in m for m in missing)


def test_an_object_list_that_selects_nothing_is_an_error_naming_the_missing_objects(tmp_path):
    from reconbench.cli import main

    (tmp_path / "SOME_OTHER_OBJECT" / "meshes").mkdir(parents=True)
    trimesh.creation.box().export(tmp_path / "SOME_OTHER_OBJECT" / "meshes" / "model.obj")
    with pytest.raises(DatasetError, match=r"selects none.*missing: alarm.*second column"):
        open_dataset(f"gso:{tmp_path}", "gso30-syncdreamer")
    code = main(
        ["render", "--dataset", f"gso:{tmp_path}", "--protocol", "gso30-syncdreamer", "--out", str(tmp_path / "out")]
    )
    assert code != 0 and not (tmp_path / "out").exists()


def test_the_oracle_hands_back_a_turned_object_as_the_dataset_places_it(tmp_path):
    from reconbench.alignment import initial_transform
    from reconbench.assets import load_asset
    from reconbench.methods import GroundTruthFile, MethodInput
    from reconbench.methods.reference.oracle import run

    obj = open_dataset("procedural").get("duck")
    turned = replace(obj, yaw_deg=157.5)
    out = run(MethodInput((), (), (), tmp_path, 0, GroundTruthFile(obj.path, obj.frame, obj.texture_dirs, 157.5)))
    placed = load_asset(out.asset)
    placed = placed.transformed(initial_transform(placed, out.frame, out.scale))
    assert np.allclose(placed.bounds, turned.load().bounds, atol=1e-6)
    assert not np.allclose(placed.bounds, obj.load().bounds, atol=1e-3)
