"""splat-sds end to end on CPU: reconstruction-only guidance under sparse4, anytime curve recorded."""

import csv
import json

import pytest

from reconbench.methods.splat_sds.method import choose_guidance
from reconbench.runner.run import RunConfig, run_benchmark
from reconbench.runner.store import ResultsStore

pytest.importorskip("torch")


def test_auto_guidance_falls_back_to_reconstruction_only_and_says_why():
    from reconbench.methods.splat_sds.guidance import guidance_availability

    name, why = choose_guidance("auto")
    ok, reason = guidance_availability("zero123")
    assert (name, why) == (("zero123", "available") if ok else ("none", reason))
    assert choose_guidance("none") == ("none", "requested")


@pytest.mark.slow
def test_run_splat_sds_on_cpu_records_the_asset_and_its_anytime_curve(tmp_path, small_protocol, monkeypatch):
    monkeypatch.setenv("RECONBENCH_SDS_GUIDANCE", "none")
    monkeypatch.setenv(
        "RECONBENCH_SDS_CONFIG",
        json.dumps(
            {"iterations": 100, "checkpoints": [20, 100], "render_size": 48, "densify_every": 25, "densify_until": 75}
        ),
    )
    out = tmp_path / "run"
    summary = run_benchmark(
        RunConfig("procedural", ["splat-sds", "sphere"], small_protocol, out, objects=["car"], lpips=(), progress=False)
    )
    assert summary.ok == 2
    record = next(r for r in ResultsStore(out / "results.sqlite").records() if r.method == "splat-sds")
    assert record.provenance["method"]["info"]["guidance"] == "none"
    assert record.provenance["asset"].endswith(".ply")  # a Gaussian splat asset, scored by the common renderer
    assert [p["iteration"] for p in record.anytime] == [20, 100]
    assert record.anytime[-1]["chamfer"] == record.metrics["chamfer"]
    assert record.anytime[0]["seconds"] < record.anytime[1]["seconds"]
    with open(out / "anytime.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["iteration"] for r in rows] == ["20", "100"] and rows[0]["method"] == "splat-sds"
    # Splat usability, including the mesh fused from its depth maps, scored like a mesh.
    for key in (
        "gaussians",
        "transparent_share",
        "floater_share",
        "extracted_faces",
        "extracted_chamfer",
        "extracted_usable_as_is",
    ):
        assert key in record.metrics
    assert record.metrics["extracted_chamfer"] < 0.1
    sphere = next(r for r in ResultsStore(out / "results.sqlite").records() if r.method == "sphere")
    # Fitting four silhouettes beats a sphere.
    assert record.metrics["mask_iou"] > sphere.metrics["mask_iou"]


def _one_view(size: int = 32):
    import numpy as np

    from reconbench.protocol import orbit_camera

    image = np.zeros((size, size, 4), np.uint8)
    image[size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] = (200, 60, 40, 255)  # a square in front
    return (image,), (orbit_camera("000", "input", 0.0, 0.0, 2.0, 49.1, size, size),)


@pytest.mark.parametrize(
    "iterations, checkpoints, saved",
    [
        (12, (75, 150, 300), [12]),  # fewer iterations than the first checkpoint: the final one is still saved
        (12, (4, 8), [4, 8, 12]),  # the final iteration comes after the extra snapshots
        (8, (4, 8, 300), [4, 8]),  # a checkpoint at the final iteration is saved once
    ],
)
def test_the_last_snapshot_is_the_final_iteration(tmp_path, iterations, checkpoints, saved):
    from reconbench.methods.splat_sds.guidance import make_guidance
    from reconbench.methods.splat_sds.optimise import SdsConfig, optimise

    images, cameras = _one_view()
    cfg = SdsConfig(
        iterations=iterations, checkpoints=checkpoints, n_init=40, max_gaussians=80, render_size=16, densify_every=4
    )
    snapshots = optimise(images, cameras, make_guidance("none"), cfg, tmp_path)
    assert [s.iteration for s in snapshots] == saved
    assert snapshots[-1].path.name == f"splats_it{iterations:05d}.ply"


def test_no_iterations_is_a_clear_error(tmp_path):
    from reconbench.methods.splat_sds.guidance import make_guidance
    from reconbench.methods.splat_sds.optimise import SdsConfig, optimise

    images, cameras = _one_view()
    with pytest.raises(ValueError, match="iterations must be at least 1"):
        optimise(images, cameras, make_guidance("none"), SdsConfig(0, (75,), 40, 80, 16), tmp_path)


@pytest.mark.parametrize(
    "iterations", [10, 400]
)  # below the CPU defaults' first checkpoint (75) and beyond their last (300)
def test_method_returns_the_final_iteration_whatever_the_checkpoints(tmp_path, monkeypatch, iterations):
    from reconbench.methods.base import MethodInput
    from reconbench.methods.splat_sds.method import run

    monkeypatch.setenv("RECONBENCH_SDS_GUIDANCE", "none")
    # The CPU defaults' checkpoints (75, 150, 300) are kept: only the length and the cost change.
    monkeypatch.setenv(
        "RECONBENCH_SDS_CONFIG",
        json.dumps({"iterations": iterations, "n_init": 30, "max_gaussians": 60, "render_size": 12}),
    )
    images, cameras = _one_view()
    output = run(MethodInput(images, cameras, (), tmp_path))
    assert output.asset.name == f"splats_it{iterations:05d}.ply"
    curve = [p["iteration"] for p in output.info["anytime"]]
    assert curve == [c for c in (75, 150, 300) if c < iterations] + [iterations]


def test_unknown_config_field_is_named(tmp_path, monkeypatch):
    from reconbench.methods.base import MethodInput
    from reconbench.methods.splat_sds.method import run

    monkeypatch.setenv("RECONBENCH_SDS_CONFIG", json.dumps({"iteratons": 10}))
    images, cameras = _one_view()
    with pytest.raises(ValueError, match="unknown field.*iteratons"):
        run(MethodInput(images, cameras, (), tmp_path))
