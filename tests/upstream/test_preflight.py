"""Preflight: an adapter's spec checked against upstream source, statically. Run on the tiny stand-in method
(tests/data/tiny_external, which must pass) and on crafted sources holding one kind of mismatch each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tiny_external

from reconbench.methods.base import MethodSpec
from reconbench.upstream.preflight import format_report, preflight

UPSTREAM = {"repo": "https://example.org/x", "commit": "a" * 40}

# A crafted upstream program: argparse + a tyro-like dataclass + an OmegaConf YAML + a subcommand name,
# markers, downloads (HF, torch.hub with a constant base URL), output written as f"mesh.{fmt}".
PROGRAM = """
import argparse
import os
from dataclasses import dataclass

import numpy as np
from PIL import Image
from omegaconf import OmegaConf
from huggingface_hub import hf_hub_download
from lib.models import build

BASE_URL = "https://dl.example.org/backbones"


@dataclass
class Options:
    lambda_lpips: float = 1.0
    force_cuda_rast: bool = False


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["big", "small"])
    p.add_argument("--mode", choices=["big", "small"], dest="mode2")
    p.add_argument("image")
    p.add_argument("--out", required=True)
    p.add_argument("--format", default="obj")
    p.add_argument("--config")
    args, extras = p.parse_known_args()
    cfg = OmegaConf.merge(OmegaConf.load(args.config), OmegaConf.from_cli(extras))
    print(f"[INFO] loading {args.image}")
    ckpt = hf_hub_download(repo_id="org/model", filename="model.safetensors")
    model = build(ckpt)
    print(f"Running model finished in {1.0:.2f}ms.")
    with open(os.path.join(args.out, f"mesh.{args.format}"), "w") as f:
        f.write("")


def lazy():
    import open3d  # only if called: not required


if __name__ == "__main__":
    main()
"""
MODELS = """
import torch
import einops
from torch.hub import load_state_dict_from_url

BASE = "https://dl.example.org/backbones"


def build(ckpt, name="vitb"):
    state = load_state_dict_from_url(f"{BASE}/{name}/{name}_pretrain.pth")
    try:
        import xformers  # optional
    except ImportError:
        pass
    return state
"""
CONFIG = "train:\n  steps: 100\n  lr: 0.1\ndata:\n  size: 256\n"


def crafted(tmp_path: Path, **files: str) -> Path:
    src = tmp_path / "upstream"
    for rel, text in {
        "run.py": PROGRAM,
        "lib/__init__.py": "",
        "lib/models.py": MODELS,
        "configs/c.yaml": CONFIG,
        "requirements.txt": "einops\n# a comment\nomegaconf>=2.3\n",
        **files,
    }.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(text)
    return src


def spec(**overrides) -> MethodSpec:
    base = dict(
        name="crafted",
        paradigm="feed-forward",
        representation="mesh",
        description="d",
        upstream=UPSTREAM,
        environment={
            "python": "3.10",
            "packages": ["torch==2.4.0", "torchvision", "huggingface_hub", "-r {repo}/requirements.txt"],
        },
        weights=(
            {"kind": "hf", "repo_id": "org/model", "files": ["model.safetensors"]},
            {"kind": "url", "url": "https://dl.example.org/backbones/vitb/vitb_pretrain.pth", "dest": "b.pth"},
        ),
        steps=(
            {
                "stage": "generation",
                "argv": [
                    "{python}",
                    "{repo}/run.py",
                    "big",
                    "{input}",
                    "--out",
                    "{out}",
                    "--format",
                    "obj",
                    "--config",
                    "{repo}/configs/c.yaml",
                    "train.steps=5",
                    "data.size=128",
                    "--lambda_lpips",
                    "0",
                    "--force_cuda_rast",
                ],
            },
        ),
        output={"path": "mesh.obj", "format": "obj"},
        stage_markers=(
            {"stage": "model_load", "pattern": r"^\[INFO\] loading .*"},
            {"stage": "generation", "pattern": r"Running model finished in"},
        ),
    )
    base.update(overrides)
    return MethodSpec.from_dict(base)


def failures(result) -> dict[str, list[str]]:
    return {name: check.failures for name, check in result.checks.items() if not check.ok}


def test_tiny_external_method_passes_every_check(tmp_path):
    repo, commit = tiny_external.git_repo(tmp_path / "tiny")
    result = preflight(MethodSpec.from_dict(tiny_external.tiny_spec(repo, commit)), repo)
    assert result.ok, failures(result)
    assert result.commit == commit and set(result.checks) == {"argv", "markers", "weights", "output", "modules"}
    assert result.checks["argv"].checked >= 4 and result.checks["markers"].checked == 2
    wrong = preflight(MethodSpec.from_dict(tiny_external.tiny_spec(repo, "b" * 40)), repo)
    assert not wrong.ok and "not the pinned" in wrong.error


def test_a_spec_that_matches_its_source_passes(tmp_path):
    result = preflight(spec(), crafted(tmp_path))
    assert result.ok, failures(result)
    modules_notes = " ".join(result.checks["modules"].notes)
    assert "PIL: via torchvision" in modules_notes and "open3d" in modules_notes  # lazy import: a note, not a failure
    assert "not a git checkout" in " ".join(result.notes)


def _argv(*args: str) -> tuple[dict, ...]:
    return ({"stage": "generation", "argv": ["{python}", "{repo}/run.py", *args]},)


@pytest.mark.parametrize(
    "args, expected",
    [
        (
            ("big", "{input}", "--out", "{out}", "--ouptut", "x"),
            "--ouptut is neither an argparse option nor a dataclass field",
        ),
        (("big", "{input}", "--out", "{out}", "--lambda-lpip", "0"), "--lambda-lpip"),
        (("huge", "{input}", "--out", "{out}"), "the positional 'huge' is not a string of the program"),
        (
            ("big", "{input}", "--out", "{out}", "--config", "{repo}/configs/c.yaml", "train.step=5"),
            "config key 'train.step'",
        ),
        (
            ("big", "{input}", "--out", "{out}", "--config", "{repo}/configs/c.yaml", "outdr={out}"),
            "config key 'outdr'",
        ),
        (("--mode", "huge", "{input}", "--out", "{out}"), "--mode huge: not one of its choices ['big', 'small']"),
        (("bi", "{input}", "--out", "{out}"), "the positional 'bi'"),  # a substring of "big" is no match
        (
            ("big", "{input}", "--out", "{out}", "--config", "{repo}/configs/missing.yaml"),
            "does not exist in the checkout",
        ),
    ],
)
def test_argv_mismatches_fail(tmp_path, args, expected):
    result = preflight(spec(steps=_argv(*args)), crafted(tmp_path))
    assert list(failures(result)) == ["argv"] and expected in failures(result)["argv"][0]


def test_an_exemption_with_its_reason_turns_a_failure_into_a_note(tmp_path):
    steps = (
        {
            "stage": "generation",
            "argv": [
                "{python}",
                "{repo}/run.py",
                "big",
                "{input}",
                "--out",
                "{out}",
                "--config",
                "{repo}/configs/c.yaml",
                "train.max_epochs=1",
            ],
            "preflight": {"train.max_epochs": "passed on to the trainer as keyword arguments"},
        },
    )
    result = preflight(spec(steps=steps), crafted(tmp_path))
    assert result.ok and "train.max_epochs: passed on to the trainer" in result.checks["argv"].notes[0]


def test_a_marker_the_program_never_prints_fails(tmp_path):
    markers = (
        {"stage": "generation", "pattern": r"Running model finished in"},
        {"stage": "export", "pattern": r"Exporting mesh finished"},
    )
    result = preflight(spec(stage_markers=markers), crafted(tmp_path))
    assert list(failures(result)) == ["markers"] and "Exporting mesh finished" in failures(result)["markers"][0]


def test_undeclared_downloads_fail(tmp_path):
    result = preflight(spec(weights=()), crafted(tmp_path))
    assert list(failures(result)) == ["weights"]
    text = " ".join(failures(result)["weights"])
    assert "org/model (run.py:" in text  # hf_hub_download(repo_id=...)
    assert (
        "https://dl.example.org/backbones/..._pretrain.pth" in text and "lib/models.py" in text
    )  # f-string URL on a constant base
    other = preflight(
        spec(
            weights=(
                {"kind": "hf", "repo_id": "org/model", "files": []},
                {"kind": "url", "url": "https://dl.example.org/other/x_pretrain.pth", "dest": "x"},
            )
        ),
        crafted(tmp_path),
    )
    assert "backbones" in " ".join(failures(other)["weights"])  # a URL that the source cannot build is no match
    wrong_file = preflight(
        spec(weights=({"kind": "hf", "repo_id": "org/model", "files": ["model.ckpt"]}, spec().weights[1])),
        crafted(tmp_path),
    )
    assert failures(wrong_file) == {
        "weights": ["org/model: model.safetensors (run.py:32) is not among the files the weights list fetches"]
    }


def test_an_output_the_program_does_not_write_fails(tmp_path):
    for path in ("model.obj", "meshes/mesh.obj", "mesh.ply"):
        result = preflight(spec(output={"path": path, "format": "obj"}), crafted(tmp_path))
        assert list(failures(result)) == ["output"], path


def test_a_module_the_recipe_does_not_provide_fails(tmp_path):
    env = {
        "python": "3.10",
        "packages": ["torch==2.4.0", "huggingface_hub", "-r {repo}/requirements.txt"],
    }  # no torchvision: no PIL
    result = preflight(spec(environment=env), crafted(tmp_path))
    assert failures(result) == {
        "modules": [
            "module numpy (imported at run.py:6) is not provided by the recipe",  # torch does not require it
            "module PIL (imported at run.py:7) is not provided by the recipe",
        ]
    }
    env = {
        "python": "3.10",
        "packages": ["torch==2.4.0", "torchvision", "huggingface_hub"],
    }  # no -r file: no einops, omegaconf
    assert {"einops", "omegaconf"} == {
        f.split()[1] for f in failures(preflight(spec(environment=env), crafted(tmp_path)))["modules"]
    }


def test_cli_reports_per_adapter_and_exits_non_zero_on_failure(tmp_path):
    from reconbench import cli
    from reconbench.registry import register_method

    repo, commit = tiny_external.git_repo(tmp_path / "tiny")
    name = "tiny-external-preflight"
    try:
        register_method(tiny_external.tiny_spec(repo, commit, name=name))
    except ValueError:
        pass
    out = tmp_path / "out"
    assert cli.main(["doctor", "--preflight", "--methods", name, "--source", str(repo), "--out", str(out)]) == 0
    saved = json.loads((out / "preflight.json").read_text())
    assert saved[0]["method"] == name and saved[0]["ok"] and saved[0]["commit"] == commit
    other = tmp_path / "elsewhere"
    other.mkdir()
    assert cli.main(["doctor", "--preflight", "--methods", name, "--source", str(other), "--out", str(out)]) == 1
    assert "FAIL" in format_report([preflight(spec(weights=()), crafted(tmp_path))])


def test_a_hook_s_upstream_names_are_checked_in_the_source(tmp_path):
    """threestudio_save_ply.py declares what it calls upstream; a checkout lacking one of them fails."""
    files = {
        "launch.py": "def load_custom_modules():\n    pass\n",
        "threestudio/__init__.py": "def find(name):\n    pass\n",
        "threestudio/utils/config.py": "def load_config(*yamls):\n    pass\n",
        "custom/threestudio-3dgs/geometry/gaussian_base.py": (
            "class GaussianBaseModel:\n    geometry_convert_from: str = ''\n\n    @property\n    def get_xyz(self):\n  "
            "      pass\n"
        ),
        "custom/threestudio-3dgs/geometry/gaussian_io.py": (
            "class GaussianIO:\n    def save_ply(self, path):\n        pass\n"
        ),
    }
    steps = (
        *spec().steps,
        {
            "stage": "export",
            "argv": ["{python}", "{hooks}/threestudio_save_ply.py", "--trial", "{out}/t", "--output", "{out}/g.ply"],
        },
    )
    result = preflight(spec(steps=steps), crafted(tmp_path, **files))
    assert result.ok, failures(result)
    assert result.checks["argv"].checked >= 7 + 1
    files["custom/threestudio-3dgs/geometry/gaussian_io.py"] = (
        "class GaussianIO:\n    def write_ply(self, path):\n        pass\n"
    )
    broken = preflight(spec(steps=steps), crafted(tmp_path / "other", **files))
    assert failures(broken) == {
        "argv": [
            "steps[1]: hook threestudio_save_ply.py needs ['save_ply'] from "
            "custom/threestudio-3dgs/geometry/gaussian_io.py, which does not define them"
        ]
    }


def test_the_program_behind_a_chain_of_our_wrapping_hooks_is_checked(tmp_path):
    """LGM runs link_weights.py -- save_multiview.py -- infer.py: the flags after the last "--" are the program's."""
    hooks = ["{hooks}/link_weights.py", "--hf", "org/model", "model.safetensors", "{out}/m.safetensors", "--"]
    hooks += ["{hooks}/save_multiview.py", "--pipeline", "lib.models:Net", "--dest", "{out}/views", "--"]
    ok = spec(
        steps=(
            {"stage": "generation", "argv": ["{python}", *hooks, "{repo}/run.py", "big", "{input}", "--out", "{out}"]},
        )
    )
    result = preflight(ok, crafted(tmp_path / "a"))
    assert result.ok, failures(result)
    bad = spec(
        steps=(
            {"stage": "generation", "argv": ["{python}", *hooks, "{repo}/run.py", "big", "{input}", "--ouptut", "x"]},
        )
    )
    assert "--ouptut" in failures(preflight(bad, crafted(tmp_path / "b")))["argv"][0]
