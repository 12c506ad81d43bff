"""What every environment backend shares: the cache layout, the recipe and its hash, the build log,
the checkout of the pinned upstream commit(s), the lock, and the `Environment` a method runs in.

Every command is an argv list run with `subprocess` (never a shell string); its output goes to the
environment's `build.log`, kept whether the build succeeds or fails.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from reconbench.errors import ReconbenchError
from reconbench.methods.base import MethodSpec
from reconbench.system.paths import cache_root
from reconbench.upstream.envs.overrides import environment_of
from reconbench.upstream.envs.sources import LocalSources, SourceMismatch, copy_checkout, verify_checkout
from reconbench.upstream.placeholders import substitute_recipe

BACKEND_VERSION = "1"  # bump when a backend builds differently: every environment gets a new folder
BUILT_MARKER = "built.json"  # written last: an environment without it is not built
LOG = "build.log"
RECIPE = "recipe.json"

# Recipe fields that only the images (Docker, Apptainer) use: changing them does not rebuild a venv.
DOCKER_ONLY_FIELDS = ("apt", "cuda", "base_image")


class EnvironmentMissing(ReconbenchError):
    """A method's environment is not built."""


class EnvironmentBuildError(ReconbenchError):
    """Building an environment failed; the message names the method, the failing command and the build log."""


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "method"


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
        if not repo or not re.fullmatch(r"[0-9a-f]{40}", commit):
            raise ValueError(f"method {spec.name!r}: upstream.extra[{i}] needs a repo and a full 40-hex commit")
        parts = Path(dest).parts
        if not dest or Path(dest).is_absolute() or ".." in parts:
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


def host_environment() -> dict[str, str]:
    """This process's environment minus what would point another interpreter at our Python
    (PYTHONHOME, PYTHONPATH): the base of every build and run command's environment."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "PYTHONPATH")}


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
        if Path(cwd).is_absolute() or ".." in Path(cwd).parts:
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


class BuildLog:
    """Appends every command and its output to build.log; echo=True also streams it to stderr."""

    def __init__(self, path: Path, *, echo: bool = False, method: str = "", backend: str = "") -> None:
        self.path = Path(path)
        self.echo = echo
        self.method = method
        self.backend = backend

    def note(self, text: str) -> None:
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(text.rstrip("\n") + "\n")
        if self.echo:
            print(text, file=sys.stderr, flush=True)

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | str | None = None,
        env: Mapping[str, str] | None = None,
        check: bool = True,
    ) -> int:
        """Run one command, its output appended to the log; a non-zero exit raises EnvironmentBuildError
        (check=True)."""
        argv = [str(a) for a in argv]
        stamp = _dt.datetime.now().isoformat(timespec="seconds")
        self.note(f"\n==> [{stamp}] $ {shlex.join(argv)}" + (f"   (cwd: {cwd})" if cwd else ""))
        full_env = {
            **host_environment(),
            "GIT_TERMINAL_PROMPT": "0",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        start = time.monotonic()
        try:
            proc = subprocess.Popen(
                argv,
                cwd=str(cwd) if cwd else None,
                env=full_env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
        except OSError as exc:
            self.note(f"<== could not start: {exc}")
            if check:
                raise EnvironmentBuildError(
                    f"building the {self.backend} environment of method {self.method!r} failed: could not run "
                    f"`{shlex.join(argv)}`: {exc}; build log: {self.path}"
                ) from None
            return 127
        assert proc.stdout is not None
        with open(self.path, "ab") as log:
            for line in iter(proc.stdout.readline, b""):
                log.write(line)
                log.flush()
                if self.echo:
                    sys.stderr.write(line.decode(errors="replace"))
                    sys.stderr.flush()
        rc = proc.wait()
        self.note(f"<== exit {rc} in {time.monotonic() - start:.1f} s")
        if rc != 0 and check:
            raise EnvironmentBuildError(
                f"building the {self.backend} environment of method {self.method!r} failed: "
                f"`{shlex.join(argv)}` exited with status {rc}"
                + (f" (cwd {cwd})" if cwd else "")
                + f"; build log: {self.path}\n--- last lines of the log ---\n{self.tail()}"
            )
        return rc

    def tail(self, n: int = 20) -> str:
        try:
            lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])


def checkout(spec: MethodSpec, dest: Path, log: BuildLog, sources: LocalSources | None = None) -> None:
    """Clone the upstream repository and each extra one (into its dest inside the checkout) at the pinned commits.

    With `sources`: the main repository copied from a local checkout (verified to be at the pinned commit,
    unchanged), and repositories cloned from local copies (an offline bundle's git bundles) instead of their URLs.
    """
    for item in upstream_repos(spec):
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
        return recipe_hash(spec, self.name)

    def env_dir(self, spec: MethodSpec) -> Path:
        return self.root / "envs" / f"{_safe_name(spec.name)}-{self.recipe_hash(spec)[:12]}"

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
        require_upstream(spec)
        folder = self.env_dir(spec)
        folder.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(folder) + ".lock")
        try:
            lock.acquire(timeout=0.05)
        except Timeout:
            print(
                f"reconbench: waiting for another build of {spec.name!r} ({folder}.lock)", file=sys.stderr, flush=True
            )
            lock.acquire()
        try:
            if not rebuild and self.is_built(spec):
                return self.environment(spec)
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
            data = recipe(spec, self.name)
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
