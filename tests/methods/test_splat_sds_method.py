"""splat-sds end to end on CPU: reconstruction-only guidance under sparse4, anytime curve recorded."""

import csv
import json

import pytest

from reconbench.methods.splat_sds.method import choose_guidance
from reconbench.runner import RunConfig, run_benchmark
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
    monkeypatch.setenv("RECONBENCH_SDS_CONFIG", json.dumps({"iterations": 100, "checkpoints": [20, 100], "render_size": 48, "densify_every": 25, "densify_until": 75}))
    out = tmp_path / "run"
    summary = run_benchmark(RunConfig("procedural", ["splat-sds", "sphere"], small_protocol, out, objects=["car"], lpips=(), progress=False))
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
    for key in ("gaussians", "transparent_share", "floater_share", "extracted_faces", "extracted_chamfer", "extracted_usable_as_is"):
        assert key in record.metrics
    assert record.metrics["extracted_chamfer"] < 0.1
    sphere = next(r for r in ResultsStore(out / "results.sqlite").records() if r.method == "sphere")
    # Fitting four silhouettes beats a sphere.
    assert record.metrics["mask_iou"] > sphere.metrics["mask_iou"]
