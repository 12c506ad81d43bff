"""The embedded results store: one SQLite file per run folder, one committed row per finished job.

SQLite gives atomic commits, so a run killed at any moment keeps every finished job and nothing
half-written; `--resume` skips the keys already present.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any, Iterator

from reconbench.results.record import JobRecord

__all__ = ["SCHEMA", "JobRecord", "ResultsStore"]

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
    anytime TEXT NOT NULL DEFAULT '[]'
);
"""


class ResultsStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path)
        self.db.executescript(SCHEMA)
        self.db.commit()

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "ResultsStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def get_meta(self) -> dict[str, Any]:
        return {k: json.loads(v) for k, v in self.db.execute("SELECT key, value FROM meta")}

    def set_meta(self, values: dict[str, Any]) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", [(k, json.dumps(v)) for k, v in values.items()])

    def done_keys(self, include_failed: bool = True) -> set[str]:
        """Jobs a resumed run does not redo: ok ones, and failed ones unless retried. Skipped jobs (a
        method that could not run where the run was) are always tried again: the run may have moved."""
        sql = "SELECT job FROM results WHERE status = 'ok'" + (" OR status = 'failed'" if include_failed else "")
        return {row[0] for row in self.db.execute(sql)}

    def put(self, record: JobRecord) -> None:
        """Write one job's result in its own transaction (replacing a previous attempt of the same job)."""
        row = record.with_finished_at(record.finished_at or time.time()).to_row()
        with self.db:
            self.db.execute(f"INSERT OR REPLACE INTO results ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})", tuple(row.values()))

    def records(self) -> Iterator[JobRecord]:
        """Every stored record, typed (reconbench.results.record: unknown fields are an error)."""
        cursor = self.db.execute("SELECT * FROM results ORDER BY method, object, seed")
        columns = [d[0] for d in cursor.description]
        for values in cursor:
            yield JobRecord.from_row(dict(zip(columns, values)))
