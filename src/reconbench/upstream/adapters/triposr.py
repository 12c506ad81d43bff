"""TripoSR (Stability AI x Tripo): single image -> triplane NeRF -> marching cubes, vertex-colour OBJ."""

from reconbench.literature.papers import SF3D_CHECK, SPAR3D_CHECK
from reconbench.literature.types import Check, Published, TimeFigure, image_row, sf3d_row
from reconbench.methods.recipe import git_build, torch_index
from reconbench.upstream.adapters._pins import REMBG_U2NET

SPEC = {
    "name": "triposr",
    "paradigm": "feed-forward",
    "representation": "mesh",
    "description": "TripoSR: a transformer predicts a triplane NeRF from one image; marching cubes (256^3) gives a "
    "vertex-colour mesh. Runs on CPU too (upstream falls back to it).",
    "input_views": (1,),
    "needs_gpu": False,
    "uses_gpu_if_present": True,
    # "x back, y right, z up": the input camera sits on +X looking at -X; run.py does not reorient
    "frame": "z-up-front-x",  # z-up; the input view is azimuth 0, on +X (tsr/utils.py:358-363)
    "scale": "bbox",  # mesh within about +-0.87 in TripoSR's units: normalised like the ground truth
    "timeout_s": 1800,  # on a CPU the model load and marching cubes take minutes
    "upstream": {
        "repo": "https://github.com/VAST-AI-Research/TripoSR",
        "commit": "d26e33181947bbbc4c6fc0f5734e1ec6c080956e",
    },
    "environment": {
        "python": "3.10",
        "cuda": "12.1",
        "pip_args": torch_index("cu121"),
        # requirements.txt pins, minus gradio (demo only); torchmcubes is built below against this torch.
        "packages": [
            "torch==2.1.2",
            "numpy==1.26.4",
            "omegaconf==2.3.0",
            "Pillow==10.1.0",
            "einops==0.7.0",
            "transformers==4.35.0",
            "trimesh==4.0.5",
            "xatlas==0.0.9",
            "moderngl==5.10.0",
            "rembg==2.0.49",
            "onnxruntime==1.16.3",
            "huggingface-hub>=0.17,<0.26",
            "imageio[ffmpeg]>=2.31,<3",
            # torch 2.1 cpp_extension imports pkg_resources, gone from setuptools >= 70 (audit X1/T1): torchmcubes
            # builds against this setuptools (no build isolation).
            "setuptools==69.5.1",
            "wheel",
        ],
        "build": [
            # CUDA marching cubes when a CUDA toolkit is present at build time, the CPU version otherwise.
            git_build("https://github.com/tatsy/torchmcubes.git", "bc36b08c62c5931e1dfc666581b3a8589278647f"),
        ],
        "env": {"TORCH_CUDA_ARCH_LIST": "8.0;8.6;8.9;9.0"},
    },
    "weights": (
        {"kind": "hf", "repo_id": "stabilityai/TripoSR", "files": ["config.yaml", "model.ckpt"]},
        {"kind": "hf", "repo_id": "facebook/dino-vitb16", "files": ["config.json"]},  # image tokenizer config only
        # rembg.new_session() loads U2-Net even though an RGBA input with transparency skips matting.
        REMBG_U2NET,
    ),
    "steps": (
        {
            "stage": "generation",
            "cwd": "{repo}",
            "argv": [
                "{python}",
                "{repo}/run.py",
                "{inputs}",
                "--output-dir",
                "{out}",
                "--model-save-format",
                "obj",
                "--mc-resolution",
                "256",
                "--foreground-ratio",
                "0.85",
                "--chunk-size",
                "8192",
            ],
        },
    ),
    "output": {"path": "0/mesh.obj", "format": "obj"},  # OUT/<index of the image>/mesh.obj, vertex colours
    # The model takes no camera (TripoSR report, arXiv:2403.02151, model overview: it guesses the input
    # camera's extrinsics and intrinsics); only the azimuth is assumed: its output faces the input view.
    "input_camera": {
        "elevation": None,
        "azimuth": 0.0,
        "fov": None,
        "source": "TripoSR report (arXiv:2403.02151), model overview: no camera conditioning, the model guesses it; "
        "triposr@d26e331 tsr/utils.py:358-363 and tsr/system.py:126-128: the input view is azimuth 0 (+X) of its "
        "output frame",
    },
    "inputs": {
        "background": "transparent",  # RGBA with transparency: rembg is skipped, the alpha is the mask
        "resolution": 512,
        "removes_background": True,  # rembg if opaque; then resize_foreground(0.85) and grey 0.5 background
        "filename": "{name}.png",
        "batch": True,  # run.py takes several images in one process: `reconbench doctor` times cold and warm
    },
    # run.py's Timer logs "<stage> finished in <ms>ms." through logging (stderr).
    "stage_markers": (
        {"stage": "model_load", "pattern": r"Initializing model finished in"},
        {"stage": "preprocess", "pattern": r"Processing images finished in"},
        {"stage": "generation", "pattern": r"Running model finished in"},
        {"stage": "extraction", "pattern": r"Extracting mesh finished in"},
        {"stage": "export", "pattern": r"Exporting mesh finished in"},
    ),
    "sources": (
        {
            "title": "Tochilkin et al., TripoSR: Fast 3D Object Reconstruction from a Single Image (arXiv 2403.02151)",
            "url": "https://arxiv.org/abs/2403.02151",
        },
        {"title": "VAST-AI-Research/TripoSR", "url": "https://github.com/VAST-AI-Research/TripoSR"},
    ),
    "licence": "MIT (code and weights)",
    "published": Published(
        names=("TripoSR",),
        training_note="not published (no training GPU-hours stated by the TripoSR authors, arXiv 2403.02151)",
        times=(
            TimeFigure(
                0.5,
                "A100",
                "image to mesh; 'under 0.5 s', an upper bound",
                "triposr",
                "abstract and README",
                Check("checked", "VAST-AI-Research/TripoSR README: 'in less than 0.5 seconds on an NVIDIA A100 GPU'"),
            ),
            TimeFigure(0.3, "H100", "image to final mesh", "sf3d", "Table 1", SF3D_CHECK),
            TimeFigure(0.2, None, "inference per object", "spar3d", "Table 1", SPAR3D_CHECK),
        ),
        results=(
            *image_row("sf3d-gso-images", 16.445, 0.789, 0.194),
            *image_row("sf3d-omni-images", 14.331, 0.755, 0.224),
            *sf3d_row("sf3d-gso", 0.111, 0.645, 0.869, 0.980),
            *sf3d_row("sf3d-omni", 0.103, 0.672, 0.889, 0.986),
            *sf3d_row("spar3d-gso", 0.145, 0.501, 0.784, 0.968),
            *image_row("spar3d-gso", 18.5, 0.837, 0.151),
            *sf3d_row("spar3d-omni", 0.144, 0.537, 0.785, 0.963),
            *image_row("spar3d-omni", 18.0, 0.835, 0.147),
            *sf3d_row("triposr-gso", 0.111, 0.651, 0.871, 0.980),
            *sf3d_row("triposr-omni", 0.102, 0.677, 0.890, 0.986),
        ),
    ),
}
