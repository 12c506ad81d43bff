"""The upstream half of a method's spec as typed data: repository, environment recipe, weights, steps, output,
inputs, stage markers, input camera and intermediate views (docs/adapters.md, docs/environments.md).

Spec files stay plain dicts (`SPEC = {...}`); `UpstreamRecipe.from_dict` reads them strictly: an unknown or
misspelled key at any level is an error naming the method, the field's path and the keys allowed there
(`inputs={"removes_backround": True}` fails instead of being silently ignored). What the values mean (which
placeholders a step may use, which formats an output may have) is checked by reconbench.upstream.validate.

Pure data: imports only the standard library, so `methods/` can carry it without depending on `upstream/`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import PurePosixPath
from typing import Any, TypeVar

from reconbench.errors import ReconbenchError

_COMMIT = re.compile(r"[0-9a-f]{40}")
DEFAULT_CWD = "{out}"  # where a step runs unless it says otherwise


class SpecError(ReconbenchError, ValueError):
    """A method's spec is malformed: the message names the method, the field and what is allowed."""


def is_commit(text: object) -> bool:
    """A full 40-hex git commit (every pin of the project is one)."""
    return isinstance(text, str) and _COMMIT.fullmatch(text) is not None


def is_relative(path: object) -> bool:
    """A relative path that stays inside its folder: not empty, not absolute, no '..' component."""
    if not isinstance(path, str) or not path or path.startswith(("/", "~", "\\")):
        return False
    return ".." not in PurePosixPath(path.replace("\\", "/")).parts


T = TypeVar("T")


def _strict(cls: type, d: object, where: str) -> dict[str, Any]:
    """`d` as a dict whose keys are all fields of `cls`; otherwise a SpecError naming `where` and the allowed keys."""
    allowed = [f.name for f in fields(cls)]
    if not isinstance(d, Mapping):
        raise SpecError(f"{where} must be a mapping with keys {', '.join(allowed)}; got {type(d).__name__}")
    unknown = sorted(str(k) for k in d if k not in allowed)
    if unknown:
        raise SpecError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(allowed)}")
    return dict(d)


def _items(value: object, where: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, (list, tuple)):
        raise SpecError(f"{where} must be a list, got {type(value).__name__}")
    return list(value)


def _strings(value: object, where: str) -> tuple[str, ...]:
    items = _items(value, where)
    if not all(isinstance(i, str) for i in items):
        raise SpecError(f"{where} must be a list of strings, got {value!r}")
    return tuple(items)


def _string_map(value: object, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise SpecError(f"{where} must map names to strings, got {value!r}")
    return dict(value)


def _text(value: object, where: str) -> str:
    """A string field; None (written for "none") reads as ""."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise SpecError(f"{where} must be a string, got {value!r}")
    return value


@dataclass(frozen=True)
class Repo:
    """A repository pinned at a commit; `dest` is where an extra one goes inside the main checkout."""

    repo: str
    commit: str
    dest: str = ""

    @classmethod
    def from_dict(cls, d: object, where: str) -> Repo:
        d = _strict(cls, d, where)
        return cls(*(_text(d.get(k, ""), f"{where}.{k}") for k in ("repo", "commit", "dest")))


@dataclass(frozen=True)
class Upstream:
    """The method's own repository and any extra ones cloned into its checkout."""

    repo: str
    commit: str
    extra: tuple[Repo, ...] = ()

    @classmethod
    def from_dict(cls, d: object, where: str) -> Upstream:
        d = _strict(cls, d, where)
        extra = tuple(Repo.from_dict(e, f"{where}.extra[{i}]") for i, e in enumerate(_items(d.get("extra"), where)))
        return cls(_text(d.get("repo", ""), f"{where}.repo"), _text(d.get("commit", ""), f"{where}.commit"), extra)

    def to_dict(self) -> dict[str, Any]:
        """The spec's plain form (what results record): repo, commit, and extra only where there is one."""
        plain: dict[str, Any] = {"repo": self.repo, "commit": self.commit}
        if self.extra:
            plain["extra"] = [{"repo": e.repo, "commit": e.commit, "dest": e.dest} for e in self.extra]
        return plain

    @property
    def repos(self) -> tuple[Repo, ...]:
        """The main checkout (dest "") then each extra repository."""
        return (Repo(self.repo, self.commit, ""), *self.extra)


@dataclass(frozen=True)
class BuildStep:
    """A command run in the checkout (or `cwd` inside it) after the packages are installed."""

    argv: tuple[str, ...]
    cwd: str = ""

    @classmethod
    def from_value(cls, value: object, where: str) -> BuildStep:
        if isinstance(value, Mapping):
            d = _strict(cls, value, where)
            return cls(_strings(d.get("argv"), f"{where}.argv"), _text(d.get("cwd", ""), f"{where}.cwd"))
        return cls(_strings(value, where))


@dataclass(frozen=True)
class EnvironmentRecipe:
    """How the method's environment is built (docs/environments.md). A `packages` item that is itself a list is
    a pip call of its own; the image-only fields (apt, cuda, base_image) do not change a venv."""

    python: str = ""
    packages: tuple[str | tuple[str, ...], ...] = ()
    pip_args: tuple[str, ...] = ()
    build: tuple[BuildStep, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    cuda: str = ""
    apt: tuple[str, ...] = ()
    base_image: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The recipe as plain data, in the shapes a spec writes it, fields at their default left out (the
        environment's hash is computed over it, upstream/envs/recipe.py)."""
        plain: dict[str, Any] = {
            "python": self.python,
            "packages": [p if isinstance(p, str) else list(p) for p in self.packages],
            "pip_args": list(self.pip_args),
            "build": [list(b.argv) if not b.cwd else {"argv": list(b.argv), "cwd": b.cwd} for b in self.build],
            "env": dict(self.env),
            "cuda": self.cuda,
            "apt": list(self.apt),
            "base_image": self.base_image,
        }
        return {k: v for k, v in plain.items() if v}

    @classmethod
    def from_dict(cls, d: object, where: str) -> EnvironmentRecipe:
        d = _strict(cls, d, where)
        packages: list[str | tuple[str, ...]] = []
        for i, item in enumerate(_items(d.get("packages"), f"{where}.packages")):
            packages.append(item if isinstance(item, str) else _strings(item, f"{where}.packages[{i}]"))
        build = tuple(
            BuildStep.from_value(s, f"{where}.build[{i}]") for i, s in enumerate(_items(d.get("build"), where))
        )
        return cls(
            python=_text(d.get("python", ""), f"{where}.python"),
            packages=tuple(packages),
            pip_args=_strings(d.get("pip_args"), f"{where}.pip_args"),
            build=build,
            env=_string_map(d.get("env"), f"{where}.env"),
            cuda=_text(d.get("cuda", ""), f"{where}.cuda"),
            apt=_strings(d.get("apt"), f"{where}.apt"),
            base_image=_text(d.get("base_image", ""), f"{where}.base_image"),
        )


@dataclass(frozen=True)
class Weight:
    """A weight download: `kind` "hf" (repo_id, files or allow_patterns, revision, repo_type, gated) or "url"
    (url, dest, sha256);
    `env` names variables set at run time to folders under the weights folder."""

    kind: str = "hf"
    repo_id: str = ""
    files: tuple[str, ...] = ()
    allow_patterns: tuple[str, ...] = ()
    revision: str = ""
    repo_type: str = "model"
    gated: bool = False
    url: str = ""
    dest: str = ""
    sha256: str = ""  # url: the file's expected digest, checked after download
    env: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: object, where: str) -> Weight:
        d = _strict(cls, d, where)
        return cls(
            kind=_text(d.get("kind", "hf"), f"{where}.kind"),
            repo_id=_text(d.get("repo_id", ""), f"{where}.repo_id"),
            files=_strings(d.get("files"), f"{where}.files"),
            allow_patterns=_strings(d.get("allow_patterns"), f"{where}.allow_patterns"),
            revision=_text(d.get("revision", ""), f"{where}.revision"),
            repo_type=_text(d.get("repo_type", "model"), f"{where}.repo_type"),
            gated=bool(d.get("gated", False)),
            url=_text(d.get("url", ""), f"{where}.url"),
            dest=_text(d.get("dest", ""), f"{where}.dest"),
            sha256=_text(d.get("sha256", ""), f"{where}.sha256"),
            env=_string_map(d.get("env"), f"{where}.env"),
        )


@dataclass(frozen=True)
class Step:
    """One command of a method's run: `argv` with placeholders, run (no shell) in `cwd`; `stage` names its time.
    `preflight` maps a flag or download the source check cannot see to why it is fine (upstream/preflight.py)."""

    stage: str
    argv: tuple[str, ...]
    cwd: str = DEFAULT_CWD
    preflight: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: object, where: str) -> Step:
        d = _strict(cls, d, where)
        return cls(
            stage=_text(d.get("stage", ""), f"{where}.stage"),
            argv=_strings(d.get("argv"), f"{where}.argv"),
            cwd=_text(d.get("cwd", DEFAULT_CWD), f"{where}.cwd"),
            preflight=_string_map(d.get("preflight"), f"{where}.preflight"),
        )


@dataclass(frozen=True)
class OutputSpec:
    """The asset a method writes: a glob under {out}, its format, and for a zip the member inside it."""

    path: str
    format: str
    unpack: str | None = None
    member: str = ""

    @classmethod
    def from_dict(cls, d: object, where: str) -> OutputSpec:
        d = _strict(cls, d, where)
        unpack = d.get("unpack")
        return cls(
            path=_text(d.get("path", ""), f"{where}.path"),
            format=_text(d.get("format", ""), f"{where}.format"),
            unpack=None if unpack is None else _text(unpack, f"{where}.unpack"),
            member=_text(d.get("member", ""), f"{where}.member"),
        )


@dataclass(frozen=True)
class InputSpec:
    """How the input image(s) are written for the method (upstream/inputs.py)."""

    background: str = "transparent"  # transparent | white | grey
    resolution: int | None = None
    removes_background: bool = False  # the method mattes the image itself
    filename: str = "{name}.png"
    batch: bool = False  # one process takes several inputs ({inputs})
    recentre: float | None = None  # the object is rescaled to this fraction of the image

    @classmethod
    def from_dict(cls, d: object, where: str) -> InputSpec:
        d = _strict(cls, d, where)
        return cls(**d)  # value checks: upstream.validate (they are reported all together, not one by one)


@dataclass(frozen=True)
class StageMarker:
    """A line of the method's output matching `pattern` ends `stage` (upstream/timing.py)."""

    stage: str
    pattern: str

    @classmethod
    def from_dict(cls, d: object, where: str) -> StageMarker:
        d = _strict(cls, d, where)
        return cls(_text(d.get("stage", ""), f"{where}.stage"), _text(d.get("pattern", ""), f"{where}.pattern"))


@dataclass(frozen=True)
class InputCamera:
    """The input camera the method assumes (a number), is given ("given") or ignores (None)
    (upstream/input_camera.py)."""

    elevation: float | str | None = None
    azimuth: float | str | None = None
    fov: float | str | None = None
    elevation_sign: int = 1
    source: str = ""

    @classmethod
    def from_dict(cls, d: object, where: str) -> InputCamera:
        return cls(**_strict(cls, d, where))


@dataclass(frozen=True)
class ViewCamera:
    view: int
    azimuth: float
    elevation: float

    @classmethod
    def from_dict(cls, d: object, where: str) -> ViewCamera:
        d = _strict(cls, d, where)
        missing = [f.name for f in fields(cls) if f.name not in d]
        if missing:
            raise SpecError(f"{where}: missing {', '.join(missing)}")
        return cls(**d)


@dataclass(frozen=True)
class IntermediateViews:
    """The multi-view images a two-stage method generates and their cameras (viewscore/stages.py)."""

    path: str
    cameras: tuple[ViewCamera, ...]
    grid: tuple[int, int] = (1, 1)
    fov: float | None = None
    distance: float | None = None
    orthographic: float | None = None
    background: tuple[float, ...] | None = None
    saved_by: str = "upstream"
    source: str = ""

    @classmethod
    def from_dict(cls, d: object, where: str) -> IntermediateViews:
        d = _strict(cls, d, where)
        cameras = tuple(
            ViewCamera.from_dict(c, f"{where}.cameras[{i}]") for i, c in enumerate(_items(d.get("cameras"), where))
        )
        rest: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
        rest.update(path=_text(d.get("path", ""), f"{where}.path"), cameras=cameras)
        return cls(**rest)  # value checks: viewscore.stages.check_intermediate_views


@dataclass(frozen=True)
class UpstreamRecipe:
    """Everything needed to run an upstream method's own code: the typed form of a spec's upstream fields."""

    upstream: Upstream
    environment: EnvironmentRecipe
    steps: tuple[Step, ...]
    output: OutputSpec
    weights: tuple[Weight, ...] = ()
    inputs: InputSpec = field(default_factory=InputSpec)
    stage_markers: tuple[StageMarker, ...] = ()
    input_camera: InputCamera = field(default_factory=InputCamera)
    intermediate_views: IntermediateViews | None = None

    @classmethod
    def from_dict(cls, method: str, d: Mapping[str, Any]) -> UpstreamRecipe:
        """Read the upstream fields of a spec dict (other keys of the spec are ignored here)."""
        w = f"method {method!r}: "
        views = d.get("intermediate_views")
        return cls(
            upstream=Upstream.from_dict(d.get("upstream"), f"{w}upstream"),
            environment=EnvironmentRecipe.from_dict(d.get("environment") or {}, f"{w}environment"),
            steps=tuple(Step.from_dict(s, f"{w}steps[{i}]") for i, s in enumerate(_items(d.get("steps"), f"{w}steps"))),
            output=OutputSpec.from_dict(d.get("output") or {}, f"{w}output"),
            weights=tuple(
                Weight.from_dict(x, f"{w}weights[{i}]") for i, x in enumerate(_items(d.get("weights"), f"{w}weights"))
            ),
            inputs=InputSpec.from_dict(d.get("inputs") or {}, f"{w}inputs"),
            stage_markers=tuple(
                StageMarker.from_dict(m, f"{w}stage_markers[{i}]")
                for i, m in enumerate(_items(d.get("stage_markers"), f"{w}stage_markers"))
            ),
            input_camera=InputCamera.from_dict(d.get("input_camera") or {}, f"{w}input_camera"),
            intermediate_views=IntermediateViews.from_dict(views, f"{w}intermediate_views") if views else None,
        )


# Fields of a spec that make up its UpstreamRecipe (kept on MethodSpec as plain dicts too, for one release).
RECIPE_FIELDS = tuple(f.name for f in fields(UpstreamRecipe))


# ---------------------------------------------------------------- helpers for spec files (plain data out)


def torch_index(cuda: str) -> list[str]:
    """pip_args for PyTorch's CUDA wheel index, e.g. torch_index("cu121")."""
    return ["--extra-index-url", f"https://download.pytorch.org/whl/{cuda}"]


def git_build(url: str, commit: str, subdirectory: str = "") -> list[str]:
    """A build step pip-installing the repository `url` at `commit` (its `subdirectory` if given) against the
    environment's torch: no build isolation, so a CUDA extension's build sees that torch."""
    if not is_commit(commit):
        raise SpecError(f"git_build({url!r}): commit must be a full 40-hex commit, got {commit!r}")
    where = f"#subdirectory={subdirectory}" if subdirectory else ""
    return ["{python}", "-m", "pip", "install", "--no-build-isolation", f"git+{url}@{commit}{where}"]
