"""`reconbench install` and `reconbench fetch-weights`."""

from __future__ import annotations

from dataclasses import asdict

import pytest
from envs_helpers import make_toy_package, toy_spec

from reconbench.cli import main
from reconbench.registry import _registry, register_method


@pytest.fixture
def register(monkeypatch, tmp_path):
    """Register specs for one test (removed afterwards); the cache and HF cache live in tmp_path."""
    monkeypatch.setenv("RECONBENCH_CACHE", str(tmp_path / "rb"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.delenv("RECONBENCH_BACKEND", raising=False)
    names = []

    def add(spec):
        names.append(register_method(spec).name)
        return spec

    yield add
    for name in names:
        _registry().pop(name, None)


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("up") / "rbtoy"
    return folder, make_toy_package(folder)


def test_install_in_process_method_needs_no_environment(capsys):
    assert main(["install", "sphere"]) == 0
    assert "sphere: runs in-process, needs no environment" in capsys.readouterr().out
    for backend in ("docker", "apptainer"):
        assert main(["install", "sphere", "--backend", backend]) == 0


def test_unknown_method_is_a_usage_error(capsys):
    assert main(["install", "no-such-method"]) == 2
    assert main(["fetch-weights", "no-such-method"]) == 2
    err = capsys.readouterr().err
    assert "unknown method 'no-such-method'" in err and "sphere" in err


@pytest.mark.slow
def test_install_builds_then_reuses(register, toy, tmp_path, capsys):
    repo, commit = toy
    spec = register(toy_spec("toy-cli", repo, commit))
    assert main(["install", "toy-cli", "sphere"]) == 0
    out = capsys.readouterr().out
    [folder] = [p for p in (tmp_path / "rb" / "envs").glob("toy-cli-*") if p.is_dir()]
    assert f"toy-cli: built (venv): folder {folder}, build log {folder / 'build.log'}" in out
    assert "sphere: runs in-process" in out
    assert main(["install", "toy-cli"]) == 0
    assert f"toy-cli: already built (venv) in {folder}" in capsys.readouterr().out
    assert spec.name == "toy-cli"


def test_install_failure_exits_1_with_the_error(register, toy, capsys):
    repo, _ = toy
    register(toy_spec("toy-cli-bad", repo, "0" * 40))
    assert main(["install", "toy-cli-bad"]) == 1
    err = capsys.readouterr().err
    assert "pinned commit " + "0" * 40 in err and "build.log" in err


def test_install_with_docker_backend_without_docker(register, toy, monkeypatch, capsys):
    repo, commit = toy
    register(toy_spec("toy-cli-docker", repo, commit))
    monkeypatch.setattr("reconbench.upstream.envs.docker.shutil.which", lambda name: None)
    assert main(["install", "toy-cli-docker", "--backend", "docker"]) == 1
    captured = capsys.readouterr()
    assert "building the docker environment" in captured.out
    assert "`docker` is not on PATH" in captured.err and "Dockerfile" in captured.err


def test_fetch_weights(register, toy, tmp_path, monkeypatch, capsys):
    repo, commit = toy
    source = tmp_path / "w.onnx"
    source.write_bytes(b"w")
    base = asdict(toy_spec("toy-cli-w", repo, commit))
    register({**base, "weights": [{"kind": "url", "url": source.as_uri(), "dest": "toy/w.onnx"}]})
    register(
        {**base, "name": "toy-cli-hf", "weights": [{"kind": "hf", "repo_id": "org/model", "files": ["model.ckpt"]}]}
    )
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    assert main(["fetch-weights", "toy-cli-w", "sphere"]) == 0
    out = capsys.readouterr().out
    assert f"toy-cli-w: fetched toy/w.onnx from {source.as_uri()}" in out and "sphere: declares no weights" in out
    assert (tmp_path / "rb" / "weights" / "toy" / "w.onnx").read_bytes() == b"w"
    assert main(["fetch-weights", "toy-cli-w"]) == 0
    assert "toy-cli-w: all 1 weight(s) already cached" in capsys.readouterr().out
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert main(["fetch-weights", "toy-cli-hf"]) == 1
    err = capsys.readouterr().err
    assert "'org/model'" in err and "'model.ckpt'" in err


def test_install_runs_the_preflight_against_the_checkout(register, toy, tmp_path, monkeypatch, capsys):
    """After a build, the spec is checked against the checked-out source (a warning, not a build failure)."""
    from reconbench import doctor
    from reconbench.upstream.envs import Environment, VenvBackend

    repo, commit = toy
    spec = register(toy_spec("toy-preflight", repo, commit))  # its output glob *.obj: rbtoy writes no such file
    monkeypatch.setattr(VenvBackend, "is_built", lambda self, s: False)
    monkeypatch.setattr(VenvBackend, "build", lambda self, s, **kw: Environment(s.name, "python", str(repo)))
    monkeypatch.setattr(doctor, "checkout_of", lambda s: repo)
    assert main(["install", "toy-preflight"]) == 0
    captured = capsys.readouterr()
    assert "toy-preflight: preflight against the source FAILED" in captured.err and "output" in captured.err
    assert main(["install", "toy-preflight", "--no-preflight"]) == 0
    assert "preflight" not in capsys.readouterr().err
    assert spec.name == "toy-preflight"
