"""What every environment backend shares: the cache layout, the checkout of the pinned upstream commit(s), the
lock, and the `Environment` a method runs in. The recipe as the backends read it is in `recipe`, the build log
in `build_log`.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

import reconbench.upstream.envs.recipe as rc
from reconbench.errors import ReconbenchError
from reconbench.methods.base import MethodSpec
from reconbench.system.paths import cache_root
from reconbench.upstream.envs.build_log import BuildLog, EnvironmentBuildError
from reconbench.upstream.envs.sources import LocalSources, SourceMismatch, copy_checkout, verify_checkout

logger = logging.getLogger(__name__)

BUILT_MARKER = "built.json"  # written last: an environment without it is not built
LOG = "build.log"
RECIPE = "recipe.json"


class EnvironmentMissing(ReconbenchError):
    """A method's environment is not built."""


def safe_name(name: str) -> str:
    """`name` as a file-name part: runs of anything but letters, digits, ".", "_" and "-" become "_"."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "method"


@dataclass(frozen=True)
class Environment:
    """Where a method's commands run, as the commands see it."""

    method: str
    python: str  # interpreter (venv: absolute path of venv/bin/python; docker: "python")
    repo: str  # checkout (docker: "/opt/upstream")
    env: dict[str, str] = field(default_factory=dict)  # extra environment for runs: recipe env + weights env
    backend: str = "venv"
    path: str = ""  # the environment's folder on the host (build.log, recipe.json)
    image: str = ""  # docker: the image tag
    mounts: tuple[str, ...] = ()  # docker: host folders the method needs (weights), mounted at the same path

    def wrap(
        self,
        argv: Sequence[str],
        *,
        cwd: str,
        mounts: tuple[str, ...] = (),
        gpu: bool = False,
        env: Mapping[str, str] | None = None,
        name: str | None = None,
    ) -> tuple[list[str], str | None]:
        """(argv to execute on the host, cwd for subprocess on the host).

        venv: argv and cwd unchanged (the caller passes `self.env` and `env` in the process environment).
        docker: `docker run --rm --init [--name NAME] [--gpus all|"device=$CUDA_VISIBLE_DEVICES"] -v M:M ... -w CWD
        -e K=V ... IMAGE argv...` and cwd None; each
        mount appears at the same path inside the container, so host paths in argv and env stay valid.
        """
        if self.backend == "apptainer":
            return self._wrap_apptainer(argv, cwd=cwd, mounts=mounts, gpu=gpu, env=env), None
        if self.backend != "docker":
            return list(argv), cwd
        cmd = ["docker", "run", "--rm", "--init"]  # --init: signals reach the method, zombies are reaped
        if name:  # so that whoever started it can `docker kill` it (killing the client leaves it running)
            cmd += ["--name", name]
        if gpu:  # the GPUs this process was given (an executor sets CUDA_VISIBLE_DEVICES per worker), else all
            visible = os.environ.get("CUDA_VISIBLE_DEVICES", "").strip()
            cmd += ["--gpus", f'"device={visible}"' if visible else "all"]
        # Files written into mounted folders belong to the host user; shared memory as the host's (data loaders).
        if hasattr(os, "getuid"):
            cmd += ["--user", f"{os.getuid()}:{os.getgid()}"]
        cmd += ["--ipc", "host"]
        seen: set[str] = set()
        own = tuple(m for m in self.mounts if os.path.isdir(m))
        for m in (*mounts, *own):
            m = os.path.abspath(m)
            if m not in seen:
                seen.add(m)
                cmd += ["-v", f"{m}:{m}"]
        cmd += ["-w", cwd]
        variables = {"HOME": "/tmp", "USER": "reconbench", **self.env, **(env or {})}
        for key in variables:
            cmd += ["-e", f"{key}={variables[key]}"]
        cmd += [self.image, *argv]
        return cmd, None

    def _wrap_apptainer(
        self, argv: Sequence[str], *, cwd: str, mounts: tuple[str, ...], gpu: bool, env: Mapping[str, str] | None
    ) -> list[str]:
        """`apptainer run --nv --cleanenv --writable-tmpfs --bind M:M ... --pwd CWD --env K=V ... IMAGE argv`
        (envs/apptainer.py): each mount at its host path; --cleanenv drops the host's environment, so what the
        method needs is passed with --env, CUDA_VISIBLE_DEVICES (an executor's pinning) included."""
        from reconbench.upstream.envs.apptainer import engine

        cmd = [engine() or "apptainer", "run"]
        if gpu:
            cmd.append("--nv")
        cmd += ["--cleanenv", "--writable-tmpfs"]
        seen: set[str] = set()
        for m in (*mounts, *(m for m in self.mounts if os.path.isdir(m))):
            m = os.path.abspath(m)
            if m not in seen:
                seen.add(m)
                cmd += ["--bind", f"{m}:{m}"]
        cmd += ["--pwd", cwd]
        variables = {**self.env, **(env or {})}
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        if gpu and visible is not None and "CUDA_VISIBLE_DEVICES" not in variables:
            variables["CUDA_VISIBLE_DEVICES"] = visible
        for key in variables:
            cmd += ["--env", f"{key}={variables[key]}"]
        return [*cmd, self.image, *argv]


def checkout(spec: MethodSpec, dest: Path, log: BuildLog, sources: LocalSources | None = None) -> None:
    """Clone the upstream repository and each extra one (into its dest inside the checkout) at the pinned commits.

    With `sources`: the main repository copied from a local checkout (verified to be at the pinned commit,
    unchanged), and repositories cloned from local copies (an offline bundle's git bundles) instead of their URLs.
    """
    for item in rc.upstream_repos(spec.name, spec.upstream_recipe()):
        target = dest / item["dest"] if item["dest"] else dest
        if sources is not None and sources.checkout and not item["dest"]:
            try:
                verify_checkout(sources.checkout, item["commit"], f"method {spec.name!r}: --source")
            except SourceMismatch as exc:
                log.note(str(exc))
                raise EnvironmentBuildError(f"{exc} (build log: {log.path})") from None
            if target.exists():
                target.rmdir()
            copy_checkout(sources.checkout, target)
            log.note(
                f"copied the local checkout {sources.checkout} at {item['commit']} (verified: HEAD, no local changes)"
            )
            continue
        if item["dest"] and target.exists() and any(target.iterdir()):
            raise EnvironmentBuildError(
                f"method {spec.name!r}: {item['dest']} already exists in the checkout and is not empty; "
                f"cannot clone {item['repo']} there (build log: {log.path})"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            target.rmdir()
        url = sources.repo_url(item["repo"]) if sources is not None else item["repo"]
        log.run(["git", "clone", "--quiet", url, str(target)])
        commit = item["commit"]
        if log.run(["git", "-C", str(target), "cat-file", "-e", f"{commit}^{{commit}}"], check=False) != 0:
            raise EnvironmentBuildError(
                f"method {spec.name!r}: pinned commit {commit} is not in {item['repo']} "
                f"(wrong commit, or not pushed to that repository); build log: {log.path}"
            )
        log.run(["git", "-C", str(target), "-c", "advice.detachedHead=false", "checkout", "--quiet", commit])
        head = subprocess.run(
            ["git", "-C", str(target), "rev-parse", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        if head != commit:
            raise EnvironmentBuildError(
                f"method {spec.name!r}: checkout of {item['repo']} is at {head or '?'}, not the pinned {commit}; build "
                f"log: {log.path}"
            )
        log.note(f"checked out {item['repo']} at {commit}")
        log.run(["git", "-C", str(target), "submodule", "update", "--init", "--recursive", "--quiet"])


def write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True, default=str) + "\n")
    os.replace(tmp, path)


class Backend:
    """Builds and finds method environments under `<cache root>/envs/<method>-<hash12>/`."""

    name: str = ""

    def __init__(self, root: Path | str | None = None, sources: LocalSources | None = None) -> None:
        self._root = Path(root).expanduser() if root is not None else None
        self.sources = sources  # local checkout / offline bundle to build from (venv backend), see envs/sources.py

    @property
    def root(self) -> Path:
        """The cache root (given, else $RECONBENCH_CACHE or ~/.cache/reconbench at call time)."""
        return self._root if self._root is not None else cache_root()

    def recipe_hash(self, spec: MethodSpec) -> str:
        return rc.recipe_hash(spec.name, spec.upstream_recipe(), self.name)

    def env_dir(self, spec: MethodSpec) -> Path:
        return self.root / "envs" / f"{safe_name(spec.name)}-{self.recipe_hash(spec)[:12]}"

    def log_path(self, spec: MethodSpec) -> Path:
        return self.env_dir(spec) / LOG

    def is_built(self, spec: MethodSpec) -> bool:
        raise NotImplementedError

    def environment(self, spec: MethodSpec) -> Environment:
        raise NotImplementedError

    def _build(self, spec: MethodSpec, folder: Path, log: BuildLog) -> None:
        raise NotImplementedError

    def missing_message(self, spec: MethodSpec) -> str:
        flag = "" if self.name == "venv" else f" --backend {self.name}"
        return (
            f"the {self.name} environment of method {spec.name!r} is not built: run `reconbench install "
            f"{spec.name}{flag}`"
        )

    def build(self, spec: MethodSpec, *, rebuild: bool = False, echo: bool = False) -> Environment:
        """Build the environment unless it is built already (rebuild=True: from scratch); returns it.

        Holds `<env dir>.lock` so two processes never build the same environment at once: the second
        one waits, then finds it built. A failed or interrupted build leaves its build.log but no marker.
        """
        spec.upstream_recipe()
        folder = self.env_dir(spec)
        folder.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(folder) + ".lock")
        try:
            lock.acquire(timeout=0.05)
        except Timeout:
            logger.info(f"waiting for another build of {spec.name!r} ({folder}.lock)")
            lock.acquire()
        try:
            if not rebuild and self.is_built(spec):
                return self.environment(spec)
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
            data = rc.recipe_data(spec.name, spec.upstream_recipe(), self.name)
            data["hash"] = self.recipe_hash(spec)
            write_json_atomic(folder / RECIPE, data)
            log = BuildLog(folder / LOG, echo=echo, method=spec.name, backend=self.name)
            log.note(f"reconbench {self.name} environment of method {spec.name!r}, recipe hash {data['hash']}")
            self._build(spec, folder, log)
            log.note("build complete")
            write_json_atomic(
                folder / BUILT_MARKER,
                {
                    "method": spec.name,
                    "hash": data["hash"],
                    "backend": self.name,
                    "built_at": _dt.datetime.now().isoformat(timespec="seconds"),
                },
            )
        finally:
            lock.release()
        return self.environment(spec)


def run_quiet(argv: Sequence[str], timeout: float = 60.0) -> subprocess.CompletedProcess | None:
    """Run a probe command; None if it cannot start or times out."""
    try:
        return subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
