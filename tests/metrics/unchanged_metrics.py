"""Every metric of a fixed set of (prediction, object) pairs, frozen: the reference for
test_unchanged_metrics.py, which protects the speed work on evaluation (issue #18) from changing a number.

    PYTHONPATH=src python tests/metrics/unchanged_metrics.py   # rewrites unchanged_metrics.json

The JSON was written by this script with the evaluation code of main at commit a075a42, before the
optimisation; rewrite it only when a metric is meant to change, and say why in the commit.

Pairs: two procedural objects under `default` (a prediction moved by a small similarity, one deformed
and recoloured, a Gaussian-splat stand-in, the ground truth itself, and a moved one scored without
alignment), one under `sparse4`, and two under `gso30-syncdreamer` (its own alignment, SSIM and
LPIPS-VGG). Each case keeps the scalar metrics, the per-view values, the alignment and the notes;
the splat cases also keep the runner's usability figures (runner/execute.py `asset_usability`).
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from reconbench.alignment import rotation_about_up
from reconbench.assets import GaussianSplats, MeshAsset, save_splats
from reconbench.assets.splats import splats_on_surface
from reconbench.datasets import open_dataset

REFERENCE = Path(__file__).with_name("unchanged_metrics.json")

# (protocol, object, prediction, align); align None = the preset's own.
CASES: tuple[tuple[str, str, str, str | None], ...] = (
    ("default", "chair", "moved", None),
    ("default", "chair", "deformed", None),
    ("default", "chair", "splat", None),
    ("default", "duck", "moved", None),
    ("default", "duck", "same", None),
    ("default", "duck", "moved", "none"),
    ("sparse4", "chair", "moved", None),
    ("gso30-syncdreamer", "chair", "deformed", None),
    ("gso30-syncdreamer", "duck", "splat", None),
)


def case_name(case: tuple) -> str:
    protocol, obj, kind, align = case
    return f"{protocol}/{obj}/{kind}" + (f"/align-{align}" if align else "")


def _moved() -> np.ndarray:
    m = rotation_about_up(5.0)
    m[:3, :3] *= 1.05
    m[:3, 3] = [0.03, -0.02, 0.02]
    return m


def prediction(mesh: MeshAsset, kind: str) -> MeshAsset | GaussianSplats:
    """The prediction of one kind, made from the ground-truth mesh deterministically."""
    if kind == "same":
        return mesh
    if kind == "moved":
        return mesh.transformed(_moved())
    if kind == "deformed":  # a smooth wave (duplicated seam vertices move alike: still closed), stretched, darker
        parts = []
        for p in mesh.parts:
            v = p.vertices * [1.08, 0.93, 1.0]
            v = v + np.c_[0.02 * np.sin(9 * p.vertices[:, 1]), np.zeros(len(v)), 0.015 * np.cos(7 * p.vertices[:, 0])]
            colour = tuple(c * 0.8 for c in p.material.base_color[:3]) + (1.0,)
            parts.append(replace(p, vertices=v, material=replace(p.material, base_color=colour)))
        return replace(mesh, parts=tuple(parts))
    if kind == "splat":
        splats = splats_on_surface(mesh.to_trimesh(), 20000, seed=3, color=(0.7, 0.5, 0.3))
        m = _moved()
        return replace(splats, means=splats.means @ m[:3, :3].T + m[:3, 3], scales=splats.scales * 1.05)
    raise ValueError(kind)


def compute(cases=CASES, prepared: dict | None = None, **options) -> dict[str, dict]:
    """Scores of every case with the evaluation code on the path (what the reference and the test both run).
    `prepared`: ground truths by (protocol, object), filled and reused; `options`: passed to evaluate."""
    from reconbench.evaluation import evaluate, prepare_ground_truth
    from reconbench.protocol import get_protocol
    from reconbench.runner.execute import asset_usability

    out = {}
    prepared = {} if prepared is None else prepared
    for case in cases:
        protocol_name, obj, kind, align = case
        protocol = get_protocol(protocol_name)
        if (protocol_name, obj) not in prepared:
            mesh = open_dataset("procedural").get(obj).load()
            prepared[(protocol_name, obj)] = (mesh, prepare_ground_truth(mesh, protocol))
        mesh, gt = prepared[(protocol_name, obj)]
        pred = prediction(mesh, kind)
        result = evaluate(pred, gt, align=align, **options)
        entry = {
            "metrics": result.metrics,
            "views": result.views,
            "alignment": {k: result.alignment.to_dict()[k] for k in ("refinement", "total", "search_angle_deg")},
            "notes": result.notes,
        }
        if isinstance(pred, GaussianSplats):
            with tempfile.TemporaryDirectory() as tmp:
                path = save_splats(pred, Path(tmp) / "pred.ply")
                entry["usability"] = asset_usability(
                    pred, path, result.alignment.initial, gt, protocol, result.alignment.total, *_shared(result)
                )
        out[case_name(case)] = entry
    return out


def _shared(result) -> tuple:
    """The splat's geometry views from scoring, where evaluation keeps them (not on main before issue #18)."""
    return (result.geometry_views,) if hasattr(result, "geometry_views") else ()


def plain(value):
    """JSON-able, with non-finite floats as strings (json's NaN/Infinity are not standard JSON)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else str(float(value))
    if isinstance(value, np.integer):
        return int(value)
    return value


if __name__ == "__main__":
    frozen = plain(compute())
    REFERENCE.write_text(json.dumps(frozen, indent=1, sort_keys=True) + "\n")
    print(f"wrote {REFERENCE} ({len(frozen)} cases)", file=sys.stderr)
