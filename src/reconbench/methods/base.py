"""The method protocol: a method is data (MethodSpec) plus one entry point `run(MethodInput) -> MethodOutput`.

The entry point is named in the spec as "module:function" and imported only where the method runs,
so the host can list, cost and report every method without installing any of them.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from reconbench.literature.types import Published
from reconbench.methods.recipe import RECIPE_FIELDS, SpecError, UpstreamRecipe, is_commit
from reconbench.protocol import Camera
from reconbench.protocol.frames import Frame, resolve_frame

PARADIGMS = ("feed-forward", "per-scene", "reference")
REPRESENTATIONS = ("mesh", "splats")


@dataclass(frozen=True)
class MethodSpec:
    """Everything the host knows about a method without importing it."""

    name: str
    paradigm: str  # feed-forward | per-scene | reference
    representation: str  # mesh | splats
    description: str
    entry: str = ""  # "module:function" implementing run(MethodInput) -> MethodOutput (in-process methods)
    input_views: tuple[int, ...] = (1,)  # numbers of input views it accepts
    needs_gpu: bool = False
    uses_gpu_if_present: bool = False  # runs on a CPU, but takes a GPU when one is there (executors reserve it)
    frame: str = "y-up"  # frame of its output files: a generic one (protocol/frames.py) or one of `frames`
    # Frames particular to this method's writer, as data: {"name", "matrix" (4x4 to canonical), "description",
    # "reflection"?}, read strictly into `declared_frames`; they travel with the spec to wherever it is scored.
    frames: tuple[dict[str, Any], ...] = ()
    scale: str = "none"  # "bbox" or "none" (alignment.SCALE_CONVENTIONS)
    needs_ground_truth: bool = False  # only the oracle
    requires: tuple[str, ...] = ()  # Python modules that must be importable where it runs
    timeout_s: float = 600.0
    sources: tuple[dict[str, str], ...] = ()  # {"title", "url"}
    licence: str = ""
    published: Published = field(default_factory=Published)  # every published figure, with its source (literature/)
    # External (upstream) methods run as commands in their own environment (docs/methods.md, "Adapters").
    # These plain-dict fields are the INPUT format (adapters' and third-party SPEC dicts stay plain data): they
    # are read into `recipe` below, and code that runs a method reads `recipe`, never these. Remaining readers:
    # upstream/validate.py (checks the values as written, with their spelling), the intermediate-view scorer
    # (viewscore/stages.py) and the provenance a result records (`upstream`, as written).
    upstream: dict[str, Any] = field(
        default_factory=dict
    )  # {"repo": URL, "commit": 40 hex, "extra": [{"repo", "commit", "dest"}]}
    environment: dict[str, Any] = field(
        default_factory=dict
    )  # recipe: python, packages, pip_args, build, cuda, apt, env
    weights: tuple[
        dict[str, Any], ...
    ] = ()  # {"kind": "hf", "repo_id", "files", "revision"} | {"kind": "url", "url", "dest"}
    steps: tuple[dict[str, Any], ...] = ()  # {"stage", "argv": [... placeholders ...], "cwd"?}, run in order
    output: dict[str, Any] = field(default_factory=dict)  # {"path": glob under {out}, "format", "unpack"?}
    inputs: dict[str, Any] = field(
        default_factory=dict
    )  # {"background": "transparent"|"white"|"grey", "resolution", "removes_background"}
    stage_markers: tuple[dict[str, str], ...] = ()  # {"stage", "pattern"}: a stdout line matching ends that stage
    input_camera: dict[str, Any] = field(
        default_factory=dict
    )  # the input camera it assumes or is given (upstream/input_camera.py)
    # Two-stage methods: the multi-view images they generate and the cameras they were generated at
    # (viewscore/stages.py, docs/adapters.md "Intermediate views"); scored as stage1_* metrics.
    intermediate_views: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(
        default_factory=dict
    )  # trained here: {"entry": "module:function", "weights": "package:folder"} (`reconbench train`)
    # The upstream fields above read strictly into typed data (methods/recipe.py); None for an in-process method.
    # What runs, installs, bundles, preflights and times a method reads this.
    recipe: UpstreamRecipe | None = field(default=None, init=False, compare=False, repr=False)
    declared_frames: tuple[Frame, ...] = field(default=(), init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.published, dict):  # a plain-dict spec (third-party, or read back from asdict)
            object.__setattr__(self, "published", Published.from_dict(self.name, self.published))
        if not isinstance(self.published, Published):
            raise ValueError(f"method {self.name!r}: published must be a literature.types.Published")
        if self.paradigm not in PARADIGMS:
            raise ValueError(f"method {self.name!r}: paradigm must be one of {PARADIGMS}, got {self.paradigm!r}")
        if self.representation not in REPRESENTATIONS:
            raise ValueError(f"method {self.name!r}: representation must be one of {REPRESENTATIONS}")
        try:
            declared = tuple(Frame.from_dict(f"method {self.name!r}", d) for d in self.frames)
        except ValueError as exc:
            raise SpecError(str(exc)) from None
        names = [f.name for f in declared]
        if len(set(names)) != len(names):
            raise SpecError(f"method {self.name!r}: frames declared twice: {', '.join(names)}")
        object.__setattr__(self, "declared_frames", declared)
        if self.steps and self.entry:
            raise ValueError(f"method {self.name!r}: give either an entry point or external steps, not both")
        if not self.steps and ":" not in self.entry:
            raise ValueError(f"method {self.name!r}: entry must be 'module:function', got {self.entry!r}")
        if self.steps:  # read strictly first: a wrong shape or a misspelled key is named before anything reads it
            typed = UpstreamRecipe.from_dict(self.name, {k: getattr(self, k) for k in RECIPE_FIELDS})
            object.__setattr__(self, "recipe", typed)
            if not (typed.upstream.repo and typed.output.path):
                raise SpecError(f"method {self.name!r}: an external method needs upstream.repo and output.path")
            if not is_commit(typed.upstream.commit):
                raise SpecError(
                    f"method {self.name!r}: upstream.commit must be a full 40-hex commit, got {typed.upstream.commit!r}"
                )
        else:
            stray = [k for k in RECIPE_FIELDS if k != "intermediate_views" and getattr(self, k)]
            if stray:
                raise SpecError(
                    f"method {self.name!r}: {', '.join(stray)} describe an upstream method run as commands; "
                    f"an in-process method (entry {self.entry!r}) takes none of them"
                )
        if self.intermediate_views:
            from reconbench.viewscore.stages import check_intermediate_views

            check_intermediate_views(self.name, self.intermediate_views)

    def wants_gpu(self, gpus_present: bool) -> bool:
        """Whether a job of this method should be given (and so reserve) a GPU."""
        return self.needs_gpu or (self.uses_gpu_if_present and gpus_present)

    def frame_for(self, name: str | None = None) -> Frame:
        """The frame an output is written in: `name` (a MethodOutput.frame override) or the spec's own, looked up
        among the frames this spec declares first, then the generic ones (UnknownName lists both)."""
        return resolve_frame(name or self.frame, self.declared_frames)

    @property
    def is_external(self) -> bool:
        """Runs upstream code as commands in its own environment rather than as an in-process entry point."""
        return bool(self.steps)

    def upstream_recipe(self) -> UpstreamRecipe:
        """The typed recipe of a method run from upstream code; a ValueError for an in-process method (it has none)."""
        if self.recipe is None:
            raise ValueError(
                f"method {self.name!r} runs in-process: it has no upstream recipe (repository, environment, steps)"
            )
        return self.recipe

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> MethodSpec:
        """A spec module's SPEC dict; an unknown key (at any level of the upstream recipe) is a SpecError."""
        d = dict(d)
        for derived in ("recipe", "declared_frames"):  # dataclasses.asdict of a spec carries them: rebuilt
            d.pop(derived, None)
        allowed = [f.name for f in fields(cls) if f.init]
        unknown = sorted(str(k) for k in d if k not in allowed)
        if unknown:
            raise SpecError(
                f"method {d.get('name', '?')!r}: unknown key(s) {', '.join(map(repr, unknown))}; "
                f"allowed: {', '.join(allowed)}"
            )
        for key in ("input_views", "requires", "sources", "frames", "weights", "steps", "stage_markers"):
            if key in d:
                d[key] = tuple(d[key])
        return cls(**d)

    def load_entry(self) -> Callable[[MethodInput], MethodOutput]:
        """The in-process entry point (an upstream method's runner is reconbench.registry.load_entry's business)."""
        if self.is_external:
            raise ValueError(f"method {self.name!r} runs upstream code as commands: use reconbench.registry.load_entry")
        module, _, func = self.entry.partition(":")
        return getattr(importlib.import_module(module), func)


@dataclass(frozen=True)
class GroundTruthFile:
    """The ground-truth file as the dataset has it; given only to methods that declare they need it."""

    path: Path
    frame: str
    texture_dirs: tuple[Path, ...] = ()
    yaw_deg: float = 0.0  # the object list's turn about +Y after normalisation (datasets/object_list.py)


@dataclass(frozen=True)
class MethodInput:
    images: tuple[np.ndarray, ...]  # RGBA uint8, (H, W, 4), alpha = foreground
    cameras: tuple[Camera, ...]
    image_paths: tuple[Path, ...]  # the same images as PNG files
    workdir: Path  # the method writes here, and only here
    seed: int = 0
    ground_truth: GroundTruthFile | None = None


@dataclass(frozen=True)
class MethodOutput:
    asset: Path
    stage_seconds: dict[str, float]  # e.g. {"model_load": .., "generation": .., "export": ..}
    frame: str | None = None  # overrides the spec's frame for this output
    scale: str | None = None
    texture_dirs: tuple[Path, ...] = ()
    info: dict[str, Any] = field(default_factory=dict)
