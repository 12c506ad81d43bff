"""The harness's per-job work made cheaper (issue #18) changes no result: the same records with and without
it (RECONBENCH_HARNESS_LEGACY=1 keeps the old paths), renders at the size asked for or none, a render
write that fails recorded on its job, the store one self-contained file after a run, and the method
worker given each object's images once while every job still sees the original pixels."""

import contextlib
import csv
import hashlib
import json
import sqlite3

import numpy as np
import pytest
from runner_helpers import FAST, assert_same_results, records, register  # tests/runner is on sys.path

from reconbench.methods import MethodInput
from reconbench.protocol import get_protocol
from reconbench.runner import renders as renders_module
from reconbench.runner.legacy import LEGACY_ENV
from reconbench.runner.run import RunConfig, run_benchmark
from reconbench.runner.worker import MethodWorker

# Larger than the small renders' 256 px, so they are reduced (by 2, to 132 px); small otherwise.
PROTOCOL = {
    "name": "harness-test",
    "description": "4 inputs and 4 held-out views at 264x264: the harness tests",
    "resolution": 264,
    "radius": 2.0,
    "fov": 49.1,
    "lighting": "studio",
    "input_rings": [{"elevation": 0.0, "azimuth_start": 0.0, "azimuth_step": 90.0, "count": 4}],
    "heldout_rings": [{"elevation": 25.0, "azimuth_start": 45.0, "azimuth_step": 90.0, "count": 4}],
    "evaluation": {
        "points": 3000,
        "geometry_views": {"count": 6, "radius": 2.0, "fov": 49.1, "resolution": 96},
        "icp": {"points": 2000, "max_iterations": 30},
    },
}
METHODS = ["sphere", "visual-hull", "test-fails-on-mug"]
OBJECTS = ["car", "mug"]
TIMING_COLUMNS = ("time_s", "peak_host_rss_mb", "peak_gpu_mem_mb", "gpu_seconds")


@pytest.fixture(scope="module")
def protocol(tmp_path_factory):
    path = tmp_path_factory.mktemp("protocols") / "harness-test.json"
    path.write_text(json.dumps(PROTOCOL))
    return str(path)


@pytest.fixture(scope="module")
def both_runs(tmp_path_factory, protocol):
    """The same tiny run with the old harness and with the new one; the new one's journal mode at each commit."""
    register("test-fails-on-mug", "fake_methods:fails_on_mug")
    runs, modes = {}, []
    with pytest.MonkeyPatch.context() as mp:
        for name in ("before", "after"):
            if name == "before":
                mp.setenv(LEGACY_ENV, "1")
            else:
                mp.delenv(LEGACY_ENV)
            out = tmp_path_factory.mktemp(name)
            db = out / "results.sqlite"

            def journal(record, db=db, name=name):
                if name == "after":
                    with contextlib.closing(sqlite3.connect(db)) as reader:  # closed, so the driver can fold the log
                        modes.append(reader.execute("PRAGMA journal_mode").fetchone()[0])

            run_benchmark(RunConfig("procedural", METHODS, protocol, out, objects=OBJECTS, **FAST), on_job_done=journal)
            runs[name] = out
    return runs, modes


def _csv(out):
    with open(out / "results.csv") as f:
        return list(csv.DictReader(f))


def test_records_and_results_csv_are_the_same_with_and_without_the_faster_harness(both_runs):
    runs, _ = both_runs
    before, after = records(runs["before"]), records(runs["after"])
    assert len(before) == 6 and {r.status for r in before.values()} == {"ok", "failed"}
    assert_same_results(before, after)
    assert {k: r.warnings for k, r in before.items()} == {k: r.warnings for k, r in after.items()}
    rows = [_csv(runs[name]) for name in ("before", "after")]
    assert rows[0][0].keys() == rows[1][0].keys()
    for a, b in zip(*rows):
        kept = [c for c in a if c not in TIMING_COLUMNS and not c.startswith("stage_")]
        assert {c: a[c] for c in kept} == {c: b[c] for c in kept}


def test_renders_are_full_size_before_and_small_by_default(both_runs):
    runs, _ = both_runs
    for name, side in (("before", 264), ("after", 132)):
        pngs = sorted((runs[name] / "renders" / "sphere" / "car").glob("*.png"))
        assert len(pngs) == 8  # 4 inputs and 4 held-out views
        assert all(np.asarray(_image(p)).shape == (side, side, 3) for p in pngs)
    assert not (runs["after"] / "renders" / "test-fails-on-mug" / "mug").exists()  # a failed job: no renders


def test_the_store_commits_in_wal_mode_and_is_one_rollback_journal_file_after_the_run(both_runs):
    runs, modes = both_runs
    assert modes == ["wal"] * 6
    for name in ("before", "after"):
        with contextlib.closing(sqlite3.connect(runs[name] / "results.sqlite")) as db:
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert not (runs[name] / "results.sqlite-wal").exists()


def test_renders_none_writes_no_image_but_keeps_the_view_values(tmp_path, protocol):
    from reconbench.cli import main

    argv = ["run", "--dataset", "procedural", "--objects", "car", "--methods", "sphere", "--protocol", protocol]
    assert main([*argv, "--out", str(tmp_path), "--lpips", "none", "--no-progress", "--renders", "none"]) == 0
    folder = tmp_path / "renders" / "sphere" / "car"
    assert list(folder.glob("*.png")) == [] and (folder / "views.json").is_file()


def test_a_render_write_that_fails_is_recorded_on_its_job_and_the_scores_stand(tmp_path, protocol, monkeypatch):
    def full_disk(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(renders_module, "write_renders", full_disk)  # the writer thread looks it up at each job
    seen = []
    run_benchmark(
        RunConfig("procedural", ["sphere"], protocol, tmp_path, objects=["car"], **FAST), on_job_done=seen.append
    )
    (record,) = seen
    assert record.status == "ok" and record.metrics["psnr"] > 0
    (warning,) = [w for w in record.warnings if w.startswith("renders not saved")]
    assert str(tmp_path / "renders" / "sphere" / "car") in warning and "No space left on device" in warning


def test_an_unknown_renders_option_stops_the_run_before_any_work(tmp_path, protocol):
    from reconbench.runner.run import RunError

    with pytest.raises(RunError, match="renders 'thumbs': choose one of small, full, none"):
        run_benchmark(
            RunConfig("procedural", ["sphere"], protocol, tmp_path, objects=["car"], renders="thumbs", **FAST)
        )
    assert not (tmp_path / "results.sqlite").exists()


def _image(path):
    from PIL import Image

    with Image.open(path) as im:
        return im.convert("RGB")


def _input(tmp_path, images, name):
    cameras = tuple(get_protocol("sparse4").input_cameras)
    workdir = tmp_path / name
    workdir.mkdir()
    return MethodInput(images, cameras, tuple(workdir / f"{c.name}.png" for c in cameras), workdir)


def test_the_method_worker_gets_each_objects_images_once_and_every_job_the_original_pixels(tmp_path):
    spec = register("test-scribbles", "fake_methods:scribbles_on_its_input")
    rng = np.random.default_rng(0)
    first = tuple(rng.integers(0, 256, (64, 64, 4), dtype=np.uint8) for _ in range(4))
    second = tuple(rng.integers(0, 256, (64, 64, 4), dtype=np.uint8) for _ in range(4))
    hashes = {id(t): [hashlib.sha256(im.tobytes()).hexdigest() for im in t] for t in (first, second)}
    worker = MethodWorker()
    try:
        worker.run(spec, _input(tmp_path, first, "a"), 60)
        sent, pipe = [], worker._conn

        class Spy:  # what the parent sends from now on
            def send(self, item):
                sent.append(item)
                pipe.send(item)

            def __getattr__(self, name):
                return getattr(pipe, name)

        worker._conn = Spy()
        again, _ = worker.run(spec, _input(tmp_path, first, "b"), 60)  # the next job of the same object
        other, _ = worker.run(spec, _input(tmp_path, second, "c"), 60)  # another object
    finally:
        worker.stop()
    assert again.info["seen"] == hashes[id(first)]  # not the zeros the first job left in its copy
    assert other.info["seen"] == hashes[id(second)]
    assert [len(item[1].images) for item in sent] == [0, 4]  # images sent again only for the other object
    assert all(im.any() for im in first)  # the driver's own arrays untouched


def test_a_restarted_method_worker_is_sent_the_images_again(tmp_path):
    spec = register("test-scribbles", "fake_methods:scribbles_on_its_input")
    images = tuple(np.full((32, 32, 4), k + 1, np.uint8) for k in range(4))
    worker = MethodWorker()
    try:
        worker.run(spec, _input(tmp_path, images, "a"), 60)
        worker.stop()  # a timeout or a crash: the next job gets a new process
        out, _ = worker.run(spec, _input(tmp_path, images, "b"), 60)
    finally:
        worker.stop()
    assert out.info["seen"] == [hashlib.sha256(im.tobytes()).hexdigest() for im in images]
