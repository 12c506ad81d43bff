"""The embedded results store: one SQLite file per run folder, one committed row per finished job.

SQLite gives atomic commits, so a run killed at any moment keeps every finished job and nothing
half-written; `--resume` skips the keys already present.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

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


@dataclass
class JobRecord:
    job: str
    method: str
    object: str
    category: str
    protocol: str
    seed: int
    status: str  # ok | failed | skipped (cannot run on this machine)
    error: str | None = None
    time_s: float | None = None  # the method's wall time for this input
    metrics: dict[str, float] = field(default_factory=dict)
    timings: dict[str, Any] = field(default_factory=dict)  # method stages and evaluation stages
    alignment: dict[str, Any] | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    finished_at: float = 0.0
    anytime: list[dict[str, Any]] = field(default_factory=list)  # per-scene snapshots: iteration, seconds, metrics


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
        record.finished_at = record.finished_at or time.time()
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.job, record.method, record.object, record.category, record.protocol, record.seed,
                    record.status, record.error, record.time_s, _dumps(record.metrics), _dumps(record.timings),
                    _dumps(record.alignment) if record.alignment is not None else None, _dumps(record.provenance),
                    record.finished_at, _dumps(record.anytime),
                ),
            )

    def records(self) -> Iterator[JobRecord]:
        rows = self.db.execute("SELECT * FROM results ORDER BY method, object, seed")
        for r in rows:
            yield JobRecord(
                job=r[0], method=r[1], object=r[2], category=r[3], protocol=r[4], seed=r[5], status=r[6], error=r[7],
                time_s=r[8], metrics=_loads(r[9]), timings=_loads(r[10]), alignment=_loads(r[11]) if r[11] else None,
                provenance=_loads(r[12]), finished_at=r[13], anytime=_loads(r[14]),
            )


def _dumps(value: Any) -> str:
    """JSON with NaN/inf kept as strings, so SQLite text stays standard JSON."""
    return json.dumps(_encode(value))


def _encode(value: Any) -> Any:
    if isinstance(value, float) and not np.isfinite(value):
        return {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}[str(value)]
    if isinstance(value, (np.floating, np.integer)):
        return _encode(value.item())
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


def _loads(text: str) -> Any:
    return _decode(json.loads(text))


def _decode(value: Any) -> Any:
    if value in ("NaN", "Infinity", "-Infinity"):
        return float(value)
    if isinstance(value, dict):
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value
