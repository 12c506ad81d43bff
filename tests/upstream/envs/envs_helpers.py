"""Tiny upstream projects made on the fly: a git repository holding a stdlib-only package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from reconbench.methods.base import MethodSpec

PY = "%d.%d" % sys.version_info[:2]


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        [
            "git",
            "-c",
            "user.name=reconbench-tests",
            "-c",
            "user.email=tests@reconbench.invalid",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
            *args,
        ],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def make_repo(folder: Path, files: dict[str, str]) -> str:
    """A git repository at `folder` with `files` committed; returns the commit."""
    folder.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git("init", "-q", cwd=folder)
    git("add", "-A", cwd=folder)
    git("commit", "-q", "-m", "initial", cwd=folder)
    return git("rev-parse", "HEAD", cwd=folder)


def make_toy_package(folder: Path, module: str = "rbtoy", value: str = "one") -> str:
    """A pip-installable project (setuptools) with one stdlib-only module and `python -m module`; returns its commit."""
    return make_repo(
        folder,
        {
            "pyproject.toml": (
                '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n'
                f'[project]\nname = "{module}"\nversion = "0.1.0"\n\n'
                '[tool.setuptools]\npackages = ["' + module + '"]\n'
            ),
            f"{module}/__init__.py": f"VALUE = {value!r}\n",
            f"{module}/__main__.py": "import sys\nfrom . import VALUE\nprint(VALUE, sys.argv[1:])\n",
            "data.txt": "checked out\n",
        },
    )


def toy_spec(name: str, repo: Path | str, commit: str, **environment: Any) -> MethodSpec:
    env = {"python": PY, "packages": []}
    env.update(environment)
    return MethodSpec.from_dict(
        {
            "name": name,
            "paradigm": "feed-forward",
            "representation": "mesh",
            "description": "a toy upstream method for the environment tests",
            "steps": [{"stage": "generation", "argv": ["{python}", "-m", "rbtoy", "{input}", "{out}"]}],
            "output": {"path": "*.obj", "format": "obj"},
            "upstream": {"repo": str(repo), "commit": commit},
            "environment": env,
        }
    )
