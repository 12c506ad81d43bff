"""The registry: discovery over in-process specs, upstream adapters and the entry-point group; every method is
checked when it is registered; availability."""

from __future__ import annotations

import sys
import types
from importlib.metadata import EntryPoint

import pytest

from reconbench import registry
from reconbench.methods.recipe import SpecError
from reconbench.registry import get_method, method_names, register_method


def _spec() -> dict:
    """A sound upstream spec (it registers as it is)."""
    return {
        "name": "toy-registry",
        "paradigm": "feed-forward",
        "representation": "mesh",
        "description": "a toy adapter",
        "upstream": {"repo": "https://github.com/example/toy", "commit": "0" * 40},
        "environment": {"python": "3.10", "packages": ["numpy==1.26.4"]},
        "steps": ({"stage": "generation", "argv": ["{python}", "run.py", "{inputs}", "--out", "{out}"]},),
        "output": {"path": "0/mesh.obj", "format": "obj"},
        "inputs": {"batch": True},
    }


def test_discovery_finds_in_process_specs_and_upstream_adapters_but_not_shared_pieces():
    assert get_method("oracle").entry and get_method("triposr").is_external
    assert get_method("triposr").__class__.__module__ == "reconbench.methods.base"
    modules = registry._built_in_modules()
    assert "reconbench.methods.specs.oracle" in modules and "reconbench.upstream.adapters.triposr" in modules
    assert not any(m.rsplit(".", 1)[1].startswith("_") for m in modules)  # _pins holds pieces, not a method
    adapters = [m for m in modules if m.startswith("reconbench.upstream.adapters.")]
    assert len(adapters) == 10  # each of the ten adapters is one module, and each registers an upstream method
    assert all(get_method(n).is_external for n in ("triposr", "sf3d", "lgm-mesh", "threestudio-3dgs"))


def test_register_method_rejects_a_spec_that_fails_validation():
    d = _spec()
    d["name"] = "toy-bad-placeholder"
    d["steps"] = ({"stage": "generation", "argv": ["{python}", "run.py", "{inptus}", "--out", "{out}"]},)
    with pytest.raises(SpecError, match=r"toy-bad-placeholder.*\{inptus\}"):
        register_method(d)
    assert "toy-bad-placeholder" not in method_names()


def test_an_entry_point_method_with_a_typo_is_rejected_at_registration(monkeypatch):
    d = _spec()
    d["name"] = "toy-entry-point"
    d["inputs"] = {"removes_backround": True}
    module = types.ModuleType("toy_entry_point_spec")
    module.SPEC = d  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "toy_entry_point_spec", module)
    point = EntryPoint(name="toy", value="toy_entry_point_spec", group="reconbench.methods")
    monkeypatch.setattr(registry, "entry_points", lambda group: [point] if group == "reconbench.methods" else [])
    registry._registry.cache_clear()
    try:
        with pytest.raises(SpecError, match=r"'toy-entry-point'.*inputs.*'removes_backround'.*removes_background"):
            registry._registry()
    finally:
        monkeypatch.undo()
        registry._registry.cache_clear()
    assert "triposr" in method_names()


def test_a_sound_spec_registers_and_a_second_one_of_the_same_name_is_refused():
    d = {**_spec(), "name": "toy-registry-ok"}
    try:
        assert register_method(d).recipe is not None and "toy-registry-ok" in method_names()
        with pytest.raises(ValueError, match="already registered"):
            register_method(d)
    finally:
        registry._registry().pop("toy-registry-ok", None)
