"""Methods: specifications as data (specs/), built-in reference methods (reference/), and the registry.

Third-party methods register a spec module through the `reconbench.methods` entry-point group
(value: "package.module" defining SPEC), so adding a method is one small file (docs/methods.md).
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from importlib.metadata import entry_points

from reconbench.errors import UnknownName
from reconbench.methods.base import GroundTruthFile, MethodInput, MethodOutput, MethodSpec
from reconbench.methods.recipe import SpecError


@functools.lru_cache(maxsize=1)
def _registry() -> dict[str, MethodSpec]:
    from reconbench.methods import specs

    modules = [f"reconbench.methods.specs.{m.name}" for m in pkgutil.iter_modules(specs.__path__)]
    built_in = set(modules)
    modules += [ep.value for ep in entry_points(group="reconbench.methods")]
    registry: dict[str, MethodSpec] = {}
    for name in modules:
        spec = checked(MethodSpec.from_dict(importlib.import_module(name).SPEC), provenance=name in built_in)
        if spec.name in registry:
            raise ValueError(f"two methods are named {spec.name!r} ({name})")
        registry[spec.name] = spec
    return registry


def checked(spec: MethodSpec, *, provenance: bool = False) -> MethodSpec:
    """`spec`, once an external method's recipe has passed every check (SpecError listing what is wrong);
    provenance=True (the adapters we ship) also requires an https repository, a licence and sources."""
    if spec.is_external:
        from reconbench.methods.external.command import validate_spec

        problems = validate_spec(spec, provenance=provenance)
        if problems:
            raise SpecError(f"method {spec.name!r} has an invalid spec:\n  " + "\n  ".join(problems))
    return spec


def register_method(spec: MethodSpec | dict) -> MethodSpec:
    """Add a method for this process (scripts, notebooks, tests); packages use the entry-point group."""
    spec = checked(spec if isinstance(spec, MethodSpec) else MethodSpec.from_dict(spec))
    if spec.name in _registry():
        raise ValueError(f"a method named {spec.name!r} is already registered")
    _registry()[spec.name] = spec
    return spec


def method_names() -> list[str]:
    return sorted(_registry())


def get_method(name: str) -> MethodSpec:
    try:
        return _registry()[name]
    except KeyError:
        raise UnknownName(f"unknown method {name!r}; known: {', '.join(method_names())}") from None


__all__ = [
    "GroundTruthFile",
    "MethodInput",
    "MethodOutput",
    "MethodSpec",
    "get_method",
    "method_names",
    "register_method",
]
