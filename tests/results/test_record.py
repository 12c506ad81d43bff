"""The job record: typed parts read strictly, and a lossless round trip through the SQLite store."""

from __future__ import annotations

import dataclasses
import math
import sqlite3

import pytest

from reconbench.results import GpuInfo, JobRecord, RecordError, Resources, Timings, load_run
from reconbench.runner.store import ResultsStore


def full_record() -> JobRecord:
    return JobRecord(
        "m|o|p|0",
        "m",
        "o",
        "cat",
        "p",
        0,
        "ok",
        time_s=3.5,
        metrics={"psnr": math.inf, "volume_iou": math.nan, "chamfer": 0.01, "input_psnr": "n/a"},
        timings={
            "method_stages": {"model_load": 1.0, "generation": 2.5},
            "method_wall_s": 3.6,
            "resources": {
                "peak_host_rss_mb": 812.5,
                "peak_gpu_mem_mb": None,
                "samples": 40,
                "sample_interval_s": 0.05,
                "cold": True,
            },
            "evaluation_wall_s": 1.2,
            "evaluation": {"render": 0.5},
        },
        alignment={"mode": "icp", "total": [[1.0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]},
        provenance={
            "reconbench": "0.1.0",
            "host": "h",
            "gpu": {"name": "NVIDIA H100", "count": 2},
            "method": {"entry": "x:y", "frame": "y-up", "scale": "bbox", "info": {"guidance": "none"}},
            "notes": ["a note"],
        },
        anytime=[{"iteration": 10, "seconds": 1.0, "psnr": 12.0}],
    )


def test_parts_given_as_dicts_become_typed():
    rec = full_record()
    assert isinstance(rec.timings, Timings) and isinstance(rec.timings.resources, Resources)
    assert rec.timings.resources.peak_host_rss_mb == 812.5 and rec.timings.resources.peak_gpu_mem_mb is None
    assert rec.provenance.gpu == GpuInfo("NVIDIA H100", 2) and rec.provenance.method.info == {"guidance": "none"}
    assert rec.provenance.notes == ("a note",)
    # the JSON form's subscripts read the same fields
    assert rec.timings["method_stages"]["generation"] == 2.5 and rec.provenance["method"]["frame"] == "y-up"
    assert rec.provenance.get("asset_sha256") is None and rec.provenance.get("asset_sha256", "-") == "-"
    with pytest.raises(KeyError):
        rec.provenance["no_such_field"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        rec.status = "failed"  # type: ignore[misc]


@pytest.mark.parametrize(
    "part, value, where",
    [
        ("timings", {"method_stages": {}, "warm_s": 2.0}, "timings: unknown field(s) warm_s"),
        ("timings", {"resources": {"peak_host_rss": 1.0}}, "timings.resources: unknown field(s) peak_host_rss"),
        ("provenance", {"gpu": {"name": "A100", "cnt": 1}}, "provenance.gpu: unknown field(s) cnt"),
        ("provenance", {"methd": {}}, "provenance: unknown field(s) methd"),
    ],
)
def test_an_unknown_field_is_an_error_naming_the_part_and_the_known_fields(part, value, where):
    with pytest.raises(RecordError, match=where.replace("(", r"\(").replace(")", r"\)")) as info:
        JobRecord("j", "m", "o", "c", "p", 0, "ok", **{part: value})
    assert "reconbench/results/record.py" in str(info.value)


def test_a_bad_status_is_refused():
    with pytest.raises(RecordError, match="status 'done'"):
        JobRecord("j", "m", "o", "c", "p", 0, "done")


def test_store_round_trip_keeps_every_field_including_inf_and_nan(tmp_path):
    rec = full_record()
    with ResultsStore(tmp_path / "results.sqlite") as store:
        store.put(rec)
        (back,) = list(store.records())
    assert back.finished_at > 0
    back = dataclasses.replace(back, finished_at=0.0)
    assert math.isnan(back.metrics.pop("volume_iou")) and math.isnan(rec.metrics.pop("volume_iou"))
    assert back == rec and back.metrics["psnr"] == math.inf
    # the stored text is standard JSON (no bare NaN/Infinity tokens)
    with sqlite3.connect(tmp_path / "results.sqlite") as db:
        text = db.execute("SELECT metrics FROM results").fetchone()[0]
    assert '"Infinity"' in text and "NaN" not in text.replace('"NaN"', "")


def test_a_stored_row_with_an_unknown_column_is_refused(tmp_path):
    path = tmp_path / "results.sqlite"
    with ResultsStore(path) as store:
        store.put(JobRecord("j", "m", "o", "c", "p", 0, "failed", error="boom"))
        store.db.execute("ALTER TABLE results ADD COLUMN surprise TEXT")
        store.db.commit()
    with pytest.raises(RecordError, match="unknown column.*surprise"):
        load_run(tmp_path)


def test_failed_and_skipped_records_have_empty_typed_parts():
    rec = JobRecord("j", "m", "o", "c", "p", 0, "skipped", error="no GPU")
    assert rec.timings == Timings() and rec.timings.method_stages == {} and rec.provenance.gpu is None and not rec.ok


def test_report_and_cost_commands_turn_an_unreadable_record_into_one_line(tmp_path, capsys):
    from reconbench.cli import main

    with ResultsStore(tmp_path / "results.sqlite") as store:
        store.put(JobRecord("j", "m", "o", "c", "p", 0, "ok"))
        store.db.execute("""UPDATE results SET timings = '{"warm_s": 1.0}'""")
        store.db.commit()
    for command in ("cost", "report"):
        assert main([command, str(tmp_path)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("reconbench: error: ") and "unknown field(s) warm_s" in err and err.count("\n") == 1
