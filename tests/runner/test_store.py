"""The results store refuses a file that is not an intact store, and report/cost never write to it."""

import csv
import re
import sqlite3

import pytest

from reconbench.cli import main
from reconbench.runner.run import export
from reconbench.runner.store import JobRecord, ResultsStore, StoreError


def _finished_run(folder, n=16):
    """A run folder as `reconbench run` leaves it: a store of n ok jobs and its exports."""
    with ResultsStore(folder / "results.sqlite") as store:
        store.set_meta(
            {
                "dataset": "procedural",
                "protocol": "small-test",
                "align": "icp",
                "lpips": [],
                "paradigms": {"oracle": "reference"},
            }
        )
        for i in range(n):
            store.put(
                JobRecord(
                    f"oracle|obj{i:02d}|small-test|0",
                    "oracle",
                    f"obj{i:02d}",
                    "toy",
                    "small-test",
                    0,
                    "ok",
                    time_s=1.0,
                    metrics={"psnr": 30.0 + i},
                )
            )
        export(store, folder)
    return folder


def _csv_rows(folder):
    with open(folder / "results.csv") as f:
        return list(csv.DictReader(f))


def _damage(path, how):
    data = path.read_bytes()
    if how == "empty":
        path.write_bytes(b"")
    elif how == "half":
        path.write_bytes(data[: len(data) // 2])
    elif how == "garbage-header":
        path.write_bytes(b"\x13" * 16 + data[16:])
    elif how == "text":
        path.write_text("id,psnr\n1,20\n")


REASONS = {
    "empty": r"is empty \(0 bytes\)",
    "half": "damaged|malformed",
    "garbage-header": "is not an SQLite database",
    "text": "is not an SQLite database",
}


@pytest.mark.parametrize("how", list(REASONS))
@pytest.mark.parametrize("command", ["report", "cost", "resume"])
def test_a_damaged_store_stops_every_command_with_a_clear_error_and_nothing_is_overwritten(
    tmp_path, small_protocol, capsys, how, command
):
    run = _finished_run(tmp_path / "run")
    _damage(run / "results.sqlite", how)
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    argv = {
        "report": ["report", str(run)],
        "cost": ["cost", str(run)],
        "resume": [
            "run",
            "--dataset",
            "procedural",
            "--objects",
            "car",
            "--methods",
            "oracle",
            "--protocol",
            small_protocol,
            "--out",
            str(run),
            "--resume",
            "--lpips",
            "none",
            "--no-progress",
        ],
    }[command]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("reconbench: error:") and "results.sqlite" in err and "Traceback" not in err

    assert re.search(REASONS[how], err), err
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before  # results.csv (16 rows) and the store untouched
    assert len(_csv_rows(run)) == 16


def test_report_and_cost_open_the_store_read_only(tmp_path):
    run = _finished_run(tmp_path / "run", n=2)
    path = run / "results.sqlite"
    with ResultsStore(path, readonly=True) as store:
        assert len(list(store.records())) == 2
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            store.db.execute("DELETE FROM results")


def test_a_missing_store_is_not_created_by_a_reader(tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        ResultsStore(tmp_path / "results.sqlite", readonly=True)
    assert not (tmp_path / "results.sqlite").exists()


def test_a_store_written_before_the_warnings_column_is_read_and_upgraded(tmp_path):
    path = tmp_path / "results.sqlite"
    with sqlite3.connect(path) as db:  # the schema as it was before `warnings`
        db.executescript("""
            CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE results (job TEXT PRIMARY KEY, method TEXT NOT NULL, object TEXT NOT NULL,
                category TEXT NOT NULL, protocol TEXT NOT NULL, seed INTEGER NOT NULL, status TEXT NOT NULL,
                error TEXT, time_s REAL, metrics TEXT NOT NULL, timings TEXT NOT NULL, alignment TEXT,
                provenance TEXT NOT NULL, finished_at REAL NOT NULL, anytime TEXT NOT NULL DEFAULT '[]');
            INSERT INTO results VALUES ('j', 'm', 'o', 'c', 'p', 0, 'ok', NULL, 1.0, '{}', '{}', NULL, '{}', 1.0, '[]');
        """)
    with ResultsStore(path, readonly=True) as store:
        assert [r.warnings for r in store.records()] == [()]
    with ResultsStore(path) as store:
        store.put(JobRecord("k", "m", "o", "c", "p", 0, "ok", warnings=["model.obj: texture 'a.png' not found"]))
        assert {r.job: r.warnings for r in store.records()} == {"j": (), "k": ("model.obj: texture 'a.png' not found",)}


def test_a_failed_write_is_a_store_error_naming_the_job(tmp_path):
    store = ResultsStore(tmp_path / "results.sqlite")
    store.db.execute("PRAGMA query_only = ON")  # stands in for a full or read-only disk
    with pytest.raises(StoreError, match=r"cannot record job j1"):
        store.put(JobRecord("j1", "m", "o", "c", "p", 0, "ok"))


def test_the_drivers_store_commits_in_wal_mode_and_is_one_file_again_when_closed(tmp_path):
    import contextlib

    path = tmp_path / "results.sqlite"

    def mode():
        with contextlib.closing(sqlite3.connect(path)) as db:
            return db.execute("PRAGMA journal_mode").fetchone()[0]

    with ResultsStore(path, wal=True) as store:
        store.put(JobRecord("j1", "m", "o", "c", "p", 0, "ok"))
        assert mode() == "wal" and (tmp_path / "results.sqlite-wal").exists()
    assert mode() == "delete" and not (tmp_path / "results.sqlite-wal").exists()
    with ResultsStore(path) as store:  # any other writer (a test, a tool) leaves the journal alone
        store.put(JobRecord("j2", "m", "o", "c", "p", 0, "ok"))
        assert mode() == "delete"
    with contextlib.closing(sqlite3.connect(path)) as reader, ResultsStore(path, wal=True) as store:
        store.put(JobRecord("j3", "m", "o", "c", "p", 0, "ok"))
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM results").fetchone()  # a reader holds the file when the driver closes
    assert mode() == "wal"  # it could not be folded back
    with ResultsStore(path, readonly=True) as store:  # still an intact store with every commit
        assert sorted(r.job for r in store.records()) == ["j1", "j2", "j3"]
