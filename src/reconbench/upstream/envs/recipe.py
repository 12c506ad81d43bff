"""The environment recipe as every backend reads it: the upstream repositories, the recipe with local overrides
applied (overrides.py), its hash, and the pip calls, build commands and variables with their placeholders
substituted (placeholders.substitute_recipe)."""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconbench.methods.base import MethodSpec
from reconbench.methods.recipe import is_commit, is_relative
from reconbench.upstream.envs.overrides import environment_of
from reconbench.upstream.placeholders import substitute_recipe

BACKEND_VERSION = "1"  # bump when a backend builds differently: every environment gets a new folder

# Recipe fields that only the images (Docker, Apptainer) use: changing them does not rebuild a venv.
DOCKER_ONLY_FIELDS = ("apt", "cuda", "base_image")


def require_upstream(spec: MethodSpec) -> None:
    """Only methods run from upstream code have an environment."""
    if not spec.upstream.get("repo"):
        raise ValueError(
            f"method {spec.name!r} runs in-process and needs no environment (it has no upstream repository)"
        )


def upstream_repos(spec: MethodSpec) -> list[dict[str, str]]:
    """The main checkout then each extra repository: [{"repo", "commit", "dest"}] (dest "" = the checkout itself)."""
    up = spec.upstream
    repos = [{"repo": str(up["repo"]), "commit": str(up["commit"]), "dest": ""}]
    for i, extra in enumerate(up.get("extra", ()) or ()):
        repo, commit, dest = str(extra.get("repo", "")), str(extra.get("commit", "")), str(extra.get("dest", ""))
        if not repo or not is_commit(commit):
            raise ValueError(f"method {spec.name!r}: upstream.extra[{i}] needs a repo and a full 40-hex commit")
        if not is_relative(dest):
            raise ValueError(
                f"method {spec.name!r}: upstream.extra[{i}].dest must be a relative folder inside the checkout, got "
                f"{dest!r}"
            )
        repos.append({"repo": repo, "commit": commit, "dest": Path(dest).as_posix()})
    return repos


def recipe(spec: MethodSpec, backend: str) -> dict[str, Any]:
    """What determines an environment: the recipe, the upstream commits and the backend (not the description etc.)."""
    require_upstream(spec)
    environment = environment_of(spec)
    if backend == "venv":
        for key in DOCKER_ONLY_FIELDS:  # "env" stays: the build steps see it (CUDA arch lists...)
            environment.pop(key, None)
    return {
        "method": spec.name,
        "backend": backend,
        "backend_version": BACKEND_VERSION,
        "environment": environment,
        "upstream": upstream_repos(spec),
    }


def recipe_hash(spec: MethodSpec, backend: str) -> str:
    text = json.dumps(recipe(spec, backend), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def python_version(spec: MethodSpec) -> str:
    """The recipe's "X.Y" (default: this interpreter's)."""
    version = str(environment_of(spec).get("python") or "%d.%d" % sys.version_info[:2])
    if not re.fullmatch(r"\d+\.\d+", version):
        raise ValueError(f"method {spec.name!r}: environment.python must be 'X.Y', got {version!r}")
    return version


def package_groups(spec: MethodSpec, *, python: str, repo: str) -> list[list[str]]:
    """pip arguments per `pip install` call, placeholders substituted.

    `packages` is a list of requirement strings (one pip call); a nested list is a pip call of its own,
    run in order (e.g. torch before a package whose build imports torch). A string starting with "-"
    is an option and its value ("-r {repo}/requirements.txt", "-e {repo}") and becomes two arguments.
    """
    groups: list[list[str]] = []
    current: list[str] = []
    for item in environment_of(spec).get("packages", ()) or ():
        if isinstance(item, (list, tuple)):
            if current:
                groups.append(current)
                current = []
            group = [a for s in item for a in _requirement_args(s, python=python, repo=repo)]
            if group:
                groups.append(group)
        else:
            current.extend(_requirement_args(item, python=python, repo=repo))
    if current:
        groups.append(current)
    return groups


def _requirement_args(item: str, *, python: str, repo: str) -> list[str]:
    item = substitute_recipe(str(item), python=python, repo=repo).strip()
    if not item:
        return []
    if item.startswith("-"):
        option, _, value = item.partition(" ")
        return [option] + ([value.strip()] if value.strip() else [])
    return [item]


# torch <= 2.1's torch.utils.cpp_extension runs `from pkg_resources import packaging`, which fails with
# setuptools >= 70 (and setuptools 82 removed pkg_resources): every CUDA extension built against such a torch
# without build isolation, and every just-in-time build at run time, needs an older setuptools.
OLD_TORCH_SETUPTOOLS = "setuptools<70"
_TORCH_PIN = re.compile(r"^torch\s*(?:==|~=|<=)\s*(\d+)\.(\d+)")


def _requirements(spec: MethodSpec) -> list[str]:
    items = []
    for item in environment_of(spec).get("packages", ()) or ():
        items += [str(i) for i in item] if isinstance(item, (list, tuple)) else [str(item)]
    return [i.strip() for i in items]


def torch_version(spec: MethodSpec) -> tuple[int, int] | None:
    """(major, minor) of the torch the recipe pins in its own list (None: not pinned there, e.g. in a -r file)."""
    for item in _requirements(spec):
        m = _TORCH_PIN.match(item)
        if m:
            return int(m.group(1)), int(m.group(2))
    return None


def seed_requirements(spec: MethodSpec) -> list[str]:
    """What is pip-installed right after the environment's venv is created, before the recipe's packages: the
    recipe's own setuptools pin, else `setuptools<70` when it pins torch <= 2.1; and wheel. A venv seeded by
    `uv venv --seed` gets the newest setuptools, and pip's first call would keep it (audit X1)."""
    own = [r for r in _requirements(spec) if re.match(r"^setuptools\b", r)]
    if own:
        return [own[0], "wheel"]
    version = torch_version(spec)
    if version is not None and version <= (2, 1):
        return [OLD_TORCH_SETUPTOOLS, "wheel"]
    return []


def pip_args(spec: MethodSpec, *, python: str, repo: str) -> list[str]:
    return [substitute_recipe(a, python=python, repo=repo) for a in environment_of(spec).get("pip_args", ()) or ()]


def build_commands(spec: MethodSpec, *, python: str, repo: str) -> list[tuple[list[str], str]]:
    """(argv, cwd relative to the checkout) of each build step.

    A step is an argv list (cwd = the checkout) or {"argv": [...], "cwd": "relative/folder"}.
    """
    steps = []
    for i, step in enumerate(environment_of(spec).get("build", ()) or ()):
        cwd = ""
        if isinstance(step, Mapping):
            cwd = str(step.get("cwd", "") or "")
            step = step.get("argv", ())
        if isinstance(step, str) or not step:
            raise ValueError(f"method {spec.name!r}: environment.build[{i}] must be an argv list, got {step!r}")
        if cwd and not is_relative(cwd):
            raise ValueError(f"method {spec.name!r}: environment.build[{i}].cwd must be relative to the checkout")
        steps.append(
            ([substitute_recipe(a, python=python, repo=repo) for a in step], Path(cwd).as_posix() if cwd else "")
        )
    return steps


def recipe_env(spec: MethodSpec, *, python: str, repo: str) -> dict[str, str]:
    return {
        str(k): substitute_recipe(str(v), python=python, repo=repo)
        for k, v in (environment_of(spec).get("env", {}) or {}).items()
    }


def is_local_repo(url: str) -> bool:
    """A folder on this machine (a path or file:// URL) rather than a remote to fetch from."""
    return url.startswith("file://") or not re.match(r"^([a-z][a-z0-9+.-]*://|[^/:]+@[^/:]+:)", url)
