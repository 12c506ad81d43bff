"""The venv backend: a Python virtual environment and a checkout of the pinned commit, in the cache.

Layout: `<cache root>/envs/<method>-<hash12>/` holding `venv/`, `repo/`, `build.log`, `recipe.json`
and `built.json` (written last). Steps: clone + checkout (and extra repositories), create the venv
with an interpreter of the recipe's Python version, `pip install` the packages, run the build steps.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import sys
from pathlib import Path

import reconbench.upstream.envs.recipe as rc
from reconbench.methods.base import MethodSpec
from reconbench.upstream.envs.base import BUILT_MARKER, Backend, Environment, EnvironmentMissing, checkout, run_quiet
from reconbench.upstream.envs.build_log import BuildLog, EnvironmentBuildError

_VERSION_PROBE = "import sys; print('%d.%d' % sys.version_info[:2])"


def interpreter_version(exe: str) -> str | None:
    """ "X.Y" of an interpreter, or None if it does not run (e.g. a pyenv shim for a version not selected)."""
    done = run_quiet([exe, "-c", _VERSION_PROBE], timeout=30)
    if done is None or done.returncode != 0:
        return None
    return done.stdout.strip() or None


def _pyenv_candidates(version: str) -> list[str]:
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv").expanduser()
    found = glob.glob(str(root / "versions" / f"{version}.*" / "bin" / f"python{version}"))
    found += glob.glob(str(root / "versions" / version / "bin" / f"python{version}"))

    def patch(path: str) -> tuple[int, ...]:
        m = re.search(rf"versions/{re.escape(version)}\.(\d+)", path)
        return (int(m.group(1)),) if m else (-1,)

    return sorted(set(found), key=patch, reverse=True)


def venv_creator(version: str) -> list[str]:
    """The command (venv path to append) that creates a virtual environment with Python `version`.

    This interpreter if its major.minor matches, else `pythonX.Y` on PATH (or in pyenv's versions),
    else `uv venv --seed --python X.Y`; otherwise an error saying what to install.
    """
    if "%d.%d" % sys.version_info[:2] == version:
        return [sys.executable, "-m", "venv"]
    for exe in [shutil.which(f"python{version}"), *_pyenv_candidates(version)]:
        if exe and interpreter_version(exe) == version:
            return [exe, "-m", "venv"]
    uv = shutil.which("uv")
    if uv:
        return [uv, "venv", "--seed", "--python", version]
    raise EnvironmentBuildError(
        f"Python {version} is needed for this environment but was not found (no python{version} on PATH, "
        f"none in pyenv, no uv): install it (e.g. `uv python install {version}`, `pyenv install {version}`, "
        f"or your distribution's python{version} and python{version}-venv packages), or use `--backend docker`"
    )


class VenvBackend(Backend):
    """Environments as virtual environments in the cache (see the module docstring)."""

    name = "venv"

    def venv_python(self, spec: MethodSpec) -> Path:
        venv = self.env_dir(spec) / "venv"
        return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")

    def is_built(self, spec: MethodSpec) -> bool:
        folder = self.env_dir(spec)
        return (folder / BUILT_MARKER).is_file() and self.venv_python(spec).exists() and (folder / "repo").is_dir()

    def environment(self, spec: MethodSpec) -> Environment:
        from reconbench.upstream.envs.weights import weights_env

        if not self.is_built(spec):
            raise EnvironmentMissing(self.missing_message(spec))
        folder = self.env_dir(spec)
        python, repo = str(self.venv_python(spec)), str(folder / "repo")
        return Environment(
            method=spec.name,
            python=python,
            repo=repo,
            env={
                **self._venv_vars(spec),
                **rc.recipe_env(rc.environment_for(spec), python=python, repo=repo),
                **weights_env(spec),
            },
            backend=self.name,
            path=str(folder),
        )

    def _venv_vars(self, spec: MethodSpec) -> dict[str, str]:
        bindir = self.venv_python(spec).parent
        # An empty PYTHONPATH keeps the host's (e.g. reconbench's own) out of the method's interpreter.
        return {
            "VIRTUAL_ENV": str(bindir.parent),
            "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONPATH": "",
        }

    def _build(self, spec: MethodSpec, folder: Path, log: BuildLog) -> None:
        recipe = rc.environment_for(spec)
        version = rc.python_version(spec.name, recipe)
        repo = folder / "repo"
        sources = self.sources
        checkout(spec, repo, log, sources)
        try:
            creator = venv_creator(version)
        except EnvironmentBuildError as exc:
            log.note(str(exc))
            raise EnvironmentBuildError(f"method {spec.name!r}: {exc} (build log: {log.path})") from None
        log.run([*creator, str(folder / "venv")])
        python = str(self.venv_python(spec))
        got = interpreter_version(python)
        if got != version:
            raise EnvironmentBuildError(
                f"method {spec.name!r}: the new venv runs Python {got}, not {version}; build log: {log.path}"
            )
        env = {**self._venv_vars(spec), **rc.recipe_env(recipe, python=python, repo=str(repo))}
        extra = rc.pip_args(recipe, python=python, repo=str(repo))
        local = sources.requirement if sources is not None else str
        if sources is not None:  # offline: pip takes packages only from the bundle's wheels folder
            extra = sources.pip_options(extra)
            env.update(sources.pip_env())
        seed = rc.seed_requirements(recipe)
        if seed:  # before anything else: `uv venv --seed` brings the newest setuptools (rc.seed_requirements)
            log.run([python, "-m", "pip", "install", *extra, *seed], cwd=repo, env=env)
        for group in rc.package_groups(recipe, python=python, repo=str(repo)):
            log.run([python, "-m", "pip", "install", *extra, *map(local, group)], cwd=repo, env=env)
        for argv, cwd in rc.build_commands(spec.name, recipe, python=python, repo=str(repo)):
            log.run(list(map(local, argv)), cwd=repo / cwd if cwd else repo, env=env)
