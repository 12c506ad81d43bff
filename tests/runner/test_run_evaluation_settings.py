"""A run's evaluation settings that trade time for metrics (issue #18): the other set, and the ground
truth's products kept in the run folder for a resumed run."""

import json
import sqlite3

from runner_helpers import FAST  # tests/runner is on sys.path

from reconbench.runner.run import RunConfig, run_benchmark


def _records(out):
    with sqlite3.connect(out / "results.sqlite") as db:
        return [json.loads(m) for (m,) in db.execute("SELECT metrics FROM results WHERE status = 'ok'")]


def _meta(out):
    with sqlite3.connect(out / "results.sqlite") as db:
        return dict(db.execute("SELECT key, value FROM meta").fetchall())


def test_the_other_set_option_reaches_the_metrics_and_the_recorded_settings(tmp_path, small_protocol):
    runs = {}
    for other in (None, "all"):
        out = tmp_path / f"run-{other}"
        run_benchmark(
            RunConfig("procedural", ["sphere"], small_protocol, out, objects=["car"], other_set=other, **FAST)
        )
        runs[other] = out
    default, full = _records(runs[None])[0], _records(runs["all"])[0]
    assert "unaligned_chamfer" in default and "unaligned_psnr" not in default
    assert "unaligned_psnr" in full and "unaligned_ssim" in full
    assert {k: v for k, v in full.items() if k in default} == default  # the same values, fewer of them
    assert json.loads(_meta(runs[None])["evaluation"])["other_set"] == "geometry"
    assert json.loads(_meta(runs["all"])["evaluation"])["other_set"] == "all"


def test_the_ground_truth_is_prepared_once_per_run_folder(tmp_path, small_protocol):
    out = tmp_path / "run"
    run_benchmark(RunConfig("procedural", ["sphere"], small_protocol, out, objects=["car", "mug"], **FAST))
    folders = sorted(p.relative_to(out) for p in (out / ".cache" / "ground_truth").glob("*/*"))
    assert [p.parts[2] for p in folders] == ["car", "mug"]
    stamps = {p: (out / p / "products.npz").stat().st_mtime_ns for p in folders}
    run_benchmark(
        RunConfig("procedural", ["sphere", "oracle"], small_protocol, out, objects=["car", "mug"], resume=True, **FAST)
    )
    again = sorted(p.relative_to(out) for p in (out / ".cache" / "ground_truth").glob("*/*"))
    assert again == folders and all((out / p / "products.npz").stat().st_mtime_ns == t for p, t in stamps.items())
