"""The venv backend, for real: a tiny package in a git repository installed into a fresh venv."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from envs_helpers import PY, git, make_repo, make_toy_package, toy_spec

from reconbench.methods.base import MethodSpec
from reconbench.registry import get_method
from reconbench.upstream.envs import (
    DockerBackend,
    EnvironmentBuildError,
    EnvironmentMissing,
    VenvBackend,
    get_backend,
    recipe_hash,
)
from reconbench.upstream.envs.base import checkout
from reconbench.upstream.envs.build_log import BuildLog
from reconbench.upstream.envs.recipe import build_commands, environment_for, package_groups, seed_requirements
from reconbench.upstream.envs.venv import venv_creator


@pytest.fixture(scope="module")
def toy_repo(tmp_path_factory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("upstream") / "rbtoy"
    return folder, make_toy_package(folder)


@pytest.fixture(scope="module")
def built(toy_repo, tmp_path_factory):
    """One real build shared by the slow tests: clone, venv, `pip install {repo}`."""
    repo, commit = toy_repo
    backend = VenvBackend(tmp_path_factory.mktemp("cache"))
    spec = toy_spec("toy", repo, commit, packages=["{repo}"], env={"TOY_HOME": "{repo}/data"})
    was_built = backend.is_built(spec)
    env = backend.build(spec)
    return backend, spec, env, was_built


# --- real builds ------------------------------------------------------------------------------


@pytest.mark.slow
def test_build_checks_out_the_commit_and_installs_the_package(built, toy_repo):
    backend, spec, env, was_built = built
    repo, commit = toy_repo
    assert was_built is False and backend.is_built(spec)
    folder = backend.env_dir(spec)
    assert (
        folder.parent == backend.root / "envs"
        and folder.name == f"toy-{recipe_hash(spec.name, spec.recipe, 'venv')[:12]}"
    )
    assert env.python == str(folder / "venv" / "bin" / "python") and Path(env.python).is_absolute()
    assert env.repo == str(folder / "repo") and (folder / "repo" / "data.txt").read_text() == "checked out\n"
    assert git("rev-parse", "HEAD", cwd=folder / "repo") == commit
    # The env's interpreter imports the package from site-packages, not from the checkout.
    done = subprocess.run(
        [env.python, "-c", "import rbtoy, sys; print(rbtoy.VALUE, rbtoy.__file__, '%d.%d' % sys.version_info[:2])"],
        cwd="/",
        capture_output=True,
        text=True,
        check=True,
    )
    value, where, version = done.stdout.split()
    assert value == "one" and "site-packages" in where and version == PY
    # Commands go through wrap unchanged; the run environment has the venv first on PATH and offline weights.
    argv, cwd = env.wrap([env.python, "-m", "rbtoy", "x"], cwd=str(folder))
    done = subprocess.run(argv, cwd=cwd, env={**os.environ, **env.env}, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "one ['x']"
    assert env.env["VIRTUAL_ENV"] == str(folder / "venv") and env.env["PATH"].startswith(str(folder / "venv" / "bin"))
    assert env.env["TOY_HOME"] == f"{env.repo}/data" and env.env["HF_HUB_OFFLINE"] == "1"
    # The log has every command and its output; the recipe is recorded.
    log = (folder / "build.log").read_text()
    for word in (
        "git clone",
        f"checkout --quiet {commit}",
        "-m venv",
        "-m pip install",
        "Successfully installed rbtoy",
        "build complete",
    ):
        assert word in log
    recipe = json.loads((folder / "recipe.json").read_text())
    assert recipe["upstream"][0]["commit"] == commit and recipe["environment"]["packages"] == ["{repo}"]
    assert (folder / "built.json").is_file()


@pytest.mark.slow
def test_second_build_is_a_no_op(built):
    backend, spec, env, _ = built
    log = backend.log_path(spec)
    before = (log.stat().st_mtime_ns, log.stat().st_size)
    start = time.monotonic()
    again = backend.build(spec)
    assert time.monotonic() - start < 2.0
    assert again == env and (log.stat().st_mtime_ns, log.stat().st_size) == before
    assert backend.environment(spec) == env


@pytest.mark.slow
def test_failing_build_step_names_command_and_log_and_is_not_built(toy_repo, tmp_path):
    repo, commit = toy_repo
    backend = VenvBackend(tmp_path)
    spec = toy_spec(
        "toy-fails", repo, commit, build=[["{python}", "-c", "import sys; print('compiling...'); sys.exit(3)"]]
    )
    with pytest.raises(EnvironmentBuildError) as info:
        backend.build(spec)
    message = str(info.value)
    log = backend.log_path(spec)
    assert "toy-fails" in message and "sys.exit(3)" in message and "status 3" in message and str(log) in message
    assert "compiling..." in message  # the tail of the log comes with it
    assert not backend.is_built(spec) and log.is_file() and "compiling..." in log.read_text()
    assert not (backend.env_dir(spec) / "built.json").exists()
    with pytest.raises(EnvironmentMissing, match="reconbench install toy-fails"):
        backend.environment(spec)


@pytest.mark.slow
def test_two_concurrent_builds_build_once(toy_repo, tmp_path):
    repo, commit = toy_repo
    backend = VenvBackend(tmp_path)
    spec = toy_spec("toy-race", repo, commit)
    results, errors = [], []

    def build():
        try:
            results.append(VenvBackend(tmp_path).build(spec))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=build) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 2 and results[0] == results[1]
    log = backend.log_path(spec).read_text()
    assert log.count("$ git clone") == 1 and log.count("-m venv") == 1
    assert backend.is_built(spec)


@pytest.mark.slow
def test_two_processes_build_once(toy_repo, tmp_path):
    repo, commit = toy_repo
    script = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from envs_helpers import toy_spec\n"
        "from reconbench.upstream.envs import VenvBackend\n"
        "env = VenvBackend(sys.argv[2]).build(toy_spec('toy-procs', sys.argv[3], sys.argv[4]))\n"
        "print(env.python)\n"
    )
    args = [sys.executable, "-c", script, str(Path(__file__).parent), str(tmp_path), str(repo), commit]
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert outs[0][0] == outs[1][0]
    spec = toy_spec("toy-procs", repo, commit)
    assert VenvBackend(tmp_path).log_path(spec).read_text().count("$ git clone") == 1


@pytest.mark.slow
def test_rebuild_starts_from_scratch(toy_repo, tmp_path):
    repo, commit = toy_repo
    backend = VenvBackend(tmp_path)
    spec = toy_spec("toy-rebuild", repo, commit)
    backend.build(spec)
    (backend.env_dir(spec) / "venv" / "stale").write_text("x")
    backend.build(spec, rebuild=True)
    assert backend.is_built(spec) and not (backend.env_dir(spec) / "venv" / "stale").exists()
    assert backend.log_path(spec).read_text().count("$ git clone") == 1


# --- fast: no venv ----------------------------------------------------------------------------


def test_wrong_commit_is_a_clear_error(toy_repo, tmp_path):
    repo, _ = toy_repo
    backend = VenvBackend(tmp_path)
    spec = toy_spec("toy-wrong", repo, "0" * 40)
    with pytest.raises(EnvironmentBuildError) as info:
        backend.build(spec)
    message = str(info.value)
    assert (
        "0" * 40 in message and str(repo) in message and "not in" in message and str(backend.log_path(spec)) in message
    )
    assert not backend.is_built(spec)


def test_missing_repository_is_a_clear_error(tmp_path):
    backend = VenvBackend(tmp_path)
    spec = toy_spec("toy-norepo", tmp_path / "nowhere", "1" * 40)
    with pytest.raises(EnvironmentBuildError, match="git clone"):
        backend.build(spec)


def test_checkout_puts_extra_repositories_at_their_commits(toy_repo, tmp_path):
    repo, commit = toy_repo
    extra = tmp_path / "extra"
    first = make_repo(extra, {"plugin.txt": "v1\n"})
    (extra / "plugin.txt").write_text("v2\n")
    git("commit", "-q", "-am", "v2", cwd=extra)
    spec = MethodSpec.from_dict(
        {
            **_spec_dict(toy_spec("toy-extra", f"file://{repo}", commit)),
            "upstream": {
                "repo": f"file://{repo}",
                "commit": commit,
                "extra": [{"repo": str(extra), "commit": first, "dest": "custom/plugin"}],
            },
        }
    )
    dest = tmp_path / "co"
    checkout(spec, dest, BuildLog(tmp_path / "log.txt", method=spec.name, backend="venv"))
    assert git("rev-parse", "HEAD", cwd=dest) == commit
    assert git("rev-parse", "HEAD", cwd=dest / "custom" / "plugin") == first
    assert (dest / "custom" / "plugin" / "plugin.txt").read_text() == "v1\n"


def test_extra_dest_must_stay_inside_the_checkout(toy_repo):
    repo, commit = toy_repo
    for dest in ("../out", "/abs", ""):
        spec = MethodSpec.from_dict(
            {
                **_spec_dict(toy_spec("toy-bad-extra", repo, commit)),
                "upstream": {
                    "repo": str(repo),
                    "commit": commit,
                    "extra": [{"repo": str(repo), "commit": commit, "dest": dest}],
                },
            }
        )
        with pytest.raises(ValueError, match="dest"):
            VenvBackend().env_dir(spec)


def test_interpreter_choice(tmp_path, monkeypatch):
    assert venv_creator(PY) == [sys.executable, "-m", "venv"]
    # No pythonX.Y anywhere, no pyenv version, no uv: the error says which version and what to do.
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    with pytest.raises(EnvironmentBuildError) as info:
        venv_creator("3.99")
    assert (
        "Python 3.99" in str(info.value)
        and "--backend docker" in str(info.value)
        and "uv python install 3.99" in str(info.value)
    )
    # A fake uv on PATH is used when no interpreter is found.
    uv = tmp_path / "uv"
    uv.write_text("#!/bin/sh\nexit 0\n")
    uv.chmod(0o755)
    assert venv_creator("3.99") == [str(uv), "venv", "--seed", "--python", "3.99"]
    # A pythonX.Y that does not run (like a pyenv shim for an unselected version) is skipped.
    shim = tmp_path / "python3.99"
    shim.write_text("#!/bin/sh\necho 'pyenv: python3.99: command not found' >&2\nexit 127\n")
    shim.chmod(0o755)
    assert venv_creator("3.99")[0] == str(uv)


def test_a_python_version_that_is_not_found_fails_with_the_log(toy_repo, tmp_path, monkeypatch):
    repo, commit = toy_repo
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    monkeypatch.setattr("reconbench.upstream.envs.venv.shutil.which", lambda name: None)
    backend = VenvBackend(tmp_path)
    spec = toy_spec("toy-py399", repo, commit, python="3.99")
    with pytest.raises(EnvironmentBuildError) as info:
        backend.build(spec)
    assert (
        "toy-py399" in str(info.value) and "3.99" in str(info.value) and str(backend.log_path(spec)) in str(info.value)
    )
    assert "Python 3.99 is needed" in backend.log_path(spec).read_text()


def test_recipe_placeholders_and_pip_groups(toy_repo):
    repo, commit = toy_repo
    spec = toy_spec(
        "toy-groups",
        repo,
        commit,
        packages=[
            ["torch==2.1.0", "torchvision"],
            "-r {repo}/requirements.txt",
            "-e {repo}",
            "git+https://x/y.git@abc",
            "numpy >= 1.24",
        ],
        build=[["{python}", "-m", "pip", "install", "./ext"], {"argv": ["make", "PY={python}"], "cwd": "sub/dir"}],
    )
    groups = package_groups(environment_for(spec), python="/v/bin/python", repo="/co")
    assert groups == [
        ["torch==2.1.0", "torchvision"],
        ["-r", "/co/requirements.txt", "-e", "/co", "git+https://x/y.git@abc", "numpy >= 1.24"],
    ]
    assert build_commands(spec.name, environment_for(spec), python="/v/bin/python", repo="/co") == [
        (["/v/bin/python", "-m", "pip", "install", "./ext"], ""),
        (["make", "PY=/v/bin/python"], "sub/dir"),
    ]


def test_recipe_hash_covers_recipe_and_commits_only(toy_repo):
    repo, commit = toy_repo
    base = toy_spec("toy-hash", repo, commit, packages=["a"])
    same = MethodSpec.from_dict({**_spec_dict(base), "description": "reworded", "timeout_s": 5.0})
    other_pkgs = toy_spec("toy-hash", repo, commit, packages=["b"])
    other_commit = toy_spec("toy-hash", repo, "f" * 40, packages=["a"])
    docker_only = toy_spec("toy-hash", repo, commit, packages=["a"], apt=["libgl1"], cuda="12.1")
    h = recipe_hash(base.name, base.recipe, "venv")
    assert recipe_hash(same.name, same.recipe, "venv") == h
    assert (
        recipe_hash(other_pkgs.name, other_pkgs.recipe, "venv") != h
        and recipe_hash(other_commit.name, other_commit.recipe, "venv") != h
    )
    assert recipe_hash(docker_only.name, docker_only.recipe, "venv") == h and recipe_hash(
        docker_only.name, docker_only.recipe, "docker"
    ) != recipe_hash(base.name, base.recipe, "docker")
    assert recipe_hash(base.name, base.recipe, "docker") != h
    assert VenvBackend().env_dir(base) != DockerBackend().env_dir(base)


def test_not_built_and_in_process_methods(toy_repo, tmp_path):
    repo, commit = toy_repo
    backend = VenvBackend(tmp_path)
    spec = toy_spec("toy-absent", repo, commit)
    assert not backend.is_built(spec)
    with pytest.raises(EnvironmentMissing, match=r"not built: run `reconbench install toy-absent`"):
        backend.environment(spec)
    with pytest.raises(ValueError, match="in-process"):
        backend.build(get_method("sphere"))


def test_cache_root_from_environment(toy_repo, tmp_path, monkeypatch):
    repo, commit = toy_repo
    monkeypatch.setenv("RECONBENCH_CACHE", str(tmp_path / "c"))
    spec = toy_spec("toy-root", repo, commit)
    assert VenvBackend().env_dir(spec).parent == tmp_path / "c" / "envs"
    monkeypatch.delenv("RECONBENCH_CACHE")
    assert VenvBackend().env_dir(spec).parent == Path.home() / ".cache" / "reconbench" / "envs"


def test_get_backend(monkeypatch):
    monkeypatch.delenv("RECONBENCH_BACKEND", raising=False)
    assert isinstance(get_backend(), VenvBackend) and get_backend().name == "venv"
    assert isinstance(get_backend("docker"), DockerBackend)
    monkeypatch.setenv("RECONBENCH_BACKEND", "docker")
    assert get_backend().name == "docker"
    with pytest.raises(ValueError, match="venv, docker"):
        get_backend("conda")


def _spec_dict(spec: MethodSpec) -> dict:
    from dataclasses import asdict

    return asdict(spec)


def test_old_torch_gets_setuptools_below_70_right_after_the_venv_is_created(tmp_path, monkeypatch):
    """`uv venv --seed` seeds the newest setuptools, whose missing pkg_resources breaks torch <= 2.1's
    cpp_extension: the backend pins setuptools before any other pip call (audit X1)."""
    from reconbench.upstream.envs import venv as venv_mod

    calls: list[list[str]] = []

    class Recording(BuildLog):
        def run(self, argv, *, cwd=None, env=None, check=True):
            calls.append([str(a) for a in argv])
            return 0

    monkeypatch.setattr(venv_mod, "checkout", lambda spec, dest, log, sources=None: dest.mkdir(parents=True))
    monkeypatch.setattr(venv_mod, "venv_creator", lambda version: ["uv", "venv", "--seed", "--python", version])
    monkeypatch.setattr(venv_mod, "interpreter_version", lambda exe: "3.10")
    backend = VenvBackend(tmp_path / "cache")
    spec = toy_spec(
        "old-torch",
        "https://example.org/x",
        "a" * 40,
        python="3.10",
        packages=["torch==2.1.2", "numpy"],
        build=[["{python}", "-m", "pip", "install", "--no-build-isolation", "ext"]],
    )
    folder = tmp_path / "env"
    folder.mkdir()
    backend._build(spec, folder, Recording(folder / "build.log"))
    pip = [c[4:] for c in calls if c[1:4] == ["-m", "pip", "install"]]
    assert calls[0][:3] == ["uv", "venv", "--seed"]
    assert pip == [["setuptools<70", "wheel"], ["torch==2.1.2", "numpy"], ["--no-build-isolation", "ext"]]
    # a recipe's own setuptools pin is the one used; a new torch needs none
    own = toy_spec("own", "https://example.org/x", "a" * 40, packages=["torch==2.0.1", "setuptools==69.5.1"])
    assert seed_requirements(environment_for(own)) == ["setuptools==69.5.1", "wheel"]
    assert (
        seed_requirements(
            environment_for(toy_spec("new", "https://example.org/x", "a" * 40, packages=["torch==2.4.0"]))
        )
        == []
    )
