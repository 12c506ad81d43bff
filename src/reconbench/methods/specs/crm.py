"""CRM (Convolutional Reconstruction Model): six views and coordinate maps -> FlexiCubes mesh, zipped OBJ."""

from reconbench.methods.external.shared_pins import NVDIFFRAST, REMBG_U2NET

SPEC = {
    "name": "crm",
    "paradigm": "feed-forward",
    "representation": "mesh",
    "description": "CRM: a multi-view diffusion model makes six orthographic views and canonical coordinate maps, a "
    "convolutional U-Net turns them into a triplane, FlexiCubes gives a mesh with a UV texture (OBJ + MTL + PNG "
    "zipped as output3d.zip).",
    "input_views": (1,),
    "needs_gpu": True,  # nvdiffrast, xformers; run.py moves the model to cuda
    "frame": "crm-obj",  # the OBJ is written as (x, z, -y): y-up, front +Z assumed (unverified upstream)
    "scale": "bbox",
    "timeout_s": 1800,
    "upstream": {"repo": "https://github.com/thu-ml/CRM", "commit": "4964e36a593070a3045eb0f300935a771ff5c172"},
    "environment": {
        "python": "3.9",  # README: "we use python 3.9"
        "cuda": "11.7",
        # README: torch 1.13 + cu117, torch-scatter 2.1.1 and kaolin 0.14.0 from their wheel indexes (both built
        # for torch 1.13.1, which is used here), xformers (0.0.16 is the wheel built for torch 1.13.1), nvdiffrast.
        # Unverified on Hopper GPUs: CUDA 11.7 builds predate sm_90.
        "pip_args": ["--extra-index-url", "https://download.pytorch.org/whl/cu117",
                     "--find-links", "https://data.pyg.org/whl/torch-1.13.1+cu117.html",
                     "--find-links", "https://nvidia-kaolin.s3.us-east-2.amazonaws.com/torch-1.13.1_cu117.html"],
        "packages": [
            "torch==1.13.1+cu117", "torchvision==0.14.1+cu117", "torch-scatter==2.1.1", "kaolin==0.14.0",
            "xformers==0.0.16", "numpy==1.24.4", "huggingface_hub>=0.17,<0.26", "rembg==2.0.49",
            "onnxruntime==1.16.3", "ninja",
            "-r {repo}/requirements.txt",
        ],
        "build": [
            NVDIFFRAST,
        ],
    },
    "weights": (
        {"kind": "hf", "repo_id": "Zhengyi/CRM", "files": ["CRM.pth", "ccm-diffusion.pth", "pixel-diffusion.pth"]},
        # ImageDream's image encoder: OpenCLIP ViT-H-14 laion2b_s32b_b79k (unverified that open-clip-torch 2.7.0
        # fetches it from this Hugging Face repository rather than a URL of its own).
        {"kind": "hf", "repo_id": "laion/CLIP-ViT-H-14-laion2B-s32B-b79K",
         "allow_patterns": ["*.json", "open_clip_pytorch_model.bin"]},
        # run.py builds a rembg session at import, even with --bg_choice "Alpha as mask".
        REMBG_U2NET,
    ),
    "steps": (
        # cwd = checkout (configs/ are read relative to it). run.py joins paths as outdir + "name", so the
        # trailing slash of "{out}/" matters.
        {"stage": "generation", "cwd": "{repo}",
         "argv": ["{python}", "{repo}/run.py", "--inputdir", "{input}", "--outdir", "{out}/",
                  "--bg_choice", "Alpha as mask"]},
    ),
    # output3d.zip holds tmpXXXX.obj / .mtl / .png (a temporary file's name).
    "output": {"path": "output3d.zip", "format": "obj", "unpack": "zip", "member": "*.obj"},
    # The protocol's input camera it assumes (methods/external/input_camera.py); it cannot be told another.
    "input_camera": {
        "elevation": 0.0, "azimuth": 0.0, "fov": None,
        "source": "crm@4964e36 configs/nf7_v3_SNR_rd_size_stroke.yaml:17-18 (camera_views [1, 2, 3, 4, 5, 0, 0], "
        "reference last), libs/sample.py:36-37, imagedream/camera_utils.py:88-99: the six views are front (view 000, "
        "'ev: 0, azimuth: 0', the input's own view), left, bottom, back, right and top, relative to the input",
    },
    "inputs": {
        "background": "transparent",  # "Alpha as mask": our alpha, composited on grey (127) by run.py
        "resolution": 256,  # the multi-view model's resolution
        "removes_background": False,  # not with "Alpha as mask" (the default would run rembg)
        "filename": "{name}.png",
    },
    "stage_markers": (
        {"stage": "export", "pattern": r"uv takes "},  # UV texturing and the OBJ/GLB/zip writing done
    ),
    "sources": (
        {"title": "Wang et al., CRM: Single Image to 3D Textured Mesh with Convolutional Reconstruction Model "
                  "(ECCV 2024)", "url": "https://arxiv.org/abs/2403.05034"},
        {"title": "thu-ml/CRM", "url": "https://github.com/thu-ml/CRM"},
    ),
    "licence": "MIT (code and weights)",
    "published": {
        "time_s": 10.0, "time_gpu": None,
        "time_source": "CRM paper: about 10 s per object (abstract)",
        # Training compute: cost/published.py TRAINING["crm"] (8 x A800 x 6 days, secondary source).
    },
}
