"""A dataset spec string (`source[:PATH]`, sources.py): parsing it and opening the dataset it names."""

from __future__ import annotations

import importlib
from pathlib import Path

from reconbench.datasets.base import Dataset, DatasetError
from reconbench.datasets.object_list import apply_object_list, read_object_list
from reconbench.datasets.sources import SOURCES


def parse_spec(spec: str) -> tuple[str, Path | None]:
    """Split `source[:PATH]`; raise DatasetError for an unknown source or a missing/extra path."""
    name, _, path = spec.partition(":")
    if name not in SOURCES:
        raise DatasetError(f"unknown dataset source {name!r} in {spec!r}; known: {', '.join(SOURCES)}")
    needs_path = SOURCES[name]["needs_path"]
    if needs_path and not path:
        raise DatasetError(f"dataset source {name!r} needs a folder: {name}:PATH")
    return name, Path(path).expanduser() if path else None


def open_dataset(spec: str, object_list: str | Path | None = None) -> Dataset:
    """List the objects of a dataset spec (meshes are loaded later, one object at a time)."""
    name, path = parse_spec(spec)
    source = SOURCES[name]
    module, _, func = source["discover"].partition(":")
    discover = getattr(importlib.import_module(module), func)
    objects, problems = discover(path) if path is not None else discover()
    dataset = Dataset(spec, name, tuple(objects), tuple(problems))
    if object_list is not None:
        dataset = apply_object_list(dataset, read_object_list(object_list))
    return dataset
