"""Commands of upstream adapters (placeholders -> argument lists), spec validation, and input preparation."""

from __future__ import annotations

import re
from dataclasses import FrozenInstanceError, replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reconbench.methods.base import MethodSpec
from reconbench.registry import get_method, method_names
from reconbench.upstream.command import Command, run_commands
from reconbench.upstream.inputs import prepare_method_inputs
from reconbench.upstream.placeholders import PLACEHOLDERS
from reconbench.upstream.validate import validate_spec

EXTERNAL = [n for n in method_names() if get_method(n).is_external]

# Concrete values with spaces, quotes and braces: each must stay exactly one argument, never re-expanded.
VALUES = {
    "python": "/opt/envs/tri po/bin/python",
    "repo": "/srv/checkouts/my repo",
    "input": "/jobs/in put/duck.png",
    "inputs": ["/jobs/in put/duck.png"],
    "input_dir": "/jobs/in put",
    "out": "/jobs/out dir 'x'",
    "name": "duck",
    "seed": "7",
    "hooks": "/site/reconbench/hooks dir",
    # the input camera, already in the method's convention (tests/upstream/test_input_camera.py)
    "input_elevation": "-30",
    "input_azimuth": "0",
    "input_distance": "1.5",
    "input_fov": "49.1",
}


def _spec(**overrides) -> MethodSpec:
    base = dict(
        name="toy",
        paradigm="feed-forward",
        representation="mesh",
        description="a toy adapter",
        upstream={"repo": "https://github.com/example/toy", "commit": "0" * 40},
        environment={"python": "3.10", "packages": ["numpy==1.26.4"]},
        steps=({"stage": "generation", "argv": ["{python}", "run.py", "{inputs}", "--out", "{out}"]},),
        output={"path": "0/mesh.obj", "format": "obj"},
        frame="y-up",
        scale="bbox",
        sources=({"title": "toy", "url": "https://example.org"},),
        licence="MIT",
    )
    base.update(overrides)
    return MethodSpec.from_dict(base)


# ---------------------------------------------------------------- every registered adapter


def test_the_ten_upstream_adapters_are_registered():
    assert set(EXTERNAL) >= {
        "triposr",
        "lgm",
        "lgm-mesh",
        "openlrm",
        "instantmesh",
        "sf3d",
        "crm",
        "dreamgaussian",
        "dreamgaussian-stable-zero123",
        "threestudio-3dgs",
    }


@pytest.mark.parametrize("method", EXTERNAL)
def test_registered_external_spec_is_valid(method):
    assert validate_spec(get_method(method)) == []


@pytest.mark.parametrize("method", EXTERNAL)
def test_commands_are_concrete_argument_lists(method):
    spec = get_method(method)
    steps = run_commands(spec, VALUES)
    assert len(steps) == len(spec.steps) and all(isinstance(s, Command) for s in steps)
    for step in steps:
        assert all("{" not in a and "}" not in a for a in step.argv), step.argv
        assert step.cwd in (VALUES["out"], VALUES["repo"])
        assert step.argv[0] == VALUES["python"]  # always the method's own interpreter, never a shell
    every = [a for s in steps for a in s.argv]
    assert any(a.startswith(VALUES["out"]) or a.endswith("=" + VALUES["out"]) or VALUES["out"] in a for a in every)
    # paths with spaces stay whole arguments: nothing was split
    assert not any(a in ("dir", "'x'", "repo", "put/duck.png") for a in every)


@pytest.mark.parametrize("method", EXTERNAL)
def test_published_figures_and_upstream_pins_are_present(method):
    spec = get_method(method)
    assert re.fullmatch(r"[0-9a-f]{40}", spec.upstream["commit"])
    assert spec.upstream["repo"].startswith("https://github.com/")
    assert spec.licence and spec.sources and spec.weights
    assert spec.needs_gpu == (method not in ("triposr", "sf3d"))
    assert spec.scale == "bbox" and spec.input_views == (1,)


def test_triposr_command_is_upstream_s_cli():
    (step,) = run_commands(get_method("triposr"), VALUES)
    assert step.argv[:5] == [
        VALUES["python"],
        f"{VALUES['repo']}/run.py",
        VALUES["input"],
        "--output-dir",
        VALUES["out"],
    ]
    assert step.argv[step.argv.index("--model-save-format") + 1] == "obj"
    assert step.stage == "generation"


def test_instantmesh_is_labelled_as_the_instant3d_style_method_and_gets_the_seed():
    spec = get_method("instantmesh")
    assert "Instant3D-style" in spec.description and "not Instant3D" in spec.description
    (step,) = run_commands(spec, VALUES)
    assert step.argv[step.argv.index("--seed") + 1] == "7"
    assert step.argv[step.argv.index("--output_path") + 1] == VALUES["out"]
    assert step.cwd == VALUES["repo"]  # custom_pipeline="zero123plus" is a folder of the checkout


def test_openlrm_sends_its_dumps_under_out():
    (step,) = run_commands(get_method("openlrm"), VALUES)
    assert f"mesh_dump={VALUES['out']}/meshes" in step.argv and f"image_input={VALUES['input']}" in step.argv
    assert step.argv[1:4] == ["-m", "openlrm.launch", "infer.lrm"] and step.cwd == VALUES["repo"]


def test_crm_outdir_keeps_its_trailing_slash():
    (step,) = run_commands(get_method("crm"), VALUES)
    assert step.argv[step.argv.index("--outdir") + 1] == VALUES["out"] + "/"  # run.py concatenates outdir + name
    assert step.argv[step.argv.index("--bg_choice") + 1] == "Alpha as mask"


def test_lgm_mesh_converts_the_ply_that_lgm_wrote():
    lgm = run_commands(get_method("lgm"), VALUES)
    mesh = run_commands(get_method("lgm-mesh"), VALUES)
    assert [s.argv for s in mesh[:1]] == [s.argv for s in lgm]
    infer, convert = mesh[0].argv, mesh[1].argv
    assert infer[1] == f"{VALUES['hooks']}/link_weights.py"
    hooked = infer[infer.index("--") + 1 :]  # what link_weights runs once the checkpoint is linked: save_multiview,
    assert hooked[0] == f"{VALUES['hooks']}/save_multiview.py"  # which keeps ImageDream's views (stage attribution)
    command = hooked[hooked.index("--") + 1 :]  # and then runs infer.py
    assert command[:2] == [f"{VALUES['repo']}/infer.py", "big"]
    linked = infer[infer.index("--hf") + 3]
    assert command[command.index("--resume") + 1] == linked and linked.startswith(VALUES["out"])
    workspace = command[command.index("--workspace") + 1]
    assert convert[convert.index("--test_path") + 1] == f"{workspace}/duck.ply"  # infer.py names it by the stem


def test_dreamgaussian_optimises_the_image_its_preprocessing_wrote():
    for method, config in (("dreamgaussian", "image.yaml"), ("dreamgaussian-stable-zero123", "image_sai.yaml")):
        process, main = run_commands(get_method(method), VALUES)
        assert process.stage == "preprocess" and process.argv[2] == VALUES["input"]
        # process.py writes <dir of the input>/<stem>_rgba.png
        assert f"input={VALUES['input_dir']}/duck_rgba.png" in main.argv
        assert f"outdir={VALUES['out']}" in main.argv and "save_path=duck" in main.argv
        assert main.argv[main.argv.index("--config") + 1] == f"{VALUES['repo']}/configs/{config}"
    assert get_method("dreamgaussian-stable-zero123").published.prior == "stable-zero123"


def test_threestudio_trial_folder_is_where_the_hook_looks():
    train, export = run_commands(get_method("threestudio-3dgs"), VALUES)
    assert train.cwd == VALUES["repo"] and "--train" in train.argv
    assert train.argv[1] == f"{VALUES['hooks']}/link_weights.py"
    links, command = train.argv[: train.argv.index("--")], train.argv[train.argv.index("--") + 1 :]
    assert f"{VALUES['repo']}/load/zero123/stable_zero123.ckpt" in links and "~/.cache/clip/ViT-L-14.pt" in links
    assert command[0] == f"{VALUES['repo']}/launch.py"
    kv = dict(a.split("=", 1) for a in command if "=" in a)
    assert kv["use_timestamp"] == "false" and kv["data.image_path"] == VALUES["input"] and kv["seed"] == "7"
    trial = f"{kv['exp_root_dir']}/{kv['name']}/{kv['tag']}"  # threestudio: exp_root_dir/name/tag (+ timestamp)
    assert export.argv[1] == f"{VALUES['hooks']}/threestudio_save_ply.py"
    assert export.argv[export.argv.index("--trial") + 1] == trial
    assert export.argv[export.argv.index("--output") + 1].startswith(VALUES["out"] + "/gaussians/")


def test_hooks_ship_with_the_package():
    import reconbench.upstream.hooks as hooks

    folder = Path(hooks.__file__).parent
    for script in ("threestudio_save_ply.py", "link_weights.py", "save_multiview.py"):
        text = (folder / script).read_text()
        compile(text, script, "exec")
        assert "import reconbench" not in text  # they run inside the method's environment


def test_link_weights_hook_links_then_runs_the_command(tmp_path, monkeypatch):
    import runpy
    import sys

    src = tmp_path / "weights" / "clip" / "ViT-L-14.pt"
    src.parent.mkdir(parents=True)
    src.write_bytes(b"weights")
    monkeypatch.setenv("RECONBENCH_TEST_WEIGHT", str(src))
    dest = tmp_path / "cache dir" / "clip" / "ViT-L-14.pt"
    upstream = tmp_path / "up stream" / "run.py"  # reads the linked file, as upstream code would
    upstream.parent.mkdir()
    upstream.write_text(
        "import sys, pathlib\npathlib.Path(sys.argv[2]).write_bytes(pathlib.Path(sys.argv[1]).read_bytes())\n"
    )
    script = Path(__import__("reconbench.upstream.hooks", fromlist=["x"]).__file__).parent / "link_weights.py"
    monkeypatch.setattr(sys, "path", list(sys.path))
    for i in range(2):  # idempotent
        argv = [
            "link_weights.py",
            "--env",
            "RECONBENCH_TEST_WEIGHT",
            str(dest),
            "--",
            str(upstream),
            str(dest),
            str(tmp_path / f"copy{i}"),
        ]
        monkeypatch.setattr(sys, "argv", argv)
        runpy.run_path(str(script), run_name="__main__")
        assert (tmp_path / f"copy{i}").read_bytes() == b"weights"
    assert dest.is_symlink() and dest.read_bytes() == b"weights"
    monkeypatch.delenv("RECONBENCH_TEST_WEIGHT")
    monkeypatch.setattr("sys.argv", ["link_weights.py", "--env", "RECONBENCH_TEST_WEIGHT", str(dest)])
    with pytest.raises(SystemExit):
        runpy.run_path(str(script), run_name="__main__")


def test_threestudio_hook_fails_clearly_without_a_finished_trial(tmp_path, capsys):
    import runpy
    import sys

    script = Path(__import__("reconbench.upstream.hooks", fromlist=["x"]).__file__).parent / "threestudio_save_ply.py"
    (tmp_path / "trial" / "ckpts").mkdir(parents=True)
    argv = sys.argv
    sys.argv = ["threestudio_save_ply.py", "--trial", str(tmp_path / "trial"), "--output", str(tmp_path / "g.ply")]
    try:
        with pytest.raises(SystemExit) as info:
            runpy.run_path(str(script), run_name="__main__")
    finally:
        sys.argv = argv
    assert info.value.code == 2
    assert "parsed.yaml not found" in capsys.readouterr().err


# ---------------------------------------------------------------- run_commands rules


def test_inputs_expands_into_one_argument_per_image():
    (step,) = run_commands(_spec(), {**VALUES, "inputs": ["/a b/1.png", Path("/a b/2.png")]})
    assert step.argv == [VALUES["python"], "run.py", "/a b/1.png", "/a b/2.png", "--out", VALUES["out"]]
    assert step.cwd == VALUES["out"]  # the default working directory


def test_values_are_never_expanded_twice():
    spec = _spec(steps=({"stage": "g", "argv": ["{python}", "x", "save_path={name}", "{out}"]},))
    (step,) = run_commands(spec, {**VALUES, "name": "weird {out} name", "out": "/o"})
    assert step.argv[2:] == ["save_path=weird {out} name", "/o"]


def test_unknown_placeholder_names_method_step_and_placeholder():
    spec = _spec(
        steps=(
            {"stage": "prep", "argv": ["{python}", "{out}"]},
            {"stage": "generation", "argv": ["{python}", "--w", "{weights}"]},
        )
    )
    with pytest.raises(ValueError, match=r"'toy', step 2 \(generation\): unknown placeholder \{weights\}"):
        run_commands(spec, VALUES)


def test_missing_value_names_the_placeholder():
    values = {k: v for k, v in VALUES.items() if k != "seed"}
    spec = _spec(steps=({"stage": "generation", "argv": ["{python}", "--seed", "{seed}", "{out}"]},))
    with pytest.raises(ValueError, match=r"no value for placeholder \{seed\}"):
        run_commands(spec, values)


def test_inputs_must_be_a_whole_argument_and_others_single_valued():
    spec = _spec(steps=({"stage": "g", "argv": ["{python}", "--images={inputs}", "{out}"]},))
    with pytest.raises(ValueError, match="whole argument"):
        run_commands(spec, VALUES)
    with pytest.raises(ValueError, match="needs one value"):
        run_commands(_spec(), {**VALUES, "out": ["/a", "/b"]})
    with pytest.raises(ValueError, match="expands to no argument"):
        run_commands(_spec(), {**VALUES, "inputs": []})


def test_placeholder_names_are_the_documented_ones():
    assert PLACEHOLDERS == (
        "python",
        "repo",
        "input",
        "inputs",
        "input_dir",
        "out",
        "name",
        "seed",
        "hooks",
        "input_elevation",
        "input_azimuth",
        "input_distance",
        "input_fov",
    )
    from pathlib import Path

    import reconbench.upstream.placeholders as module

    documented = Path(__file__).parents[2] / "docs" / "adapters.md"
    for name in PLACEHOLDERS:  # each one in the module's table and in docs/adapters.md
        assert f"`{{{name}}}`" in module.__doc__ and f"`{{{name}}}`" in documented.read_text(), name


# ---------------------------------------------------------------- validate_spec finds problems


def test_validate_spec_reports_each_kind_of_problem():
    assert validate_spec(_spec()) == []
    cases = {
        "unknown placeholder": _spec(steps=({"stage": "g", "argv": ["{python}", "{weights}", "{out}"]},)),
        "not told to write under out": _spec(steps=({"stage": "g", "argv": ["{python}", "run.py"]},)),
        "output outside out": _spec(output={"path": "../elsewhere/mesh.obj", "format": "obj"}),
        "absolute output": _spec(output={"path": "/tmp/mesh.obj", "format": "obj"}),
        "placeholder in output": _spec(output={"path": "{name}/mesh.obj", "format": "obj"}),
        "format mismatch": _spec(output={"path": "0/mesh.glb", "format": "obj"}),
        "splats as obj": _spec(representation="splats"),
        "zip without member": _spec(output={"path": "o.zip", "format": "obj", "unpack": "zip"}),
        "unknown frame": _spec(frame="x-up"),
        "extra repo without commit": _spec(
            upstream={
                "repo": "https://github.com/example/toy",
                "commit": "0" * 40,
                "extra": [{"repo": "https://github.com/x/y", "dest": "custom/y"}],
            }
        ),
        "bad cwd": _spec(steps=({"stage": "g", "argv": ["{python}", "{out}"], "cwd": "/tmp"},)),
        "bad background": _spec(inputs={"background": "black"}),
        "bad filename": _spec(inputs={"filename": "input.png"}),
        "bad marker": _spec(stage_markers=({"stage": "model_load", "pattern": "("},)),
        "no licence": _spec(licence=""),
        "bad weights": _spec(weights=({"kind": "url", "url": "http://insecure", "dest": "../x"},)),
        "no python": _spec(environment={"packages": ["numpy"]}),
        "bad build placeholder": _spec(
            environment={"python": "3.10", "packages": ["x"], "build": [["{python}", "{out}"]]}
        ),
    }
    for what, spec in cases.items():
        assert validate_spec(spec), f"validate_spec missed: {what}"
    problems = validate_spec(_spec(frame="x-up"))
    assert problems == [
        "toy: frame 'x-up' is neither generic (protocol/frames.py: y-up, z-up, z-up-front-x) nor declared in the "
        "spec's frames (none)"
    ]
    assert validate_spec(get_method("oracle")) == ["oracle: not an external method (no steps)"]


def test_a_spec_with_unknown_placeholder_cannot_hide_in_an_environment():
    spec = _spec(environment={"python": "3.10", "packages": ["-r {repo}/requirements.txt", "x=={version}"]})
    assert any("{version}" in p for p in validate_spec(spec))


def test_method_spec_is_frozen_data():
    spec = get_method("triposr")
    with pytest.raises(FrozenInstanceError):
        spec.name = "x"  # type: ignore[misc]
    assert replace(spec, timeout_s=1.0).timeout_s == 1.0


# ---------------------------------------------------------------- inputs


def _rgba(h=40, w=40) -> np.ndarray:
    img = np.zeros((h, w, 4), np.uint8)
    img[10:30, 12:28] = [200, 40, 20, 255]  # an opaque red block
    img[10:30, 28:30] = [200, 40, 20, 128]  # a half-transparent edge
    return img


def test_transparent_input_is_the_rgba_image_itself(tmp_path):
    spec = _spec(inputs={"background": "transparent", "filename": "{name}.png"})
    (path,) = prepare_method_inputs(spec, [_rgba()], tmp_path / "in", "duck")
    assert path == tmp_path / "in" / "duck.png"
    with Image.open(path) as im:
        assert im.mode == "RGBA" and np.array_equal(np.asarray(im), _rgba())


@pytest.mark.parametrize("background, level", [("white", 255), ("grey", 127)])
def test_opaque_backgrounds_are_composited(tmp_path, background, level):
    spec = _spec(inputs={"background": background})
    (path,) = prepare_method_inputs(spec, [_rgba()], tmp_path, "duck")
    with Image.open(path) as im:
        assert im.mode == "RGB"
        a = np.asarray(im).astype(int)
    assert (a[0, 0] == level).all() and (a[15, 15] == [200, 40, 20]).all()
    assert np.allclose(a[15, 28], np.rint(np.array([200, 40, 20]) * 128 / 255 + level * 127 / 255), atol=1)


def test_resolution_and_filename_pattern(tmp_path):
    spec = _spec(inputs={"background": "transparent", "resolution": 80, "filename": "{name}_rgba.png"})
    (path,) = prepare_method_inputs(spec, [_rgba(40, 32)], tmp_path, "duck")  # non-square: padded, then resized
    assert path.name == "duck_rgba.png"
    with Image.open(path) as im:
        a = np.asarray(im)
    assert a.shape == (80, 80, 4)
    assert a[:, :8, 3].max() == 0 and a[:, 76:, 3].max() == 0  # the padding (4 columns each side) stays transparent
    assert a[40, 40, 3] == 255 and np.abs(a[40, 40, :3].astype(int) - [200, 40, 20]).max() <= 1  # centred
    # premultiplied resampling: partly transparent pixels keep the object's colour, no dark fringe
    edge = a[(a[..., 3] > 20) & (a[..., 3] < 235)]
    assert len(edge) and edge[:, 0].min() > 170  # straight-alpha resampling would darken them toward black
    assert np.abs(edge[:, :3].astype(int) - [200, 40, 20]).mean() < 6


def _bbox(alpha: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(alpha > 127)  # the object's edge at half coverage (resampling leaves a faint halo)
    return ys.min(), ys.max() + 1, xs.min(), xs.max() + 1


@pytest.mark.parametrize("fraction", [0.8, 0.88])
def test_recentre_fills_the_fraction_of_the_frame_and_centres_the_object(tmp_path, fraction):
    img = np.zeros((200, 200, 4), np.uint8)
    img[20:70, 110:140] = [30, 200, 60, 255]  # 50 x 30 block off-centre in the top right, ~25 % of the frame
    spec = _spec(inputs={"background": "transparent", "resolution": 100, "recentre": fraction})
    (path,) = prepare_method_inputs(spec, [img], tmp_path, "duck")
    with Image.open(path) as im:
        a = np.asarray(im)
    assert a.shape == (100, 100, 4)
    top, bottom, left, right = _bbox(a[..., 3])
    assert abs((bottom - top) - fraction * 100) <= 2  # the longer side (height) fills the fraction
    assert abs((right - left) - fraction * 100 * 30 / 50) <= 2  # aspect kept
    assert abs((top + bottom) / 2 - 50) <= 1 and abs((left + right) / 2 - 50) <= 1  # centred
    assert np.abs(a[50, 50, :3].astype(int) - [30, 200, 60]).max() <= 1
    assert "recentre" in " ".join(validate_spec(_spec(inputs={"recentre": 1.5})))
    with pytest.raises(ValueError, match="no foreground"):
        prepare_method_inputs(spec, [np.zeros((8, 8, 4), np.uint8)], tmp_path, "empty")


@pytest.mark.parametrize("method, fraction", [("openlrm", 0.8), ("crm", 0.88), ("threestudio-3dgs", 0.8)])
def test_adapters_whose_cli_does_not_recentre_get_a_framed_object(method, fraction, tmp_path):
    """Audit O2/C3/TS4: these command lines take the image as given, their models expect a framed object."""
    img = np.zeros((512, 512, 4), np.uint8)
    img[200:300, 220:280] = [200, 40, 20, 255]  # ~20 % of the frame, as a wide protocol camera gives
    spec = get_method(method)
    (path,) = prepare_method_inputs(spec, [img], tmp_path, "duck")
    with Image.open(path) as im:
        a = np.asarray(im.convert("RGBA"))[..., 3] if spec.inputs["background"] == "transparent" else None
    top, bottom, left, right = _bbox(a)
    assert abs((bottom - top) / a.shape[0] - fraction) < 0.02


def test_several_images_get_numbered_names_and_bad_inputs_are_refused(tmp_path):
    spec = _spec(inputs={"background": "white"})
    paths = prepare_method_inputs(spec, [_rgba(), _rgba()], tmp_path, "duck")
    assert [p.name for p in paths] == ["duck_000.png", "duck_001.png"]
    with pytest.raises(ValueError, match="uint8"):
        prepare_method_inputs(spec, [np.zeros((4, 4, 4), np.float32)], tmp_path, "duck")
    with pytest.raises(ValueError, match="file stem"):
        prepare_method_inputs(spec, [_rgba()], tmp_path, "../duck")
    with pytest.raises(ValueError, match="no input image"):
        prepare_method_inputs(spec, [], tmp_path, "duck")


@pytest.mark.parametrize("method", EXTERNAL)
def test_each_adapter_s_input_is_written_as_declared(method, tmp_path):
    spec = get_method(method)
    (path,) = prepare_method_inputs(spec, [_rgba(64, 64)], tmp_path, "duck")
    assert path.name == spec.inputs.get("filename", "{name}.png").replace("{name}", "duck")
    with Image.open(path) as im:
        assert im.size == (spec.inputs["resolution"],) * 2
        assert im.mode == ("RGBA" if spec.inputs["background"] == "transparent" else "RGB")
