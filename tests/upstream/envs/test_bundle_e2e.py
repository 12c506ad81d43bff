"""End to end, for real: `reconbench bundle` gathers the tiny stand-in upstream method (tests/data/tiny_external,
a git repository), a git requirement of its recipe, the packages pip needs and two weights; the originals are then
deleted, pip is pointed at an index that does not exist, and `reconbench install --from-bundle` builds the venv
and fills fresh caches from the bundle alone; `reconbench run` then runs the method. Also `install --source`."""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
from pathlib import Path

import pytest
from envs_helpers import make_repo, make_toy_package

from reconbench.cli import main
from reconbench.registry import _registry, register_method
from reconbench.runner.run import RunConfig, run_benchmark
from reconbench.upstream.envs import get_backend
from reconbench.upstream.envs.weights import missing_weights

pytestmark = pytest.mark.slow

TINY = Path(__file__).parents[2] / "data" / "tiny_external"
HF_COMMIT = "c" * 40


def tiny_spec(name: str, repo: Path, commit: str, toy_url: str) -> dict:
    return {
        "name": name,
        "paradigm": "feed-forward",
        "representation": "mesh",
        "description": "test stand-in for an upstream method, installed from an offline bundle",
        "upstream": {"repo": str(repo), "commit": commit},
        # The checkout itself (built by pip from its pyproject: needs setuptools from the bundle) and a git requirement.
        "environment": {"python": "%d.%d" % sys.version_info[:2], "packages": ["{repo}", toy_url]},
        "weights": [
            {"kind": "hf", "repo_id": "org/tiny", "files": ["config.json"]},
            {"kind": "url", "url": "https://example.invalid/tiny/w.bin", "dest": "tiny/w.bin"},
        ],
        "steps": ({"stage": "export", "argv": ["{python}", "-m", "tiny_recon", "{inputs}", "--out", "{out}"]},),
        "output": {"path": "0/mesh.obj", "format": "obj"},
        "inputs": {"background": "transparent", "resolution": 128, "batch": True},
        "stage_markers": ({"stage": "generation", "pattern": "^generation done"},),
        "frame": "z-up-front-x",
        "scale": "bbox",
        "timeout_s": 120,
    }


def seed_weights(hub: Path, rb: Path) -> None:
    """The two weights as `fetch-weights` would have left them on the connected machine (no network here)."""
    folder = hub / "models--org--tiny"
    (folder / "snapshots" / HF_COMMIT).mkdir(parents=True)
    (folder / "snapshots" / HF_COMMIT / "config.json").write_text('{"hidden": 8}')
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text(HF_COMMIT)
    (rb / "weights" / "tiny").mkdir(parents=True)
    (rb / "weights" / "tiny" / "w.bin").write_bytes(b"weights")


@pytest.fixture
def registered():
    names = []

    def add(spec):
        spec = register_method(spec)
        names.append(spec.name)
        return spec

    yield add
    for name in names:
        _registry().pop(name, None)


def test_bundle_then_offline_install_then_run(tmp_path, monkeypatch, registered, capsys):
    upstream = tmp_path / "upstream"
    commit = make_repo(upstream / "tiny", {p.name: p.read_text() for p in TINY.iterdir() if p.is_file()})
    toy_commit = make_toy_package(upstream / "rbtoy")
    toy_url = f"git+{(upstream / 'rbtoy').as_uri()}@{toy_commit}"
    registered(tiny_spec("tiny-bundle", upstream / "tiny", commit, toy_url))

    # The connected machine: its caches hold the weights; pip reaches its usual index.
    online = tmp_path / "online"
    monkeypatch.setenv("RECONBENCH_CACHE", str(online / "rb"))
    monkeypatch.setenv("HF_HUB_CACHE", str(online / "hub"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    seed_weights(online / "hub", online / "rb")
    bundle = tmp_path / "bundle"
    assert main(["bundle", "tiny-bundle", "--out", str(bundle)]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert f"reconbench install --from-bundle {bundle}" in out
    manifest = json.loads((bundle / "manifest.json").read_text())
    entry = manifest["methods"]["tiny-bundle"]
    assert entry["upstream"][0]["commit"] == commit and entry["python"] == "%d.%d" % sys.version_info[:2]
    assert Path(entry["requirements"][toy_url]).name == f"rbtoy-{toy_commit[:12]}.tar.gz"
    assert any(Path(f).name.startswith("setuptools-") for f in manifest["files"])  # to build the projects offline
    assert {w["label"] for w in entry["weights"]} == {
        "org/tiny/config.json (Hugging Face)",
        "tiny/w.bin from https://example.invalid/tiny/w.bin",
    }

    # The cluster node: nothing of the originals, empty caches, pip's index unreachable and its config ignored.
    shutil.rmtree(upstream)
    shutil.rmtree(online)
    node = tmp_path / "node"
    monkeypatch.setenv("RECONBENCH_CACHE", str(node / "rb"))
    monkeypatch.setenv("HF_HUB_CACHE", str(node / "hub"))
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_RETRIES", "0")
    for var in ("PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS"):
        monkeypatch.delenv(var, raising=False)
    assert main(["install", "--from-bundle", str(bundle), "--no-preflight"]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "tiny-bundle: built (venv)" in out and "weight from the bundle: org/tiny/config.json" in out
    spec = _registry()["tiny-bundle"]
    env = get_backend("venv").environment(spec)
    log = (Path(env.path) / "build.log").read_text()
    assert "--no-index" in log and str(bundle / "source") in log and "127.0.0.1:9" not in log
    assert missing_weights(spec) == []

    records = []
    run_benchmark(
        RunConfig(
            dataset="procedural",
            methods=["tiny-bundle"],
            protocol="default",
            out=tmp_path / "run",
            limit=1,
            lpips=(),
            progress=False,
        ),
        on_job_done=records.append,
    )
    (rec,) = records
    assert rec.status == "ok", rec.error
    assert rec.provenance["method"]["upstream"]["commit"] == commit
    assert math.isfinite(rec.metrics["chamfer"]) and 0 < rec.metrics["mask_iou"] <= 1
    done = os.popen(f"{env.python} -c 'import rbtoy; print(rbtoy.VALUE)'").read().strip()
    assert done == "one"  # the git requirement was installed from its bundled archive

    # A damaged copy is refused before anything is built.
    wheel = next((bundle / "wheels").glob("setuptools-*"))
    wheel.write_bytes(b"truncated")
    assert main(["install", "tiny-bundle", "--from-bundle", str(bundle), "--rebuild"]) == 2  # a user error: one line
    assert f"{wheel.relative_to(bundle).as_posix()} has a different sha256" in capsys.readouterr().err


def test_install_from_a_local_checkout(tmp_path, monkeypatch, registered, capsys):
    """`install --source DIR`: the checkout is used (its commit and cleanliness checked) instead of cloning the URL."""
    checkout = tmp_path / "checkout"
    commit = make_repo(checkout, {p.name: p.read_text() for p in TINY.iterdir() if p.is_file()})
    monkeypatch.setenv("RECONBENCH_CACHE", str(tmp_path / "rb"))
    spec = {**tiny_spec("tiny-source", Path("https://example.invalid/tiny.git"), commit, ""), "weights": []}
    spec["environment"] = {**spec["environment"], "packages": ["{repo}"]}
    spec = registered(spec)
    (checkout / "tiny_recon.py").write_text("changed")
    assert main(["install", "tiny-source", "--source", str(checkout), "--no-preflight"]) == 1
    assert "local changes to tracked files (tiny_recon.py)" in capsys.readouterr().err
    os.system(f"git -C {checkout} checkout -q -- tiny_recon.py")
    assert main(["install", "tiny-source", "--source", str(checkout), "--no-preflight"]) == 0, capsys.readouterr().err
    env = get_backend("venv").environment(spec)
    assert (Path(env.repo) / "tiny_recon.py").read_text() == (TINY / "tiny_recon.py").read_text()
    assert "copied the local checkout" in (Path(env.path) / "build.log").read_text()
