"""Local changes to a method's environment recipe, kept out of its spec: `RECONBENCH_RECIPE_OVERRIDES=FILE.json`.

For a machine the recipe does not fit as written, e.g. a CPU-only build where the recipe's CUDA package index is
unreachable (scripts/cpu_smoke_upstream.sh). The file maps method names to changes:

    {"triposr": {"python": "3.11",                       # any environment key: replaced whole
                 "pip_args": [],
                 "replace": {"torch==2.1.2": "torch==2.13.0+cpu"}}}   # one requirement / build argument for another

Every `replace` key must occur in the recipe's packages or build steps (a typo is an error, not a silent no-op).
The overridden recipe has its own hash, so its environment never takes the place of the one built from the spec;
the variable must be set for `install` and for every run that is to use that environment. recipe.json in the
environment's folder records the recipe as built.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from reconbench.errors import ReconbenchError
from reconbench.methods.recipe import EnvironmentRecipe

OVERRIDES_ENV = "RECONBENCH_RECIPE_OVERRIDES"
_KEYS = {"python", "packages", "pip_args", "build", "env", "cuda", "apt", "base_image", "replace"}


class OverrideError(ReconbenchError, ValueError):
    """The overrides file is unreadable or does not fit the recipe it changes."""


def overrides_for(name: str) -> dict[str, Any]:
    """The changes RECONBENCH_RECIPE_OVERRIDES makes to method `name` ({} without the variable or the method)."""
    path = os.environ.get(OVERRIDES_ENV, "").strip()
    if not path:
        return {}
    try:
        data = json.loads(Path(path).expanduser().read_text())
    except (OSError, ValueError) as exc:
        raise OverrideError(f"{OVERRIDES_ENV}={path}: cannot read it as JSON ({exc})") from None
    if not isinstance(data, dict):
        raise OverrideError(f"{OVERRIDES_ENV}={path}: must hold an object mapping method names to changes")
    changes = data.get(name) or {}
    unknown = sorted(set(changes) - _KEYS)
    if unknown:
        raise OverrideError(
            f"{OVERRIDES_ENV}={path}: method {name!r}: unknown key(s) {unknown}; allowed: {sorted(_KEYS)}"
        )
    return dict(changes)


def _replace(item: Any, table: dict[str, str], used: set[str]) -> Any:
    if isinstance(item, (list, tuple)):
        return [_replace(i, table, used) for i in item]
    if isinstance(item, dict):
        return {k: _replace(v, table, used) if k == "argv" else v for k, v in item.items()}
    if isinstance(item, str) and item in table:
        used.add(item)
        return table[item]
    return item


def environment_of(name: str, environment: EnvironmentRecipe) -> EnvironmentRecipe:
    """Method `name`'s environment recipe with RECONBENCH_RECIPE_OVERRIDES applied (read at call time); the result
    is read as strictly as a spec (a wrong shape in the overrides file is an error naming it)."""
    changes = overrides_for(name)
    if not changes:
        return environment
    plain = environment.to_dict()
    table = {str(k): str(v) for k, v in (changes.pop("replace", None) or {}).items()}
    plain.update(changes)
    if table:
        used: set[str] = set()
        for key in ("packages", "build"):
            if key in plain:
                plain[key] = _replace(list(plain[key] or ()), table, used)
        missing = sorted(set(table) - used)
        if missing:
            raise OverrideError(
                f"{OVERRIDES_ENV}: method {name!r}: 'replace' names {missing}, which the recipe's "
                f"packages and build steps do not contain"
            )
    return EnvironmentRecipe.from_dict(plain, f"{OVERRIDES_ENV}: method {name!r}: environment")
