"""Environments for upstream methods (docs/environments.md).

A method run from upstream code (its spec's recipe: MethodSpec.recipe, methods/recipe.py) gets its own
environment, built once from its recipe by a backend:

- "venv": a virtual environment and a checkout of the pinned commit in
  `<cache root>/envs/<method>-<hash12>/` (`$RECONBENCH_CACHE`, default `~/.cache/reconbench`);
- "docker": an image `reconbench/<method>:<hash12>` from a Dockerfile generated from the same recipe;
- "apptainer": a SIF image in the environment's folder, from a definition file generated from the same recipe.

`get_backend(name).build(spec)` builds (idempotent, locked, logged), `.environment(spec)` finds a built one,
and `Environment.wrap(argv, cwd=...)` turns a command into what to execute on the host.
Weights live in the Hugging Face cache (and `<cache root>/weights`), filled by `fetch_weights`.
Without network: `envs.bundle` gathers code, wheels and weights on a connected machine and builds from them
(`envs.sources.LocalSources`, also for a local checkout); `envs.overrides` changes a recipe locally (CPU builds).
"""

from __future__ import annotations

from reconbench.upstream.envs.apptainer import ApptainerBackend, definition
from reconbench.upstream.envs.base import Backend, Environment, EnvironmentMissing
from reconbench.upstream.envs.build_log import EnvironmentBuildError
from reconbench.upstream.envs.choice import BACKEND_ENV, BACKENDS, get_backend
from reconbench.upstream.envs.docker import DockerBackend, dockerfile
from reconbench.upstream.envs.recipe import recipe_hash
from reconbench.upstream.envs.venv import VenvBackend
from reconbench.upstream.envs.weights import WeightsMissing, fetch_weights, missing_weights, weights_env

__all__ = [
    "ApptainerBackend",
    "BACKEND_ENV",
    "BACKENDS",
    "Backend",
    "DockerBackend",
    "Environment",
    "EnvironmentBuildError",
    "EnvironmentMissing",
    "VenvBackend",
    "WeightsMissing",
    "definition",
    "dockerfile",
    "fetch_weights",
    "get_backend",
    "missing_weights",
    "recipe_hash",
    "weights_env",
]
