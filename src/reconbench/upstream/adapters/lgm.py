"""LGM (Large Multi-View Gaussian Model): ImageDream's four views -> Gaussians, saved as a PLY."""

from reconbench.literature.types import Check, Published, TimeFigure, Training, image_row, row, sf3d_row
from reconbench.methods.recipe import torch_index
from reconbench.upstream.adapters._pins import GAUSSIAN_RASTERIZER, REMBG_U2NET

LGM_MESH = "LGM's mesh (its Gaussians-to-mesh conversion), the output of lgm-mesh"

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
        "pip_args": torch_index("cu121"),
        # README: torch 2.1.0 (+cu118 there; cu121 here to match the xformers wheel) and xformers.
        # requirements.txt pins nothing; the shared libraries are pinned as DreamGaussian's lock file
        # (same author, two months earlier) pins them.
        "packages": [
            "torch==2.1.0",
            "torchvision==0.16.0",
            "xformers==0.0.22.post7",
            "numpy==1.26.4",
            "diffusers==0.24.0",
            "transformers==4.36.2",
            "accelerate==0.24.1",
            "huggingface_hub==0.19.4",
            "rembg[gpu]==2.0.49",
            "kiui>=0.2.3,<0.3",
            "setuptools==69.5.1",
            "wheel",  # torch 2.1: pkg_resources for the rasteriser build (audit X1)
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
        {
            "stage": "generation",
            "cwd": "{repo}",
            "argv": [
                "{python}",
                "{hooks}/link_weights.py",
                "--hf",
                "ashawkey/LGM",
                "model_fp16_fixrot.safetensors",
                "{out}/pretrained/model_fp16_fixrot.safetensors",
                "--",
                "{hooks}/save_multiview.py",
                "--pipeline",
                "mvdream.pipeline_mvdream:MVDreamPipeline",
                "--dest",
                "{out}/lgm/views",
                "--views",
                "4",
                "--",
                "{repo}/infer.py",
                "big",
                "--resume",
                "{out}/pretrained/model_fp16_fixrot.safetensors",
                "--workspace",
                "{out}/lgm",
                "--test_path",
                "{input}",
                # LPIPS is a training loss, but LGM.__init__ builds kiui's LPIPS(vgg) unless lambda_lpips is 0,
                # downloading VGG16 and vgg.pth through torch.hub at run time (audit L-W1).
                "--lambda_lpips",
                "0",
            ],
        },
    ),
    # OUT/lgm/NAME.ply: x y z f_dc_0..2 opacity scale_0..2 rot_0..3, pre-activation, opacity < 0.005 pruned
    # (infer.py also renders OUT/lgm/NAME.mp4).
    "output": {"path": "lgm/*.ply", "format": "ply"},
    # The protocol's input camera it assumes (upstream/input_camera.py); it cannot be told another.
    "input_camera": {
        "elevation": 0.0,
        "azimuth": 0.0,
        "fov": 49.1,
        "source": (
            "lgm@fe8d12c infer.py:91 asks ImageDream for views at elevation=0 relative to the input; core/models.py:"
            "63-70 builds the input rays from orbit_camera(0, 0/90/180/270, radius 1.5); core/options.py:26 fovy 49.1; "
            "the input is recentred (border 0.2)"
        ),
    },
    "inputs": {
        "background": "transparent",
        "resolution": 512,
        # infer.py reads it with kiui.read_image, which composites RGBA onto WHITE: our alpha is discarded and
        # U2-Net re-segments the white composite (light object parts can be cut; audit L-I1). Nothing on the
        # command line changes that. Then recenter (border 0.2).
        "removes_background": True,
        "filename": "{name}.png",
    },
    "stage_markers": (
        # printed once the LGM model, ImageDream and rembg are loaded, as the first image starts
        {"stage": "model_load", "pattern": r"\[INFO\] Processing .* --> "},
    ),
    # Stage attribution (viewscore/stages.py): ImageDream's four views. infer.py never writes them (infer.py:91-92),
    # so the step runs it through our hook hooks/save_multiview.py, which saves what the pipeline returns (the first
    # four of its five images; the fifth is the input view) as OUT/lgm/views/mv_0.png. infer.py hands them to the
    # model reordered [1, 2, 3, 0] (infer.py:92), whose cameras are kiui's orbit_camera(0, 0/90/180/270, radius
    # cam_radius = 1.5) (core/models.py:61-71, core/options.py:36) with fovy 49.1 (core/options.py:26); kiui's
    # azimuth runs from +Z to +X like reconbench's, about LGM's y-up output axes. So returned image k sits at
    # azimuth 270, 0, 90, 180. Background white (the input is put on white, infer.py:88-89). Not run here (CUDA).
    "intermediate_views": {
        "path": "lgm/views/mv_*.png",
        "grid": [1, 4],
        "fov": 49.1,
        "distance": 1.5,
        "cameras": [
            {"view": 0, "azimuth": 270.0, "elevation": 0.0},
            {"view": 1, "azimuth": 0.0, "elevation": 0.0},
            {"view": 2, "azimuth": 90.0, "elevation": 0.0},
            {"view": 3, "azimuth": 180.0, "elevation": 0.0},
        ],
        "background": [255, 255, 255],
        "saved_by": "hook",
        "source": "3DTopia/LGM@fe8d12c infer.py:88-92; core/models.py:61-71; core/options.py:26,36; "
        "hook: reconbench upstream/hooks/save_multiview.py",
    },
    "sources": (
        {
            "title": (
                "Tang et al., LGM: Large Multi-View Gaussian Model for High-Resolution 3D Content Creation (ECCV 2024)"
            ),
            "url": "https://arxiv.org/abs/2402.05054",
        },
        {"title": "3DTopia/LGM", "url": "https://github.com/3DTopia/LGM"},
    ),
    "licence": "MIT (code and weights); diff-gaussian-rasterization: Inria/MPII non-commercial licence",
    "published": Published(
        names=("LGM",),
        training=Training(
            3072.0,
            2688.0,
            3456.0,
            "A100-80GB",
            "32 GPUs x ~4 days x 24 h; range 3.5-4.5 days",
            "Tang et al., LGM (arXiv 2402.05054): 32 A100 (80G) GPUs, about 4 days",
            Check("unverified", "carried over from cost/published.py; the paper was not re-read"),
            "Excludes ImageDream, the multi-view diffusion model LGM runs first (its compute is not counted).",
        ),
        times=(
            TimeFigure(
                5.0,
                None,
                "Gaussians from one image (multi-view generation + reconstruction)",
                "lgm",
                "abstract",
                Check(
                    "checked",
                    "abstract (ECCV 2024 page, project page): 'generate 3D objects within 5 seconds'; "
                    "no GPU stated with it",
                ),
            ),
        ),
        # The SF3D / SPAR3D / CRM rows score LGM's mesh (its own Gaussians-to-mesh conversion): lgm-mesh's output.
        results=(
            *image_row("sf3d-gso-images", 14.377, 0.762, 0.248, LGM_MESH),
            *image_row("sf3d-omni-images", 12.662, 0.732, 0.273, LGM_MESH),
            *sf3d_row("sf3d-gso", 0.195, 0.376, 0.654, 0.928, LGM_MESH),
            *sf3d_row("sf3d-omni", 0.205, 0.344, 0.631, 0.921, LGM_MESH),
            *sf3d_row("spar3d-gso", 0.196, 0.356, 0.635, 0.936, LGM_MESH),
            *image_row("spar3d-gso", 17.0, 0.818, 0.184, LGM_MESH),
            *sf3d_row("spar3d-omni", 0.200, 0.366, 0.638, 0.924, LGM_MESH),
            *image_row("spar3d-omni", 16.1, 0.810, 0.188, LGM_MESH),
            *row(
                "crm-gso30",
                {
                    "chamfer": 0.0117,
                    "volume_iou": 0.4685,
                    "fscore@0.05": 0.6869,
                    "psnr": 13.28,
                    "ssim": 0.7946,
                    "lpips": 0.2560,
                    "clip_similarity": 0.8520,
                },
            ),
        ),
    ),
}
