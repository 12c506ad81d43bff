"""CRM (Convolutional Reconstruction Model): six views and coordinate maps -> FlexiCubes mesh, zipped OBJ."""

from reconbench.literature.papers import SF3D_CHECK, SPAR3D_CHECK
from reconbench.literature.types import Check, Published, TimeFigure, Training, image_row, row, sf3d_row
from reconbench.methods.recipe import torch_index
from reconbench.upstream.adapters._pins import NVDIFFRAST, REMBG_U2NET

SPEC = {
    "name": "crm",
    "paradigm": "feed-forward",
    "representation": "mesh",
    "description": "CRM: a multi-view diffusion model makes six orthographic views and canonical coordinate maps, a "
    "convolutional U-Net turns them into a triplane, FlexiCubes gives a mesh with a UV texture (OBJ + MTL + PNG "
    "zipped as output3d.zip).",
    "input_views": (1,),
    "needs_gpu": True,  # nvdiffrast, xformers; run.py moves the model to cuda
    "frame": "crm-obj",  # the OBJ is written as (x, z, -y): y-up, front +Z (read from code, docs/adapters.md)
    "frames": [
        {
            "name": "crm-obj",
            "description": "CRM's OBJ (inside output3d.zip): its exporter writes (x, z, -y) of its internal z-up "
            "coordinates, assumed to give +Y up with the front toward +Z, i.e. the canonical axes; unverified "
            "upstream (read from the code, not yet run). A separate name so that a correction lands in one place.",
            "matrix": [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]],
        }
    ],
    "scale": "bbox",
    "timeout_s": 1800,
    "upstream": {"repo": "https://github.com/thu-ml/CRM", "commit": "4964e36a593070a3045eb0f300935a771ff5c172"},
    "environment": {
        "python": "3.9",  # README: "we use python 3.9"
        "cuda": "12.1",
        # README: torch 1.13 + cu117. Not used: those wheels carry kernels up to sm_86 only, so they fail on Hopper
        # (H100/H200, sm_90; audit C1), and nvcc 11.7 cannot build nvdiffrast for sm_90. torch 2.1.2 + cu121 with the
        # xformers wheel built for it instead (unverified: a GPU run must show that CRM's code runs on torch 2.1).
        # torch-scatter and kaolin (README) are left out: only the training code imports them.
        "pip_args": torch_index("cu121"),
        "packages": [
            "torch==2.1.2",
            "torchvision==0.16.2",
            "xformers==0.0.23.post1",
            "numpy==1.24.4",
            "huggingface_hub>=0.17,<0.26",
            "rembg==2.0.49",
            "onnxruntime==1.16.3",
            "ninja",
            "setuptools==69.5.1",
            "wheel",  # torch 2.1 (audit X1)
            # run.py imports libs/base_utils.py, whose module-level imports need these; requirements.txt lacks them
            # (found by `reconbench doctor --preflight`, not by the audit)
            "absl-py",
            "accelerate==0.24.1",
            "wandb",
            "rich",
            "-r {repo}/requirements.txt",
        ],
        "build": [
            NVDIFFRAST,
        ],
        "env": {"TORCH_CUDA_ARCH_LIST": "8.0;8.6;8.9;9.0"},
    },
    "weights": (
        {"kind": "hf", "repo_id": "Zhengyi/CRM", "files": ["CRM.pth", "ccm-diffusion.pth", "pixel-diffusion.pth"]},
        # ImageDream's image encoder: OpenCLIP ViT-H-14 laion2b_s32b_b79k (unverified that open-clip-torch 2.7.0
        # fetches it from this Hugging Face repository rather than a URL of its own).
        {
            "kind": "hf",
            "repo_id": "laion/CLIP-ViT-H-14-laion2B-s32B-b79K",
            "allow_patterns": ["*.json", "open_clip_pytorch_model.bin"],
        },
        # CRM.__init__ (model/crm/model.py:66-68) loads DDIMScheduler.from_pretrained(this repo, subfolder="scheduler").
        {
            "kind": "hf",
            "repo_id": "stabilityai/stable-diffusion-2-1-base",
            "files": ["scheduler/scheduler_config.json"],
        },
        # run.py builds a rembg session at import, even with --bg_choice "Alpha as mask".
        REMBG_U2NET,
    ),
    "steps": (
        # cwd = checkout (configs/ are read relative to it). run.py joins paths as outdir + "name", so the
        # trailing slash of "{out}/" matters.
        {
            "stage": "generation",
            "cwd": "{repo}",
            "argv": [
                "{python}",
                "{repo}/run.py",
                "--inputdir",
                "{input}",
                "--outdir",
                "{out}/",
                "--bg_choice",
                "Alpha as mask",
            ],
        },
    ),
    # output3d.zip holds tmpXXXX.obj / .mtl / .png (a temporary file's name).
    "output": {"path": "output3d.zip", "format": "obj", "unpack": "zip", "member": "*.obj"},
    # The protocol's input camera it assumes (upstream/input_camera.py); it cannot be told another.
    "input_camera": {
        "elevation": 0.0,
        "azimuth": 0.0,
        "fov": None,
        "source": "crm@4964e36 configs/nf7_v3_SNR_rd_size_stroke.yaml:17-18 (camera_views [1, 2, 3, 4, 5, 0, 0], "
        "reference last), libs/sample.py:36-37, imagedream/camera_utils.py:88-99: the six views are front (view 000, "
        "'ev: 0, azimuth: 0', the input's own view), left, bottom, back, right and top, relative to the input",
    },
    "inputs": {
        "background": "transparent",  # "Alpha as mask": our alpha, composited on grey (127) by run.py
        "resolution": 256,  # the multi-view model's resolution
        "removes_background": False,  # not with "Alpha as mask" (the default would run rembg)
        # run.py neither crops nor recentres (preprocess_image(..., foreground_ratio=1.0)): it expects a framed
        # object. 0.88 is the median longest-side fraction of the 44 RGBA images in CRM's examples/ at this
        # commit (min 0.72, max 0.99; measured for this adapter; audit C3).
        "recentre": 0.88,
        "filename": "{name}.png",
    },
    "stage_markers": (
        {"stage": "preprocess", "pattern": r"^Alpha as mask$"},  # run.py:77, imports and rembg session done
        # inference.py:48: model load, both diffusion stages and the reconstruction U-Net done (audit C4)
        {"stage": "generation", "pattern": r"unet takes "},
        {"stage": "export", "pattern": r"uv takes "},  # inference.py:90: mesh, UV texture, OBJ/GLB/zip written
    ),
    # Stage attribution (viewscore/stages.py): the six views of the pixel diffusion, which run.py writes by default
    # side by side as pixel_images.png (run.py:152-156). Frame k was generated at data index
    # camera_views[k] = [1, 2, 3, 4, 5, 0] (configs/nf7_v3_SNR_rd_size_stroke.yaml:17-18, the reference frame 6
    # popped: pipelines.py:91), and index i at (elevation, azimuth) = [(0, 0), (0, -90), (-90, 0), (0, 180), (0, 90),
    # (90, 0)][i] (imagedream/camera_utils.py:98), with the camera at (cos e sin a, sin e, cos e cos a), +Y up
    # (camera_utils.py:9-16): reconbench's angles, in the frame crm-obj assumes. Frames 1 and 4 look straight down
    # and up; their roll is undefined in that code (the cross product with +Y is zero), so they are left out.
    # The views are orthographic and become the triplane as they are (inference.py:30-31, scale 1), which is sampled
    # at the model's coordinates with align_corners=True (model/archs/decoders/shape_texture_net.py:59-60): the
    # image spans [-1, 1], half-height 1 (unverified: read from the code, not run). Grey background (run.py:122).
    "intermediate_views": {
        "path": "pixel_images.png",
        "grid": [1, 6],
        "orthographic": 1.0,
        "cameras": [
            {"view": 0, "azimuth": 270.0, "elevation": 0.0},
            {"view": 2, "azimuth": 180.0, "elevation": 0.0},
            {"view": 3, "azimuth": 90.0, "elevation": 0.0},
            {"view": 5, "azimuth": 0.0, "elevation": 0.0},
        ],
        "background": [127, 127, 127],
        "saved_by": "upstream",
        "source": (
            "thu-ml/CRM@4964e36 run.py:122,152-156; pipelines.py:91; configs/nf7_v3_SNR_rd_size_stroke.yaml:17-18; "
            "imagedream/camera_utils.py:9-16,98; inference.py:30-31; model/archs/decoders/shape_texture_net.py:59-60"
        ),
    },
    "sources": (
        {
            "title": "Wang et al., CRM: Single Image to 3D Textured Mesh with Convolutional Reconstruction Model "
            "(ECCV 2024)",
            "url": "https://arxiv.org/abs/2403.05034",
        },
        {"title": "thu-ml/CRM", "url": "https://github.com/thu-ml/CRM"},
    ),
    "licence": "MIT (code and weights)",
    "published": Published(
        names=("CRM",),
        training=Training(
            1152.0,
            1056.0,
            1248.0,
            "A800",
            "8 GPUs x 6 days x 24 h; range 5.5-6.5 days",
            "Wang et al., CRM (arXiv 2403.05034): 8 NVIDIA A800 GPUs for 6 days",
            Check(
                "secondary",
                "two secondary notes agree (8 GPUs, 6 days; '1/8 of LRM's training cost'); "
                "the paper's sentence was not read",
            ),
            "The reconstruction model's training; its two diffusion models' fine-tuning is not counted.",
        ),
        times=(
            TimeFigure(
                10.0,
                None,
                "image to textured mesh (about 3 s + 3 s diffusion, 4 s reconstruction)",
                "crm",
                "abstract",
                Check("checked", "abstract: 'a high-fidelity textured mesh from an image in just 10 seconds'"),
            ),
            TimeFigure(10.2, "H100", "image to final mesh", "sf3d", "Table 1", SF3D_CHECK),
            TimeFigure(7.4, None, "inference per object", "spar3d", "Table 1", SPAR3D_CHECK),
        ),
        results=(
            *image_row("sf3d-gso-images", 15.054, 0.778, 0.228),
            *image_row("sf3d-omni-images", 13.462, 0.755, 0.245),
            *sf3d_row("sf3d-gso", 0.179, 0.411, 0.699, 0.945),
            *sf3d_row("sf3d-omni", 0.158, 0.469, 0.752, 0.960),
            *sf3d_row("spar3d-gso", 0.161, 0.437, 0.735, 0.961),
            *image_row("spar3d-gso", 17.5, 0.830, 0.169),
            *sf3d_row("spar3d-omni", 0.155, 0.482, 0.765, 0.962),
            *image_row("spar3d-omni", 17.0, 0.828, 0.162),
            *row(
                "crm-gso30",
                {
                    "chamfer": 0.0094,
                    "volume_iou": 0.6131,
                    "fscore@0.05": 0.7938,
                    "psnr": 16.22,
                    "ssim": 0.8381,
                    "lpips": 0.2143,
                    "clip_similarity": 0.8755,
                },
            ),
        ),
    ),
}
