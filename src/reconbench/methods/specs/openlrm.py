"""OpenLRM: the open implementation of LRM (Large Reconstruction Model), v1.1 mix-large checkpoint."""

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
        "pip_args": ["--extra-index-url", "https://download.pytorch.org/whl/cu121"],
        # README: developed and tested under torch 2.1.2; xformers for DINOv2's attention. requirements.txt pins
        # nothing else; huggingface_hub is held to the versions of early 2024 (its model-hub mixin changed later).
        "packages": [
            "torch==2.1.2", "torchvision==0.16.2", "xformers==0.0.23.post1", "numpy==1.26.4",
            "huggingface_hub>=0.20,<0.22", "accelerate>=0.26,<0.28", "transformers>=4.36,<4.39",
            "-r {repo}/requirements.txt",
        ],
        "build": [],
    },
    "weights": (
        {"kind": "hf", "repo_id": "zxhezexin/openlrm-mix-large-1.1", "files": ["config.json", "model.safetensors"]},
        # DINOv2 ViT-B/14 with registers, fetched by torch.hub.load_state_dict_from_url when the model is built.
        {"kind": "url", "url": "https://dl.fbaipublicfiles.com/dinov2/dinov2_vitb14/dinov2_vitb14_reg4_pretrain.pth",
         "dest": "torch/hub/checkpoints/dinov2_vitb14_reg4_pretrain.pth", "env": {"TORCH_HOME": "torch"}},
    ),
    "steps": (
        # `python -m openlrm.launch` needs the checkout as the working directory; mesh_dump / video_dump
        # (OmegaConf overrides) send every file under OUT.
        {"stage": "generation", "cwd": "{repo}",
         "argv": ["{python}", "-m", "openlrm.launch", "infer.lrm", "--infer", "{repo}/configs/infer-l.yaml",
                  "model_name=zxhezexin/openlrm-mix-large-1.1", "image_input={input}", "export_video=false",
                  "export_mesh=true", "mesh_dump={out}/meshes", "video_dump={out}/videos"]},
    ),
    "output": {"path": "meshes/*.ply", "format": "ply"},  # OUT/meshes/<uid>.ply, uid = file name up to its first dot
    # The protocol's input camera it assumes (methods/external/input_camera.py); it cannot be told another.
    "input_camera": {
        "elevation": 0.0, "azimuth": 0.0, "fov": 67.38,
        "source": "openlrm@3108b69 openlrm/runners/infer/lrm.py:129-142: source camera at (0, -2, 0) looking at the "
        "origin (elevation 0, azimuth 0) with normalised focal 0.75, i.e. vertical fov 2*atan(0.5/0.75) = 67.38 deg; "
        "the CLI does not recentre the input",
    },
    "inputs": {
        "background": "transparent",  # RGBA is composited on white by the runner script
        "resolution": 448,  # the large model's source_size (infer-l.yaml); the script resizes to it anyway
        "removes_background": False,  # the CLI does no matting or recentring (only its Gradio app does)
        "filename": "{name}.png",
    },
    "stage_markers": (),  # the CLI prints no stage boundaries we could rely on
    "sources": (
        {"title": "He and Wang, OpenLRM: Open-Source Large Reconstruction Models (2023)", "url": "https://github.com/3DTopia/OpenLRM"},
        {"title": "Hong et al., LRM: Large Reconstruction Model for Single Image to 3D (ICLR 2024)", "url": "https://arxiv.org/abs/2311.04400"},
    ),
    "licence": "code Apache-2.0; weights CC-BY-NC-4.0 (non-commercial)",
    "published": {
        "comparison": {"source": "SF3D paper (arXiv 2408.00653), GSO, H100", "time_s": 2.0, "chamfer": 0.160,
                       "fscore_0.1": 0.472, "psnr": 15.7, "note": "OpenLRM model size not stated there"},
        # Training compute: cost/published.py TRAINING["openlrm"] (the large model: 64 x A100-80G x 5-6 days).
    },
}
