"""Where a build takes its upstream code and packages from, when not from the network.

`LocalSources` is handed to a backend (`get_backend(...).sources = ...`): a local checkout of the main
repository (`reconbench install M --source DIR`), or the git bundles, package files and wheels folder of
an offline bundle (`reconbench install --from-bundle DIR`, envs/bundle.py). The recipe and its hash stay
the same: an environment built from local sources is the environment a later run looks for.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reconbench.errors import ReconbenchError

# pip options that name where packages come from: dropped (with their value) when installing offline.
_INDEX_OPTIONS = ("--index-url", "-i", "--extra-index-url", "--find-links", "-f", "--trusted-host")


class SourceMismatch(ReconbenchError):
    """A local checkout is not the pinned commit, or has local changes."""


@dataclass(frozen=True)
class LocalSources:
    checkout: str = ""  # a local checkout of the main upstream repository, copied after checking its commit
    repos: Mapping[str, str] = field(default_factory=dict)  # upstream repo URL -> local git repository or bundle file
    requirements: Mapping[str, str] = field(default_factory=dict)  # requirement string (e.g. git+URL@sha) -> local file
    find_links: str = ""  # a wheels folder: every pip call runs with --no-index --find-links here

    def repo_url(self, url: str) -> str:
        return self.repos.get(url, url)

    def requirement(self, arg: str) -> str:
        return self.requirements.get(arg, arg)

    def pip_options(self, recipe_args: Sequence[str]) -> list[str]:
        """The recipe's pip_args, without their index options when offline, plus --no-index --find-links."""
        if not self.find_links:
            return list(recipe_args)
        kept, skip = [], False
        for arg in recipe_args:
            if skip:
                skip = False
                continue
            if arg in _INDEX_OPTIONS:
                skip = True
                continue
            if arg.startswith(tuple(o + "=" for o in _INDEX_OPTIONS if o.startswith("--"))):
                continue
            kept.append(arg)
        return [*kept, "--no-index", "--find-links", self.find_links]

    def pip_env(self) -> dict[str, str]:
        """Environment for every build command: pip (also when a build step or a build backend calls it) stays
        offline."""
        if not self.find_links:
            return {}
        return {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": self.find_links}


def git_output(*args: str, cwd: Path | str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True, stdin=subprocess.DEVNULL)


def verify_checkout(folder: Path | str, commit: str, what: str) -> None:
    """`folder` is a git work tree at `commit` with no changes to tracked files; else SourceMismatch saying which."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SourceMismatch(f"{what}: {folder} is not a folder")
    head = git_output("rev-parse", "HEAD", cwd=folder)
    if head.returncode != 0:
        raise SourceMismatch(
            f"{what}: {folder} is not a git checkout ({head.stderr.strip() or 'git rev-parse failed'}); "
            f"clone the repository and `git checkout {commit}` there"
        )
    if head.stdout.strip() != commit:
        raise SourceMismatch(
            f"{what}: {folder} is at commit {head.stdout.strip()}, the spec pins {commit}: "
            f"run `git -C {folder} checkout {commit}`"
        )
    status = git_output("status", "--porcelain", "--untracked-files=no", cwd=folder)
    changed = [line[3:] for line in status.stdout.splitlines() if line.strip()]
    if status.returncode != 0 or changed:
        detail = ", ".join(changed[:5]) + (" ..." if len(changed) > 5 else "") if changed else status.stderr.strip()
        raise SourceMismatch(
            f"{what}: {folder} has local changes to tracked files ({detail}): the environment must be "
            f"built from the pinned commit exactly (`git -C {folder} stash`, or a fresh checkout)"
        )


def copy_checkout(folder: Path | str, target: Path) -> None:
    """Copy a verified checkout, its .git included (symlinks kept as links)."""
    shutil.copytree(folder, target, symlinks=True)
