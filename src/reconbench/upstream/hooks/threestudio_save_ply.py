"""Save the Gaussians of a finished threestudio-3dgs trial as a 3DGS PLY (Inria layout).

threestudio's zero123 Gaussian system writes checkpoints and an exported mesh but never a .ply of its
Gaussians. This script, run inside the threestudio environment with the threestudio checkout as the
working directory (threestudio-3dgs cloned into custom/threestudio-3dgs), rebuilds the trial's geometry
from its own parsed config and checkpoint through threestudio's public API, and calls the geometry's
`save_ply`:

    python threestudio_save_ply.py --trial OUT/reconbench/NAME --output OUT/gaussians/NAME.ply

- config: TRIAL/configs/parsed.yaml (threestudio.utils.config.load_config, as `launch.py --export` does);
- geometry: threestudio.find(system.geometry_type) built with geometry_convert_from=TRIAL/ckpts/last.ckpt,
  the path by which threestudio-3dgs's GaussianBaseModel restores its Gaussians from a checkpoint
  (geometry._xyz, _features_dc, _features_rest, _opacity, _scaling, _rotation);
- output: GaussianBaseModel.save_ply (x y z, normals, f_dc, f_rest, opacity, scale, rot; pre-activation).

Written for threestudio @ 28d9d80 and threestudio-3dgs @ 8c2ab7b; not run here (it needs CUDA).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

# What this hook relies on in the upstream checkout, checked there by `reconbench doctor --preflight`:
# file -> names it must define (a function, class, method, property or dataclass field).
UPSTREAM_NAMES = {
    "launch.py": ["load_custom_modules"],
    "threestudio/__init__.py": ["find"],
    "threestudio/utils/config.py": ["load_config"],
    "custom/threestudio-3dgs/geometry/gaussian_base.py": ["GaussianBaseModel", "geometry_convert_from", "get_xyz"],
    "custom/threestudio-3dgs/geometry/gaussian_io.py": ["save_ply"],
}


def fail(message: str) -> None:
    print(f"threestudio_save_ply: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trial", required=True, help="the trial folder: <exp_root_dir>/<name>/<tag>")
    parser.add_argument("--output", required=True, help="the .ply file to write")
    parser.add_argument("--ckpt", default="ckpts/last.ckpt", help="checkpoint, relative to the trial folder")
    args = parser.parse_args(argv)

    trial = Path(args.trial)
    config, ckpt = trial / "configs" / "parsed.yaml", trial / args.ckpt
    for path in (config, ckpt):
        if not path.is_file():
            there = (
                sorted(str(p.relative_to(trial)) for p in trial.rglob("*") if p.is_file())[:20]
                if trial.is_dir()
                else []
            )
            fail(f"{path} not found (did training finish?); the trial folder holds: {there or 'nothing'}")
    if not Path("launch.py").is_file() or not Path("threestudio").is_dir():
        fail(f"run me with the threestudio checkout as the working directory (cwd is {os.getcwd()})")

    sys.path.insert(0, os.getcwd())
    try:
        import launch  # threestudio's launcher: its top level imports the standard library only
        import threestudio
        from omegaconf import OmegaConf
        from threestudio.utils.config import load_config
    except ImportError as exc:
        fail(f"cannot import threestudio ({exc}): run me with the threestudio environment's Python")
    launch.load_custom_modules()  # registers custom/threestudio-3dgs (geometry "gaussian-splatting")

    cfg = load_config(str(config))
    geometry_type = cfg.system.get("geometry_type")
    try:
        geometry_class = threestudio.find(geometry_type)
    except KeyError:
        fail(f"geometry {geometry_type!r} is not registered: is threestudio-3dgs in custom/threestudio-3dgs?")
    # A plain dict: the structured config is read-only for keys the YAML did not have.
    geometry_cfg = OmegaConf.to_container(cfg.system.geometry, resolve=True)
    geometry_cfg["geometry_convert_from"] = str(ckpt.resolve())
    geometry = geometry_class(geometry_cfg)
    if not hasattr(geometry, "save_ply"):
        fail(f"geometry {geometry_type!r} ({type(geometry).__name__}) has no save_ply: not a Gaussian geometry")
    n = int(geometry.get_xyz.shape[0])
    if n == 0:
        fail(f"the checkpoint {ckpt} holds no Gaussians")

    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    geometry.save_ply(str(output))
    print(f"threestudio_save_ply: wrote {n} Gaussians to {output}")


if __name__ == "__main__":
    main()
