"""Commands of an upstream method: its run steps (`{"stage", "argv", "cwd"?}` in the spec) as argument lists with
concrete values (upstream/placeholders.py: which placeholders, and how they are substituted). Nothing is ever
handed to a shell, so paths and ids with spaces, quotes or braces stay exactly one argument.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconbench.methods.base import MethodSpec
from reconbench.upstream.placeholders import expand_many, substitute


@dataclass(frozen=True)
class Command:
    """One command of a method: run `argv` (no shell) in `cwd`; `stage` names what its time is spent on."""

    stage: str
    argv: list[str]
    cwd: str


def run_commands(spec: MethodSpec, values: Mapping[str, Any]) -> list[Command]:
    """The spec's steps with every placeholder replaced by its value.

    `values` maps placeholder names to strings (or paths); "inputs" maps to a sequence of them. Raises
    ValueError naming the method, the step and the placeholder for an unknown placeholder, a placeholder
    with no value, a list given for a single-valued placeholder, or `{inputs}` inside a larger argument.
    """
    commands = []
    for index, step in enumerate(spec.upstream_recipe().steps):
        where = f"method {spec.name!r}, step {index + 1} ({step.stage or '?'})"
        argv: list[str] = []
        for arg in step.argv:
            if arg == "{inputs}":
                argv.extend(expand_many(values, "inputs", where))
            else:
                argv.append(substitute(arg, values, where))
        commands.append(Command(stage=step.stage, argv=argv, cwd=substitute(step.cwd, values, where)))
    return commands
