"""InstantMesh: the open Instant3D-style two-stage method (multi-view diffusion, then a sparse-view LRM)."""

from reconbench.literature.papers import SF3D_CHECK, SPAR3D_CHECK
from reconbench.literature.types import Check, Published, TimeFigure, image_row, sf3d_row
from reconbench.methods.recipe import torch_index
from reconbench.upstream.adapters._pins import NVDIFFRAST, REMBG_U2NET

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
    "frames": [
        {
            "name": "instantmesh-obj",
            "description": "InstantMesh's vertex-colour OBJ (run.py without --export_texmap): its model works in "
            "z-up-front-x, and its OBJ writer multiplies vertices by diag(1, 1, -1) and reverses the winding, so the "
            "file is -Z up, front toward +X. This undoes both exactly (a reflection; applying it reverses the "
            "winding back, as MeshAsset.transformed does for any reflection): (x, y, z) -> (y, -z, x). Its "
            "--export_texmap OBJ is plain z-up-front-x.",
            "matrix": [[0, 1, 0, 0], [0, 0, -1, 0], [1, 0, 0, 0], [0, 0, 0, 1]],
            "reflection": True,  # determinant -1, on purpose: it undoes the writer's mirroring
        }
    ],
    "scale": "bbox",  # mesh within about +-1.05
    "timeout_s": 1800,
    "upstream": {
        "repo": "https://github.com/TencentARC/InstantMesh",
        "commit": "08822c52fdc399b93ea00e4fa9e596344ed52ccc",
    },
    "environment": {
        "python": "3.10",
        "cuda": "12.1",
        "pip_args": torch_index("cu121"),
        # README: Python 3.10, torch 2.1.0 + cu121, xformers 0.0.22.post7, then requirements.txt (which pins
        # pytorch-lightning 2.1.2, transformers 4.34.1, diffusers 0.20.2 and builds nvdiffrast from git).
        # huggingface_hub stays below 0.26: diffusers 0.20.2 imports its removed cached_download.
        "packages": [
            "torch==2.1.0",
            "torchvision==0.16.0",
            "torchaudio==2.1.0",
            "xformers==0.0.22.post7",
            "numpy==1.26.4",
            "huggingface_hub>=0.17,<0.26",
            "rembg==2.0.49",
            "onnxruntime==1.16.3",
            "ninja",
            "setuptools==69.5.1",
            "wheel",  # torch 2.1 (audit X1)
            # requirements.txt, listed rather than read (audit I1): its last line builds nvdiffrast HEAD (v0.4.0,
            # which refuses to build under build isolation); nvdiffrast comes pinned below instead. gradio and
            # bitsandbytes are left out (app and training only).
            "pytorch-lightning==2.1.2",
            "einops",
            "omegaconf",
            "torchmetrics",
            "webdataset",
            "accelerate",
            "tensorboard",
            "PyMCubes",
            "trimesh",
            "transformers==4.34.1",
            "diffusers==0.20.2",
            "imageio[ffmpeg]",
            "xatlas",
            "plyfile",
        ],
        "build": [NVDIFFRAST],
        "env": {"TORCH_CUDA_ARCH_LIST": "8.0;8.6;8.9;9.0"},
    },
    "weights": (
        {
            "kind": "hf",
            "repo_id": "TencentARC/InstantMesh",
            "files": ["diffusion_pytorch_model.bin", "instant_mesh_large.ckpt"],
        },
        {"kind": "hf", "repo_id": "sudo-ai/zero123plus-v1.2", "files": []},  # whole repository (diffusers layout)
        # the LRM's image encoder is built from it (then overwritten by the checkpoint)
        {"kind": "hf", "repo_id": "facebook/dino-vitb16", "allow_patterns": ["*.json", "*.bin", "*.safetensors"]},
        REMBG_U2NET,
    ),
    "steps": (
        # cwd = checkout: custom_pipeline="zero123plus" is the repository's own folder, and the config's
        # ckpts/ paths are relative to it (absent: the weights come from the Hugging Face cache).
        {
            "stage": "generation",
            "cwd": "{repo}",
            "argv": [
                "{python}",
                "{repo}/run.py",
                "{repo}/configs/instant-mesh-large.yaml",
                "{input}",
                "--output_path",
                "{out}",
                "--seed",
                "{seed}",
                "--diffusion_steps",
                "75",
                "--view",
                "6",
            ],
        },
    ),
    # OUT/instant-mesh-large/meshes/NAME.obj (NAME = file name up to its first dot); also images/NAME.png (the 6 views)
    "output": {"path": "instant-mesh-large/meshes/*.obj", "format": "obj"},
    # Zero123++ v1.2 generates views at absolute elevations (20/-10) and azimuths relative to the input, so it needs
    # no input elevation, and is made robust to the input's fov; only the azimuth is assumed (input_camera.py).
    "input_camera": {
        "elevation": None,
        "azimuth": 0.0,
        "fov": None,
        "source": "instantmesh@08822c5 src/utils/camera_util.py:95-100: the six Zero123++ views at azimuths 30..330 "
        "and elevations 20/-10; Zero123++ README (SUDO-AI-3D/zero123plus@7d0315c, 'Camera Parameters'): azimuth "
        "relative to the input view, elevation absolute, v1.2 robust to a wide range of input fields of view; "
        "camera_util.py:51-53 azimuth 0 on +X",
    },
    "inputs": {
        "background": "transparent",  # RGBA with transparency: rembg is skipped, resize_foreground(0.85) kept
        "resolution": 512,  # full frame: run.py crops to the object (0.85) before its 320^2 resize (audit I2)
        "removes_background": True,
        "filename": "{name}.png",
    },
    "stage_markers": (
        {"stage": "model_load", "pattern": r"Total number of input images: "},  # both models loaded
        {"stage": "multiview", "pattern": r"Image saved to "},  # Zero123++ views written
        {"stage": "generation", "pattern": r"Mesh saved to "},  # reconstruction and OBJ written
    ),
    # Stage attribution (viewscore/stages.py): Zero123++'s six views, which run.py writes by default as one
    # 960x640 image (run.py:136, 178) and splits as 3 rows x 2 columns, row by row (run.py:183). Their cameras are
    # get_zero123plus_input_cameras (src/utils/camera_util.py:95-111): azimuths 30..330, elevations 20/-10, fov 30,
    # radius 4.0 x --scale (1.0; run.py:75, 194), about the model's z-up-front-x axes where the camera sits at
    # r(cos e cos a, cos e sin a, sin e) (camera_util.py:51-53), i.e. reconbench's r(cos e sin a, sin e, cos e cos a)
    # after the frame conversion: the same angles. White background: the white-background UNet (run.py:108-115).
    # Read from the code at the pinned commit; not run here (CUDA).
    "intermediate_views": {
        "path": "instant-mesh-large/images/*.png",
        "grid": [3, 2],
        "fov": 30.0,
        "distance": 4.0,
        "cameras": [
            {"view": k, "azimuth": a, "elevation": e}
            for k, (a, e) in enumerate(zip((30, 90, 150, 210, 270, 330), (20, -10, 20, -10, 20, -10)))
        ],
        "background": [255, 255, 255],
        "saved_by": "upstream",
        "source": "TencentARC/InstantMesh@08822c5 run.py:178,183,194; src/utils/camera_util.py:51-53,95-111",
    },
    "sources": (
        {
            "title": "Xu et al., InstantMesh: Efficient 3D Mesh Generation from a Single Image with Sparse-view Large "
            "Reconstruction Models (arXiv 2404.07191)",
            "url": "https://arxiv.org/abs/2404.07191",
        },
        {"title": "TencentARC/InstantMesh", "url": "https://github.com/TencentARC/InstantMesh"},
        {
            "title": "Li et al., Instant3D (ICLR 2024): the two-stage design InstantMesh stands in for",
            "url": "https://arxiv.org/abs/2311.06214",
        },
    ),
    "licence": "Apache-2.0 (code and weights); Zero123++ v1.2 weights: see sudo-ai's model card",
    "published": Published(
        names=("InstantMesh",),
        training_note="not published (no training GPU-hours stated by the InstantMesh authors, arXiv 2404.07191); its "
        "Zero123++ stage is a separately trained diffusion model, also without a published figure",
        times=(
            TimeFigure(
                10.0,
                None,
                "image to mesh, 'within 10 seconds' (an upper bound)",
                "instantmesh",
                "abstract",
                Check("checked", "abstract (arXiv HTML 2404.07191v1)"),
            ),
            TimeFigure(32.4, "H100", "image to final mesh", "sf3d", "Table 1", SF3D_CHECK),
            TimeFigure(36.1, None, "inference per object", "spar3d", "Table 1", SPAR3D_CHECK),
        ),
        # InstantMesh's own GSO/Omni tables were not retrievable; these are other papers' re-evaluations.
        results=(
            *image_row("sf3d-gso-images", 15.434, 0.785, 0.203),
            *image_row("sf3d-omni-images", 13.531, 0.757, 0.235),
            *sf3d_row("sf3d-gso", 0.138, 0.549, 0.801, 0.967),
            *sf3d_row("sf3d-omni", 0.138, 0.560, 0.811, 0.964),
            *sf3d_row("spar3d-gso", 0.135, 0.545, 0.812, 0.971),
            *image_row("spar3d-gso", 18.1, 0.838, 0.146),
            *sf3d_row("spar3d-omni", 0.145, 0.546, 0.790, 0.962),
            *image_row("spar3d-omni", 17.2, 0.832, 0.150),
        ),
    ),
}
