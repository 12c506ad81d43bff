"""Which environment backend builds and runs upstream methods: venv (default), docker or apptainer."""

from __future__ import annotations

import os

from reconbench.upstream.envs.apptainer import ApptainerBackend
from reconbench.upstream.envs.base import Backend
from reconbench.upstream.envs.docker import DockerBackend
from reconbench.upstream.envs.venv import VenvBackend

BACKENDS: dict[str, type[Backend]] = {"venv": VenvBackend, "docker": DockerBackend, "apptainer": ApptainerBackend}
BACKEND_ENV = "RECONBENCH_BACKEND"


def get_backend(name: str | None = None) -> Backend:
    """The backend called `name`; None: $RECONBENCH_BACKEND, else "venv"."""
    name = name or os.environ.get(BACKEND_ENV) or "venv"
    try:
        return BACKENDS[name]()
    except KeyError:
        raise ValueError(f"unknown environment backend {name!r}; choose one of: {', '.join(BACKENDS)}") from None
