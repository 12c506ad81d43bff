"""Offline bundles: everything a method's venv environment and weights need, gathered on a connected machine
(`reconbench bundle`) and installed on a node without network (`reconbench install --from-bundle`).

Layout of a bundle folder:

    manifest.json             what is inside: methods, commits, python/platform, every file with its sha256
    source/<method>/<n>.bundle  a git bundle of each upstream repository holding the pinned commit
    wheels/                   wheels (and sdists where no wheel exists) for the target Python and platform,
                              plus archives of the recipe's git requirements (git+URL@commit)
    weights/hf/<repo folder>/<commit>/<file>   Hugging Face files as the hub cache holds them
    weights/url/<dest>        url weights

Installing checks the manifest first (format, every file's sha256, the method's recipe hash and commits, the
Python version and platform) and says exactly what does not match; then it builds with `LocalSources`
(envs/sources.py): git clones from the bundles, pip with `--no-index --find-links wheels/`.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import platform as _platform
import re
import shutil
import sys
import sysconfig
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import reconbench.upstream.envs.recipe as rc
from reconbench.errors import ReconbenchError
from reconbench.methods.base import MethodSpec
from reconbench.methods.recipe import is_commit
from reconbench.upstream.envs.base import checkout, write_json_atomic
from reconbench.upstream.envs.build_log import BuildLog
from reconbench.upstream.envs.sources import LocalSources, git_output

FORMAT = "reconbench-bundle/1"
MANIFEST = "manifest.json"
# What pip needs to build a local project or an sdist without an index (build isolation installs these from
# --find-links): always in the bundle.
BUILD_TOOLS = ["setuptools", "wheel"]


class BundleError(ReconbenchError):
    """A bundle cannot be made, or does not fit this method / machine; the message says what and why."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def host_platform() -> str:
    """This machine's platform as sysconfig names it, e.g. "linux-x86_64"."""
    return sysconfig.get_platform()


def platform_fits(bundle_platform: str, host: str | None = None) -> bool:
    """A bundle made for `bundle_platform` (sysconfig name or a wheel tag such as manylinux2014_x86_64) fits `host`."""
    host = host or host_platform()
    if bundle_platform == host:
        return True
    arch = host.rsplit("-", 1)[-1].replace("-", "_")
    tag = bundle_platform.replace("-", "_").replace(".", "_")
    system = host.split("-", 1)[0]
    if system == "linux":
        return tag.endswith(arch) and tag.startswith(("manylinux", "musllinux", "linux"))
    return tag.endswith(arch) and tag.startswith(system)


# ---------------------------------------------------------------------------------------------- requirements


def split_git_requirement(req: str) -> tuple[str, str, str] | None:
    """("https://host/repo.git", ref or "", subdirectory or "") of a pip VCS requirement `[name @ ]git+URL[@ref][#...]`;
    None for anything else."""
    text = req.split(" @ ", 1)[1].strip() if " @ " in req else req.strip()
    if not text.startswith("git+"):
        return None
    text, _, fragment = text[4:].partition("#")
    subdirectory = ""
    for part in fragment.split("&"):
        key, _, value = part.partition("=")
        if key == "subdirectory":
            subdirectory = value
    scheme, sep, rest = text.partition("://")
    path, at, ref = rest.rpartition("@") if "@" in rest.split("/", 1)[-1] else (rest, "", "")
    return (f"{scheme}{sep}{path}" if sep else path), ref, subdirectory


def _git_requirements(spec: MethodSpec, *, repo: str) -> list[str]:
    recipe = rc.environment_for(spec)
    found = [a for group in rc.package_groups(recipe, python="python", repo=repo) for a in group]
    found += [a for argv, _ in rc.build_commands(spec.name, recipe, python="python", repo=repo) for a in argv]
    return list(dict.fromkeys(a for a in found if split_git_requirement(a)))


def archive_git_requirement(req: str, wheels: Path, work: Path, log: BuildLog) -> Path:
    """Clone a git requirement at its ref (with submodules) and write it as `<name>-<commit12>.tar.gz`, an sdist-like
    archive pip installs offline. (By hand rather than `pip download`: pip would prepare the metadata, and
    setup.py files that import torch at build time cannot do that in an isolated build environment.)"""
    url, ref, subdirectory = split_git_requirement(req)  # type: ignore[misc]
    name = (
        re.sub(r"[^A-Za-z0-9]+", "-", url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")).strip("-") or "package"
    )
    clone = work / f"git-{name}-{hashlib.sha256(req.encode()).hexdigest()[:8]}"
    log.run(["git", "clone", "--quiet", url, str(clone)])
    if ref:
        log.run(["git", "-C", str(clone), "-c", "advice.detachedHead=false", "checkout", "--quiet", ref])
    log.run(["git", "-C", str(clone), "submodule", "update", "--init", "--recursive", "--quiet"])
    commit = git_output("rev-parse", "HEAD", cwd=clone).stdout.strip()
    root = clone / subdirectory if subdirectory else clone
    out = wheels / f"{name}-{commit[:12]}.tar.gz"
    with tarfile.open(out, "w:gz") as tar:
        tar.add(
            root, arcname=f"{name}-{commit[:12]}", filter=lambda t: None if t.name.split("/")[1:2] == [".git"] else t
        )
    log.note(f"archived {req} at {commit} as {out.name}")
    return out


def _build_requires(folder: Path) -> list[str]:
    """The [build-system] requires of a local project (PEP 518), setuptools + wheel when it has none."""
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file():
        try:
            import tomllib
        except ImportError:  # Python 3.10: no TOML reader in the standard library; the defaults below usually do
            return list(BUILD_TOOLS)
        requires = tomllib.loads(pyproject.read_text()).get("build-system", {}).get("requires")
        if requires:
            return [str(r) for r in requires]
    return list(BUILD_TOOLS)


def _local_projects(group: list[str], repo: Path) -> list[Path]:
    """Requirements of a pip call that are folders of the checkout ("{repo}", "-e {repo}", "{repo}/sub")."""
    return [
        Path(a)
        for a in group
        if not a.startswith("-") and Path(a).is_dir() and Path(a).resolve().is_relative_to(repo.resolve())
    ]


def download_packages(
    spec: MethodSpec, repo: Path, wheels: Path, log: BuildLog, *, python: str, platform: str | None
) -> None:
    """`pip download` every package of the recipe (and of the local projects' build systems) into `wheels`.

    Target Python = this interpreter and no platform given: plain `pip download --prefer-binary` (sdists where no
    wheel exists; they are built on install). Otherwise `--only-binary=:all: --python-version --platform`
    (pip cannot resolve sdists for another interpreter): a package without a wheel for the target fails the bundle.
    """
    host = "%d.%d" % sys.version_info[:2]
    if python == host and not platform:
        target = ["--prefer-binary"]
    else:
        target = ["--only-binary=:all:", "--python-version", python, "--implementation", "cp"]
        if platform:
            target += ["--platform", platform]
    recipe = rc.environment_for(spec)
    extra = rc.pip_args(recipe, python="python", repo=str(repo))
    calls: list[list[str]] = []
    seed = rc.seed_requirements(recipe)
    tools = list(BUILD_TOOLS)
    for group in rc.package_groups(recipe, python="python", repo=str(repo)):
        group = [a for a in group if not split_git_requirement(a)]
        for project in _local_projects(group, repo):
            tools += _build_requires(project)
        if [a for a in group if not a.startswith("-")]:
            calls.append(group)
    calls = [seed, tools, *calls] if seed else [tools, *calls]
    for group in calls:
        # --no-build-isolation off: pip builds metadata of local projects/sdists itself; "-e DIR" is not a download
        group = [a for a in group if a != "-e"]
        log.run([sys.executable, "-m", "pip", "download", "--dest", str(wheels), *target, *extra, *group], cwd=repo)


# ---------------------------------------------------------------------------------------------- weights


def _bundle_weights(spec: MethodSpec, out: Path, log: BuildLog) -> list[dict[str, Any]]:
    """Copy every weight of the method (fetched first if not cached) into the bundle; their manifest entries."""
    from reconbench.upstream.envs.weights import cached_path, fetch_weights, weight_items

    if any(cached_path(item) is None for item in weight_items(spec)):
        fetch_weights(spec, progress=False)
    entries = []
    for item in weight_items(spec):
        found = cached_path(item)
        assert found is not None, item.label
        if item.kind == "url":
            rel = Path("weights") / "url" / item.dest
            _copy(found, out / rel)
            entries.append({"kind": "url", "dest": item.dest, "path": rel.as_posix(), "label": item.label})
            continue
        parts = found.parts
        i = parts.index("snapshots")  # <cache>/<repo folder>/snapshots/<commit>[/<file>]
        folder, commit = parts[i - 1], parts[i + 1]
        rel = Path("weights") / "hf" / folder / commit
        if item.filename:
            _copy(found, out / rel / item.filename)
        else:
            shutil.copytree(found, out / rel, dirs_exist_ok=True)  # symlinks into blobs/ are followed
        entries.append(
            {
                "kind": "hf",
                "repo_id": item.repo_id,
                "repo_type": item.repo_type,
                "revision": item.revision,
                "commit": commit,
                "folder": folder,
                "filename": item.filename,
                "path": rel.as_posix(),
                "label": item.label,
            }
        )
        log.note(f"bundled weight {item.label}")
    return entries


def _copy(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)  # follows the hub cache's symlink to the blob


# ---------------------------------------------------------------------------------------------- bundle


def make_bundle(
    specs: list[MethodSpec],
    out: Path | str,
    *,
    python: str | None = None,
    platform: str | None = None,
    weights: bool = True,
    echo: bool = False,
) -> dict[str, Any]:
    """Gather the upstream code, packages and weights of `specs` into `out` (needs the network); returns the manifest.

    python: the target "X.Y" (default: each recipe's own); platform: a wheel platform tag such as
    manylinux2014_x86_64 (default: this machine's). Adds to an existing bundle in `out`.
    """
    out = Path(out).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    wheels = out / "wheels"
    wheels.mkdir(exist_ok=True)
    manifest = _read_manifest(out) if (out / MANIFEST).is_file() else {"format": FORMAT, "methods": {}, "files": {}}
    log = BuildLog(out / "bundle.log", echo=echo, method=", ".join(s.name for s in specs), backend="bundle")
    for spec in specs:
        if spec.recipe is None:
            raise BundleError(f"method {spec.name!r} runs in-process: it has no upstream code to bundle")
        needed = rc.python_version(spec.name, rc.environment_for(spec))
        if python and python != needed:
            raise BundleError(f"method {spec.name!r}: its recipe needs Python {needed}, not {python}")
        target_python = python or needed
        log.note(f"==== bundling {spec.name!r} for Python {target_python}, platform {platform or host_platform()}")
        with tempfile.TemporaryDirectory(prefix=f"reconbench-bundle-{spec.name}-") as tmp:
            work = Path(tmp)
            repo = work / "repo"
            checkout(spec, repo, log)
            repos = []
            for n, item in enumerate(rc.upstream_repos(spec.name, spec.upstream_recipe())):
                folder = repo / item["dest"] if item["dest"] else repo
                if (folder / ".gitmodules").is_file():
                    raise BundleError(
                        f"method {spec.name!r}: {item['repo']} has git submodules, which bundles do not carry yet"
                    )
                rel = Path("source") / spec.name / f"{n}.bundle"
                (out / rel).parent.mkdir(parents=True, exist_ok=True)
                log.run(["git", "-C", str(folder), "branch", "--force", "reconbench-pinned", item["commit"]])
                log.run(["git", "-C", str(folder), "bundle", "create", str(out / rel), "reconbench-pinned"])
                repos.append({**item, "file": rel.as_posix()})
            requirements = {}
            for req in _git_requirements(spec, repo=str(repo)):
                requirements[req] = archive_git_requirement(req, wheels, work, log).relative_to(out).as_posix()
            download_packages(spec, repo, wheels, log, python=target_python, platform=platform)
        entry = {
            "recipe_hash": rc.recipe_hash(spec.name, spec.upstream_recipe(), "venv"),
            "python": target_python,
            "upstream": repos,
            "requirements": requirements,
            "weights": _bundle_weights(spec, out, log) if weights else [],
        }
        manifest["methods"][spec.name] = entry
    manifest.update(
        {
            "format": FORMAT,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "platform": platform or host_platform(),
            "reconbench": _reconbench_version(),
            "files": {
                p.relative_to(out).as_posix(): sha256_file(p)
                for p in sorted(out.rglob("*"))
                if p.is_file() and p.name not in (MANIFEST, "bundle.log")
            },
        }
    )
    manifest["sdists"] = sorted(f for f in manifest["files"] if f.startswith("wheels/") and not f.endswith(".whl"))
    write_json_atomic(out / MANIFEST, manifest)
    return manifest


def _reconbench_version() -> str:
    try:
        from importlib.metadata import version

        return version("reconbench")
    except Exception:
        return "unknown"


# ---------------------------------------------------------------------------------------------- install


def _read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.is_file():
        raise BundleError(
            f"{folder} is not a reconbench bundle: it has no {MANIFEST} (make one with `reconbench bundle METHOD --out "
            f"DIR`)"
        )
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise BundleError(f"{path}: not readable JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BundleError(
            f"{path}: format {data.get('format') if isinstance(data, dict) else '?'!r}, this reconbench reads "
            f"{FORMAT!r}"
        )
    return data


def read_bundle(folder: Path | str, *, check_files: bool = True) -> dict[str, Any]:
    """The bundle's manifest, after checking that every listed file is there with its sha256."""
    folder = Path(folder).expanduser().resolve()
    manifest = _read_manifest(folder)
    if check_files:
        bad = []
        for rel, digest in manifest.get("files", {}).items():
            path = folder / rel
            if not path.is_file():
                bad.append(f"{rel} is missing")
            elif sha256_file(path) != digest:
                bad.append(f"{rel} has a different sha256 (damaged or changed copy)")
        if bad:
            raise BundleError(
                f"bundle {folder} is incomplete or damaged: "
                + "; ".join(bad[:5])
                + (f"; and {len(bad) - 5} more" if len(bad) > 5 else "")
                + " — copy it again"
            )
    return manifest


def method_entry(manifest: dict[str, Any], spec: MethodSpec, folder: Path | str) -> dict[str, Any]:
    """The bundle's entry of `spec`, checked against this machine and this reconbench's recipe."""
    entry = manifest.get("methods", {}).get(spec.name)
    if entry is None:
        held = ", ".join(sorted(manifest.get("methods", {}))) or "nothing"
        raise BundleError(f"method {spec.name!r} is not in the bundle {folder} (it holds: {held})")
    pinned = [r["commit"] for r in rc.upstream_repos(spec.name, spec.upstream_recipe())]
    bundled = [r.get("commit") for r in entry.get("upstream", [])]
    if pinned != bundled:
        raise BundleError(
            f"method {spec.name!r}: the bundle holds commit(s) {bundled}, this reconbench pins {pinned}: "
            f"make the bundle again with this version of reconbench"
        )
    digest = rc.recipe_hash(spec.name, spec.upstream_recipe(), "venv")
    if entry.get("recipe_hash") != digest:
        raise BundleError(
            f"method {spec.name!r}: the bundle was made for another recipe (hash {str(entry.get('recipe_hash'))[:12]}, "
            f"this reconbench's is {digest[:12]}): make the "
            f"bundle again with this version of reconbench (and the same RECONBENCH_RECIPE_OVERRIDES, if any)"
        )
    needed = rc.python_version(spec.name, rc.environment_for(spec))
    if entry.get("python") != needed:
        raise BundleError(
            f"method {spec.name!r}: the bundle's packages are for Python {entry.get('python')}, the recipe needs "
            f"{needed}"
        )
    plat = str(manifest.get("platform", ""))
    if not platform_fits(plat):
        raise BundleError(
            f"bundle {folder} was made for platform {plat!r}, this machine is {host_platform()!r} "
            f"({_platform.machine()}): make it with `--platform` for this machine"
        )
    return entry


def local_sources(folder: Path | str, entry: dict[str, Any]) -> LocalSources:
    """What a venv build takes from the bundle instead of the network."""
    folder = Path(folder).expanduser().resolve()
    return LocalSources(
        repos={r["repo"]: str(folder / r["file"]) for r in entry.get("upstream", [])},
        requirements={req: str(folder / rel) for req, rel in entry.get("requirements", {}).items()},
        find_links=str(folder / "wheels"),
    )


def install_weights(folder: Path | str, entry: dict[str, Any], spec: MethodSpec) -> list[str]:
    """Copy the method's bundled weights into the Hugging Face cache and the weights folder (what a run reads);
    returns the labels copied. Afterwards nothing of the method's weights may be missing."""
    from reconbench.system.paths import hf_cache_dir
    from reconbench.upstream.envs.weights import missing_weights, weights_dir

    folder = Path(folder).expanduser().resolve()
    copied = []
    for w in entry.get("weights", []):
        src = folder / w["path"]
        if w["kind"] == "url":
            dest = weights_dir() / w["dest"]
            if not dest.is_file():
                _copy(src, dest)
                copied.append(w["label"])
            continue
        repo_folder = hf_cache_dir() / w["folder"]
        snapshot = repo_folder / "snapshots" / w["commit"]
        if w["filename"]:
            dest = snapshot / w["filename"]
            if not dest.is_file():
                _copy(src / w["filename"], dest)
                copied.append(w["label"])
        else:
            shutil.copytree(src, snapshot, dirs_exist_ok=True)
            copied.append(w["label"])
        if not is_commit(w["revision"]):  # how the hub cache maps a branch name to a commit
            ref = repo_folder / "refs" / w["revision"]
            ref.parent.mkdir(parents=True, exist_ok=True)
            ref.write_text(w["commit"])
    missing = missing_weights(spec)
    if missing:
        raise BundleError(
            f"method {spec.name!r}: after copying from the bundle {folder}, still missing: {', '.join(missing)} "
            f"(bundle made with --no-weights, or for another weights list)"
        )
    return copied
