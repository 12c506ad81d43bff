"""OpenLRM: the open implementation of LRM (Large Reconstruction Model), v1.1 mix-large checkpoint."""

from reconbench.literature.papers import SF3D_CHECK
from reconbench.literature.types import Check, Published, TimeFigure, Training, image_row, row, sf3d_row
from reconbench.methods.recipe import torch_index

SPEC = {
    "name": "openlrm",
    "paradigm": "feed-forward",
    "representation": "mesh",
    "description": "OpenLRM, the open LRM: DINOv2 features of one image, a transformer to a triplane NeRF, marching "
    "cubes (384^3) to a vertex-colour mesh. The large v1.1 model trained on Objaverse + MVImgNet "
    "(zxhezexin/openlrm-mix-large-1.1); Adobe's LRM itself has no public code or weights.",
    "input_views": (1,),
    "needs_gpu": True,
    "frame": "z-up",  # source camera at (0, -2, 0) looking toward +Y, up +Z: the object's front faces -Y
    "scale": "bbox",  # mesh in [-1, 1]^3
    "timeout_s": 1200,
    "upstream": {"repo": "https://github.com/3DTopia/OpenLRM", "commit": "3108b6902d27912e1dcdce76970eab51436f5b21"},
    "environment": {
        "python": "3.10",
        "cuda": "12.1",
        "pip_args": torch_index("cu121"),
        # README: developed and tested under torch 2.1.2; xformers for DINOv2's attention. requirements.txt pins
        # nothing else; huggingface_hub is held to the versions of early 2024 (its model-hub mixin changed later).
        "packages": [
            "torch==2.1.2",
            "torchvision==0.16.2",
            "xformers==0.0.23.post1",
            "numpy==1.26.4",
            "huggingface_hub>=0.21,<0.22",  # 0.20 loads only pytorch_model.bin, the model ships safetensors (audit O3)
            "accelerate>=0.26,<0.28",
            "transformers>=4.36,<4.39",
            "setuptools==69.5.1",
            "wheel",  # torch 2.1 (audit X1)
            "-r {repo}/requirements.txt",
        ],
    },
    "weights": (
        {"kind": "hf", "repo_id": "zxhezexin/openlrm-mix-large-1.1", "files": ["config.json", "model.safetensors"]},
        # DINOv2 ViT-B/14 with registers, fetched by torch.hub.load_state_dict_from_url when the model is built.
        {
            "kind": "url",
            "url": "https://dl.fbaipublicfiles.com/dinov2/dinov2_vitb14/dinov2_vitb14_reg4_pretrain.pth",
            "dest": "torch/hub/checkpoints/dinov2_vitb14_reg4_pretrain.pth",
            "env": {"TORCH_HOME": "torch"},
        },
    ),
    "steps": (
        # `python -m openlrm.launch` needs the checkout as the working directory; mesh_dump / video_dump
        # (OmegaConf overrides) send every file under OUT.
        {
            "stage": "generation",
            "cwd": "{repo}",
            "argv": [
                "{python}",
                "-m",
                "openlrm.launch",
                "infer.lrm",
                "--infer",
                "{repo}/configs/infer-l.yaml",
                "model_name=zxhezexin/openlrm-mix-large-1.1",
                "image_input={input}",
                "export_video=false",
                "export_mesh=true",
                "mesh_dump={out}/meshes",
                "video_dump={out}/videos",
            ],
            "preflight": {
                "facebook/dino-vitb16": "default of ModelLRM's encoder_model_name (the v1.0 DINO encoder); the "
                "v1.1 checkpoint's config.json selects DINOv2 ViT-B/14-reg, fetched by torch.hub from the URL "
                "in the weights (hub/backbones.py; model_card.md)"
            },
        },
    ),
    "output": {"path": "meshes/*.ply", "format": "ply"},  # OUT/meshes/<uid>.ply, uid = file name up to its first dot
    # The protocol's input camera it assumes (upstream/input_camera.py); it cannot be told another.
    "input_camera": {
        "elevation": 0.0,
        "azimuth": 0.0,
        "fov": 67.38,
        "source": "openlrm@3108b69 openlrm/runners/infer/lrm.py:129-142: source camera at (0, -2, 0) looking at the "
        "origin (elevation 0, azimuth 0) with normalised focal 0.75, i.e. vertical fov 2*atan(0.5/0.75) = 67.38 deg; "
        "the CLI does not recentre the input",
    },
    "inputs": {
        "background": "transparent",  # RGBA is composited on white by the runner script
        "resolution": 448,  # the large model's source_size (infer-l.yaml); the script resizes to it anyway
        "removes_background": False,  # the CLI does no matting or recentring (only its Gradio app does)
        # ... so we recentre as OpenLRM's own front end does: Preprocessor.step_recenter(border_ratio=0.2),
        # openlrm/utils/preprocess.py (preprocess, step_recenter) and app.py (audit O2): the object fills 80 % of the
        # frame.
        "recentre": 0.8,
        "filename": "{name}.png",
    },
    "stage_markers": (),  # the CLI prints no stage boundaries we could rely on
    "sources": (
        {
            "title": "He and Wang, OpenLRM: Open-Source Large Reconstruction Models (2023)",
            "url": "https://github.com/3DTopia/OpenLRM",
        },
        {
            "title": "Hong et al., LRM: Large Reconstruction Model for Single Image to 3D (ICLR 2024)",
            "url": "https://arxiv.org/abs/2311.04400",
        },
    ),
    "licence": "code Apache-2.0; weights CC-BY-NC-4.0 (non-commercial)",
    "published": Published(
        names=("OpenLRM",),
        # The large model's figure; reconbench runs openlrm-mix-large-1.1, whose own compute is not published.
        training=Training(
            8448.0,
            7680.0,
            9216.0,
            "A100-80GB",
            "64 GPUs x 5-6 days x 24 h; value = midpoint",
            "OpenLRM maintainer, github.com/3DTopia/OpenLRM/issues/2 (2023-12-21): "
            "'It takes 64 A100-80G GPUs for 5-6 days.'",
            Check(
                "checked",
                "3DTopia/OpenLRM#2, maintainer's comment of 2023-12-21 as quoted; #43 "
                "(2024-05-06): 'There isn't much differences for V1.1 models'",
            ),
            "The same thread later gives v1.0 figures per size: small 32 x A100-80G x 1.5 days, base 32 x 2 days, "
            "large 64 x 5 days. For v1.1 (the mix-large-1.1 checkpoint run here) the maintainer says only that it "
            "differs little (OpenLRM#43).",
        ),
        times=(
            TimeFigure(
                2.0,
                "H100",
                "image to final mesh",
                "sf3d",
                "Table 1",
                SF3D_CHECK,
                note="OpenLRM large Objaverse v1.1 model",
            ),
        ),
        results=(
            *image_row("sf3d-gso-images", 15.689, 0.787, 0.206),
            *image_row("sf3d-omni-images", 13.975, 0.760, 0.229),
            *sf3d_row("sf3d-gso", 0.160, 0.472, 0.751, 0.954, "large obj v1.1 (reconbench runs mix-large-1.1)"),
            *sf3d_row("sf3d-omni", 0.139, 0.521, 0.798, 0.971, "large obj v1.1 (reconbench runs mix-large-1.1)"),
            *sf3d_row("triposr-gso", 0.180, 0.430, 0.698, 0.938, "large obj v1.0 (reconbench runs mix-large-1.1)"),
            *sf3d_row("triposr-omni", 0.155, 0.486, 0.759, 0.959, "large obj v1.0 (reconbench runs mix-large-1.1)"),
            *row(
                "crm-gso30",
                {
                    "chamfer": 0.0168,
                    "volume_iou": 0.3774,
                    "fscore@0.05": 0.6322,
                    "psnr": 14.30,
                    "ssim": 0.8294,
                    "lpips": 0.2276,
                    "clip_similarity": 0.8420,
                },
                "checkpoint not stated",
            ),
        ),
    ),
}
