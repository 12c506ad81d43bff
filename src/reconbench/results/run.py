"""A run folder as the readers see it: its records and its meta (what the run was: dataset spec, protocol,
object list and the objects it selected, methods, seeds, alignment, LPIPS nets, headline set).

The meta is written by the driver (runner/run.py) and read here only, so the report never reopens a
dataset with another list than the run used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from reconbench.results.record import JobRecord

# The SQLite store (runner/store.py) is the driver's, and it stores these records: imported as a module so
# that importing either side first works (runner.store imports results.record).
from reconbench.runner import store as _store


@dataclass(frozen=True)
class RunMeta:
    """The run's identity. Known keys are typed; keys written by newer code are kept in `extra` (the meta
    grows with the driver, and an older reader must still open a newer run)."""

    dataset: str | None = None
    protocol: str | None = None
    align: str | None = None
    lpips: tuple[str, ...] = ()
    headline: str = "aligned"
    paradigms: Mapping[str, str] = field(default_factory=dict)
    reconbench: str | None = None
    object_list: str | None = None  # the --object-list (or the protocol's default list) the run used
    objects: tuple[tuple[str, str, float], ...] = ()  # (evaluation id, id in the dataset, yaw) of every object selected
    methods: tuple[str, ...] = ()
    seeds: tuple[int, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunMeta:
        known = {f.name for f in fields(cls)} - {"extra"}
        values: dict[str, Any] = {k: v for k, v in data.items() if k in known}
        for key in ("lpips", "methods", "seeds"):
            if values.get(key) is not None:
                values[key] = tuple(values[key])
        if values.get("objects") is not None:
            # (id, dataset id) in runs written before the list's yaw was recorded
            values["objects"] = tuple(
                (str(e[0]), str(e[1]), float(e[2]) if len(e) > 2 else 0.0) for e in values["objects"]
            )
        values = {k: v for k, v in values.items() if v is not None}  # null = the field's default
        return cls(**values, extra={k: v for k, v in data.items() if k not in known})

    def get(self, key: str, default: Any = None) -> Any:
        """The value of a key, typed or extra (for readers of the JSON form)."""
        if key in self.extra:
            return self.extra[key]
        value = getattr(self, key, None) if key != "extra" else None
        return default if value is None or value == () else value

    @property
    def object_entries(self) -> list[tuple[str, str, float]] | None:
        """(evaluation id, dataset id, yaw) entries to reopen the dataset with (datasets.apply_object_list), or
        None for a run written before the meta recorded its objects."""
        return list(self.objects) or None


@dataclass(frozen=True)
class Run:
    """What a reader gets from a run folder."""

    folder: Path
    records: list[JobRecord]
    meta: RunMeta

    @property
    def methods(self) -> list[str]:
        return sorted({r.method for r in self.records})

    @property
    def ok(self) -> list[JobRecord]:
        return [r for r in self.records if r.status == "ok"]


def load_run(run_dir: str | Path) -> Run:
    """The records and meta of a run folder (its results.sqlite); FileNotFoundError when there is none."""
    folder = Path(run_dir)
    path = folder / "results.sqlite"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist (give a run folder written by `reconbench run`)")
    with _store.ResultsStore(path, readonly=True) as store:  # report and cost write nothing into a run
        return Run(folder, list(store.records()), RunMeta.from_dict(store.get_meta()))


def run_from_records(records: list[JobRecord], meta: Mapping[str, Any], folder: str | Path = ".") -> Run:
    """A Run from records and meta already in memory (the driver's exports at the end of a run)."""
    return Run(Path(folder), list(records), RunMeta.from_dict(meta))
