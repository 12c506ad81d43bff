"""Weights: a Hugging Face cache laid out by hand (no network), and url weights from file:// URLs."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconbench.methods.base import MethodSpec
from reconbench.system.paths import hf_cache_dir
from reconbench.upstream.envs import WeightsMissing, fetch_weights, missing_weights, weights_env
from reconbench.upstream.envs.weights import weights_mounts

COMMIT = "a" * 40


def spec_with(*weights) -> MethodSpec:
    return MethodSpec.from_dict(
        {
            "name": "weighty",
            "paradigm": "feed-forward",
            "representation": "mesh",
            "description": "test",
            "steps": [{"stage": "generation", "argv": ["{python}", "run.py"]}],
            "output": {"path": "*.obj"},
            "upstream": {"repo": "https://example.invalid/x", "commit": "b" * 40},
            "weights": list(weights),
        }
    )


def put_in_hf_cache(
    cache: Path,
    repo_id: str,
    files: dict[str, bytes],
    *,
    revision: str = "main",
    commit: str = COMMIT,
    repo_type: str = "model",
) -> None:
    """The standard hub cache layout: <type>s--org--name/{refs/<revision>, snapshots/<commit>/<file>}."""
    repo = cache / f"{repo_type}s--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / revision).write_text(commit)
    for name, data in files.items():
        path = repo / "snapshots" / commit / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


@pytest.fixture
def hf_cache(tmp_path, monkeypatch) -> Path:
    cache = tmp_path / "hf" / "hub"
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("RECONBENCH_CACHE", str(tmp_path / "rb"))
    return cache


TRIPOSR = {"kind": "hf", "repo_id": "stabilityai/TripoSR", "files": ["config.yaml", "model.ckpt"]}


def test_cached_hf_files_are_found_offline(hf_cache):
    put_in_hf_cache(hf_cache, "stabilityai/TripoSR", {"config.yaml": b"cfg", "model.ckpt": b"weights"})
    spec = spec_with(TRIPOSR)
    assert hf_cache_dir() == hf_cache
    assert missing_weights(spec) == []
    paths = fetch_weights(spec, progress=False)
    assert [p.read_bytes() for p in paths] == [b"cfg", b"weights"]
    assert all(str(p).startswith(str(hf_cache)) for p in paths)


def test_missing_hf_file_offline_names_repo_and_file(hf_cache):
    put_in_hf_cache(hf_cache, "stabilityai/TripoSR", {"config.yaml": b"cfg"})
    spec = spec_with(TRIPOSR)
    assert missing_weights(spec) == ["stabilityai/TripoSR/model.ckpt (Hugging Face)"]
    with pytest.raises(WeightsMissing) as info:
        fetch_weights(spec, progress=False)
    message = str(info.value)
    assert "'stabilityai/TripoSR'" in message and "'model.ckpt'" in message and "HF_HUB_OFFLINE" in message
    assert "reconbench fetch-weights weighty" in message


def test_revisions_repo_types_and_whole_snapshots(hf_cache):
    put_in_hf_cache(hf_cache, "org/pinned", {"w.bin": b"1"}, revision="v1.0", commit="c" * 40)
    put_in_hf_cache(hf_cache, "org/data", {"sub/x.txt": b"2"}, repo_type="dataset")
    put_in_hf_cache(hf_cache, "org/pipeline", {"unet/diffusion_pytorch_model.bin": b"3", "model_index.json": b"{}"})
    spec = spec_with(
        {"kind": "hf", "repo_id": "org/pinned", "files": ["w.bin"], "revision": "v1.0"},
        {"kind": "hf", "repo_id": "org/pinned", "files": ["w.bin"], "revision": "c" * 40},
        {"kind": "hf", "repo_id": "org/data", "files": ["sub/x.txt"], "repo_type": "dataset"},
        {"kind": "hf", "repo_id": "org/pipeline"},
    )
    assert missing_weights(spec) == []
    paths = fetch_weights(spec, progress=False)
    assert paths[3].is_dir() and (paths[3] / "model_index.json").is_file()
    absent = spec_with(
        {"kind": "hf", "repo_id": "org/pinned", "files": ["w.bin"], "revision": "v2.0"},
        {"kind": "hf", "repo_id": "org/none"},
    )
    assert missing_weights(absent) == [
        "org/pinned/w.bin @ v2.0 (Hugging Face)",
        "org/none (Hugging Face, whole repository)",
    ]


def test_online_downloads_what_is_missing_through_hf_hub_download(hf_cache, monkeypatch):
    """hf_hub_download is given the cache folder read now (huggingface_hub read its constants at import)."""
    monkeypatch.delenv("HF_HUB_OFFLINE")
    put_in_hf_cache(hf_cache, "stabilityai/TripoSR", {"config.yaml": b"cfg"})
    calls = []

    def fake_download(repo_id, filename, *, revision, repo_type, cache_dir):
        calls.append((repo_id, filename, revision, repo_type, cache_dir))
        put_in_hf_cache(Path(cache_dir), repo_id, {filename: b"downloaded"})
        return str(Path(cache_dir) / f"models--{repo_id.replace('/', '--')}" / "snapshots" / COMMIT / filename)

    monkeypatch.setattr("huggingface_hub.hf_hub_download", fake_download)
    paths = fetch_weights(spec_with(TRIPOSR), progress=False)
    assert calls == [("stabilityai/TripoSR", "model.ckpt", "main", "model", str(hf_cache))]  # config.yaml was cached
    assert paths[1].read_bytes() == b"downloaded" and missing_weights(spec_with(TRIPOSR)) == []


def test_download_errors_name_repo_and_file(hf_cache, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE")

    def failing(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr("huggingface_hub.hf_hub_download", failing)
    with pytest.raises(
        WeightsMissing, match=r"'model.ckpt' of Hugging Face repo 'stabilityai/TripoSR'.*network unreachable"
    ):
        fetch_weights(
            spec_with({"kind": "hf", "repo_id": "stabilityai/TripoSR", "files": ["model.ckpt"]}), progress=False
        )


def test_url_weights_download_atomically_and_set_env(hf_cache, tmp_path, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE")
    source = tmp_path / "u2net.onnx"
    source.write_bytes(b"onnx bytes")
    w = {"kind": "url", "url": source.as_uri(), "dest": "u2net/u2net.onnx", "env": {"U2NET_HOME": "u2net"}}
    spec = spec_with(w)
    assert missing_weights(spec) == [f"u2net/u2net.onnx from {source.as_uri()}"]
    [path] = fetch_weights(spec, progress=False)
    assert path == tmp_path / "rb" / "weights" / "u2net" / "u2net.onnx" and path.read_bytes() == b"onnx bytes"
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".u2net.onnx.part")] == []
    assert missing_weights(spec) == []
    source.write_bytes(b"changed")  # cached: not fetched again
    assert fetch_weights(spec, progress=False)[0].read_bytes() == b"onnx bytes"
    env = weights_env(spec)
    assert env["U2NET_HOME"] == str(tmp_path / "rb" / "weights" / "u2net")
    assert str(tmp_path / "rb" / "weights") in weights_mounts(spec)


def test_url_weight_checksum_and_offline(hf_cache, tmp_path, monkeypatch):
    source = tmp_path / "w.bin"
    source.write_bytes(b"abc")
    spec = spec_with({"kind": "url", "url": source.as_uri(), "dest": "w.bin"})
    with pytest.raises(WeightsMissing, match="w.bin"):  # HF_HUB_OFFLINE=1: nothing is downloaded
        fetch_weights(spec, progress=False)
    monkeypatch.delenv("HF_HUB_OFFLINE")
    bad = spec_with({"kind": "url", "url": source.as_uri(), "dest": "w.bin", "sha256": "0" * 64})
    with pytest.raises(WeightsMissing, match="sha256"):
        fetch_weights(bad, progress=False)
    assert not (tmp_path / "rb" / "weights" / "w.bin").exists()
    with pytest.raises(WeightsMissing, match="could not download"):
        fetch_weights(
            spec_with({"kind": "url", "url": (tmp_path / "absent").as_uri(), "dest": "a.bin"}), progress=False
        )
    with pytest.raises(ValueError, match="relative"):
        missing_weights(spec_with({"kind": "url", "url": source.as_uri(), "dest": "../escape.bin"}))


def test_weights_env_points_runs_at_the_host_cache_offline(hf_cache, tmp_path):
    env = weights_env(spec_with(TRIPOSR))
    assert env["HF_HUB_CACHE"] == str(hf_cache) and env["HF_HOME"] == str(tmp_path / "hf")
    assert env["HUGGINGFACE_HUB_CACHE"] == str(hf_cache)
    assert env["HF_HUB_OFFLINE"] == "1" and env["TRANSFORMERS_OFFLINE"] == "1"


def test_unknown_weight_kind():
    with pytest.raises(ValueError, match="unknown kind"):
        missing_weights(spec_with({"kind": "ftp", "url": "x"}))
