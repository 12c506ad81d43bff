"""The HTML report of a small end-to-end run: self-contained, complete, and rendered by a real browser."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reconbench.cli import main
from reconbench.report import write_report
from reconbench.report.figures import pareto_front
from reconbench.runner.run import RunConfig, run_benchmark

METHODS = ["oracle", "sphere", "visual-hull"]
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, small_protocol) -> Path:
    out = tmp_path_factory.mktemp("run") / "run"
    run_benchmark(
        RunConfig("procedural", METHODS, small_protocol, out, objects=["car", "mug"], lpips=(), progress=False)
    )
    return out


@pytest.fixture(scope="module")
def report(run_dir) -> Path:
    return write_report(run_dir)


def test_report_is_self_contained_and_complete(report, run_dir):
    assert report == run_dir / "report.html" and report.is_file()
    text = report.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", text, re.I)
    assert "<script" not in text.lower() and "<link" not in text.lower()
    for method in METHODS:
        assert method in text
    images = re.findall(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]+"', text)
    figures = re.findall(r'<figure>\s*<h3>[^<]*</h3>\s*<img src="data:image/png;base64,', text)
    assert len(figures) >= 3
    grid = re.findall(r'<img src="data:image/png;base64,[^"]+" alt="[^"]+" width="160"', text)
    # 2 objects x 3 held-out views x (ground truth + 3 methods) + one input view each
    assert len(grid) == 2 * 3 * 4 + 2
    assert len(images) == len(figures) + len(grid)
    assert "ground truth unavailable" not in text
    for heading in (
        "Run conventions and provenance",
        "Summary",
        "Paired comparisons",
        "Figures",
        "Qualitative results",
        "Failures",
    ):
        assert heading in text
    assert "procedural" in text and "small-test" in text and "4 input view(s), 8 held-out views, 128x128 px" in text
    assert report.stat().st_size < 5_000_000


def test_summary_markdown(report, run_dir):
    md = (run_dir / "summary.md").read_text()
    assert "## Summary" in md and "## Paired comparisons" in md
    for method in METHODS:
        assert f"| {method} |" in md


def test_cli_writes_to_out(run_dir, tmp_path, capsys):
    target = tmp_path / "elsewhere.html"
    assert main(["report", str(run_dir), "--out", str(target)]) == 0
    assert capsys.readouterr().out.strip() == str(target)
    assert target.is_file()
    assert main(["report", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("reconbench: error: ") and err.count("\n") == 1


def test_report_with_out_writes_nothing_into_the_run_folder(run_dir, tmp_path):
    before = {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in run_dir.rglob("*")}
    target = tmp_path / "elsewhere" / "r.html"
    assert write_report(run_dir, target) == target
    assert {
        p: (p.stat().st_mtime_ns, p.stat().st_size) for p in run_dir.rglob("*")
    } == before  # a read-only run folder works
    assert "## Summary" in (target.parent / "summary.md").read_text()


def test_stage_means_average_each_stage_over_a_methods_jobs():
    from reconbench.report.build import stage_means
    from reconbench.runner.store import JobRecord

    def rec(method, stages):
        return JobRecord(f"{method}|o|p|0", method, "o", "c", "p", 0, "ok", None, timings={"method_stages": stages})

    means = stage_means([rec("a", {"load": 1.0, "run": 3.0}), rec("a", {"run": 5.0}), rec("b", {})])
    assert means == {"a": {"load": 0.5, "run": 4.0}, "b": {}}


def test_report_shows_where_the_time_goes(report):
    assert "Where the time goes" in report.read_text()  # sphere and visual-hull report their stages


def test_pareto_front():
    points = [(1.0, 20.0), (2.0, 18.0), (3.0, 25.0), (0.5, 10.0)]
    assert pareto_front(points, higher_is_better=True) == [(0.5, 10.0), (1.0, 20.0), (3.0, 25.0)]
    assert pareto_front([(1.0, 0.1), (2.0, 0.05), (3.0, 0.2)], higher_is_better=False) == [(1.0, 0.1), (2.0, 0.05)]


def test_chromium_renders_the_page(report, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("Chromium not installed: apt-get install chromium")
    shot = tmp_path / "shot.png"
    cmd = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={shot}",
        "--window-size=1280,2000",
        report.resolve().as_uri(),
    ]
    subprocess.run(cmd, timeout=120, capture_output=True, check=False)
    assert shot.is_file()
    pixels = np.asarray(Image.open(shot).convert("RGB"))
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50
    assert (pixels.min(axis=-1) < 250).mean() > 0.05


def test_report_has_the_usability_table(tmp_path, small_protocol):
    from reconbench.report import write_report
    from reconbench.runner.run import RunConfig, run_benchmark

    run_benchmark(
        RunConfig(
            "procedural", ["sphere"], small_protocol, tmp_path / "run", objects=["ring"], lpips=(), progress=False
        )
    )
    html = write_report(tmp_path / "run").read_text()
    assert "Usability of the assets" in html and "usable as is" in html
    assert "## Usability of the assets" in (tmp_path / "run" / "summary.md").read_text()


def test_report_says_when_no_published_figure_applies(report, run_dir):
    text = report.read_text()
    assert "8. Measured next to published" in text and "No method of this run has a published figure" in text
    assert "## Measured next to published" in (run_dir / "summary.md").read_text()


def test_method_table_says_which_results_ran_outside_the_input_camera_a_method_assumes(tmp_path):
    from reconbench.report.tables import method_table
    from reconbench.results import JobRecord
    from reconbench.results.run import run_from_records

    def record(method, obj, reason):
        info = {"outside_assumptions": reason} if reason else {}
        return JobRecord(
            f"{method}/{obj}",
            method,
            obj,
            "c",
            "p",
            0,
            "ok",
            provenance={"method": {"entry": "external", "info": info}},
        )

    reason = "input view 000: fov 49.1° where the method assumes 40° (it cannot be told: sf3d)"
    run = run_from_records(
        [record("sf3d", "a", reason), record("sf3d", "b", reason), record("sphere", "a", None)], {}, tmp_path
    )
    table = method_table(run)
    cells = {row[0]: row[table.header.index("input camera")] for row in table.rows}
    assert cells["sf3d"] == (f"outside its assumptions in 2 of 2: {reason}", "bad")
    assert cells["sphere"] == "as assumed"


def test_the_run_records_its_selection_and_the_report_reopens_the_dataset_with_it(tmp_path, small_protocol):
    """A renaming object list (ID NAME_IN_DATASET): the meta keeps each object's dataset id, so the report's
    grid finds the ground truth (it used to reopen the dataset with the protocol's default list)."""
    from reconbench.results import load_run

    listing = tmp_path / "list.txt"
    listing.write_text("my-car car\nmy-ring ring\n")
    out = tmp_path / "run"
    run_benchmark(
        RunConfig("procedural", ["sphere"], small_protocol, out, object_list=str(listing), lpips=(), progress=False)
    )
    meta = load_run(out).meta
    assert meta.object_list == str(listing) and meta.objects == (("my-car", "car", 0.0), ("my-ring", "ring", 0.0))
    assert meta.methods == ("sphere",) and meta.seeds == (0,) and meta.dataset == "procedural"
    text = write_report(out).read_text()
    assert "ground truth unavailable" not in text and "my-car" in text
    assert f"2 selected, object list {listing}; seeds 0" in text
    from reconbench.runner.run import RunError

    other = tmp_path / "other.txt"
    other.write_text("my-car mug\n")  # the same id naming another object: resuming with it would mix them
    with pytest.raises(RunError, match="different object list"):
        run_benchmark(
            RunConfig(
                "procedural",
                ["sphere"],
                small_protocol,
                out,
                object_list=str(other),
                resume=True,
                lpips=(),
                progress=False,
            )
        )


@pytest.mark.parametrize(
    "protocol,label",
    [
        ("gso30-crm-approx", "APPROXIMATE"),
        ("gso30-syncdreamer", "reproduces eval_mesh.py"),
        ("default", "reconbench's own"),
    ],
)
def test_conventions_say_whose_evaluation_the_numbers_follow(tmp_path, protocol, label):
    from reconbench.report.conventions import conventions
    from reconbench.results.run import run_from_records

    rows = dict(conventions(run_from_records([], {"protocol": protocol}, tmp_path)))
    assert rows["evaluation"].startswith(label)
