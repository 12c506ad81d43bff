"""A ground truth whose texture is missing is still scored, with a recorded warning."""

import csv
import shutil
from pathlib import Path

import pytest
from conftest import write_obj_with_texture
from runner_helpers import FAST  # tests/runner is on sys.path

from reconbench.runner.run import RunConfig, run_benchmark
from reconbench.runner.store import ResultsStore

CHICKEN = Path("/work/shared/data/syncdreamer-gso-chicken")  # GSO's CHICKEN_NESTING, shipped without texture.png


def _gso_without_texture(root: Path) -> Path:
    """A Google Scanned Objects folder whose MTL names a texture that is not there."""
    obj = root / "TOY"
    write_obj_with_texture(obj / "meshes", extents=(1.0, 0.6, 0.8))
    (obj / "meshes" / "material_0.png").unlink()
    (obj / "materials" / "textures").mkdir(parents=True)
    return root


def _check_scored_with_warning(out: Path, object_id: str, texture: str) -> None:
    (record,) = ResultsStore(out / "results.sqlite", readonly=True).records()
    assert record.status == "ok", record.error
    # geometry as usual (Chamfer to the mesh triangles from float32 depth: ~1e-7, docs/metrics.md)
    assert record.metrics["chamfer"] < 1e-6 and record.metrics["fscore"] == 1.0
    # the ground truth's warning; the oracle's output is the same file, so it carries the same one
    assert [w.split(":")[0] for w in record.warnings] == ["ground truth model.obj", "output model.obj"]
    assert all(f"texture {texture!r} not found" in w for w in record.warnings)
    with open(out / "results.csv") as f:
        (row,) = list(csv.DictReader(f))
    assert f"texture {texture!r} not found" in row["warnings"]
    report = (out / "report.md").read_text()
    assert (
        "## Warnings" in report
        and f"| oracle | {object_id} | ground truth model.obj: texture {texture!r} not found" in report
    )


def test_a_ground_truth_with_a_missing_texture_is_scored_with_a_warning(tmp_path, small_protocol):
    root = _gso_without_texture(tmp_path / "gso")
    out = tmp_path / "run"
    summary = run_benchmark(RunConfig(f"gso:{root}", ["oracle"], small_protocol, out, **FAST))
    assert (summary.ok, summary.failed) == (1, 0)
    _check_scored_with_warning(out, "TOY", "material_0.png")


@pytest.mark.skipif(not (CHICKEN / "CHICKEN_NESTING").is_dir(), reason="the shared chicken data is not on this machine")
def test_gso_chicken_without_its_texture_is_scored_with_a_warning(tmp_path, small_protocol):
    root = tmp_path / "gso"
    shutil.copytree(CHICKEN / "CHICKEN_NESTING", root / "CHICKEN_NESTING")
    out = tmp_path / "run"
    summary = run_benchmark(RunConfig(f"gso:{root}", ["oracle"], small_protocol, out, **FAST))
    assert (summary.ok, summary.failed) == (1, 0)
    _check_scored_with_warning(out, "CHICKEN_NESTING", "texture.png")
