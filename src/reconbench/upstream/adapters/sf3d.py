"""Stable Fast 3D (SF3D): single image -> UV-textured PBR mesh (GLB) in about half a second."""

from reconbench.literature.papers import SPAR3D_CHECK
from reconbench.literature.types import Check, Published, TimeFigure, image_row, sf3d_row
from reconbench.methods.recipe import torch_index
from reconbench.upstream.adapters._pins import REMBG_U2NET

SPEC = {
    "name": "sf3d",
    "paradigm": "feed-forward",
    "representation": "mesh",
    "description": "Stable Fast 3D: a transformer predicts a triplane, a differentiable mesh extraction gives the "
    "surface, UV unwrapping and texture baking give a textured PBR mesh (GLB; scored by its base colour). Runs on "
    "CPU too (official).",
    "input_views": (1,),
    "needs_gpu": False,
    "uses_gpu_if_present": True,
    # Internally z-up with the input camera at (+1.6, 0, 0); the exporter applies Rx(-90 deg) then Ry(+90 deg),
    # which puts the input camera on -Z of the GLB (unverified upstream: read from the code, not yet run).
    "frame": "y-up-front-neg-z",
    "frames": [
        {
            "name": "y-up-front-neg-z",
            "description": "+Y up, front toward -Z: Stable Fast 3D's GLB (its model works in z-up-front-x with the "
            "input camera at +X, and its exporter applies Rx(-90 deg) then Ry(+90 deg), which puts the input camera "
            "on -Z); unverified upstream (read from the code, not yet run): (x, y, z) -> (-x, y, -z).",
            "matrix": [[-1, 0, 0, 0], [0, 1, 0, 0], [0, 0, -1, 0], [0, 0, 0, 1]],
        }
    ],
    "scale": "bbox",
    "timeout_s": 1800,
    "upstream": {
        "repo": "https://github.com/Stability-AI/stable-fast-3d",
        "commit": "ff21fc491b4dc5314bf6734c7c0dabd86b5f5bb2",
    },
    "environment": {
        "python": "3.10",
        "cuda": "12.1",
        "pip_args": torch_index("cu121"),
        # README: torch for the platform, setuptools 69.5.1, wheel, then requirements.txt (these pins); its two
        # local extensions are built below (requirements.txt names them relative to the working directory).
        "packages": [
            "torch==2.4.0",
            "setuptools==69.5.1",
            "wheel",
            "einops==0.7.0",
            "jaxtyping==0.2.31",
            "omegaconf==2.3.0",
            "transformers==4.42.3",
            "open_clip_torch==2.24.0",
            "trimesh==4.4.1",
            "numpy==1.26.4",
            "huggingface-hub==0.23.4",
            "rembg[gpu]==2.0.57",
            "pynanoinstantmeshes==0.0.3",
            "gpytoolbox==0.2.0",
        ],
        "build": [
            ["{python}", "-m", "pip", "install", "--no-build-isolation", "{repo}/texture_baker/"],
            ["{python}", "-m", "pip", "install", "--no-build-isolation", "{repo}/uv_unwrapper/"],
        ],
        # texture_baker/setup.py:19 builds its CUDA kernel only if USE_CUDA=1 or a GPU is visible at build time
        # (never under `docker build`): force it (audit S1; with no CUDA toolkit it still builds CPU-only).
        # USE_NATIVE_ARCH=0: no -march=native, so an image runs on other hosts' CPUs. Its setup.py's operator
        # precedence then also drops -O3 and -fopenmp (texture_baker/setup.py:35-40): the CPU baker is slower.
        "env": {"TORCH_CUDA_ARCH_LIST": "8.0;8.6;8.9;9.0", "USE_CUDA": "1", "USE_NATIVE_ARCH": "0"},
    },
    "weights": (
        {
            "kind": "hf",
            "repo_id": "stabilityai/stable-fast-3d",
            "files": ["config.yaml", "model.safetensors"],
            "gated": True,
        },
        # Fetched while the model is built (unverified which files: DINOv2 backbone, OpenCLIP ViT-B/32 estimator).
        {"kind": "hf", "repo_id": "facebook/dinov2-large", "allow_patterns": ["*.json", "*.safetensors"]},
        {
            "kind": "hf",
            "repo_id": "laion/CLIP-ViT-B-32-laion2B-s34B-b79K",
            "allow_patterns": ["*.json", "open_clip_pytorch_model.bin", "open_clip_model.safetensors"],
        },
        REMBG_U2NET,
    ),
    "steps": (
        {
            "stage": "generation",
            "cwd": "{repo}",
            "argv": [
                "{python}",
                "{repo}/run.py",
                "{input}",
                "--output-dir",
                "{out}",
                "--texture-resolution",
                "1024",
                "--remesh_option",
                "none",
                "--foreground-ratio",
                "0.85",
            ],
        },
    ),
    "output": {"path": "0/mesh.glb", "format": "glb"},
    # The protocol's input camera it assumes (upstream/input_camera.py); it cannot be told another.
    "input_camera": {
        "elevation": 0.0,
        "azimuth": 0.0,
        "fov": 40.0,
        "source": "stable-fast-3d@ff21fc4 sf3d/system.py:52-53 and :267-272: the conditioning camera is "
        "default_cond_c2w(1.6) (sf3d/utils.py:40-49: on +X at the horizon, looking at the origin) with fovy 40; "
        "the input is recentred (foreground ratio 0.85)",
    },
    "inputs": {
        "background": "transparent",  # RGBA with transparency: rembg skipped; resize_foreground(0.85)
        "resolution": 512,
        "removes_background": True,
        "filename": "{name}.png",
    },
    "stage_markers": (
        {"stage": "generation", "pattern": r"Peak Memory:"},  # printed after each batch, on CUDA/MPS only
    ),
    "sources": (
        {
            "title": "Boss et al., SF3D: Stable Fast 3D Mesh Reconstruction with UV-unwrapping and Illumination "
            "Disentanglement (arXiv 2408.00653)",
            "url": "https://arxiv.org/abs/2408.00653",
        },
        {"title": "Stability-AI/stable-fast-3d", "url": "https://github.com/Stability-AI/stable-fast-3d"},
    ),
    "licence": "Stability AI Community License (code and gated weights; free below USD 1M annual revenue)",
    "published": Published(
        names=("SF3D",),
        training_note="not published (no training GPU-hours stated by the SF3D authors, arXiv 2408.00653)",
        times=(
            TimeFigure(
                0.5,
                "H100",
                "image to final mesh (UV-unwrapped, textured)",
                "sf3d",
                "Table 1 and abstract",
                Check(
                    "checked",
                    "abstract (arXiv HTML 2408.00653v1): 'in just 0.5 seconds'; the H100 from §3.1 "
                    "of shared/docs is unverified",
                ),
            ),
            TimeFigure(0.3, None, "inference per object", "spar3d", "Table 1", SPAR3D_CHECK),
        ),
        results=(
            *image_row("sf3d-gso-images", 21.247, 0.865, 0.124),
            *image_row("sf3d-omni-images", 20.134, 0.851, 0.132),
            *sf3d_row("sf3d-gso", 0.098, 0.701, 0.894, 0.988),
            *sf3d_row("sf3d-omni", 0.090, 0.726, 0.920, 0.990),
            *sf3d_row("spar3d-gso", 0.137, 0.540, 0.806, 0.970),
            *image_row("spar3d-gso", 18.0, 0.839, 0.145),
            *sf3d_row("spar3d-omni", 0.138, 0.554, 0.800, 0.967),
            *image_row("spar3d-omni", 17.4, 0.836, 0.145),
        ),
    ),
}
