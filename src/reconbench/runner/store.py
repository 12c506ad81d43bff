"""The embedded results store: one SQLite file per run folder, one committed row per finished job.

SQLite gives atomic commits, so a run killed at any moment keeps every finished job and nothing
half-written; `--resume` skips the keys already present.

The run's driver opens it with `wal=True`: WAL mode with `synchronous=NORMAL`, where a commit appends
to results.sqlite-wal without waiting for the disk (0.6 ms instead of 2-20 ms per job, with the disk's
other traffic, on this project's machine: benchmarks/harness_overhead.py). A killed driver still loses
no committed job and leaves nothing half-written (the next open replays the log); only a power cut or an
OS crash may lose the last commits, never the store's integrity (SQLite's documentation, "Write-Ahead
Logging"). On close the log is folded back and the file returns to a rollback journal, so a finished
run is one self-contained file that opens read-only anywhere. While a run goes, read the store on the
driver's machine (WAL's shared index does not reach other hosts of a network file system).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reconbench.errors import ReconbenchError
from reconbench.results.record import JobRecord

__all__ = ["SCHEMA", "JobRecord", "ResultsStore", "StoreError"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS results (
    job TEXT PRIMARY KEY,
    method TEXT NOT NULL,
    object TEXT NOT NULL,
    category TEXT NOT NULL,
    protocol TEXT NOT NULL,
    seed INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed', 'skipped')),
    error TEXT,
    time_s REAL,
    metrics TEXT NOT NULL,
    timings TEXT NOT NULL,
    alignment TEXT,
    provenance TEXT NOT NULL,
    finished_at REAL NOT NULL,
    anytime TEXT NOT NULL DEFAULT '[]',
    warnings TEXT NOT NULL DEFAULT '[]'
);
"""


class StoreError(ReconbenchError):
    """A results store that cannot be used (not a database, damaged, unwritable); nothing was changed."""


_SQLITE_HEADER = b"SQLite format 3\x00"


class ResultsStore:
    """The run's SQLite file. `readonly=True` (report, cost) opens an existing store without writing
    anything, so a run on a read-only mount can still be reported; otherwise a missing store is created.
    A file that exists but is not an intact results store raises StoreError and is left untouched: a
    truncated store must never be taken for a fresh run (whose exports would overwrite results.csv)."""

    def __init__(self, path: str | Path, readonly: bool = False, wal: bool = False) -> None:
        self.path = Path(path)
        self._wal = False
        exists = self.path.exists()
        if exists:
            _check_store_file(self.path)
        elif readonly:
            raise StoreError(f"{self.path} does not exist (give a run folder written by `reconbench run`)")
        try:
            if readonly:
                self.db = sqlite3.connect(f"{self.path.absolute().as_uri()}?mode=ro", uri=True)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.db = sqlite3.connect(self.path)
            if exists:
                _check_database(self.db, self.path)
            if not readonly:
                self.db.executescript(SCHEMA)
                _migrate(self.db)
                self.db.commit()
                self._wal = wal and _write_ahead(self.db)
        except sqlite3.Error as exc:
            raise StoreError(
                f"{self.path}: cannot {'read' if readonly else 'open for writing'}: {exc}{_hint(exc)}"
            ) from exc
        except OSError as exc:
            raise StoreError(f"{self.path.parent}: cannot create the run folder: {exc.strerror or exc}") from exc

    def close(self) -> None:
        if self._wal:
            try:  # fold the log into the file: a finished run is one file again (see the module's docstring)
                self.db.execute("PRAGMA journal_mode=DELETE")
            except sqlite3.Error:  # another connection reads it: it stays in WAL mode, an intact store all the same
                pass
        self.db.close()

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def get_meta(self) -> dict[str, Any]:
        return {k: json.loads(v) for k, v in self.db.execute("SELECT key, value FROM meta")}

    def set_meta(self, values: dict[str, Any]) -> None:
        try:
            with self.db:
                self.db.executemany(
                    "INSERT OR REPLACE INTO meta VALUES (?, ?)", [(k, json.dumps(v)) for k, v in values.items()]
                )
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot write the run's description: {exc}{_hint(exc)}") from exc

    def done_keys(self, include_failed: bool = True) -> set[str]:
        """Jobs a resumed run does not redo: ok ones, and failed ones unless retried. Skipped jobs (a
        method that could not run where the run was) are always tried again: the run may have moved."""
        sql = "SELECT job FROM results WHERE status = 'ok'" + (" OR status = 'failed'" if include_failed else "")
        return {row[0] for row in self.db.execute(sql)}

    def put(self, record: JobRecord) -> None:
        """Write one job's result in its own transaction (replacing a previous attempt of the same job)."""
        row = record.with_finished_at(record.finished_at or time.time()).to_row()
        try:
            with self.db:
                self.db.execute(
                    f"INSERT OR REPLACE INTO results ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
                    tuple(row.values()),
                )
        except sqlite3.Error as exc:  # a full disk, a folder made read-only: the committed rows are intact
            raise StoreError(f"{self.path}: cannot record job {record.job}: {exc}{_hint(exc)}") from exc

    def records(self) -> Iterator[JobRecord]:
        """Every stored record, typed (reconbench.results.record: unknown fields are an error)."""
        cursor = self.db.execute("SELECT * FROM results ORDER BY method, object, seed")
        columns = [d[0] for d in cursor.description]
        for values in cursor:
            yield JobRecord.from_row(dict(zip(columns, values)))


def _check_store_file(path: Path) -> None:
    """Refuse, before SQLite sees it, a file that cannot be a store: empty, or without SQLite's header."""
    if not path.is_file():
        raise StoreError(f"{path} is not a file")
    size = path.stat().st_size
    if size == 0:
        raise StoreError(
            f"{path} is empty (0 bytes): the results store was truncated or never written. Nothing was changed; "
            "restore it from a copy, or start over with another --out (results.csv beside it may still hold the "
            "results)"
        )
    with open(path, "rb") as f:
        header = f.read(len(_SQLITE_HEADER))
    if header != _SQLITE_HEADER:
        raise StoreError(
            f"{path} is not an SQLite database ({size} bytes without SQLite's header): not a results store, or "
            f"damaged. "
            "Nothing was changed"
        )


def _check_database(db: sqlite3.Connection, path: Path) -> None:
    """An existing store must pass SQLite's quick check and hold the results table."""
    problem = db.execute("PRAGMA quick_check").fetchone()[0]
    if problem != "ok":
        raise StoreError(
            f"{path} is damaged (SQLite: {problem}). Nothing was changed; restore it from a copy, or recover what is "
            "readable with `sqlite3 results.sqlite .recover`"
        )
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not {"meta", "results"} <= tables:
        raise StoreError(
            f"{path} is an SQLite database but not a results store (tables: {', '.join(sorted(tables)) or 'none'}). "
            f"Nothing was changed"
        )


def _write_ahead(db: sqlite3.Connection) -> bool:
    """Switch to WAL with `synchronous=NORMAL` (one fast commit per job); False where the file system
    cannot (SQLite then keeps its rollback journal, and commits wait for the disk as before)."""
    try:
        mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    except sqlite3.Error:
        return False
    if str(mode).lower() != "wal":
        return False
    db.execute("PRAGMA synchronous=NORMAL")
    return True


def _migrate(db: sqlite3.Connection) -> None:
    """Columns added since a store was first written."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(results)")}
    if "warnings" not in columns:
        db.execute("ALTER TABLE results ADD COLUMN warnings TEXT NOT NULL DEFAULT '[]'")


def _hint(exc: sqlite3.Error) -> str:
    text = str(exc).lower()
    if "malformed" in text or "not a database" in text:
        return (
            " (the store is damaged; nothing was changed: restore it from a copy, or recover with `sqlite3 "
            "results.sqlite .recover`)"
        )
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return " (is the run folder read-only? `report` and `cost` work on a read-only run; `run` needs to write)"
    if "full" in text:
        return " (no space left: free some and finish the run with --resume; the jobs committed so far are kept)"
    return ""
