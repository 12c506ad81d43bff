"""splat-sds as a reconbench method: choose the guidance, optimise, return the final iteration's cloud plus
the anytime curve's snapshots for the runner to score."""

from __future__ import annotations

import json
import os
import time

from reconbench.methods.base import MethodInput, MethodOutput

GUIDANCE_ENV = "RECONBENCH_SDS_GUIDANCE"  # none | zero123 | stable-zero123 | auto (default)
CONFIG_ENV = "RECONBENCH_SDS_CONFIG"  # JSON object overriding SdsConfig fields, e.g. {"iterations": 1000}


def choose_guidance(requested: str) -> tuple[str, str]:
    """(guidance name, why): `auto` takes Zero123 when it can run here (GPU, diffusers, cached
    weights) and otherwise reconstruction only, saying plainly why."""
    from reconbench.methods.splat_sds.guidance import guidance_availability

    if requested != "auto":
        return requested, "requested"
    ok, why = guidance_availability("zero123")
    return ("zero123", "available") if ok else ("none", why)


def run(inp: MethodInput) -> MethodOutput:
    import torch

    from reconbench.methods.splat_sds.guidance import make_guidance
    from reconbench.methods.splat_sds.optimise import CPU_DEFAULTS, GPU_DEFAULTS, optimise

    gpu = torch.cuda.is_available()
    cfg = GPU_DEFAULTS if gpu else CPU_DEFAULTS
    overrides = json.loads(os.environ.get(CONFIG_ENV, "{}"))
    unknown = sorted(set(overrides) - set(cfg.__dict__) - {"seed"})
    if unknown:
        raise ValueError(f"{CONFIG_ENV}: unknown field(s) {', '.join(unknown)}; known: {', '.join(cfg.__dict__)}")
    if "checkpoints" in overrides:
        overrides["checkpoints"] = tuple(overrides["checkpoints"])
    cfg = type(cfg)(**{**cfg.__dict__, **overrides, "seed": inp.seed})
    name, why = choose_guidance(os.environ.get(GUIDANCE_ENV, "auto"))
    start = time.perf_counter()
    guidance = make_guidance(name) if name == "none" else make_guidance(name, device="cuda")
    guidance.prepare(inp.images[0], inp.cameras[0])
    load = time.perf_counter() - start
    snapshots = optimise(inp.images, inp.cameras, guidance, cfg, inp.workdir, device="cuda" if gpu else "cpu")
    final = snapshots[-1]  # optimise() always saves the final iteration last
    return MethodOutput(
        asset=final.path,
        stage_seconds={"model_load": load, "optimisation": final.seconds},
        info={
            "guidance": name,
            # The diffusion prior these results rely on, for the cost model ("none": nothing trained is used).
            "prior": {"none": "none", "zero123": "zero123-xl", "stable-zero123": "stable-zero123"}.get(name, name),
            "guidance_note": why,
            "device": "cuda" if gpu else "cpu",
            "config": {k: v for k, v in cfg.__dict__.items()},
            "gaussians": final.n_gaussians,
            "anytime": [
                {"iteration": s.iteration, "seconds": s.seconds, "asset": str(s.path), "gaussians": s.n_gaussians}
                for s in snapshots
            ],
        },
    )
