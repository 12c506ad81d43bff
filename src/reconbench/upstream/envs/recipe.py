"""The environment recipe as every backend reads it: the upstream repositories, the recipe with local overrides
applied (overrides.py), its hash, and the pip calls, build commands and variables with their placeholders
substituted (placeholders.substitute_recipe).

Its functions take the method's name (for messages) and its typed recipe (methods/recipe.py), or only the
environment part of it, never a whole MethodSpec (but `environment_for(spec)`, for the backends)."""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

from reconbench.methods.base import MethodSpec
from reconbench.methods.recipe import EnvironmentRecipe, UpstreamRecipe, is_commit, is_relative
from reconbench.upstream.envs.overrides import environment_of
from reconbench.upstream.placeholders import substitute_recipe

BACKEND_VERSION = "1"  # bump when a backend builds differently: every environment gets a new folder

# Recipe fields that only the images (Docker, Apptainer) use: changing them does not rebuild a venv.
DOCKER_ONLY_FIELDS = ("apt", "cuda", "base_image")


def environment(name: str, recipe: UpstreamRecipe) -> EnvironmentRecipe:
    """The environment recipe of method `name` as it is built here: the spec's, local overrides applied."""
    return environment_of(name, recipe.environment)


def environment_for(spec: MethodSpec) -> EnvironmentRecipe:
    """`environment(spec.name, spec.recipe)`: for the backends, whose entry points take the method."""
    return environment(spec.name, spec.upstream_recipe())


def upstream_repos(name: str, recipe: UpstreamRecipe) -> list[dict[str, str]]:
    """The main checkout then each extra repository: [{"repo", "commit", "dest"}] (dest "" = the checkout itself)."""
    repos = []
    for i, item in enumerate(recipe.upstream.repos):
        if not item.repo or not is_commit(item.commit):
            where = "upstream" if i == 0 else f"upstream.extra[{i - 1}]"
            raise ValueError(f"method {name!r}: {where} needs a repo and a full 40-hex commit")
        if i and not is_relative(item.dest):
            raise ValueError(
                f"method {name!r}: upstream.extra[{i - 1}].dest must be a relative folder inside the checkout, got "
                f"{item.dest!r}"
            )
        repos.append({"repo": item.repo, "commit": item.commit, "dest": Path(item.dest).as_posix() if i else ""})
    return repos


def recipe_data(name: str, recipe: UpstreamRecipe, backend: str) -> dict[str, Any]:
    """What determines an environment: the recipe, the upstream commits and the backend (not the description etc.)."""
    plain = environment(name, recipe).to_dict()
    if backend == "venv":
        for key in DOCKER_ONLY_FIELDS:  # "env" stays: the build steps see it (CUDA arch lists...)
            plain.pop(key, None)
    return {
        "method": name,
        "backend": backend,
        "backend_version": BACKEND_VERSION,
        "environment": plain,
        "upstream": upstream_repos(name, recipe),
    }


def recipe_hash(name: str, recipe: UpstreamRecipe, backend: str) -> str:
    text = json.dumps(recipe_data(name, recipe, backend), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def python_version(name: str, env: EnvironmentRecipe) -> str:
    """The recipe's "X.Y" (default: this interpreter's)."""
    version = env.python or "%d.%d" % sys.version_info[:2]
    if not re.fullmatch(r"\d+\.\d+", version):
        raise ValueError(f"method {name!r}: environment.python must be 'X.Y', got {version!r}")
    return version


def package_groups(env: EnvironmentRecipe, *, python: str, repo: str) -> list[list[str]]:
    """pip arguments per `pip install` call, placeholders substituted.

    `packages` is a list of requirement strings (one pip call); a nested list is a pip call of its own,
    run in order (e.g. torch before a package whose build imports torch). A string starting with "-"
    is an option and its value ("-r {repo}/requirements.txt", "-e {repo}") and becomes two arguments.
    """
    groups: list[list[str]] = []
    current: list[str] = []
    for item in env.packages:
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


def _requirements(env: EnvironmentRecipe) -> list[str]:
    items = []
    for item in env.packages:
        items += [str(i) for i in item] if isinstance(item, (list, tuple)) else [str(item)]
    return [i.strip() for i in items]


def torch_version(env: EnvironmentRecipe) -> tuple[int, int] | None:
    """(major, minor) of the torch the recipe pins in its own list (None: not pinned there, e.g. in a -r file)."""
    for item in _requirements(env):
        m = _TORCH_PIN.match(item)
        if m:
            return int(m.group(1)), int(m.group(2))
    return None


def seed_requirements(env: EnvironmentRecipe) -> list[str]:
    """What is pip-installed right after the environment's venv is created, before the recipe's packages: the
    recipe's own setuptools pin, else `setuptools<70` when it pins torch <= 2.1; and wheel. A venv seeded by
    `uv venv --seed` gets the newest setuptools, and pip's first call would keep it (audit X1)."""
    own = [r for r in _requirements(env) if re.match(r"^setuptools\b", r)]
    if own:
        return [own[0], "wheel"]
    version = torch_version(env)
    if version is not None and version <= (2, 1):
        return [OLD_TORCH_SETUPTOOLS, "wheel"]
    return []


def pip_args(env: EnvironmentRecipe, *, python: str, repo: str) -> list[str]:
    return [substitute_recipe(a, python=python, repo=repo) for a in env.pip_args]


def build_commands(name: str, env: EnvironmentRecipe, *, python: str, repo: str) -> list[tuple[list[str], str]]:
    """(argv, cwd relative to the checkout) of each build step (an argv list, or {"argv", "cwd"} in the spec)."""
    steps = []
    for i, step in enumerate(env.build):
        if not step.argv:
            raise ValueError(f"method {name!r}: environment.build[{i}] must be a non-empty argv list")
        if step.cwd and not is_relative(step.cwd):
            raise ValueError(f"method {name!r}: environment.build[{i}].cwd must be relative to the checkout")
        argv = [substitute_recipe(a, python=python, repo=repo) for a in step.argv]
        steps.append((argv, Path(step.cwd).as_posix() if step.cwd else ""))
    return steps


def recipe_env(env: EnvironmentRecipe, *, python: str, repo: str) -> dict[str, str]:
    return {k: substitute_recipe(v, python=python, repo=repo) for k, v in env.env.items()}


def is_local_repo(url: str) -> bool:
    """A folder on this machine (a path or file:// URL) rather than a remote to fetch from."""
    return url.startswith("file://") or not re.match(r"^([a-z][a-z0-9+.-]*://|[^/:]+@[^/:]+:)", url)
