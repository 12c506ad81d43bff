"""Where reconbench and Hugging Face keep files on this machine, read from the environment at call time."""

from __future__ import annotations

import os
from pathlib import Path

_TRUE = {"1", "ON", "YES", "TRUE"}


def cache_root() -> Path:
    """reconbench's cache (generated data, environments, weights, LPIPS weights): $RECONBENCH_CACHE, else
    ~/.cache/reconbench."""
    return Path(os.environ.get("RECONBENCH_CACHE") or Path.home() / ".cache" / "reconbench").expanduser()


def hf_offline() -> bool:
    """HF_HUB_OFFLINE (or the older TRANSFORMERS_OFFLINE) forbids any Hugging Face Hub access."""
    return any(os.environ.get(k, "").strip().upper() in _TRUE for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def hf_home() -> Path:
    """$HF_HOME, else $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface (as huggingface_hub resolves it)."""
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "huggingface"
    )
    return Path(os.path.expandvars(os.path.expanduser(home)))


def hf_cache_dir() -> Path:
    """The Hugging Face hub cache as huggingface_hub resolves it: $HF_HUB_CACHE, $HUGGINGFACE_HUB_CACHE, else
    <hf_home>/hub."""
    cache = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE") or str(hf_home() / "hub")
    return Path(os.path.expandvars(os.path.expanduser(cache)))
