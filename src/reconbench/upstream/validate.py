"""What is wrong with an upstream method's spec: every problem at once, each naming the field (run when a method
is registered, reconbench.registry). The typed recipe (methods/recipe.py) has already refused unknown keys and
wrong shapes; this checks the values: placeholders, formats, paths, commits, patterns, the input camera."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from reconbench.methods.base import MethodSpec
from reconbench.methods.recipe import DEFAULT_CWD, is_commit, is_relative
from reconbench.upstream import input_camera
from reconbench.upstream.placeholders import (
    BUILD_PLACEHOLDERS,
    CWD_PLACEHOLDERS,
    PLACEHOLDERS,
    WHOLE_ONLY,
    placeholders_in,
)

OUTPUT_FORMATS = {"mesh": ("obj", "ply", "glb"), "splats": ("ply",)}
UNPACKERS = ("zip",)
BACKGROUNDS = ("transparent", "white", "grey")
WEIGHT_KINDS = ("hf", "url")


def validate_spec(spec: MethodSpec, *, provenance: bool = True) -> list[str]:
    """Every problem found in an external method's spec (empty when it is sound).

    provenance=False leaves out what only a published adapter must have (an https repository, a licence,
    sources): a method registered for a local checkout (scripts, tests) is still checked for everything else."""
    if not spec.is_external:
        return [f"{spec.name}: not an external method (no steps)"]
    problems: list[str] = []
    problems += _check_upstream(spec.upstream, provenance)
    problems += _check_environment(spec.environment, provenance)
    problems += _check_weights(spec.weights, provenance)
    problems += _check_steps(spec.steps)
    problems += _check_output(spec.output, spec.representation)
    problems += _check_inputs(spec.inputs)
    if spec.inputs.get("batch") and not any(arg == "{inputs}" for step in spec.steps for arg in step.get("argv", ())):
        problems.append("inputs.batch says the command takes several inputs, but no step passes {inputs}")
    problems += _check_markers(spec.stage_markers)
    problems += input_camera.check_spec(spec.input_camera, spec.steps)
    problems += _check_conventions(spec, provenance)
    return [f"{spec.name}: {p}" for p in problems]


def _check_upstream(upstream: Mapping[str, Any], provenance: bool) -> list[str]:
    problems = []
    if not str(upstream.get("repo", "")).startswith("https://" if provenance else ""):
        problems.append(f"upstream.repo must be an https URL, got {upstream.get('repo')!r}")
    if not is_commit(upstream.get("commit", "")):
        problems.append(f"upstream.commit must be a full 40-hex commit, got {upstream.get('commit')!r}")
    for i, extra in enumerate(upstream.get("extra", ())):
        if not str(extra.get("repo", "")).startswith("https://" if provenance else ""):
            problems.append(f"upstream.extra[{i}].repo must be an https URL")
        if not is_commit(extra.get("commit", "")):
            problems.append(f"upstream.extra[{i}].commit must be a full 40-hex commit, got {extra.get('commit')!r}")
        if not is_relative(str(extra.get("dest", ""))):
            problems.append(
                f"upstream.extra[{i}].dest must be a relative path inside the checkout, got {extra.get('dest')!r}"
            )
    return problems


def _check_environment(env: Mapping[str, Any], provenance: bool) -> list[str]:
    """The recipe as reconbench.upstream.envs reads it (docs/environments.md): packages are requirement strings, or
    nested lists of them (a pip call of their own); build steps are argv lists or {"argv", "cwd"}."""
    problems = []
    if not re.fullmatch(r"3\.\d+", str(env.get("python", ""))):
        problems.append(f"environment.python must be a version like '3.10', got {env.get('python')!r}")
    packages = env.get("packages", ())
    flat = [q for p in packages for q in (p if isinstance(p, (list, tuple)) else [p])]
    if (provenance and not flat) or not all(isinstance(p, str) and p.strip() for p in flat):
        problems.append("environment.packages must be a non-empty list of requirement strings (or lists of them)")
    for text in [*flat, *env.get("pip_args", ())]:
        problems += _unknown(str(text), BUILD_PLACEHOLDERS, "environment")
    for i, step in enumerate(env.get("build", ())):
        argv = step.get("argv") if isinstance(step, Mapping) else step
        if not isinstance(argv, (list, tuple)) or not argv or not all(isinstance(a, str) for a in argv):
            problems.append(f"environment.build[{i}] must be an argument list of strings (or {{'argv', 'cwd'}})")
            continue
        for arg in argv:
            problems += _unknown(arg, BUILD_PLACEHOLDERS, f"environment.build[{i}]")
    for key, value in env.get("env", {}).items():
        if not isinstance(key, str) or not isinstance(value, str):
            problems.append(f"environment.env must map names to strings, got {key!r}: {value!r}")
        else:
            problems += _unknown(value, BUILD_PLACEHOLDERS, f"environment.env[{key!r}]")
    return problems


def _check_weights(weights: Sequence[Mapping[str, Any]], provenance: bool) -> list[str]:
    problems = []
    for i, w in enumerate(weights):
        kind = w.get("kind")
        if kind not in WEIGHT_KINDS:
            problems.append(f"weights[{i}].kind must be one of {WEIGHT_KINDS}, got {kind!r}")
        elif kind == "hf":
            if not re.fullmatch(r"[\w.-]+/[\w.-]+", str(w.get("repo_id", ""))):
                problems.append(f"weights[{i}].repo_id must be 'owner/name', got {w.get('repo_id')!r}")
            if not isinstance(w.get("files", []), (list, tuple)):
                problems.append(f"weights[{i}].files must be a list of file names (absent or empty: a snapshot)")
        else:
            if not str(w.get("url", "")).startswith("https://" if provenance else ("https://", "file://")):
                problems.append(f"weights[{i}].url must be an https URL, got {w.get('url')!r}")
            if not is_relative(str(w.get("dest", ""))):
                problems.append(
                    f"weights[{i}].dest must be a relative path under the weights folder, got {w.get('dest')!r}"
                )
        for key, value in w.get("env", {}).items():
            if not is_relative(str(value)) and value != ".":
                problems.append(f"weights[{i}].env[{key!r}] must be a relative path under the weights folder")
    return problems


def _check_steps(steps: Sequence[Mapping[str, Any]]) -> list[str]:
    problems = []
    writes_out = False
    for i, step in enumerate(steps):
        where = f"steps[{i}] ({step.get('stage', '?')})"
        if not isinstance(step.get("stage"), str) or not step.get("stage"):
            problems.append(f"{where}: stage must be a non-empty string")
        argv = step.get("argv")
        if not isinstance(argv, (list, tuple)) or not argv or not all(isinstance(a, str) and a for a in argv):
            problems.append(f"{where}: argv must be a non-empty list of non-empty strings")
            continue
        for arg in argv:
            if arg == "{inputs}":
                continue
            problems += _unknown(arg, tuple(p for p in PLACEHOLDERS if p not in WHOLE_ONLY), where)
            if any(p in WHOLE_ONLY for p in placeholders_in(arg)):
                problems.append(f"{where}: {{inputs}} must be a whole argument, got {arg!r}")
            writes_out = writes_out or "out" in placeholders_in(arg)
        cwd = step.get("cwd", DEFAULT_CWD)
        if cwd not in tuple(f"{{{p}}}" for p in CWD_PLACEHOLDERS):
            problems.append(f"{where}: cwd must be one of {{out}} or {{repo}}, got {cwd!r}")
    if not steps:
        problems.append("no steps")
    elif not writes_out:
        problems.append("no step mentions {out}: the method must be told to write under the job's output folder")
    return problems


def _check_output(output: Mapping[str, Any], representation: str) -> list[str]:
    problems = []
    path = str(output.get("path", ""))
    if not is_relative(path):
        problems.append(f"output.path must be a glob relative to {{out}} (no '..', not absolute), got {path!r}")
    if placeholders_in(path):
        problems.append(f"output.path must not use placeholders (it is a glob under {{out}}), got {path!r}")
    fmt = output.get("format")
    allowed = OUTPUT_FORMATS.get(representation, ())
    if fmt not in allowed:
        problems.append(f"output.format must be one of {allowed} for {representation}, got {fmt!r}")
    unpack = output.get("unpack")
    if unpack is not None and unpack not in UNPACKERS:
        problems.append(f"output.unpack must be one of {UNPACKERS}, got {unpack!r}")
    final = str(output.get("member", "")) if unpack else path
    if unpack:
        if not is_relative(final):
            problems.append(f"output.member must be a relative glob inside the archive, got {final!r}")
        if not path.lower().endswith(f".{unpack}"):
            problems.append(f"output.path {path!r} should name a .{unpack} archive")
    if fmt and not final.lower().endswith(f".{fmt}"):
        problems.append(f"the output glob {final!r} does not end in .{fmt}")
    return problems


def _check_inputs(inputs: Mapping[str, Any]) -> list[str]:
    problems = []
    if inputs.get("background", "transparent") not in BACKGROUNDS:
        problems.append(f"inputs.background must be one of {BACKGROUNDS}, got {inputs.get('background')!r}")
    resolution = inputs.get("resolution")
    if resolution is not None and (not isinstance(resolution, int) or resolution <= 0):
        problems.append(f"inputs.resolution must be a positive integer, got {resolution!r}")
    recentre = inputs.get("recentre")
    if recentre is not None and (
        isinstance(recentre, bool) or not isinstance(recentre, (int, float)) or not 0 < recentre <= 1
    ):
        problems.append(f"inputs.recentre must be a fraction in (0, 1], got {recentre!r}")
    for flag in ("removes_background", "batch"):
        if not isinstance(inputs.get(flag, False), bool):
            problems.append(f"inputs.{flag} must be true or false")
    filename = str(inputs.get("filename", "{name}.png"))
    if "{name}" not in filename or not filename.endswith(".png") or "/" in filename:
        problems.append(f"inputs.filename must be a PNG file name containing {{name}}, got {filename!r}")
    problems += _unknown(filename, ("name",), "inputs.filename")
    return problems


def _check_markers(markers: Sequence[Mapping[str, str]]) -> list[str]:
    problems = []
    for i, marker in enumerate(markers):
        if not marker.get("stage"):
            problems.append(f"stage_markers[{i}]: stage missing")
        try:
            re.compile(str(marker.get("pattern", "")))
        except re.error as exc:
            problems.append(f"stage_markers[{i}]: bad pattern {marker.get('pattern')!r} ({exc})")
        if not marker.get("pattern"):
            problems.append(f"stage_markers[{i}]: pattern missing")
    return problems


def _check_conventions(spec: MethodSpec, provenance: bool) -> list[str]:
    from reconbench.alignment import SCALE_CONVENTIONS
    from reconbench.protocol.frames import FRAMES

    problems = []
    declared = [f.name for f in spec.declared_frames]
    if spec.frame not in FRAMES and spec.frame not in declared:
        problems.append(
            f"frame {spec.frame!r} is neither generic (protocol/frames.py: {', '.join(FRAMES)}) nor declared in "
            f"the spec's frames ({', '.join(declared) or 'none'})"
        )
    if spec.scale not in SCALE_CONVENTIONS:
        problems.append(f"scale {spec.scale!r} is not one of {', '.join(SCALE_CONVENTIONS)}")
    if provenance and not spec.licence:
        problems.append("licence missing")
    if provenance and not spec.sources:
        problems.append("sources missing")
    if spec.timeout_s <= 0:
        problems.append("timeout_s must be positive")
    return problems


def _unknown(text: str, allowed: Sequence[str], where: str) -> list[str]:
    return [
        f"{where}: placeholder {{{k}}} not allowed here (allowed: {', '.join(allowed)}) in {text!r}"
        for k in placeholders_in(text)
        if k not in allowed
    ]
