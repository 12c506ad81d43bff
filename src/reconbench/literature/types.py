"""Published figures as typed data: papers, the protocols their tables were measured under, and per-method
results, times and training compute.

A figure carries where it comes from (`paper` key + `where`, e.g. "Table 1") and how far it was checked
(`Check`); the protocol it was measured under is named by a protocol id ("sf3d-gso", "syncdreamer-gso30"),
the key a run's preset uses to claim it reproduces that evaluation (docs/literature.md).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

CHECK_STATUSES = ("checked", "secondary", "unverified")
DATASETS = ("gso", "omniobject3d")
# Metric names of published figures. F-scores carry their threshold in the paper's own units.
METRICS = (
    "chamfer",
    "volume_iou",
    "fscore@0.05",
    "fscore@0.1",
    "fscore@0.2",
    "fscore@0.5",
    "psnr",
    "ssim",
    "lpips",
    "clip_similarity",
)


@dataclass(frozen=True)
class Check:
    """How a figure (or a whole table) was checked against its source.

    checked: read in a copy of the paper's own table text (e.g. arXiv HTML); secondary: agrees with
    independent secondary copies (notes, other papers quoting it) but the paper's table was not read;
    unverified: not checked, `note` says what was tried.
    """

    status: str
    note: str

    def __post_init__(self) -> None:
        if self.status not in CHECK_STATUSES:
            raise ValueError(f"check status must be one of {CHECK_STATUSES}, got {self.status!r}")


def _check(value: Any, default_note: str) -> Check:
    if isinstance(value, Check):
        return value
    if isinstance(value, dict):
        return Check(**value)
    return Check("unverified", default_note or "no check recorded")


@dataclass(frozen=True)
class Paper:
    key: str
    title: str
    arxiv: str = ""
    url: str = ""

    def cite(self) -> str:
        where = f"arXiv {self.arxiv}" if self.arxiv else self.url
        return f"{self.title} ({where})" if where else self.title

    def short(self) -> str:
        """ "Boss et al., SF3D (arXiv 2408.00653)": the title up to its colon."""
        where = f"arXiv {self.arxiv}" if self.arxiv else self.url
        title = self.title.split(":")[0]
        return f"{title} ({where})" if where else title


@dataclass(frozen=True)
class Protocol:
    """The evaluation a published table was measured under, as far as the paper states it.

    scale: "unit" when objects are normalised to a box of side 1 (so Chamfer and F-score thresholds are in
    reconbench's units), "unstated" otherwise. chamfer_kind: "syncdreamer" for ½(mean p→g + mean g→p),
    distances not squared; "unstated" when the paper does not say. image_metrics: what PSNR/SSIM/LPIPS
    were computed on ("renders" of the asset at held-out views, "generated-views" of a multi-view model,
    "" when the table has none). reproducible: the object list and settings are public, so a preset can
    repeat the evaluation exactly.
    """

    id: str
    paper: str  # Paper.key
    where: str  # "Table 1"
    dataset: str  # one of DATASETS
    objects: int | None
    object_list: str
    normalisation: str
    scale: str
    alignment: str
    chamfer: str
    chamfer_kind: str
    fscore: str
    points: str
    views: str
    image_size: int | None
    image_metrics: str
    time_hardware: str | None  # GPU the table's times were measured on; None = not stated / no times
    time_covers: str
    reproducible: bool
    check: Check
    notes: str = ""

    def __post_init__(self) -> None:
        if self.dataset not in DATASETS:
            raise ValueError(f"protocol {self.id}: dataset must be one of {DATASETS}")
        if self.scale not in ("unit", "unstated") or self.chamfer_kind not in ("syncdreamer", "unstated"):
            raise ValueError(f"protocol {self.id}: scale must be unit|unstated, chamfer_kind syncdreamer|unstated")


@dataclass(frozen=True)
class Result:
    """One published value of one metric for one method under one protocol."""

    protocol: str  # Protocol.id
    metric: str  # one of METRICS
    value: float
    note: str = ""

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise ValueError(f"unknown published metric {self.metric!r}; known: {METRICS}")


@dataclass(frozen=True)
class TimeFigure:
    """A published per-asset time and what it covers. gpu None = hardware not stated (then it cannot be
    converted to another GPU type and the literature break-even does not use it)."""

    seconds: float
    gpu: str | None
    covers: str
    paper: str  # Paper.key
    where: str
    check: Check
    applies: bool = True  # False: measured for another configuration of the method (listed, not used)
    note: str = ""


@dataclass(frozen=True)
class Training:
    """Published training compute in GPU-hours with its range (cost/published.py's range rule)."""

    value: float
    low: float
    high: float
    gpu: str
    derivation: str
    source: str
    check: Check
    note: str = ""

    def __post_init__(self) -> None:
        if not self.low <= self.value <= self.high:
            raise ValueError(f"training figure must satisfy low <= value <= high ({self.source})")

    def as_cost_entry(self) -> dict[str, object]:
        """The entry shape cost.model.GPUHours.from_entry reads."""
        return {
            "value": self.value,
            "low": self.low,
            "high": self.high,
            "gpu": self.gpu,
            "source": self.source,
            "note": self.note,
        }


@dataclass(frozen=True)
class Published:
    """Every published figure of one method: the one place to edit when a paper is corrected.

    training None means not published (`training_note` says so and why); per-scene methods name the
    diffusion `prior` they distil (cost/published.py PRIORS) instead. `names` are the names the papers'
    tables use for it.
    """

    names: tuple[str, ...] = ()
    training: Training | None = None
    training_note: str = ""
    prior: str | None = None
    times: tuple[TimeFigure, ...] = ()
    results: tuple[Result, ...] = ()

    @classmethod
    def from_dict(cls, method: str, d: dict[str, Any]) -> Published:
        """`published` given as a plain dict: the fields of this class (dataclasses.asdict of one reads back),
        or for a third-party spec just {"training": {"value", "low"?, "high"?, "gpu", "source"}, "prior": name}.
        Any other key is refused rather than silently dropped."""
        unknown = set(d) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(
                f"method {method!r}: published as a dict takes the fields of literature.types.Published "
                f"({', '.join(f.name for f in fields(cls))}), got {sorted(unknown)}"
            )
        t = d.get("training")
        training = None
        if isinstance(t, dict) and t.get("value") is not None:
            value = float(t["value"])
            check = _check(t.get("check"), "given by the spec as a plain dict")
            training = Training(
                value,
                float(t.get("low", value)),
                float(t.get("high", value)),
                str(t.get("gpu")),
                str(t.get("derivation", "")),
                str(t.get("source", "")),
                check,
                str(t.get("note", "")),
            )
        times = tuple(TimeFigure(**{**x, "check": _check(x.get("check"), "")}) for x in d.get("times") or ())
        results = tuple(Result(**x) for x in d.get("results") or ())
        prior = d.get("prior")
        return cls(
            tuple(d.get("names") or ()),
            training,
            str(d.get("training_note") or ""),
            str(prior) if prior else None,
            times,
            results,
        )

    def results_for(self, protocol: str) -> dict[str, Result]:
        return {r.metric: r for r in self.results if r.protocol == protocol}


def row(protocol: str, values: dict[str, float], note: str = "") -> tuple[Result, ...]:
    """One table row as Results: row("sf3d-gso", {"chamfer": 0.111, "fscore@0.1": 0.645})."""
    return tuple(Result(protocol, metric, float(v), note) for metric, v in values.items())


def sf3d_row(protocol: str, cd: float, f1: float, f2: float, f5: float, note: str = "") -> tuple[Result, ...]:
    """A row of the SF3D / TripoSR / SPAR3D geometry tables: CD and F-score at 0.1 / 0.2 / 0.5."""
    return row(protocol, {"chamfer": cd, "fscore@0.1": f1, "fscore@0.2": f2, "fscore@0.5": f5}, note)


def image_row(protocol: str, psnr: float, ssim: float, lpips: float, note: str = "") -> tuple[Result, ...]:
    return row(protocol, {"psnr": psnr, "ssim": ssim, "lpips": lpips}, note)
