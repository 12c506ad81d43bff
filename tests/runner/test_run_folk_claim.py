"""End to end: a run holding both paradigms (the trained feed-forward `voxel-cnn` with its shipped checkpoint,
and splat-sds) carries sharpness and breakage in results.csv, views.json beside the renders,
and the folk claim's verdict in the report; a run without both paradigms says what is missing; an input-image
run measures the input view only and says so."""

import csv
import json

import pytest

from reconbench.report import write_report
from reconbench.runner.run import RunConfig, run_benchmark

COLUMNS = (
    "sharpness",
    "input_sharpness",
    "collapsed_views",
    "broken_view_share",
    "outlier_views",
    "janus_lpips",
    "janus_lpips_gt",
    "janus_margin",
    "broken",
    "broken_by",
)
FF = "voxel-cnn"


def rows(out):
    with open(out / "results.csv") as f:
        return {(r["method"], r["object"]): r for r in csv.DictReader(f)}


@pytest.fixture(scope="module")
def both_paradigms(tmp_path_factory, small_protocol):
    out = tmp_path_factory.mktemp("folk") / "run"
    mp = pytest.MonkeyPatch()
    mp.setenv(
        "RECONBENCH_SDS_CONFIG", json.dumps({"iterations": 40, "checkpoints": [40]})
    )  # a short fit: seconds per object
    try:
        run_benchmark(
            RunConfig(
                "procedural",
                [FF, "splat-sds"],
                small_protocol,
                out,
                objects=["mug", "duck"],
                lpips=("alex",),
                progress=False,
            )
        )
    finally:
        mp.undo()
    write_report(out)
    return out


@pytest.mark.slow
def test_results_csv_and_views_json_carry_sharpness_and_breakage(both_paradigms):
    table = rows(both_paradigms)
    for method in (FF, "splat-sds"):
        for obj in ("mug", "duck"):
            row = table[(method, obj)]
            assert row["status"] == "ok", row["error"]
            for column in COLUMNS[:-1]:
                assert row[column] != "", (method, obj, column)
            assert row["broken"] in ("0", "1")
            views = json.loads((both_paradigms / "renders" / method / obj / "views.json").read_text())
            assert len(views["sharpness"]) == len(views["name"]) == 12 and views["role"].count("heldout") == 8
    # both keep some of the texture's detail (the measure is 0 for a flat-coloured render: test_an_input_image_run...)
    for method in (FF, "splat-sds"):
        assert float(table[(method, "mug")]["sharpness"]) > 0.05, method


@pytest.mark.slow
def test_the_report_states_the_claim_and_a_verdict_per_pair(both_paradigms):
    md = (both_paradigms / "summary.md").read_text()
    assert "## Sharp or broken? The folk claim" in md and "Folk claim:" in md
    sentence = next(line for line in md.splitlines() if line.startswith(f"{FF} vs splat-sds: "))
    assert any(f": {v} — " in sentence for v in ("supported", "contradicted", "not significant"))
    assert "No verdict" not in md
    html = (both_paradigms / "report.html").read_text()
    assert "Sharpness against broken share" in html and "Worst views per method" in html


@pytest.mark.slow
def test_a_run_without_both_paradigms_says_what_is_missing(tmp_path, small_protocol):
    out = tmp_path / "run"
    run_benchmark(RunConfig("procedural", ["sphere"], small_protocol, out, objects=["mug"], lpips=(), progress=False))
    write_report(out)
    md = (out / "summary.md").read_text()
    assert "No verdict: this run holds no feed-forward and no per-scene method" in md


@pytest.mark.slow
def test_an_input_image_run_measures_the_input_view_only(tmp_path, small_protocol):
    from test_run_images import _photos, _single_input_protocol

    single = _single_input_protocol(small_protocol, tmp_path)
    photos = _photos(tmp_path / "photos", str(single))
    out = tmp_path / "run"
    run_benchmark(RunConfig(f"images:{photos}", ["sphere"], str(single), out, lpips=("alex",), progress=False))
    car = rows(out)[("sphere", "car")]
    assert float(car["input_sharpness"]) == 0.0 and car["input_broken_view_share"] in ("0", "1")
    assert float(car["janus_lpips"]) > 0 and car["broken"] in ("0", "1")
    for column in ("sharpness", "broken_view_share", "janus_margin"):  # held-out views and the truth: none here
        assert car[column] == "n/a", column
    views = json.loads((out / "renders" / "sphere" / "car" / "views.json").read_text())
    assert views["role"] == ["input"]
    write_report(out)
    md = (out / "summary.md").read_text()
    assert "the input view only (input images without ground truth: against the input photo)" in md
