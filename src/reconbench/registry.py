"""The method registry: every method's spec, found where it lives, checked when it is registered.

Discovery reads the in-process specs (methods/specs/), the upstream adapters (upstream/adapters/, one module per
adapter; modules starting with "_" hold shared pieces) and the `reconbench.methods` entry-point group (value:
"package.module" defining SPEC), so adding a method is one small file (docs/methods.md). It sits above both
`methods/` and `upstream/` and is the one place that knows both: imports point upstream -> methods, never back
(tests/methods/test_import_direction.py).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import pkgutil
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from reconbench.errors import UnknownName
from reconbench.methods.base import MethodInput, MethodOutput, MethodSpec
from reconbench.methods.recipe import SpecError
from reconbench.protocol.frames import FRAMES, Frame, resolve_frame

SPEC_PACKAGES = ("reconbench.methods.specs", "reconbench.upstream.adapters")


def _built_in_modules() -> list[str]:
    modules = []
    for package in SPEC_PACKAGES:
        path = importlib.import_module(package).__path__
        modules += [f"{package}.{m.name}" for m in pkgutil.iter_modules(path) if not m.name.startswith("_")]
    return modules


@functools.lru_cache(maxsize=1)
def _registry() -> dict[str, MethodSpec]:
    built_in = _built_in_modules()
    modules = built_in + [ep.value for ep in entry_points(group="reconbench.methods")]
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
        from reconbench.upstream.validate import validate_spec

        problems = validate_spec(spec, provenance=provenance)
        if problems:
            raise SpecError(f"method {spec.name!r} has an invalid spec:\n  " + "\n  ".join(problems))
    return spec


def register_method(spec: MethodSpec | dict[str, Any]) -> MethodSpec:
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


def frame_named(name: str) -> Frame:
    """A frame by name, for a prediction file given by hand (`reconbench evaluate --frame`): a generic one, or one
    a registered method declares; UnknownName lists every one."""
    declared = [frame for spec in _registry().values() for frame in spec.declared_frames]
    return resolve_frame(name, declared)


def frame_names() -> list[str]:
    """Every frame `frame_named` resolves: the generic ones, then the registered methods' own."""
    return [*FRAMES, *(frame.name for spec in _registry().values() for frame in spec.declared_frames)]


def load_entry(spec: MethodSpec) -> Callable[[MethodInput], MethodOutput]:
    """The function that runs the method: its own entry point, or for an upstream method the command runner."""
    if spec.is_external:
        from reconbench.upstream.run import run_external

        return functools.partial(run_external, spec)
    return spec.load_entry()


def availability(spec: MethodSpec) -> tuple[bool, str]:
    """Whether `spec` can run on this machine, and every reason why not."""
    reasons = gpu_reasons(spec)
    missing = [m for m in spec.requires if importlib.util.find_spec(m) is None]
    if missing:
        reasons.append(f"missing Python modules: {', '.join(missing)}")
    if spec.is_external:
        from reconbench.upstream.availability import upstream_reasons

        reasons += upstream_reasons(spec)
    return (not reasons), "; ".join(reasons) or "ok"


def gpu_reasons(spec: MethodSpec) -> list[str]:
    """A method that needs a GPU needs one the NVIDIA driver reports visible (reconbench.system.gpus), whatever
    the host's PyTorch is: an upstream method runs in its own environment. An in-process method also
    needs a CUDA build of PyTorch in this process, since it runs here."""
    from reconbench.system.gpus import gpus_present

    if not spec.needs_gpu:
        return []
    if not gpus_present():
        return ["needs a CUDA GPU; the NVIDIA driver reports none visible here (NVML, nvidia-smi)"]
    if not spec.is_external and not host_torch_cuda():
        return ["runs in this process and needs PyTorch with CUDA here; this interpreter's torch sees no CUDA device"]
    return []


def host_torch_cuda() -> bool:
    """This interpreter's PyTorch sees a CUDA device: an extra requirement of in-process GPU methods only
    (whether a GPU exists at all is reconbench.system.gpus's answer, from the driver)."""
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return bool(torch.cuda.is_available())


__all__ = ["availability", "frame_named", "frame_names", "get_method", "load_entry", "method_names", "register_method"]
