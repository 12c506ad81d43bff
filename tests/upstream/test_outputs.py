"""Output discovery of upstream adapters: a match, a zip, several matches, and clear errors when absent."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from reconbench.methods.base import MethodSpec
from reconbench.registry import get_method, method_names
from reconbench.upstream.outputs import OutputAmbiguous, OutputNotFound, discover_output


def _spec(output: dict) -> MethodSpec:
    return MethodSpec.from_dict(
        dict(
            name="toy",
            paradigm="feed-forward",
            representation="mesh",
            description="a toy adapter",
            upstream={"repo": "https://github.com/example/toy", "commit": "0" * 40},
            steps=({"stage": "generation", "argv": ["{python}", "run.py", "{out}"]},),
            output=output,
        )
    )


def _touch(path: Path, data: bytes = b"x", mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def test_the_declared_file_is_found(tmp_path):
    _touch(tmp_path / "0" / "input.png")
    mesh = _touch(tmp_path / "0" / "mesh.obj")
    assert discover_output(_spec({"path": "0/mesh.obj", "format": "obj"}), tmp_path) == mesh
    assert discover_output(_spec({"path": "*/mesh.obj", "format": "obj"}), tmp_path) == mesh


def test_globs_match_files_not_folders(tmp_path):
    (tmp_path / "lgm" / "odd.ply").mkdir(parents=True)  # a folder named like the output
    ply = _touch(tmp_path / "lgm" / "duck.ply")
    _touch(tmp_path / "lgm" / "duck.mp4")
    assert discover_output(_spec({"path": "lgm/*.ply", "format": "ply"}), tmp_path) == ply


def test_nothing_found_names_the_folder_the_glob_and_what_was_written(tmp_path):
    _touch(tmp_path / "0" / "input.png")
    _touch(tmp_path / "log.txt")
    with pytest.raises(OutputNotFound) as info:
        discover_output(_spec({"path": "0/mesh.obj", "format": "obj"}), tmp_path)
    err = info.value
    assert isinstance(err, FileNotFoundError)
    assert str(tmp_path) in str(err) and "'0/mesh.obj'" in str(err) and "'toy'" in str(err)
    assert "0/input.png" in str(err) and "log.txt" in str(err)
    assert err.written == ["0/input.png", "log.txt"] and err.folder == tmp_path


def test_a_long_listing_is_cut_and_counted(tmp_path):
    for i in range(25):
        _touch(tmp_path / f"f{i:02d}.txt")
    with pytest.raises(OutputNotFound, match=r"f19\.txt, \.\.\. \(25 files in all\)"):
        discover_output(_spec({"path": "*.obj", "format": "obj"}), tmp_path)


def test_an_empty_or_missing_folder_says_so(tmp_path):
    with pytest.raises(OutputNotFound, match="the folder is empty"):
        discover_output(_spec({"path": "*.obj", "format": "obj"}), tmp_path)
    with pytest.raises(OutputNotFound, match="does not exist"):
        discover_output(_spec({"path": "*.obj", "format": "obj"}), tmp_path / "never")


def test_several_matches_are_an_error_naming_them(tmp_path):
    for name in ("a_model.ply", "b_model.ply", "c_model.ply"):
        _touch(tmp_path / name, mtime=1_000_000)
    with pytest.raises(OutputAmbiguous, match=r"3 files match '\*_model.ply'.*a_model.ply, b_model.ply, c_model.ply"):
        discover_output(_spec({"path": "*_model.ply", "format": "ply"}), tmp_path)


def _crm_zip(folder: Path, members: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "output3d.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


CRM_OUTPUT = {"path": "output3d.zip", "format": "obj", "unpack": "zip", "member": "*.obj"}


def test_a_zip_is_unpacked_and_its_member_found(tmp_path):
    _crm_zip(tmp_path, {"tmpab12.obj": b"v 0 0 0\n", "tmpab12.mtl": b"", "tmpab12.png": b""})
    _touch(tmp_path / "pixel_images.png")
    found = discover_output(_spec(CRM_OUTPUT), tmp_path)
    assert found == tmp_path / "unpacked" / "tmpab12.obj" and found.read_bytes() == b"v 0 0 0\n"
    assert (tmp_path / "unpacked" / "tmpab12.png").is_file()  # the texture lands beside the OBJ
    _touch(tmp_path / "unpacked" / "stale.obj", mtime=1)  # a second discovery starts from a clean folder
    assert discover_output(_spec(CRM_OUTPUT), tmp_path) == found
    assert not (tmp_path / "unpacked" / "stale.obj").exists()


def test_a_zip_without_the_member_lists_what_it_held(tmp_path):
    _crm_zip(tmp_path, {"readme.txt": b"", "mesh.glb": b""})
    with pytest.raises(OutputNotFound) as info:
        discover_output(_spec(CRM_OUTPUT), tmp_path)
    assert str(tmp_path / "unpacked") in str(info.value) and "mesh.glb" in str(info.value)


def test_a_missing_or_bad_zip_is_a_clear_error(tmp_path):
    with pytest.raises(OutputNotFound, match="output3d.zip"):
        discover_output(_spec(CRM_OUTPUT), tmp_path)
    _touch(tmp_path / "output3d.zip", b"not a zip")
    with pytest.raises(ValueError, match="not a valid zip"):
        discover_output(_spec(CRM_OUTPUT), tmp_path)


def test_a_zip_member_outside_its_folder_is_refused(tmp_path):
    _crm_zip(tmp_path, {"../escape.obj": b"v 0 0 0\n"})
    with pytest.raises(ValueError, match="outside its folder"):
        discover_output(_spec(CRM_OUTPUT), tmp_path)
    assert not (tmp_path.parent / "escape.obj").exists()


@pytest.mark.parametrize("method", [n for n in method_names() if get_method(n).is_external])
def test_every_adapter_s_output_glob_finds_a_file_where_upstream_writes_it(method, tmp_path):
    """One file per adapter at the place docs/adapters.md gives for upstream's output."""
    where = {
        "triposr": "0/mesh.obj",
        "sf3d": "0/mesh.glb",
        "lgm": "lgm/duck.ply",
        "lgm-mesh": "lgm/duck.glb",
        "openlrm": "meshes/duck.ply",
        "instantmesh": "instant-mesh-large/meshes/duck.obj",
        "dreamgaussian": "duck_model.ply",
        "dreamgaussian-stable-zero123": "duck_model.ply",
        "threestudio-3dgs": "gaussians/duck.ply",
    }
    spec = get_method(method)
    if method == "crm":
        _crm_zip(tmp_path, {"tmp1.obj": b"", "tmp1.mtl": b"", "tmp1.png": b""})
        assert discover_output(spec, tmp_path).name == "tmp1.obj"
        return
    target = _touch(tmp_path / where[method])
    _touch(tmp_path / "other" / "unrelated.txt")
    assert discover_output(spec, tmp_path) == target


def test_a_zip_that_unpacks_beyond_the_limit_is_refused_before_extraction(tmp_path, monkeypatch):
    path = tmp_path / "output3d.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mesh.obj", b"v 0 0 0\n")
        zf.writestr("bomb.bin", b"\0" * 2_000_000)  # compresses to about 2 KB
    monkeypatch.setenv("RECONBENCH_MAX_EXTRACTED_BYTES", "1000000")
    with pytest.raises(
        ValueError,
        match=r"unpacks to: 2,000,008 bytes is over the limit of 1,000,000 bytes .*RECONBENCH_MAX_EXTRACTED_BYTES",
    ):
        discover_output(_spec(CRM_OUTPUT), tmp_path)
    assert not (tmp_path / "unpacked").exists()
    monkeypatch.setenv("RECONBENCH_MAX_EXTRACTED_BYTES", "3000000")
    assert discover_output(_spec(CRM_OUTPUT), tmp_path).name == "mesh.obj"
