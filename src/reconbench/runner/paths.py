"""Paths inside a run folder: every file the run writes for an object or a method is built here, from
names checked to be single path components, so an object id or a method name can never reach outside
`--out` (an id like `../x` or `/home/me/x` from an object list would otherwise be joined as a path)."""

from __future__ import annotations

import os
from pathlib import Path

from reconbench.errors import ReconbenchError


class UnsafePathError(ReconbenchError, ValueError):
    """A name that is not one plain path component, or a path that would leave the run folder."""


def check_component(name: str, what: str = "name") -> str:
    """`name` if it is one plain path component (not empty, '.', '..', absolute, or with a separator)."""
    name = str(name)
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name or os.path.isabs(name):
        raise UnsafePathError(
            f"{what} {name!r} cannot be used as a folder or file name (it must be one path component without '/', "
            f"'\\\\' or '..')"
        )
    return name


def run_path(out: str | Path, *parts: str) -> Path:
    """out/part/part/...: each part one checked component, and the result lexically inside `out`."""
    out = Path(out)
    path = out.joinpath(*(check_component(p, "path part") for p in parts))
    base = os.path.normpath(os.path.abspath(out))
    if os.path.commonpath([base, os.path.normpath(os.path.abspath(path))]) != base:
        raise UnsafePathError(f"{path} is outside the run folder {out}")
    return path
