"""The adapter-audit findings (shared docs adapter-audit.md) that can be caught without a GPU or the upstream
source: environments, weights, command flags and stage markers of the registered upstream specs.
What needs the upstream source is checked by the preflight (tests/test_preflight.py, docs/adapters.md)."""

from __future__ import annotations

import re

import pytest
from packaging.specifiers import SpecifierSet

from reconbench.registry import get_method, method_names
from reconbench.upstream import timing
from reconbench.upstream.envs.docker import dockerfile
from reconbench.upstream.envs.recipe import environment_for, seed_requirements, torch_version

EXTERNAL = [n for n in method_names() if get_method(n).is_external]


def _argv(name: str) -> list[str]:
    return [a for step in get_method(name).steps for a in step["argv"]]


def _packages(name: str) -> list[str]:
    out = []
    for item in get_method(name).environment.get("packages", ()):
        out += list(item) if isinstance(item, (list, tuple)) else [item]
    return out


@pytest.mark.parametrize("method", EXTERNAL)
def test_setuptools_below_70_wherever_torch_is_not_newer_than_2_1(method):
    """X1/T1: torch <= 2.1's cpp_extension imports pkg_resources (gone from setuptools >= 70)."""
    spec = get_method(method)
    version = torch_version(environment_for(spec))
    if version is not None and version > (2, 1):
        return
    seed = seed_requirements(environment_for(spec))  # what every backend installs first
    assert seed, f"{method}: no setuptools pin (its torch is {version or 'pinned in an upstream file'})"
    allowed = SpecifierSet(re.sub(r"^setuptools", "", seed[0]))
    assert "70.0.0" not in allowed and "69.5.1" in allowed


@pytest.mark.parametrize("method", [n for n in EXTERNAL if get_method(n).needs_gpu])
def test_gpu_adapters_have_kernels_for_hopper(method):
    """C1: the project's GPU is an H200 (sm_90): CUDA >= 11.8 to build for it, torch >= 2.0 wheels that carry it."""
    spec = get_method(method)
    major, minor = (int(x) for x in str(spec.environment["cuda"]).split(".")[:2])
    assert (major, minor) >= (11, 8)
    assert torch_version(environment_for(spec)) is None or torch_version(environment_for(spec)) >= (2, 0)


@pytest.mark.parametrize("method", ["dreamgaussian", "dreamgaussian-stable-zero123", "threestudio-3dgs"])
def test_images_with_gui_opencv_get_the_gl_libraries(method):
    """X2: these install opencv-python (non-headless), which loads libGL.so.1 and glib at import."""
    text = dockerfile(get_method(method))
    assert "libgl1" in text and "libglib2.0-0" in text


def test_crm_time_is_split_at_its_real_stages():
    """C4: with only `uv takes`, model load and both diffusion stages were billed as "export"."""
    markers = timing.compile_markers(get_method("crm").recipe.stage_markers)
    lines = [
        (0.8, "Alpha as mask"),
        (41.0, "unet takes 2.31s"),
        (53.0, "uv takes 11.9s"),
    ]  # run.py:77, inference.py:48, :90
    got = timing.step_timing(lines, 0.0, 53.5, "generation", markers).totals()
    assert got == pytest.approx({"preprocess": 0.8, "generation": 40.2 + 0.5, "export": 12.0})


def test_crm_weights_include_the_scheduler_config_its_model_loads():
    """C2: CRM.__init__ loads stabilityai/stable-diffusion-2-1-base's scheduler config."""
    repos = {w.get("repo_id"): w for w in get_method("crm").weights}
    assert repos["stabilityai/stable-diffusion-2-1-base"]["files"] == ["scheduler/scheduler_config.json"]


def test_command_flags_the_audit_asks_for():
    lgm, mesh = _argv("lgm"), _argv("lgm-mesh")
    assert lgm[lgm.index("--lambda_lpips") + 1] == "0" and "--lambda_lpips" in mesh  # L-W1: no torch.hub VGG
    assert "--force_cuda_rast" in mesh  # L2: no EGL context on a headless server
    for name in ("dreamgaussian", "dreamgaussian-stable-zero123"):
        assert "force_cuda_rast=True" in _argv(name)  # D2
    ts = _argv("threestudio-3dgs")
    assert "trainer.limit_val_batches=0" in ts and "data.random_camera.n_test_views=1" in ts  # TS2


def test_environment_contents_the_audit_asks_for():
    assert {"ninja"} <= set(_packages("lgm-mesh")) and any(
        p.startswith("pymeshlab") for p in _packages("lgm-mesh")
    )  # L1
    assert any(p.startswith("torchvision==") for p in _packages("dreamgaussian"))  # D1
    instantmesh = get_method("instantmesh")
    assert not any("requirements.txt" in p for p in _packages("instantmesh"))  # I1: its file builds nvdiffrast HEAD
    assert any("nvdiffrast.git@" in " ".join(step) for step in instantmesh.environment["build"])
    assert 'ENV USE_CUDA="1"' in dockerfile(get_method("sf3d"))  # S1: CUDA texture baker without a visible GPU
    assert any(p.startswith("pytorch-lightning==") for p in _packages("threestudio-3dgs"))  # TS1
