"""The placeholders of upstream recipes, one set and one substitution for the run steps and the environment recipe.

A run step is `{"stage", "argv", "cwd"?}` in the spec (upstream/command.py makes them concrete); an environment
recipe's packages, pip_args, build steps and env values may use `{python}` and `{repo}` only (upstream/envs).
Every argument is a plain string in which `{key}` tokens are replaced by values (one pass, so a value that
itself contains `{...}` is never expanded again); nothing is ever handed to a shell or to `str.format`, so paths
and ids with spaces, quotes or braces stay exactly one argument. `{inputs}` may only stand as a whole argument
and expands into one argument per input image.

Placeholders (the only ones a spec may use):

| name | value |
| --- | --- |
| `{python}` | the interpreter of the method's own environment |
| `{repo}` | the method's checkout (at the pinned commit) |
| `{input}` | the prepared input image (inputs.prepare_method_inputs), the first one if several |
| `{inputs}` | every prepared input image, one argument each (whole argument only) |
| `{input_dir}` | the folder holding the prepared input image(s) |
| `{out}` | the job's output folder: the method must write there (several jobs share one checkout) |
| `{name}` | the input's file stem |
| `{seed}` | the job's seed |
| `{hooks}` | the folder of our helper scripts (upstream/hooks) |
| `{input_elevation}` | the input camera's elevation, degrees, in the method's sign (`input_camera.elevation_sign`) |
| `{input_azimuth}` | its azimuth, degrees (0 on the object's front, 90 toward canonical +X) |
| `{input_distance}` | its distance from the origin, in the protocol's units (the object's longest side is 1) |
| `{input_fov}` | its vertical field of view, degrees |

The input-camera placeholders describe the first input view (upstream/input_camera.py).
Placeholders of the environment recipe: `{python}` and `{repo}` only (BUILD_PLACEHOLDERS).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

from reconbench.upstream import input_camera

PLACEHOLDERS: tuple[str, ...] = (
    "python",
    "repo",
    "input",
    "inputs",
    "input_dir",
    "out",
    "name",
    "seed",
    "hooks",
    *input_camera.PLACEHOLDERS,
)
WHOLE_ONLY = ("inputs",)  # placeholders that must be a whole argument (they expand into several)
CWD_PLACEHOLDERS = ("out", "repo")  # where a step may run
BUILD_PLACEHOLDERS = ("python", "repo")  # what environment recipes may use

_TOKEN = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def placeholders_in(text: str) -> list[str]:
    """The `{word}` placeholder names used in a string, in order."""
    return _TOKEN.findall(text)


def substitute(text: str, values: Mapping[str, Any], where: str, allowed: Sequence[str] = PLACEHOLDERS) -> str:
    """`text` with each `{key}` of `allowed` replaced by its value, in one pass; anything else is an error
    naming `where` (the steps of a method use PLACEHOLDERS, its environment recipe BUILD_PLACEHOLDERS)."""

    def one(match: re.Match) -> str:
        key = match.group(1)
        if key not in allowed:
            raise ValueError(f"{where}: unknown placeholder {{{key}}} in {text!r}; known: {', '.join(allowed)}")
        if key in WHOLE_ONLY:
            raise ValueError(f"{where}: {{{key}}} must be a whole argument (it expands into several), got {text!r}")
        if key not in values:
            raise ValueError(f"{where}: no value for placeholder {{{key}}} (used in {text!r})")
        value = values[key]
        if isinstance(value, (list, tuple)):
            raise ValueError(f"{where}: placeholder {{{key}}} needs one value, got a sequence")
        return os.fspath(value) if isinstance(value, os.PathLike) else str(value)

    return _TOKEN.sub(one, text)


def expand_many(values: Mapping[str, Any], key: str, where: str) -> list[str]:
    """A whole-argument placeholder ({inputs}) expanded into one argument per value."""
    if key not in values:
        raise ValueError(f"{where}: no value for placeholder {{{key}}}")
    value = values[key]
    items = [value] if isinstance(value, (str, os.PathLike)) else list(value)
    if not items:
        raise ValueError(f"{where}: placeholder {{{key}}} expands to no argument")
    return [os.fspath(v) if isinstance(v, os.PathLike) else str(v) for v in items]


def substitute_recipe(text: str, *, python: str, repo: str) -> str:
    """An environment recipe's string with its two placeholders, {python} (the environment's interpreter) and
    {repo} (the checkout), replaced."""
    return substitute(str(text), {"python": python, "repo": repo}, "environment recipe", BUILD_PLACEHOLDERS)
