"""DreamGaussian with Stable Zero123 guidance (configs/image_sai.yaml)."""

from dataclasses import replace

from reconbench.upstream.adapters.dreamgaussian import SPEC as _DG

SPEC = {
    **_DG,
    "name": "dreamgaussian-stable-zero123",
    "description": "DreamGaussian, stage 1, with configs/image_sai.yaml: Stable Zero123 guidance "
    "(ashawkey/stable-zero123-diffusers) instead of Zero-1-to-3 XL and no RGB warm-up; otherwise as dreamgaussian.",
    "weights": (
        {"kind": "hf", "repo_id": "ashawkey/stable-zero123-diffusers", "files": []},
        *[w for w in _DG["weights"] if w.get("kind") != "hf"],
    ),
    "steps": (
        _DG["steps"][0],
        {
            "stage": "optimisation",
            "cwd": "{repo}",
            "argv": [
                "{python}",
                "{repo}/main.py",
                "--config",
                "{repo}/configs/image_sai.yaml",
                "input={input_dir}/{name}_rgba.png",
                "save_path={name}",
                "outdir={out}",
                "elevation={input_elevation}",
                "gui=False",
                "force_cuda_rast=True",
            ],
            "preflight": {
                "ashawkey/zero123-xl-diffusers": "only with stable_zero123=False (configs/image.yaml, the "
                "dreamgaussian adapter)",
                **{k: v for k, v in _DG["steps"][1]["preflight"].items() if k.startswith("stabilityai/")},
            },
        },
    ),
    "sources": (
        *_DG["sources"][:2],
        {"title": "Stability AI, Stable Zero123 (2023)", "url": "https://huggingface.co/stabilityai/stable-zero123"},
    ),
    "licence": "MIT (code); diff-gaussian-rasterization: Inria/MPII non-commercial; Stable Zero123 weights: "
    "Stability AI non-commercial research licence",
    # Same optimisation as dreamgaussian (its times are for the Zero123-XL configuration); another prior.
    "published": replace(_DG["published"], names=(), prior="stable-zero123"),
}
