"""LGM (Large Multi-View Gaussian Model): ImageDream's four views -> Gaussians, saved as a PLY."""

from reconbench.methods.external.shared_pins import GAUSSIAN_RASTERIZER, REMBG_U2NET

SPEC = {
    "name": "lgm",
    "paradigm": "feed-forward",
    "representation": "splats",
    "description": "LGM: ImageDream generates four views (azimuth 0/90/180/270, elevation 0) of the input, and an "
    "asymmetric U-Net turns them into 3D Gaussians in one pass (the 'big' model, fixrot fp16 checkpoint).",
    "input_views": (1,),
    "needs_gpu": True,  # diff-gaussian-rasterization, xformers: CUDA only
    "frame": "y-up",  # OpenGL, y-up; the input camera orbit_camera(0, 0) sits on +Z at radius 1.5
    "scale": "bbox",  # positions clamped to [-1, 1]: normalised like the ground truth
    "timeout_s": 1200,
    "upstream": {"repo": "https://github.com/3DTopia/LGM", "commit": "fe8d12cff8c827df7bb77a3c8e8b37408cb6fe4c"},
    "environment": {
        "python": "3.10",
        "cuda": "12.1",
        "pip_args": ["--extra-index-url", "https://download.pytorch.org/whl/cu121"],
        # README: torch 2.1.0 (+cu118 there; cu121 here to match the xformers wheel) and xformers.
        # requirements.txt pins nothing; the shared libraries are pinned as DreamGaussian's lock file
        # (same author, two months earlier) pins them.
        "packages": [
            "torch==2.1.0", "torchvision==0.16.0", "xformers==0.0.22.post7", "numpy==1.26.4",
            "diffusers==0.24.0", "transformers==4.36.2", "accelerate==0.24.1", "huggingface_hub==0.19.4",
            "rembg[gpu]==2.0.49", "kiui>=0.2.3,<0.3",
            "-r {repo}/requirements.txt",
        ],
        "build": [
            # README: the ashawkey fork (+ depth and alpha rendering), cloned --recursive (pip fetches submodules).
            GAUSSIAN_RASTERIZER,
        ],
        "env": {"TORCH_CUDA_ARCH_LIST": "8.0;8.6;8.9;9.0"},
    },
    "weights": (
        {"kind": "hf", "repo_id": "ashawkey/LGM", "files": ["model_fp16_fixrot.safetensors"]},
        {"kind": "hf", "repo_id": "ashawkey/imagedream-ipmv-diffusers", "files": []},  # whole repository
        REMBG_U2NET,
    ),
    "steps": (
        # infer.py takes the checkpoint as a file path: our hook links it from the Hugging Face cache into the
        # job folder, then runs infer.py in the same process.
        {"stage": "generation", "cwd": "{repo}",
         "argv": ["{python}", "{hooks}/link_weights.py",
                  "--hf", "ashawkey/LGM", "model_fp16_fixrot.safetensors", "{out}/pretrained/model_fp16_fixrot.safetensors",
                  "--", "{repo}/infer.py", "big", "--resume", "{out}/pretrained/model_fp16_fixrot.safetensors",
                  "--workspace", "{out}/lgm", "--test_path", "{input}"]},
    ),
    # OUT/lgm/NAME.ply: x y z f_dc_0..2 opacity scale_0..2 rot_0..3, pre-activation, opacity < 0.005 pruned
    # (infer.py also renders OUT/lgm/NAME.mp4).
    "output": {"path": "lgm/*.ply", "format": "ply"},
    # The protocol's input camera it assumes (methods/external/input_camera.py); it cannot be told another.
    "input_camera": {
        "elevation": 0.0, "azimuth": 0.0, "fov": 49.1,
        "source": "lgm@fe8d12c infer.py:91 asks ImageDream for views at elevation=0 relative to the input; core/models.py:"
        "63-70 builds the input rays from orbit_camera(0, 0/90/180/270, radius 1.5); core/options.py:26 fovy 49.1; "
        "the input is recentred (border 0.2)",
    },
    "inputs": {
        "background": "transparent",
        "resolution": 512,
        "removes_background": True,  # rembg always runs, then recenter (border 0.2) on white
        "filename": "{name}.png",
    },
    "stage_markers": (
        # printed once the LGM model, ImageDream and rembg are loaded, as the first image starts
        {"stage": "model_load", "pattern": r"\[INFO\] Processing .* --> "},
    ),
    "sources": (
        {"title": "Tang et al., LGM: Large Multi-View Gaussian Model for High-Resolution 3D Content Creation (ECCV 2024)",
         "url": "https://arxiv.org/abs/2402.05054"},
        {"title": "3DTopia/LGM", "url": "https://github.com/3DTopia/LGM"},
    ),
    "licence": "MIT (code and weights); diff-gaussian-rasterization: Inria/MPII non-commercial licence",
    "published": {
        "time_s": 5.0, "time_gpu": None,
        "time_source": "LGM paper: about 5 s per object (multi-view generation + Gaussians), GPU as in the paper",
        "comparison": {"source": "SF3D paper (arXiv 2408.00653), GSO, H100", "time_s": 64.6, "chamfer": 0.195,
                       "fscore_0.1": 0.376, "psnr": 14.4, "note": "includes LGM's mesh conversion"},
        # Training compute: cost/published.py TRAINING["lgm"] (32 x A100-80G x ~4 days, excl. ImageDream).
    },
}
