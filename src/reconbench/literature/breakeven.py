"""Break-even volumes from published figures alone, through the run cost model's own functions
(cost/model.py: CostLine, break_even_lines): no run needed.

Every time is moved to hours on cost/published.REFERENCE_GPU with the stated throughput factor of its GPU
(cost/published.THROUGHPUT); a time whose hardware was not published cannot be moved and is not used.
Training figures are moved the same way. Unknown stays unknown: the result then says what would settle it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from reconbench.cost import published as cost_published
from reconbench.cost.model import PRIOR_MODES, BreakEven, CostLine, Pricing, asset_count, break_even_lines, gpu_type
from reconbench.literature.collect import Entry, entries
from reconbench.literature.types import TimeFigure

UNIT = cost_published.REFERENCE_GPU


@dataclass(frozen=True)
class PerAsset:
    """A method's published per-asset times in hours on UNIT: every usable figure, and those left out (why)."""

    method: str
    used: tuple[tuple[TimeFigure, float], ...]  # (figure, hours on UNIT)
    left_out: tuple[tuple[TimeFigure, str], ...]

    @property
    def known(self) -> bool:
        return bool(self.used)

    @property
    def central(self) -> float | None:
        """The first usable figure (specs list the method's own paper first)."""
        return self.used[0][1] if self.used else None

    @property
    def low(self) -> float | None:
        return min(h for _, h in self.used) if self.used else None

    @property
    def high(self) -> float | None:
        return max(h for _, h in self.used) if self.used else None


def per_asset(entry: Entry, pricing: Pricing) -> PerAsset:
    used, left = [], []
    for t in entry.published.times:
        if not t.applies:
            left.append((t, "measured for another configuration"))
        elif t.gpu is None:
            left.append((t, "hardware not published: cannot be converted"))
        else:
            hours = pricing.convert(t.seconds / 3600, gpu_type(t.gpu), UNIT)
            if hours is None:
                left.append((t, f"no throughput factor for {t.gpu} (give --throughput)"))
            else:
                used.append((t, hours))
    return PerAsset(entry.label, tuple(used), tuple(left))


@dataclass(frozen=True)
class TrainingHours:
    value: float | None
    low: float | None
    high: float | None
    source: str


def training_hours(entry: Entry, mode: str, pricing: Pricing) -> TrainingHours:
    """Training GPU-hours on UNIT counted for `entry` in prior mode `mode` (cost/model.py's rules)."""
    pub = entry.published
    if entry.paradigm == "per-scene":
        if mode == "sunk":
            return TrainingHours(0.0, 0.0, 0.0, "prior sunk (not counted)")
        if pub.prior is None:
            return TrainingHours(None, None, None, f"no diffusion prior named in {entry.label}'s spec")
        prior = cost_published.PRIORS.get(pub.prior)
        if prior is None or prior.get("value") is None:
            return TrainingHours(None, None, None, f"training of prior {pub.prior} not published")
        gpu = gpu_type(prior["gpu"])
        conv = [pricing.convert(prior[k], gpu, UNIT) for k in ("value", "low", "high")]
        return TrainingHours(*conv, f"prior {pub.prior}: {prior['source']}")
    if pub.training is None:
        return TrainingHours(None, None, None, pub.training_note or "not published")
    t, gpu = pub.training, gpu_type(pub.training.gpu)
    return TrainingHours(*(pricing.convert(h, gpu, UNIT) for h in (t.value, t.low, t.high)), t.source)


@dataclass
class PairResult:
    """Break-even of one (feed-forward, per-scene) pair in one prior mode, from published figures."""

    feed_forward: str
    per_scene: str
    mode: str
    result: BreakEven  # from the first-listed times (central)
    n_low: float | None = None  # smallest N* over the training range and every published time
    n_high: float | None = None
    n_per_1000_gpu_h: float | None = None  # N* per 1,000 UNIT GPU-hours of (unknown) feed-forward training
    settle: list[str] = field(default_factory=list)  # what would settle an unknown
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        if self.result.kind in ("above", "below"):
            span = (
                f" (range {asset_count(self.n_low)}-{asset_count(self.n_high)}"
                " over training ranges and published times)"
                if self.n_low is not None and self.n_high is not None
                else ""
            )
            side = "above" if self.result.kind == "above" else "only below"
            return f"feed-forward cheaper {side} N* = {asset_count(self.result.n)} assets{span}"
        if self.result.kind == "unknown" and self.n_per_1000_gpu_h is not None:
            return (
                f"unknown: N* = {asset_count(self.n_per_1000_gpu_h)} assets per 1,000 {UNIT} GPU-hours of "
                f"{self.feed_forward}'s training"
            )
        return self.result.describe()


def pair_break_even(ff: Entry, ps: Entry, mode: str, pricing: Pricing) -> PairResult:
    a, b = per_asset(ff, pricing), per_asset(ps, pricing)
    ta, tb = training_hours(ff, mode, pricing), training_hours(ps, mode, pricing)
    settle: list[str] = []
    for e, pa in ((ff, a), (ps, b)):
        if not pa.known:
            settle.append(
                f"a per-asset time of {e.label} with its GPU type (published, or measured: reconbench run "
                f"on a GPU, then reconbench cost)"
            )
    if not a.known or not b.known:
        return PairResult(
            ff.label,
            ps.label,
            mode,
            BreakEven("unavailable", basis="gpu_h", reason="per-asset time not known"),
            settle=settle,
        )

    def line(t: TrainingHours, c: float) -> CostLine:
        return CostLine(t.value, t.low, t.high, c, f"{UNIT} GPU-h")

    central = break_even_lines(line(ta, a.central), line(tb, b.central), "gpu_h")
    out = PairResult(ff.label, ps.label, mode, central)
    if ta.value is None:
        out.settle.append(
            f"the training GPU-hours of {ff.label} ({ta.source}); with a figure H, "
            f"`reconbench cost RUN --training-gpu-hours {ff.label}=H` computes it from a run"
        )
    if tb.value is None:
        out.settle.append(f"the training GPU-hours of {ps.label}'s prior ({tb.source})")
    dc = b.central - a.central
    if ta.value is None and tb.value == 0 and dc > 0:  # N* = T_ff / dc: proportional to the unknown training
        out.n_per_1000_gpu_h = 1000.0 / dc
    if central.kind in ("above", "below"):
        ends, kinds = [], set()
        for ca in {a.low, a.high}:
            for cb in {b.low, b.high}:
                r = break_even_lines(line(ta, ca), line(tb, cb), "gpu_h")
                kinds.add(r.kind)
                ends += [x for x in (r.n, r.low, r.high) if x is not None]
        out.n_low, out.n_high = min(ends), max(ends)
        if len(kinds) > 1:
            out.notes.append(f"within the published times the answer changes kind ({', '.join(sorted(kinds))})")
    return out


@dataclass
class LiteratureCost:
    unit: str
    factors: dict[str, tuple[float, str]]  # GPU type -> (hours on it x factor = hours on UNIT, source)
    per_asset: dict[str, PerAsset]
    training: dict[str, dict[str, TrainingHours]]
    pairs: list[PairResult]


def literature_cost(items: Sequence[Entry] | None = None, pricing: Pricing | None = None) -> LiteratureCost:
    """Per-asset times, training and the break-even of every (feed-forward, per-scene) pair of reconbench methods."""
    pricing = pricing or Pricing.default()
    items = [e for e in (entries() if items is None else items) if e.method is not None]
    ffs = [e for e in items if e.paradigm == "feed-forward"]
    pss = [e for e in items if e.paradigm == "per-scene"]
    pairs = [pair_break_even(ff, ps, mode, pricing) for ff in ffs for ps in pss for mode in PRIOR_MODES]
    used_gpus = {gpu_type(t.gpu) for e in items for t in e.published.times if t.gpu}
    ref = pricing.throughput.get(UNIT)
    factors = {
        g: (pricing.throughput[g] / ref, pricing.sources.get(f"throughput {g}", "user"))
        for g in sorted(used_gpus)
        if g in pricing.throughput and ref
    }
    return LiteratureCost(
        UNIT,
        factors,
        {e.label: per_asset(e, pricing) for e in items},
        {e.label: {m: training_hours(e, m, pricing) for m in PRIOR_MODES} for e in ffs + pss},
        pairs,
    )
