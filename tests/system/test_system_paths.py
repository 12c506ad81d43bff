"""The machine's folders: reconbench's cache and the Hugging Face cache, one answer each, read at call time."""

from __future__ import annotations

from pathlib import Path

from reconbench.system import paths


def test_cache_root_follows_reconbench_cache_at_call_time(tmp_path, monkeypatch):
    monkeypatch.setenv("RECONBENCH_CACHE", str(tmp_path / "rb"))
    assert paths.cache_root() == tmp_path / "rb"
    monkeypatch.delenv("RECONBENCH_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert paths.cache_root() == tmp_path / "home" / ".cache" / "reconbench"


def test_every_user_of_the_cache_root_reads_the_same_folder(tmp_path, monkeypatch):
    from reconbench.upstream.envs import get_backend
    from reconbench.upstream.envs.weights import weights_dir

    monkeypatch.setenv("RECONBENCH_CACHE", str(tmp_path / "rb"))
    assert get_backend("venv").root == tmp_path / "rb" and weights_dir() == tmp_path / "rb" / "weights"


def test_hf_cache_dir_follows_the_environment_at_call_time(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "home"))
    assert paths.hf_cache_dir() == tmp_path / "home" / "hub"
    monkeypatch.delenv("HF_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert paths.hf_cache_dir() == tmp_path / "xdg" / "huggingface" / "hub"
    monkeypatch.setenv("HUGGINGFACE_HUB_CACHE", str(tmp_path / "legacy"))
    assert paths.hf_cache_dir() == tmp_path / "legacy"
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "new"))
    assert paths.hf_cache_dir() == tmp_path / "new"


def test_hf_offline_reads_either_variable(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    assert not paths.hf_offline()
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    assert paths.hf_offline()
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "0")
    monkeypatch.setenv("HF_HUB_OFFLINE", "yes")
    assert paths.hf_offline()


def test_huggingface_hub_itself_resolves_the_same_cache(tmp_path, monkeypatch):
    """Independent check: the hub library's own constant, computed at its import, agrees with ours."""
    import importlib

    import huggingface_hub.constants as constants

    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "h"))
    try:
        assert Path(importlib.reload(constants).HF_HUB_CACHE) == paths.hf_cache_dir()
    finally:
        monkeypatch.undo()
        importlib.reload(constants)
