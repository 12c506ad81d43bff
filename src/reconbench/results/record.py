"""The job record: one (method, object, protocol, seed) result as the store keeps it, with typed timings,
resources and provenance.

Every part is a frozen dataclass read by a strict `from_dict`: an unknown key is an error naming the
part and the known fields, so what a record holds is defined here and nowhere else. A new field is one
line in the dataclass. Parts also answer `part["field"]` and `part.get("field")` for readers written
against the JSON form; attribute access is the typed way.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from typing import Any, ClassVar, TypeVar

from reconbench.errors import ReconbenchError

STATUSES = ("ok", "failed", "skipped")


class RecordError(ReconbenchError, ValueError):
    """A stored record that does not match the record types (an unknown field, a bad status)."""


P = TypeVar("P", bound="_Part")


class _Part:
    """Strict from_dict / to_dict and read-only subscripting for the record's dataclasses."""

    _nested: ClassVar[dict[str, Any]] = {}  # field -> converter from its JSON form

    @classmethod
    def from_dict(cls: type[P], data: Mapping[str, Any] | P | None, where: str = "") -> P:
        """The part from its JSON form (None: all defaults); an unknown key is a RecordError."""
        if data is None:
            return cls()
        if isinstance(data, cls):
            return data
        if not isinstance(data, Mapping):
            raise RecordError(f"{where or cls.__name__}: expected an object, got {type(data).__name__}")
        _refuse_unknown(cls, data, where or cls.__name__, "field")
        values = {
            k: cls._nested[k](v, f"{where}.{k}" if where else k) if k in cls._nested and v is not None else v
            for k, v in data.items()
        }
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return {name: _plain(getattr(self, name)) for name in _names(self)}

    def __getitem__(self, key: str) -> Any:
        if key not in _names(self):
            raise KeyError(key)
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        value = getattr(self, key) if key in _names(self) else None
        return default if value is None else value

    def __contains__(self, key: str) -> bool:
        return key in _names(self) and getattr(self, key) is not None


def _names(part: Any) -> list[str]:
    """Field names of a dataclass instance or class."""
    return [f.name for f in fields(part)]


def _refuse_unknown(cls: type, data: Mapping[str, Any], where: str, what: str) -> None:
    known = _names(cls)
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise RecordError(
            f"{where}: unknown {what}(s) {', '.join(unknown)}; {cls.__name__} has {', '.join(known)} "
            f"(a new {what} is declared in reconbench/results/record.py)"
        )


def _plain(value: Any) -> Any:
    if isinstance(value, _Part):
        return value.to_dict()
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True)
class Resources(_Part):
    """What the method's process tree held, sampled every `sample_interval_s` (system/monitor.py);
    None = not measured (never 0 by default)."""

    peak_host_rss_mb: float | None = None
    start_host_rss_mb: float | None = None
    peak_gpu_mem_mb: float | None = None
    gpu_seconds: float | None = None  # wall seconds x GPUs held
    samples: int | None = None
    sample_interval_s: float | None = None
    cold: bool | None = None  # the time includes process start and model load
    note: str | None = None


@dataclass(frozen=True)
class Timings(_Part):
    """Seconds: the method's stages as it reported them, its wall time, and the scoring's stages."""

    method_stages: Mapping[str, float] = field(default_factory=dict)
    method_wall_s: float | None = None
    resources: Resources | None = None
    evaluation_wall_s: float | None = None
    evaluation: Mapping[str, float] = field(default_factory=dict)  # scoring stages (render, psnr, geometry, ...)

    _nested: ClassVar[dict[str, Any]] = {"resources": Resources.from_dict}


@dataclass(frozen=True)
class GpuInfo(_Part):
    name: str | None = None
    count: int = 1

    @classmethod
    def parse(cls, data: Any, where: str = "gpu") -> GpuInfo:
        """{"name", "count"}, or a bare model name."""
        return cls(name=str(data)) if isinstance(data, str) else cls.from_dict(data, where)


@dataclass(frozen=True)
class MethodProvenance(_Part):
    entry: str | None = None  # "module:function", or "external"
    upstream: Mapping[str, Any] | None = None  # repository and pinned commit of an upstream method
    frame: str | None = None
    scale: str | None = None
    info: Mapping[str, Any] = field(default_factory=dict)  # what the method reported about its run (free form)


@dataclass(frozen=True)
class Provenance(_Part):
    """Where a result comes from: versions, renderer, host, the files scored and their hashes."""

    reconbench: str | None = None
    evaluation: Mapping[str, Any] | None = None  # the preset's scoring settings (protocol Evaluation.to_dict())
    renderer: Mapping[str, Any] | None = None
    host: str | None = None
    asset: str | None = None
    asset_sha256: str | None = None
    ground_truth: str | None = None
    ground_truth_sha256: str | None = None
    gpu: GpuInfo | None = None  # where the method ran on a GPU; the cost model reads it
    method: MethodProvenance | None = None
    notes: tuple[str, ...] = ()
    input_mask: str | None = None  # how the input photo's mask was made (images: datasets)

    _nested: ClassVar[dict[str, Any]] = {
        "gpu": GpuInfo.parse,
        "method": MethodProvenance.from_dict,
        "notes": lambda v, where: tuple(v),
    }


def _strict_status(status: str) -> str:
    if status not in STATUSES:
        raise RecordError(f"status {status!r}; expected one of {', '.join(STATUSES)}")
    return status


@dataclass(frozen=True)
class JobRecord:
    """One job's result. `metrics` maps metric names (docs/metrics.md) to numbers, NaN or "n/a" (not
    applicable); `time_s` is the method's wall time for this input. Parts given as dicts are read by their
    strict from_dict, so a record built anywhere is typed."""

    job: str
    method: str
    object: str
    category: str
    protocol: str
    seed: int
    status: str  # ok | failed | skipped (cannot run on this machine)
    error: str | None = None
    time_s: float | None = None
    metrics: Mapping[str, Any] = field(default_factory=dict)
    timings: Timings = field(default_factory=Timings)
    alignment: Mapping[str, Any] | None = None  # alignment.Alignment.to_dict()
    provenance: Provenance = field(default_factory=Provenance)
    finished_at: float = 0.0
    anytime: tuple[Mapping[str, Any], ...] = ()  # per-scene snapshots: iteration, seconds, metrics
    warnings: tuple[str, ...] = ()  # what was scored differently than asked (a texture dropped, ...)

    # Columns of the store's `results` table that hold JSON (the others are plain SQL values).
    JSON_COLUMNS: ClassVar[tuple[str, ...]] = ("metrics", "timings", "alignment", "provenance", "anytime", "warnings")

    def __post_init__(self) -> None:
        where = f"record {self.job}"
        _strict_status(self.status)
        object.__setattr__(self, "timings", Timings.from_dict(self.timings, f"{where} timings"))
        object.__setattr__(self, "provenance", Provenance.from_dict(self.provenance, f"{where} provenance"))
        object.__setattr__(self, "anytime", tuple(self.anytime or ()))
        object.__setattr__(self, "warnings", tuple(self.warnings or ()))
        object.__setattr__(self, "metrics", dict(self.metrics or {}))

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def with_finished_at(self, when: float) -> JobRecord:
        return replace(self, finished_at=when)

    def to_row(self) -> dict[str, Any]:
        """Column -> value for the store: the JSON columns as standard JSON text (NaN and inf as strings)."""
        row = {}
        for f in fields(self):
            value = _plain(getattr(self, f.name))
            row[f.name] = (None if value is None else dumps(value)) if f.name in self.JSON_COLUMNS else value
        return row

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> JobRecord:
        """A record from a store row (column -> value); unknown columns are an error."""
        _refuse_unknown(cls, row, f"results row {row.get('job')!r}", "column")
        values = {k: (loads(v) if k in cls.JSON_COLUMNS and v is not None else v) for k, v in row.items()}
        missing = [
            f.name
            for f in fields(cls)
            if f.name not in values and f.default is MISSING and f.default_factory is MISSING
        ]
        if missing:
            raise RecordError(f"results row {row.get('job')!r}: missing column(s) {', '.join(missing)}")
        return cls(**values)


def dumps(value: Any) -> str:
    """JSON with NaN/inf kept as strings, so the store's text stays standard JSON."""
    return json.dumps(_encode(value))


def loads(text: str) -> Any:
    return _decode(json.loads(text))


def _encode(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}[str(value)]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "shape", None) == ():  # numpy scalars
        return _encode(value.item())
    if isinstance(value, Mapping):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity"):
        return float(value)
    if isinstance(value, dict):
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value
