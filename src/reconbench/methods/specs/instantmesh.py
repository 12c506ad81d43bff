"""InstantMesh: the open Instant3D-style two-stage method (multi-view diffusion, then a sparse-view LRM)."""

from reconbench.methods.external.shared_pins import REMBG_U2NET

SPEC = {
    "name": "instantmesh",
    "paradigm": "feed-forward",
    "representation": "mesh",
    "description": "InstantMesh, the open Instant3D-style two-stage method (not Instant3D: Adobe's Instant3D has no "
    "public code or weights): Zero123++ v1.2 generates six 320^2 views, a sparse-view LRM with FlexiCubes turns them "
    "into a vertex-colour mesh (instant-mesh-large).",
    "input_views": (1,),
    "needs_gpu": True,  # nvdiffrast, xformers; run.py sets device = cuda
    # TRAP: the model works in z-up-front-x, but the vertex-colour OBJ writer (src/utils/mesh_util.save_obj)
    # multiplies the vertices by diag(1, 1, -1) and reverses the winding; the frame undoes both exactly.
    "frame": "instantmesh-obj",
    "scale": "bbox",  # mesh within about +-1.05
    "timeout_s": 1800,
    "upstream": {"repo": "https://github.com/TencentARC/InstantMesh", "commit": "08822c52fdc399b93ea00e4fa9e596344ed52ccc"},
    "environment": {
        "python": "3.10",
        "cuda": "12.1",
        "pip_args": ["--extra-index-url", "https://download.pytorch.org/whl/cu121"],
        # README: Python 3.10, torch 2.1.0 + cu121, xformers 0.0.22.post7, then requirements.txt (which pins
        # pytorch-lightning 2.1.2, transformers 4.34.1, diffusers 0.20.2 and builds nvdiffrast from git).
        # huggingface_hub stays below 0.26: diffusers 0.20.2 imports its removed cached_download.
        "packages": [
            "torch==2.1.0", "torchvision==0.16.0", "torchaudio==2.1.0", "xformers==0.0.22.post7", "numpy==1.26.4",
            "huggingface_hub>=0.17,<0.26", "rembg==2.0.49", "onnxruntime==1.16.3", "ninja",
            "-r {repo}/requirements.txt",
        ],
        "build": [],
        "env": {"TORCH_CUDA_ARCH_LIST": "8.0;8.6;8.9;9.0"},
    },
    "weights": (
        {"kind": "hf", "repo_id": "TencentARC/InstantMesh", "files": ["diffusion_pytorch_model.bin", "instant_mesh_large.ckpt"]},
        {"kind": "hf", "repo_id": "sudo-ai/zero123plus-v1.2", "files": []},  # whole repository (diffusers layout)
        # the LRM's image encoder is built from it (then overwritten by the checkpoint)
        {"kind": "hf", "repo_id": "facebook/dino-vitb16", "allow_patterns": ["*.json", "*.bin", "*.safetensors"]},
        REMBG_U2NET,
    ),
    "steps": (
        # cwd = checkout: custom_pipeline="zero123plus" is the repository's own folder, and the config's
        # ckpts/ paths are relative to it (absent: the weights come from the Hugging Face cache).
        {"stage": "generation", "cwd": "{repo}",
         "argv": ["{python}", "{repo}/run.py", "{repo}/configs/instant-mesh-large.yaml", "{input}",
                  "--output_path", "{out}", "--seed", "{seed}", "--diffusion_steps", "75", "--view", "6"]},
    ),
    # OUT/instant-mesh-large/meshes/NAME.obj (NAME = file name up to its first dot); also images/NAME.png (the 6 views)
    "output": {"path": "instant-mesh-large/meshes/*.obj", "format": "obj"},
    # Zero123++ v1.2 generates views at absolute elevations (20/-10) and azimuths relative to the input, so it needs
    # no input elevation, and is made robust to the input's fov; only the azimuth is assumed (input_camera.py).
    "input_camera": {
        "elevation": None, "azimuth": 0.0, "fov": None,
        "source": "instantmesh@08822c5 src/utils/camera_util.py:95-100: the six Zero123++ views at azimuths 30..330 "
        "and elevations 20/-10; Zero123++ README (SUDO-AI-3D/zero123plus@7d0315c, 'Camera Parameters'): azimuth "
        "relative to the input view, elevation absolute, v1.2 robust to a wide range of input fields of view; "
        "camera_util.py:51-53 azimuth 0 on +X",
    },
    "inputs": {
        "background": "transparent",  # RGBA with transparency: rembg is skipped, resize_foreground(0.85) kept
        "resolution": 320,  # Zero123++'s conditioning size
        "removes_background": True,
        "filename": "{name}.png",
    },
    "stage_markers": (
        {"stage": "model_load", "pattern": r"Total number of input images: "},  # both models loaded
        {"stage": "multiview", "pattern": r"Image saved to "},  # Zero123++ views written
        {"stage": "generation", "pattern": r"Mesh saved to "},  # reconstruction and OBJ written
    ),
    "sources": (
        {"title": "Xu et al., InstantMesh: Efficient 3D Mesh Generation from a Single Image with Sparse-view Large "
                  "Reconstruction Models (arXiv 2404.07191)", "url": "https://arxiv.org/abs/2404.07191"},
        {"title": "TencentARC/InstantMesh", "url": "https://github.com/TencentARC/InstantMesh"},
        {"title": "Li et al., Instant3D (ICLR 2024): the two-stage design InstantMesh stands in for",
         "url": "https://arxiv.org/abs/2311.06214"},
    ),
    "licence": "Apache-2.0 (code and weights); Zero123++ v1.2 weights: see sudo-ai's model card",
    "published": {
        "comparison": {"source": "SF3D paper (arXiv 2408.00653), GSO, H100", "time_s": 32.4, "chamfer": 0.138,
                       "fscore_0.1": 0.549, "psnr": 15.4},
        # Training compute: not published (cost/published.py TRAINING["instantmesh"]).
    },
}
