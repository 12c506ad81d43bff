"""The Apptainer backend: a SIF image built from a definition file generated from the same recipe as the
venv and the Docker image (most Slurm clusters allow Apptainer, formerly Singularity, but not Docker).

Layout: `<cache root>/envs/<method>-<hash12>/` holding `reconbench.def`, `image.sif`, `build.log`,
`recipe.json` and `built.json`. The image is the Docker backend's, step for step (same base image, system
packages, venv at /opt/venv, checkout at /opt/upstream, environment, pip calls, build steps). Runs use
`apptainer run --nv --cleanenv --writable-tmpfs --bind M:M ... --pwd CWD --env K=V ... image.sif argv`
(Environment.wrap): every mounted folder (the job's work folder, the Hugging Face cache, the weights, the
hooks) at its host path; --writable-tmpfs because a SIF is read-only and some upstream code writes into its
checkout (threestudio's weight links); --cleanenv so the host's PYTHONPATH or venv never reach the method.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import reconbench.upstream.envs.recipe as rc
from reconbench.methods.base import MethodSpec
from reconbench.upstream.envs.base import BUILT_MARKER, Backend, Environment, EnvironmentMissing, checkout
from reconbench.upstream.envs.build_log import BuildLog, EnvironmentBuildError
from reconbench.upstream.envs.docker import (
    PYTHON,
    UPSTREAM,
    VENV,
    apt_install,
    base_image,
    clone_commands,
    image_variables,
    pip_commands,
    uses_build_context,
)

DEFINITION = "reconbench.def"
IMAGE = "image.sif"
ENGINES = ("apptainer", "singularity")  # SingularityCE reads the same definition files and flags


def _sh(argv: list[str]) -> str:
    import shlex

    return shlex.join([str(a) for a in argv])


def definition(spec: MethodSpec, context: Path | None = None) -> str:
    """The Apptainer definition file of a method's environment (pure: no engine needed). `context`: the host
    folder holding the checkout of a local repository (copied in by %files), where there is one."""
    recipe = rc.environment_for(spec)
    version = rc.python_version(spec.name, recipe)
    digest = rc.recipe_hash(spec.name, spec.upstream_recipe(), "apptainer")
    variables = image_variables(spec)
    post = [
        "set -e",
        "export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1",
        apt_install(spec),
        _sh([f"python{version}", "-m", "venv", VENV]),
    ]
    files: list[str] = []
    if uses_build_context(spec):
        if context is None:
            raise ValueError(f"method {spec.name!r}: a local repository needs the host checkout folder (context)")
        files.append(f"    {_sh([str(Path(context) / 'repo'), UPSTREAM])}")
    else:
        for item in rc.upstream_repos(spec.name, spec.upstream_recipe()):
            post.append(f"# upstream {item['repo']} @ {item['commit']}")
            post += [_sh(argv) for argv in clone_commands(item)]
    post += [f"export {k}={_sh([v])}" for k, v in variables.items()]  # the builds see the recipe's environment
    post += [f"cd {UPSTREAM}"] + [_sh(argv) for argv in pip_commands(spec)]
    for argv, cwd in rc.build_commands(spec.name, recipe, python=PYTHON, repo=UPSTREAM):
        post += [f"cd {UPSTREAM}/{cwd}" if cwd else f"cd {UPSTREAM}", _sh(argv)]
    post.append(_sh(["chmod", "-R", "a+rX", UPSTREAM]))
    lines = [
        f"# reconbench environment of method {spec.name} (recipe {digest[:12]}), generated from its MethodSpec.",
        f"# Build: apptainer build {IMAGE} {DEFINITION}   (unprivileged: --fakeroot, or build elsewhere and copy the "
        f"SIF)",
        "Bootstrap: docker",
        f"From: {base_image(spec)}",
        "",
        "%labels",
        f"    org.reconbench.method {spec.name}",
        f"    org.reconbench.recipe {digest}",
        "",
    ]
    if files:
        lines += ["%files", *files, ""]
    lines += [
        "%environment",
        f"    export VIRTUAL_ENV={VENV}",
        f"    export PATH={VENV}/bin:$PATH",
        "    export PYTHONUNBUFFERED=1",
    ]
    lines += [f"    export {k}={_sh([v])}" for k, v in variables.items()]
    lines += ["", "%post", *[f"    {line}" for line in post], "", "%runscript", '    exec "$@"', ""]
    return "\n".join(lines)


def engine() -> str | None:
    """The apptainer (or singularity) executable on PATH."""
    return next((found for found in (shutil.which(e) for e in ENGINES) if found), None)


class ApptainerBackend(Backend):
    """Environments as SIF images in the cache (see the module docstring)."""

    name = "apptainer"

    def image(self, spec: MethodSpec) -> Path:
        return self.env_dir(spec) / IMAGE

    def is_built(self, spec: MethodSpec) -> bool:
        spec.upstream_recipe()
        return (self.env_dir(spec) / BUILT_MARKER).is_file() and self.image(spec).is_file()

    def environment(self, spec: MethodSpec) -> Environment:
        from reconbench.upstream.envs.weights import weights_env, weights_mounts

        if not self.is_built(spec):
            raise EnvironmentMissing(self.missing_message(spec))
        return Environment(
            method=spec.name,
            python="python",
            repo=UPSTREAM,
            env={**image_variables(spec), **weights_env(spec)},
            backend=self.name,
            path=str(self.env_dir(spec)),
            image=str(self.image(spec)),
            mounts=tuple(weights_mounts(spec)),
        )

    def _build(self, spec: MethodSpec, folder: Path, log: BuildLog) -> None:
        if uses_build_context(spec):
            checkout(spec, folder / "repo", log)
        (folder / DEFINITION).write_text(definition(spec, folder))
        log.note(f"wrote {folder / DEFINITION}")
        exe = engine()
        if exe is None:
            message = (
                f"cannot build the apptainer environment of method {spec.name!r}: neither `apptainer` nor "
                f"`singularity` "
                f"is on PATH (on a cluster: `module load apptainer`, then run the install again). The definition is "
                f"written at {folder / DEFINITION}; or use `--backend venv`; build log: {log.path}"
            )
            log.note(message)
            raise EnvironmentBuildError(message)
        log.run([exe, "build", "--force", str(folder / IMAGE), str(folder / DEFINITION)], cwd=folder)
