"""The Docker backend: an image built from a Dockerfile generated from the same recipe as the venv.

The image holds a venv at /opt/venv (first on PATH) and the checkout at /opt/upstream. Runs use
`docker run --rm [--gpus all] -v M:M ... -w CWD -e K=V ... IMAGE argv` (Environment.wrap): every
mounted folder (work folder, Hugging Face cache, weights, hooks) appears at its host path.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import reconbench.upstream.envs.recipe as rc
from reconbench.methods.base import MethodSpec
from reconbench.upstream.envs.base import Backend, Environment, EnvironmentMissing, checkout, run_quiet, safe_name
from reconbench.upstream.envs.build_log import BuildLog, EnvironmentBuildError

UPSTREAM = "/opt/upstream"
VENV = "/opt/venv"
PYTHON = f"{VENV}/bin/python"
UBUNTU = "22.04"
UBUNTU_PYTHON = "3.10"  # Ubuntu 22.04's own python3; other versions come from the deadsnakes PPA
DEFAULT_BASE = f"ubuntu:{UBUNTU}"  # no CUDA toolkit asked for (PyTorch wheels bring their own CUDA runtime)

# nvidia/cuda tags exist only for full versions; cuDNN 8 tags say "cudnn8", cuDNN 9 ones (12.3+) "cudnn9"/"cudnn".
CUDA_TAGS = {
    "11.7": "11.7.1-cudnn8",
    "11.8": "11.8.0-cudnn8",
    "12.0": "12.0.1-cudnn8",
    "12.1": "12.1.1-cudnn8",
    "12.2": "12.2.2-cudnn8",
    "12.3": "12.3.2-cudnn9",
    "12.4": "12.4.1-cudnn",
    "12.5": "12.5.1-cudnn",
    "12.6": "12.6.3-cudnn",
    "12.8": "12.8.1-cudnn",
    "12.9": "12.9.1-cudnn",
}

_APT_NAME = re.compile(r"[a-z0-9][a-z0-9+.:=~_-]*")
# Non-headless OpenCV wheels load libGL.so.1 and libgthread (glib) at import; the CUDA and Ubuntu base images
# have neither (audit X2). Requirement files (-r) are read by the preflight check (`reconbench doctor --preflight`).
GL_LIBS = ("libgl1", "libglib2.0-0")
_GUI_OPENCV = re.compile(r"^opencv-(contrib-)?python(?!-headless)\b", re.IGNORECASE)


def needs_gl_libs(requirements: list[str]) -> bool:
    """A requirement list installs a non-headless OpenCV wheel."""
    return any(_GUI_OPENCV.match(r.strip()) for r in requirements)


def base_image(spec: MethodSpec) -> str:
    """environment.base_image, else nvidia/cuda:<cuda>-cudnn-devel-ubuntu22.04 for environment.cuda, else
    ubuntu:22.04."""
    env = rc.environment_for(spec)
    if env.base_image:
        return env.base_image
    cuda = env.cuda
    if not cuda:
        return DEFAULT_BASE
    if not re.fullmatch(r"\d+\.\d+(\.\d+)?", cuda):
        raise ValueError(f"method {spec.name!r}: environment.cuda must be 'X.Y' or 'X.Y.Z', got {cuda!r}")
    major_minor = ".".join(cuda.split(".")[:2])
    if major_minor in CUDA_TAGS and cuda.count(".") == 1:
        tag = CUDA_TAGS[major_minor]
    else:
        full = cuda if cuda.count(".") == 2 else f"{cuda}.0"
        tag = f"{full}-cudnn8" if tuple(map(int, major_minor.split("."))) < (12, 3) else f"{full}-cudnn"
    return f"nvidia/cuda:{tag}-devel-ubuntu{UBUNTU}"


def image_tag(spec: MethodSpec) -> str:
    name = safe_name(spec.name).lower().replace("_", "-").strip("-.") or "method"
    return f"reconbench/{name}:{rc.recipe_hash(spec.name, spec.upstream_recipe(), 'docker')[:12]}"


def _exec_form(argv: list[str]) -> str:
    return json.dumps([str(a) for a in argv])


def _env_value(value: str) -> str:
    """An ENV value, quoted, with $ and \\ kept literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'


def _arch_list(cuda: str) -> str:
    """Compute capabilities to build CUDA extensions for (no GPU is visible during `docker build`)."""
    major, minor = (int(x) for x in cuda.split(".")[:2])
    return "7.0 7.5 8.0 8.6 8.9 9.0+PTX" if (major, minor) >= (11, 8) else "7.0 7.5 8.0 8.6+PTX"


def uses_build_context(spec: MethodSpec) -> bool:
    """Local repositories (a path or file:// URL) cannot be cloned inside `docker build`: they are checked out
    on the host into the build context and copied in."""
    return any(rc.is_local_repo(r["repo"]) for r in rc.upstream_repos(spec.name, spec.upstream_recipe()))


def apt_install(spec: MethodSpec) -> str:
    """The shell command that installs the image's system packages: git, a compiler, the recipe's Python (from
    the deadsnakes PPA unless it is Ubuntu's own), the recipe's apt list and the GL libraries OpenCV needs."""
    env = rc.environment_for(spec)
    version = rc.python_version(spec.name, env)
    apt = list(env.apt)
    if needs_gl_libs([a for group in rc.package_groups(env, python=PYTHON, repo=UPSTREAM) for a in group]):
        apt += [lib for lib in GL_LIBS if lib not in apt]
    bad = [a for a in apt if not _APT_NAME.fullmatch(a)]
    if bad:
        raise ValueError(f"method {spec.name!r}: not apt package names: {bad}")
    system = [
        "ca-certificates",
        "git",
        "build-essential",
        f"python{version}",
        f"python{version}-venv",
        f"python{version}-dev",
    ]
    if version == UBUNTU_PYTHON:
        return (
            "apt-get update && apt-get install -y --no-install-recommends "
            + " ".join(system + apt)
            + " && rm -rf /var/lib/apt/lists/*"
        )
    return (
        "apt-get update && apt-get install -y --no-install-recommends software-properties-common gpg-agent"
        " && add-apt-repository -y ppa:deadsnakes/ppa && apt-get update"
        " && apt-get install -y --no-install-recommends " + " ".join(system + apt) + " && rm -rf /var/lib/apt/lists/*"
    )


def image_variables(spec: MethodSpec) -> dict[str, str]:
    """The recipe's environment inside an image, with an arch list for CUDA extensions built without a GPU."""
    env = rc.environment_for(spec)
    variables = rc.recipe_env(env, python=PYTHON, repo=UPSTREAM)
    cuda = env.cuda
    if cuda and "TORCH_CUDA_ARCH_LIST" not in variables:
        variables = {"TORCH_CUDA_ARCH_LIST": _arch_list(str(cuda)), **variables}
    for key in variables:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise ValueError(f"method {spec.name!r}: not an environment variable name: {key!r}")
    return variables


def pip_commands(spec: MethodSpec) -> list[list[str]]:
    """The image's pip calls in order: the seed (setuptools pin), then one per package group."""
    recipe = rc.environment_for(spec)
    extra = rc.pip_args(recipe, python=PYTHON, repo=UPSTREAM)
    seed = rc.seed_requirements(recipe)
    groups = ([seed] if seed else []) + rc.package_groups(recipe, python=PYTHON, repo=UPSTREAM)
    return [[PYTHON, "-m", "pip", "install", *extra, *group] for group in groups]


def dockerfile(spec: MethodSpec) -> str:
    """The Dockerfile of a method's environment, generated from its recipe (pure: no Docker needed)."""
    recipe = rc.environment_for(spec)
    version = rc.python_version(spec.name, recipe)
    install_system = apt_install(spec)
    digest = rc.recipe_hash(spec.name, spec.upstream_recipe(), "docker")
    lines = [
        f"# reconbench environment of method {spec.name} (recipe {digest[:12]}), generated from its MethodSpec.",
        f"# Build: docker build -t {image_tag(spec)} <this folder>",
        f"FROM {base_image(spec)}",
        f'LABEL org.reconbench.method="{spec.name}" org.reconbench.recipe="{digest}"',
        "ENV DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1",
        f"RUN {install_system}",
        f"RUN {_exec_form([f'python{version}', '-m', 'venv', VENV])}",
        f"ENV VIRTUAL_ENV={VENV} PATH={VENV}/bin:$PATH",
    ]
    if uses_build_context(spec):
        for item in rc.upstream_repos(spec.name, spec.upstream_recipe()):
            where = f" into {item['dest']}" if item["dest"] else ""
            lines.append(
                f"# upstream {item['repo']} @ {item['commit']}{where} (checked out on the host: local repository)"
            )
        lines.append(f"COPY repo {UPSTREAM}")
    else:
        for item in rc.upstream_repos(spec.name, spec.upstream_recipe()):
            lines.append(f"# upstream {item['repo']} @ {item['commit']}")
            lines += [f"RUN {_exec_form(argv)}" for argv in clone_commands(item)]
    lines.append(f"WORKDIR {UPSTREAM}")
    lines += [f"ENV {key}={_env_value(value)}" for key, value in image_variables(spec).items()]
    lines += [f"RUN {_exec_form(argv)}" for argv in pip_commands(spec)]
    for argv, cwd in rc.build_commands(spec.name, recipe, python=PYTHON, repo=UPSTREAM):
        if cwd:
            lines.append(f"WORKDIR {UPSTREAM}/{cwd}")
        lines.append(f"RUN {_exec_form(argv)}")
        if cwd:
            lines.append(f"WORKDIR {UPSTREAM}")
    # Runs use the host user's uid (docker run --user): let it write where upstream code writes.
    lines.append(f"RUN {_exec_form(['chmod', '-R', 'a+rwX', UPSTREAM])}")
    return "\n".join(lines) + "\n"


def clone_commands(item: dict[str, str]) -> list[list[str]]:
    """Clone one upstream repository into the image at its pinned commit, with its submodules."""
    target = f"{UPSTREAM}/{item['dest']}" if item["dest"] else UPSTREAM
    return [
        ["git", "clone", item["repo"], target],
        ["git", "-C", target, "-c", "advice.detachedHead=false", "checkout", item["commit"]],
        ["git", "-C", target, "submodule", "update", "--init", "--recursive"],
    ]


class DockerBackend(Backend):
    """Environments as Docker images tagged reconbench/<method>:<hash12> (see the module docstring)."""

    name = "docker"

    def image(self, spec: MethodSpec) -> str:
        return image_tag(spec)

    def dockerfile(self, spec: MethodSpec) -> str:
        return dockerfile(spec)

    def is_built(self, spec: MethodSpec) -> bool:
        spec.upstream_recipe()
        docker = shutil.which("docker")
        if docker is None:
            return False
        done = run_quiet([docker, "image", "inspect", self.image(spec)], timeout=60)
        return done is not None and done.returncode == 0

    def environment(self, spec: MethodSpec) -> Environment:
        from reconbench.upstream.envs.weights import weights_env, weights_mounts

        if not self.is_built(spec):
            raise EnvironmentMissing(self.missing_message(spec))
        return Environment(
            method=spec.name,
            python="python",
            repo=UPSTREAM,
            env={**rc.recipe_env(rc.environment_for(spec), python=PYTHON, repo=UPSTREAM), **weights_env(spec)},
            backend=self.name,
            path=str(self.env_dir(spec)),
            image=self.image(spec),
            mounts=tuple(weights_mounts(spec)),
        )

    def _build(self, spec: MethodSpec, folder: Path, log: BuildLog) -> None:
        (folder / "Dockerfile").write_text(dockerfile(spec))
        (folder / ".dockerignore").write_text("*\n!repo\n")
        log.note(f"wrote {folder / 'Dockerfile'}")
        if uses_build_context(spec):
            checkout(spec, folder / "repo", log)
        docker = shutil.which("docker")
        if docker is None:
            message = (
                f"cannot build the docker environment of method {spec.name!r}: `docker` is not on PATH. "
                f"The Dockerfile is written at {folder / 'Dockerfile'} (build it with `docker build -t "
                f"{self.image(spec)} {folder}`), "
                f"or use `--backend venv`; build log: {log.path}"
            )
            log.note(message)
            raise EnvironmentBuildError(message)
        log.run([docker, "build", "-t", self.image(spec), "-f", str(folder / "Dockerfile"), str(folder)])
