SPEC = {
    "name": "splat-sds",
    "paradigm": "per-scene",
    "representation": "splats",
    "entry": "reconbench.methods.splat_sds.method:run",
    "description": "Our DreamGaussian-family baseline: a Gaussian splat cloud fitted to the input view(s) (RGB + mask) "
    "plus score distillation from Zero-1-to-3 (zero123-xl) when a GPU and cached weights are present, otherwise "
    "reconstruction only (said in each result; meaningful with sparse4). Saves an anytime curve. Set "
    "RECONBENCH_SDS_GUIDANCE=none|zero123|stable-zero123 to force a guidance.",
    "input_views": (1, 2, 3, 4, 6, 8, 16),
    "uses_gpu_if_present": True,
    "frame": "y-up",
    "scale": "none",
    "requires": ("torch",),
    "timeout_s": 3600,
    "sources": (
        {
            "title": "Poole et al., DreamFusion: Text-to-3D using 2D Diffusion (ICLR 2023)",
            "url": "https://arxiv.org/abs/2209.14988",
        },
        {"title": "Tang et al., DreamGaussian (ICLR 2024)", "url": "https://github.com/dreamgaussian/dreamgaussian"},
        {"title": "Liu et al., Zero-1-to-3 (ICCV 2023)", "url": "https://github.com/cvlab-columbia/zero123"},
    ),
    "licence": "MIT (this implementation); Zero123-XL weights: see their model card",
}
