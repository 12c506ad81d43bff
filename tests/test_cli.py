import json

import numpy as np
import pytest
from PIL import Image

from reconbench.cli import main
from reconbench.protocol import get_protocol


def test_render_one_object_writes_views_depth_normals_and_cameras(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["render", "--dataset", "procedural", "--object", "mug", "--protocol", "gso30-syncdreamer", "--out", str(out)]) == 0
    meta = json.loads((out / "cameras.json").read_text())
    views = meta["views"]
    assert meta["object"] == "mug" and meta["protocol"] == "gso30-syncdreamer" and len(views) == 16
    assert [v["role"] for v in views[:2]] == ["input", "heldout"]
    for key in ("name", "role", "width", "height", "fx", "fy", "cx", "cy", "c2w"):
        assert key in views[0]
    proto = get_protocol("gso30-syncdreamer")
    for record, cam in zip(views, proto.cameras):
        assert np.allclose(record["c2w"], cam.c2w)
        rgba = np.asarray(Image.open(out / record["files"]["rgba.png"]))
        depth = np.load(out / record["files"]["depth.npz"])["depth"]
        assert rgba.shape == (256, 256, 4) and depth.shape == (256, 256)
        assert np.array_equal(rgba[..., 3] > 0, depth > 0)
        # Back-project with only what cameras.json says: points land inside the unit box.
        j, i = np.nonzero(depth)
        z = depth[j, i]
        pts_cam = np.stack([(i + 0.5 - record["cx"]) / record["fx"] * z, -(j + 0.5 - record["cy"]) / record["fy"] * z, -z], 1)
        c2w = np.asarray(record["c2w"])
        pts = pts_cam @ c2w[:3, :3].T + c2w[:3, 3]
        assert np.abs(pts).max() <= 0.5 + 1e-4 and np.abs(pts).max() > 0.45
    assert "rendered 1 object(s)" in capsys.readouterr().out


def test_render_goes_on_past_a_corrupt_object_and_names_it(mesh_folder, tmp_path, capsys):
    (mesh_folder / "broken.glb").write_bytes(b"not a glb at all")
    out = tmp_path / "r"
    code = main(["render", "--dataset", f"folder:{mesh_folder}", "--protocol", "gso30-syncdreamer", "--out", str(out)])
    assert code == 1
    assert sorted(p.name for p in out.iterdir()) == ["ball", "crate", "mug", "tower"]
    assert "broken.glb" in capsys.readouterr().err


def test_datasets_check_reports_each_failing_object(mesh_folder, capsys):
    (mesh_folder / "broken.glb").write_bytes(b"nope")
    assert main(["datasets", "--dataset", f"folder:{mesh_folder}", "--check"]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "broken.glb" in out and out.count(" ok, ") == 4


def test_listing_commands(capsys):
    assert main(["datasets"]) == 0 and main(["protocols"]) == 0
    out = capsys.readouterr().out
    for word in ("procedural", "gso:PATH", "objaverse:PATH", "sparse4", "gso30-syncdreamer-unlit"):
        assert word in out


@pytest.mark.parametrize("argv,message", [
    (["datasets", "--dataset", "nope"], "unknown dataset source"),
    (["render", "--dataset", "procedural", "--object", "ghost", "--out", "x"], "ghost"),
    (["render", "--dataset", "procedural", "--protocol", "bogus", "--out", "x"], "unknown protocol"),
])
def test_bad_arguments_exit_2_with_a_reason(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_evaluate_prints_json_keyed_by_metric_name(tmp_path, capsys):
    from reconbench.assets import save_mesh
    from reconbench.datasets import open_dataset

    pred = save_mesh(open_dataset("procedural").get("hammer").load(), tmp_path / "pred.glb")
    argv = ["evaluate", "--dataset", "procedural", "--object", "hammer", "--pred", str(pred), "--lpips", "none", "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["chamfer"] < 1e-3 and out["fscore"] == 1.0 and out["mask_iou"] > 0.99
    assert "unaligned_chamfer" in out and len(out["alignment"]["total"]) == 4
    assert out["sharpness"] == pytest.approx(1.0, abs=0.1) and out["collapsed_views"] == 0 and out["janus_margin"] is None  # LPIPS off
    assert len(out["views"]["sharpness"]) == len(out["views"]["name"]) > 1


def test_evaluate_against_a_ground_truth_file_in_another_frame(tmp_path, capsys, mesh_folder):
    # The same file as prediction (declared z-up) and ground truth (declared z-up): exact.
    gt = mesh_folder / "tower" / "model.obj"
    argv = ["evaluate", "--gt", str(gt), "--gt-frame", "z-up", "--pred", str(gt), "--frame", "z-up", "--align", "none", "--lpips", "none"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "chamfer" in out and "transform" in out


def test_evaluate_needs_exactly_one_ground_truth(capsys):
    assert main(["evaluate", "--pred", "x.glb"]) == 2
    assert "either as --gt PATH or as --dataset" in capsys.readouterr().err
