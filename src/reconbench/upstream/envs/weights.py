"""Method weights: fill the local caches once (`reconbench fetch-weights`), then runs work offline.

Two kinds, declared in MethodSpec.weights:
- {"kind": "hf", "repo_id", "files": [...], "revision"?, "repo_type"?}: files in the Hugging Face cache
  (no "files": the whole repository snapshot, optionally filtered by "allow_patterns").
- {"kind": "url", "url", "dest", "env"?: {VAR: folder}, "sha256"?}: a file downloaded to
  `<cache root>/weights/<dest>`; each VAR is set to `<cache root>/weights/<folder>` for the method's process.

The Hugging Face cache folder and offline mode are read from the environment at call time
(HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, HF_HOME, XDG_CACHE_HOME; HF_HUB_OFFLINE, TRANSFORMERS_OFFLINE):
huggingface_hub reads its own constants once at import, so this module passes cache_dir explicitly.
"""

from __future__ import annotations

import hashlib
import logging
import os
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from reconbench.errors import ReconbenchError
from reconbench.methods.base import MethodSpec
from reconbench.methods.recipe import Weight, is_commit, is_relative
from reconbench.system.paths import cache_root, hf_cache_dir, hf_home, hf_offline

logger = logging.getLogger(__name__)


class WeightsMissing(ReconbenchError):
    """A weight is not in the local cache and cannot be fetched (offline, gated, not found...)."""


@dataclass(frozen=True)
class WeightItem:
    kind: str  # hf | url
    label: str  # human-readable, e.g. "stabilityai/TripoSR/model.ckpt (Hugging Face)"
    repo_id: str = ""
    filename: str = ""  # "" = the whole repository snapshot
    revision: str = "main"
    repo_type: str = "model"
    allow_patterns: tuple[str, ...] = ()
    url: str = ""
    dest: str = ""
    sha256: str = ""


def weights_dir() -> Path:
    """Where url weights go: <cache root>/weights."""
    return cache_root() / "weights"


def _relative(method: str, value: str, what: str) -> str:
    if not is_relative(value):
        raise ValueError(
            f"method {method!r}: weight {what} must be a relative path inside the weights folder, got {value!r}"
        )
    return Path(value).as_posix()


def _declared(spec: MethodSpec) -> tuple[Weight, ...]:
    return spec.recipe.weights if spec.recipe is not None else ()


def weight_items(spec: MethodSpec) -> list[WeightItem]:
    """One item per file (or whole repository) the method declares."""
    return declared_items(spec.name, _declared(spec))


def declared_items(method: str, weights: Sequence[Weight]) -> list[WeightItem]:
    """One item per file (or whole repository) of the typed weights `method` declares."""
    items: list[WeightItem] = []
    for i, w in enumerate(weights):
        if w.kind == "hf":
            if not w.repo_id:
                raise ValueError(f"method {method!r}: weights[{i}] (hf) needs a repo_id")
            revision = w.revision or "main"
            at = "" if revision == "main" else f" @ {revision}"
            if w.files:
                for name in w.files:
                    label = f"{w.repo_id}/{name}{at} (Hugging Face)"
                    items.append(WeightItem("hf", label, w.repo_id, name, revision, w.repo_type))
            else:
                label = f"{w.repo_id}{at} (Hugging Face, whole repository)"
                items.append(WeightItem("hf", label, w.repo_id, "", revision, w.repo_type, w.allow_patterns))
        elif w.kind == "url":
            if not w.url:
                raise ValueError(f"method {method!r}: weights[{i}] (url) needs a url")
            dest = _relative(method, w.dest or w.url.rstrip("/").rsplit("/", 1)[-1], "dest")
            items.append(WeightItem("url", f"{dest} from {w.url}", url=w.url, dest=dest, sha256=w.sha256.lower()))
        else:
            raise ValueError(f"method {method!r}: weights[{i}] has unknown kind {w.kind!r} (hf or url)")
    return items


def _repo_folder(item: WeightItem) -> Path:
    return hf_cache_dir() / f"{item.repo_type}s--{item.repo_id.replace('/', '--')}"


def cached_path(item: WeightItem) -> Path | None:
    """The item's local path if it is in the cache (no network), else None."""
    if item.kind == "url":
        path = weights_dir() / item.dest
        return path if path.is_file() else None
    if item.filename:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(
            item.repo_id, item.filename, cache_dir=str(hf_cache_dir()), revision=item.revision, repo_type=item.repo_type
        )
        return Path(found) if isinstance(found, str) and os.path.isfile(found) else None
    folder = _repo_folder(item)
    commit = item.revision
    if not is_commit(commit):
        ref = folder / "refs" / commit
        if not ref.is_file():
            return None
        commit = ref.read_text().strip()
    snapshot = folder / "snapshots" / commit
    return snapshot if snapshot.is_dir() and any(snapshot.iterdir()) else None


def missing_weights(spec: MethodSpec) -> list[str]:
    """Human-readable items not in the local caches, e.g. "stabilityai/TripoSR/model.ckpt (Hugging Face)" (no
    network)."""
    return [item.label for item in weight_items(spec) if cached_path(item) is None]


def fetch_weights(spec: MethodSpec, *, progress: bool = True) -> list[Path]:
    """Local path of every weight of the method, downloading what is not cached.

    Offline (HF_HUB_OFFLINE set), a weight not in the cache raises WeightsMissing naming it.
    """
    paths = []
    for item in weight_items(spec):
        found = cached_path(item)
        if found is None:
            if hf_offline():
                raise WeightsMissing(_offline_message(spec, item))
            found = _download_url(spec, item, progress) if item.kind == "url" else _download_hf(spec, item, progress)
        paths.append(found)
    return paths


def _offline_message(spec: MethodSpec, item: WeightItem) -> str:
    if item.kind == "url":
        where = f"{item.url} (expected at {weights_dir() / item.dest})"
    else:
        what = f"file {item.filename!r}" if item.filename else "a snapshot"
        where = (
            f"{what} of Hugging Face repo {item.repo_id!r} (revision {item.revision}) is not in the cache "
            f"{hf_cache_dir()}"
        )
    return (
        f"method {spec.name!r}: weight missing: {where}; HF_HUB_OFFLINE is set, so nothing is downloaded. "
        f"Run `reconbench fetch-weights {spec.name}` where the network is reachable (same HF_HUB_CACHE / "
        f"RECONBENCH_CACHE)."
    )


def _download_hf(spec: MethodSpec, item: WeightItem, progress: bool) -> Path:
    from huggingface_hub import hf_hub_download, snapshot_download
    from huggingface_hub.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    try:
        from huggingface_hub.errors import GatedRepoError
    except ImportError:  # huggingface_hub < 0.23
        from huggingface_hub.utils import GatedRepoError

    was_disabled = are_progress_bars_disabled()
    if not progress:
        disable_progress_bars()
    cache = str(hf_cache_dir())
    try:
        if item.filename:
            found = hf_hub_download(
                item.repo_id, item.filename, revision=item.revision, repo_type=item.repo_type, cache_dir=cache
            )
        else:
            found = snapshot_download(
                item.repo_id,
                revision=item.revision,
                repo_type=item.repo_type,
                cache_dir=cache,
                allow_patterns=list(item.allow_patterns) or None,
            )
    except GatedRepoError as exc:
        raise WeightsMissing(
            f"method {spec.name!r}: {item.label} is in a gated repository: accept its licence on "
            f"https://huggingface.co/{item.repo_id} and log in (`hf auth login` or HF_TOKEN), then fetch again "
            f"({exc.__class__.__name__})"
        ) from None
    except Exception as exc:  # network, not found, disk: one clear message naming the repo and file
        what = f"file {item.filename!r}" if item.filename else "snapshot"
        raise WeightsMissing(
            f"method {spec.name!r}: could not download {what} of Hugging Face repo {item.repo_id!r} "
            f"(revision {item.revision}): {exc.__class__.__name__}: {exc}"
        ) from None
    finally:
        if not progress and not was_disabled:
            enable_progress_bars()
    return Path(found)


def _download_url(spec: MethodSpec, item: WeightItem, progress: bool) -> Path:
    dest = weights_dir() / item.dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(dest.parent / f".{dest.name}.lock")):
        if dest.is_file():  # another process fetched it while we waited
            return dest
        tmp = dest.with_name(f".{dest.name}.part-{os.getpid()}")
        digest = hashlib.sha256()
        if progress:
            logger.info(f"downloading {item.url} -> {dest}")
        try:
            with urllib.request.urlopen(item.url, timeout=60) as response, open(tmp, "wb") as out:
                while chunk := response.read(1 << 20):
                    out.write(chunk)
                    digest.update(chunk)
            if item.sha256 and digest.hexdigest() != item.sha256:
                raise WeightsMissing(
                    f"method {spec.name!r}: {item.url} has sha256 {digest.hexdigest()}, expected {item.sha256}"
                )
            os.replace(tmp, dest)
        except WeightsMissing:
            raise
        except Exception as exc:
            raise WeightsMissing(
                f"method {spec.name!r}: could not download {item.url} to {dest}: {exc.__class__.__name__}: {exc}"
            ) from None
        finally:
            if tmp.exists():
                tmp.unlink()
    return dest


def weights_env(spec: MethodSpec) -> dict[str, str]:
    """Environment for the method's process: the host's Hugging Face cache, offline mode (runs never download),
    and each url weight's variable set to its folder."""
    cache = str(hf_cache_dir())
    env = {
        "HF_HOME": str(hf_home()),
        "HF_HUB_CACHE": cache,
        "HUGGINGFACE_HUB_CACHE": cache,  # huggingface_hub < 0.16, as pinned by older upstream code
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
    }
    for w in _declared(spec):
        if w.kind == "url":
            for var, folder in w.env.items():
                where = (
                    weights_dir() if folder in ("", ".") else weights_dir() / _relative(spec.name, folder, f"env {var}")
                )
                env[var] = str(where)
    return env


def weights_mounts(spec: MethodSpec) -> list[str]:
    """Host folders a container needs to see the method's weights (mounted at the same path)."""
    kinds = {w.kind for w in _declared(spec)}
    mounts = [str(hf_cache_dir())]  # HF_HUB_OFFLINE is set in runs: upstream code may still look in the cache
    if "url" in kinds:
        mounts.append(str(weights_dir()))
    return mounts
