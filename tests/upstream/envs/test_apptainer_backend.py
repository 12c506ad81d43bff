"""The Apptainer backend: the definition file generated from the recipe, and the `apptainer run` argv.
No Apptainer engine here: the definition is parsed and its %post checked with `bash -n`, and its commands are
compared with the Dockerfile generated from the same recipe."""

from __future__ import annotations

import shlex
import subprocess

import pytest
from envs_helpers import make_toy_package, toy_spec
from test_docker_backend import run_lines, upstream_spec

from reconbench.registry import get_method
from reconbench.upstream.envs import (
    ApptainerBackend,
    Environment,
    EnvironmentBuildError,
    EnvironmentMissing,
    get_backend,
)
from reconbench.upstream.envs.apptainer import definition
from reconbench.upstream.envs.build_log import BuildLog
from reconbench.upstream.envs.docker import dockerfile


def sections(text: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """(header keywords, {section: its lines}) of a definition file."""
    header, body, current = {}, {}, None
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        if line.startswith("%"):
            current = line.strip()[1:]
            body[current] = []
        elif current is None:
            key, _, value = line.partition(":")
            header[key.strip()] = value.strip()
        else:
            body[current].append(line.strip())
    return header, body


def test_definition_is_the_docker_image_s_recipe_step_for_step():
    spec = upstream_spec()
    header, body = sections(definition(spec))
    assert header == {"Bootstrap": "docker", "From": "nvidia/cuda:12.1.1-cudnn8-devel-ubuntu22.04"}
    assert body["runscript"] == ['exec "$@"']  # `apptainer run IMAGE argv` runs argv
    post = body["post"]
    docker_runs = run_lines(dockerfile(spec))
    commands = [shlex.split(line) for line in post if not line.startswith(("#", "set ", "export ", "cd ", "apt-get"))]
    # every exec-form RUN of the Dockerfile (venv, clones, seed + packages, build steps) in the same order
    assert commands[:-1] == docker_runs[:-1] and commands[-1] == ["chmod", "-R", "a+rX", "/opt/upstream"]
    assert any(line.startswith("apt-get update") and "libgl1 libglib2.0-0" in line for line in post)
    # the recipe environment: exported for the builds (before the first pip call) and at run time
    first_pip = next(i for i, line in enumerate(post) if " -m pip install " in line)
    assert post.index("export FORCE_CUDA=1") < first_pip and "export FORCE_CUDA=1" in body["environment"]
    assert "export ODD='a$b\"c'" in post  # quoted for the shell: $ stays literal
    assert "export PATH=/opt/venv/bin:$PATH" in body["environment"]
    assert any(line.startswith("export TORCH_CUDA_ARCH_LIST=") for line in body["environment"])
    # build step with its own folder runs there
    i = post.index("/opt/venv/bin/python setup.py build_ext")
    assert post[i - 1] == "cd /opt/upstream/ext"


@pytest.mark.parametrize("method", ["triposr", "crm", "threestudio-3dgs", "dreamgaussian"])
def test_definitions_of_real_adapters_are_valid_shell(method, tmp_path):
    text = definition(get_method(method))
    _, body = sections(text)
    script = tmp_path / "post.sh"
    script.write_text("\n".join(body["post"]) + "\n")
    done = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "setuptools" in " ".join(body["post"])  # every one of them pins it (torch <= 2.1 or its own pin)


def test_local_repository_is_copied_in_from_the_host_checkout(tmp_path):
    commit = make_toy_package(tmp_path / "up")
    spec = toy_spec("toy-sif", tmp_path / "up", commit, packages=["{repo}"])
    _, body = sections(definition(spec, tmp_path / "env"))
    assert body["files"] == [f"{tmp_path / 'env' / 'repo'} /opt/upstream"]
    assert not any("git clone" in line for line in body["post"])
    with pytest.raises(ValueError, match="host checkout"):
        definition(spec)


def test_build_without_an_engine_writes_the_definition_and_says_so(tmp_path, monkeypatch):
    commit = make_toy_package(tmp_path / "up")
    spec = toy_spec("toy-sif", tmp_path / "up", commit)
    monkeypatch.setattr("reconbench.upstream.envs.apptainer.shutil.which", lambda name: None)
    backend = ApptainerBackend(tmp_path / "cache")
    with pytest.raises(EnvironmentBuildError, match="neither `apptainer` nor `singularity`") as info:
        backend.build(spec)
    folder = backend.env_dir(spec)
    assert (folder / "reconbench.def").read_text() == definition(spec, folder) and str(
        folder / "reconbench.def"
    ) in str(info.value)
    assert not backend.is_built(spec)
    with pytest.raises(EnvironmentMissing, match="--backend apptainer"):
        backend.environment(spec)
    assert isinstance(get_backend("apptainer"), ApptainerBackend)


def test_build_runs_the_engine_and_the_environment_points_at_the_sif(tmp_path, monkeypatch):
    commit = make_toy_package(tmp_path / "up")
    spec = toy_spec("toy-sif", tmp_path / "up", commit, env={"TOY": "{repo}/x"})
    calls = []
    real_run = BuildLog.run

    def fake_run(self, argv, *, cwd=None, env=None, check=True):
        if argv[0] != "/usr/bin/apptainer":  # the host checkout of the local repository: for real
            return real_run(self, argv, cwd=cwd, env=env, check=check)
        calls.append(list(argv))
        open(argv[3], "w").close()  # apptainer build --force IMAGE DEF
        return 0

    monkeypatch.setattr("reconbench.upstream.envs.apptainer.shutil.which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(BuildLog, "run", fake_run)
    backend = ApptainerBackend(tmp_path / "cache")
    backend.build(spec)
    folder = backend.env_dir(spec)
    assert calls[-1] == [
        "/usr/bin/apptainer",
        "build",
        "--force",
        str(folder / "image.sif"),
        str(folder / "reconbench.def"),
    ]
    env = backend.environment(spec)
    assert env.backend == "apptainer" and env.image == str(folder / "image.sif") and env.repo == "/opt/upstream"
    assert env.env["TOY"] == "/opt/upstream/x" and env.env["HF_HUB_OFFLINE"] == "1"


def test_wrap_builds_the_apptainer_run_argv(tmp_path, monkeypatch):
    monkeypatch.setattr(
        "reconbench.upstream.envs.apptainer.shutil.which",
        lambda name: "/opt/bin/apptainer" if name == "apptainer" else None,
    )
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    hub = tmp_path / "hub"
    hub.mkdir()
    env = Environment(
        method="m",
        python="python",
        repo="/opt/upstream",
        env={"HF_HUB_OFFLINE": "1", "A": "b c"},
        backend="apptainer",
        image="/cache/envs/m/image.sif",
        mounts=(str(hub), str(tmp_path / "absent")),
    )
    work = str(tmp_path / "work")
    argv, cwd = env.wrap(
        ["python", "run.py", f"{work}/in.png"], cwd=work, mounts=(work, "/hooks"), gpu=True, env={"X": "1"}
    )
    assert cwd is None
    assert argv[:3] == ["/opt/bin/apptainer", "run", "--nv"] and "--cleanenv" in argv and "--writable-tmpfs" in argv
    assert argv[-4:] == ["/cache/envs/m/image.sif", "python", "run.py", f"{work}/in.png"]
    assert [argv[i + 1] for i, a in enumerate(argv) if a == "--bind"] == [
        f"{work}:{work}",
        "/hooks:/hooks",
        f"{hub}:{hub}",
    ]
    assert argv[argv.index("--pwd") + 1] == work
    envs = [argv[i + 1] for i, a in enumerate(argv) if a == "--env"]
    assert {"HF_HUB_OFFLINE=1", "A=b c", "X=1"} <= set(envs)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-aaaa")  # an executor's pinning survives --cleanenv
    argv, _ = env.wrap(["python", "-V"], cwd=work, gpu=True)
    assert "CUDA_VISIBLE_DEVICES=GPU-aaaa" in argv
    argv, _ = env.wrap(["python", "-V"], cwd=work)
    assert "--nv" not in argv and "CUDA_VISIBLE_DEVICES=GPU-aaaa" not in argv
