import json

import numpy as np
import pytest
from PIL import Image

from reconbench.cli import main
from reconbench.protocol import get_protocol


def test_render_one_object_writes_views_depth_normals_and_cameras(tmp_path, capsys):
    out = tmp_path / "r"
    assert (
        main(
            [
                "render",
                "--dataset",
                "procedural",
                "--object",
                "mug",
                "--protocol",
                "gso30-syncdreamer",
                "--out",
                str(out),
            ]
        )
        == 0
    )
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
        pts_cam = np.stack(
            [(i + 0.5 - record["cx"]) / record["fx"] * z, -(j + 0.5 - record["cy"]) / record["fy"] * z, -z], 1
        )
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


@pytest.mark.parametrize(
    "argv,message",
    [
        (["datasets", "--dataset", "nope"], "unknown dataset source"),
        (["render", "--dataset", "procedural", "--object", "ghost", "--out", "x"], "ghost"),
        (["render", "--dataset", "procedural", "--protocol", "bogus", "--out", "x"], "unknown protocol"),
    ],
)
def test_bad_arguments_exit_2_with_a_reason(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_evaluate_prints_json_keyed_by_metric_name(tmp_path, capsys):
    from reconbench.assets import save_mesh
    from reconbench.datasets import open_dataset

    pred = save_mesh(open_dataset("procedural").get("hammer").load(), tmp_path / "pred.glb")
    argv = [
        "evaluate",
        "--dataset",
        "procedural",
        "--object",
        "hammer",
        "--pred",
        str(pred),
        "--lpips",
        "none",
        "--json",
    ]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["chamfer"] < 1e-3 and out["fscore"] == 1.0 and out["mask_iou"] > 0.99
    assert "unaligned_chamfer" in out and len(out["alignment"]["total"]) == 4
    assert (
        out["evaluation"]["chamfer"] == "point-to-mesh" and out["alignment"]["mode"] == "icp"
    )  # the preset's settings, recorded
    assert (
        out["sharpness"] == pytest.approx(1.0, abs=0.1) and out["collapsed_views"] == 0 and out["janus_margin"] is None
    )  # LPIPS off
    assert len(out["views"]["sharpness"]) == len(out["views"]["name"]) > 1


def test_evaluate_against_a_ground_truth_file_in_another_frame(tmp_path, capsys, mesh_folder):
    # The same file as prediction (declared z-up) and ground truth (declared z-up): exact.
    gt = mesh_folder / "tower" / "model.obj"
    argv = [
        "evaluate",
        "--gt",
        str(gt),
        "--gt-frame",
        "z-up",
        "--pred",
        str(gt),
        "--frame",
        "z-up",
        "--align",
        "none",
        "--lpips",
        "none",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "chamfer" in out and "transform" in out
    # --align none: one column, the unaligned metrics, labelled as such (not the headline "aligned").
    header = next(line for line in out.splitlines() if line.startswith("metric"))
    assert header.split() == ["metric", "unaligned"]


def test_evaluate_labels_both_columns_when_it_aligns(tmp_path, capsys, mesh_folder):
    gt = mesh_folder / "tower" / "model.obj"
    argv = [
        "evaluate",
        "--gt",
        str(gt),
        "--gt-frame",
        "z-up",
        "--pred",
        str(gt),
        "--frame",
        "z-up",
        "--align",
        "icp",
        "--lpips",
        "none",
    ]
    assert main(argv) == 0
    header = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("metric"))
    assert header.split() == ["metric", "aligned", "unaligned"]  # the default protocol's headline is aligned


def test_evaluate_takes_a_frame_an_adapter_declares_and_names_the_known_ones_for_a_typo(tmp_path, capsys):
    import numpy as np

    from reconbench.assets import save_mesh
    from reconbench.datasets import open_dataset
    from reconbench.registry import get_method

    to_canonical = get_method("sf3d").frame_for().array  # declared in upstream/adapters/sf3d.py, not protocol/
    canonical = open_dataset("procedural").get("hammer").load()
    pred = save_mesh(canonical.transformed(np.linalg.inv(to_canonical)), tmp_path / "pred.glb")
    argv = ["evaluate", "--dataset", "procedural", "--object", "hammer", "--pred", str(pred), "--lpips", "none"]
    scored = {}
    for frame in ("y-up-front-neg-z", "y-up"):
        assert main([*argv, "--frame", frame, "--align", "none", "--json"]) == 0
        scored[frame] = json.loads(capsys.readouterr().out)["chamfer"]
    assert scored["y-up-front-neg-z"] < 1e-3 < scored["y-up"]  # the declared frame, not the generic fallback
    assert main([*argv, "--frame", "y-up-front-neg"]) == 2
    err = capsys.readouterr().err
    assert "unknown frame 'y-up-front-neg'" in err and "z-up-front-x" in err and "y-up-front-neg-z" in err


def test_evaluate_needs_exactly_one_ground_truth(capsys):
    assert main(["evaluate", "--pred", "x.glb"]) == 2
    assert "either as --gt PATH or as --dataset" in capsys.readouterr().err


def test_an_object_list_id_with_a_path_stops_the_run_before_anything_is_written(mesh_folder, tmp_path, capsys):
    victim = tmp_path / "victim"
    (victim / "seed0").mkdir(parents=True)
    (victim / "seed0" / "canary.txt").write_text("keep me")
    lst = tmp_path / "l.txt"
    lst.write_text(f"{victim} crate\n")
    out = tmp_path / "run"
    code = main(
        [
            "run",
            "--dataset",
            f"folder:{mesh_folder}",
            "--object-list",
            str(lst),
            "--methods",
            "oracle",
            "--out",
            str(out),
            "--lpips",
            "none",
            "--no-progress",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("reconbench: error:") and str(lst) in err and repr(str(victim)) in err
    assert (victim / "seed0" / "canary.txt").read_text() == "keep me"
    assert sorted(p.name for p in victim.rglob("*")) == ["canary.txt", "seed0"]
    assert not out.exists() and not (tmp_path / "victim.lock").exists()


def _obj(path, vertices, faces):
    path.write_text(
        "".join(f"v {x!r} {y!r} {z!r}\n" for x, y, z in vertices) + "".join(f"f {a} {b} {c}\n" for a, b, c in faces)
    )
    return path


def _box(path):
    import trimesh

    trimesh.creation.box().export(path)
    return path


def _degenerate_splat(path, means):
    from reconbench.assets import GaussianSplats, save_splats

    n = len(means)
    return save_splats(
        GaussianSplats(
            np.asarray(means, float),
            np.full((n, 3), 0.05),
            np.tile([1.0, 0, 0, 0], (n, 1)),
            np.full(n, 0.9),
            np.zeros((n, 1, 3)),
        ),
        path,
    )


@pytest.mark.parametrize("kind", ["all_equal_vertices", "splat_all_same", "splat_far", "vertex_at_1e30"])
def test_a_degenerate_prediction_is_a_one_line_error_naming_the_file(tmp_path, capsys, small_protocol, kind):
    gt = _box(tmp_path / "box.obj")
    pred = {
        "all_equal_vertices": lambda: _obj(tmp_path / "p.obj", [(0.5, 0.5, 0.5)] * 6, [(1, 2, 3), (4, 5, 6)]),
        "splat_all_same": lambda: _degenerate_splat(tmp_path / "p.ply", [[0.2, 0.2, 0.2]] * 10),
        "splat_far": lambda: _degenerate_splat(tmp_path / "p.ply", [[1e30, 1e30, 1e30]] * 10),
        "vertex_at_1e30": lambda: _obj(
            tmp_path / "p.obj", [(0, 0, 0), (1, 0, 0), (0, 1, 0), (1e30, 0, 0)], [(1, 2, 3), (1, 2, 4)]
        ),
    }[kind]()
    code = main(["evaluate", "--gt", str(gt), "--pred", str(pred), "--protocol", small_protocol, "--lpips", "none"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("reconbench: error:") and str(pred) in err and err.count("\n") == 1 and "Traceback" not in err


def test_a_zero_area_ground_truth_is_refused(tmp_path, capsys, small_protocol):
    line = _obj(tmp_path / "line.obj", [(0, 0, 0), (1, 0, 0), (2, 0, 0)], [(1, 2, 3)])  # one collinear triangle
    code = main(
        [
            "evaluate",
            "--gt",
            str(line),
            "--pred",
            str(_box(tmp_path / "box.obj")),
            "--protocol",
            small_protocol,
            "--lpips",
            "none",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and str(line) in err and "zero surface area" in err


def test_doctor_exits_non_zero_when_a_requested_method_fails_a_check(tmp_path, capsys, monkeypatch):
    import reconbench.doctor as doctor

    verdicts = {
        "sphere": doctor.Diagnosis("sphere", "not needed", "not needed", "yes", "yes"),
        "oracle": doctor.Diagnosis("oracle", "not needed", "not needed", "no: it broke", "-"),
    }
    monkeypatch.setattr(doctor, "diagnose", lambda spec, out, **kw: verdicts[spec.name])
    assert main(["doctor", "--methods", "sphere", "--out", str(tmp_path)]) == 0
    assert main(["doctor", "--methods", "sphere,oracle", "--out", str(tmp_path)]) == 1
    table = capsys.readouterr().out
    assert "oracle: ran no: it broke" in table


def test_a_full_disk_stops_the_run_with_a_one_line_error_and_keeps_what_was_committed(
    tmp_path, capsys, monkeypatch, small_protocol
):
    from reconbench.runner import store as store_module

    original = store_module.ResultsStore.__init__

    def nearly_full(self, *args, **kwargs):
        original(self, *args, **kwargs)
        pages = self.db.execute("PRAGMA page_count").fetchone()[0]
        self.db.execute(f"PRAGMA max_page_count = {pages + 1}")  # SQLite's own "database or disk is full"

    monkeypatch.setattr(store_module.ResultsStore, "__init__", nearly_full)
    out = tmp_path / "run"
    code = main(
        [
            "run",
            "--dataset",
            "procedural",
            "--objects",
            "car,mug,ring",
            "--methods",
            "sphere",
            "--protocol",
            small_protocol,
            "--out",
            str(out),
            "--lpips",
            "none",
            "--no-progress",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2, err
    assert (
        "reconbench: error:" in err
        and "database or disk is full" in err
        and "--resume" in err
        and "Traceback" not in err
    )
    monkeypatch.undo()
    with store_module.ResultsStore(out / "results.sqlite", readonly=True) as store:  # consistent, resumable
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_datasets_check_shows_a_refused_texture_as_a_warning(tmp_path, capsys):
    from conftest import write_obj_with_texture

    root = tmp_path / "data"
    path = write_obj_with_texture(root / "obj")
    (root / "obj" / "material.mtl").write_text("newmtl material_0\nKd 1 1 1\nmap_Kd /etc/passwd\n")
    assert main(["datasets", "--dataset", f"folder:{root}", "--check"]) == 0
    out = capsys.readouterr().out
    assert " ok, 12 faces" in out and "warning: model.obj: texture '/etc/passwd' refused" in out
    assert path.is_file()


def test_an_out_folder_that_cannot_be_created_is_a_one_line_error(tmp_path, capsys, small_protocol):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the run folder's parent should be")  # as a read-only mount refuses mkdir
    code = main(
        [
            "run",
            "--dataset",
            "procedural",
            "--objects",
            "car",
            "--methods",
            "sphere",
            "--protocol",
            small_protocol,
            "--out",
            str(blocker / "run"),
            "--lpips",
            "none",
            "--no-progress",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("reconbench: error:") and str(blocker) in err and "Traceback" not in err


def test_evaluate_scores_a_ground_truth_without_its_texture_and_says_so(tmp_path, capsys, small_protocol):
    from conftest import write_obj_with_texture

    gt = write_obj_with_texture(tmp_path / "gt")
    (tmp_path / "gt" / "material_0.png").unlink()
    code = main(
        [
            "evaluate",
            "--gt",
            str(gt),
            "--pred",
            str(gt),
            "--protocol",
            small_protocol,
            "--lpips",
            "none",
            "--align",
            "none",
            "--json",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0
    result = json.loads(captured.out)
    assert result["chamfer"] < 1e-6 and any("texture 'material_0.png' not found" in w for w in result["warnings"])
    assert "reconbench: warning: ground truth model.obj: texture 'material_0.png' not found" in captured.err
