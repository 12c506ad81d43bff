"""The amortised cost model: cost per asset at volume N = training cost / N + per-asset inference cost.

    cost(N) = T / N + c,    c = warm + cold / B

T is the training GPU-hours counted for the method (its own, or its diffusion prior's for a per-scene
method when the prior is counted), c the per-asset GPU-hours measured by the run: the warm work per
asset plus the cold-start overhead (model load, environment start) spread over B assets per process
start. The same line in money prices every GPU-hour. docs/cost.md gives every rule and default.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from reconbench.cost import published
from reconbench.cost.measured import recorded_cpu, recorded_training
from reconbench.results.record import GpuInfo, Timings

COLD_STAGES = ("model_load", "environment_start")  # stage names counted as cold-start overhead
DEFAULT_VOLUMES: tuple[int, ...] = tuple(10**k for k in range(8))  # 1 ... 1e7 assets
DEFAULT_BATCH_SIZE = 100  # assets per process start
PRIOR_MODES = ("sunk", "counted")
CPU = "cpu"


# ---------------------------------------------------------------- figures and GPU types


@dataclass(frozen=True)
class GPUHours:
    """A GPU-hour figure with its range, the GPU type it was spent on, and its source; value None = unknown."""

    value: float | None
    low: float | None
    high: float | None
    gpu: str | None
    source: str
    note: str = ""

    @property
    def known(self) -> bool:
        return self.value is not None

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any]) -> GPUHours:
        value = entry.get("value")
        low = entry.get("low", value)
        high = entry.get("high", value)
        gpu = gpu_type(entry["gpu"]) if entry.get("gpu") else None
        return cls(value, low, high, gpu, entry.get("source", ""), entry.get("note", ""))

    @classmethod
    def zero(cls, source: str) -> GPUHours:
        return cls(0.0, 0.0, 0.0, None, source)

    @classmethod
    def unknown(cls, source: str) -> GPUHours:
        return cls(None, None, None, None, source)


def gpu_type(name: str) -> str:
    """Canonical GPU type of a device name ("NVIDIA A100-SXM4-80GB" → "A100-80GB"); unknown names are kept, tidied."""
    raw = str(name).strip()
    upper = raw.upper()
    if upper in ("", CPU.upper(), "NONE"):
        return CPU
    if "H100" in upper:
        return "H100"
    if "H200" in upper:
        return "H200"
    if "A800" in upper:
        return "A800"
    if "A100" in upper:
        return "A100-80GB" if "80" in upper.replace("A100", "") else "A100-40GB"
    if "V100" in upper:
        return "V100"
    for prefix in ("NVIDIA ", "TESLA "):
        if upper.startswith(prefix):
            raw = raw[len(prefix) :]
            upper = upper[len(prefix) :]
    return "-".join(raw.split())


# ---------------------------------------------------------------- prices and throughput


@dataclass(frozen=True)
class Pricing:
    """USD per GPU-hour per GPU type and relative throughput (published.REFERENCE_GPU = 1).

    Without a target each GPU-hour is priced on the type it was spent on (no throughput assumption
    needed); with a target every GPU-hour is first converted to hours on that type.
    """

    prices: dict[str, float]
    throughput: dict[str, float]
    target: str | None = None
    provider: str = published.DEFAULT_PROVIDER
    sources: dict[str, str] = field(default_factory=dict)
    # CPU hours are never priced or converted unless the user states how (docs/cost.md, "Same-device comparison"):
    cpu_as: tuple[str, float] | None = None  # (GPU type, hours on it that one CPU-hour of the run's machine equals)
    cpu_price: float | None = None  # USD per CPU-hour of the run's machine

    @classmethod
    def default(
        cls,
        provider: str = published.DEFAULT_PROVIDER,
        prices: Mapping[str, float] | None = None,
        throughput: Mapping[str, float] | None = None,
        target: str | None = None,
        cpu_as: tuple[str, float] | None = None,
        cpu_price: float | None = None,
    ) -> Pricing:
        """Published defaults of `provider`, with user overrides (keys are canonicalised GPU names)."""
        if provider not in published.PRICES:
            raise ValueError(f"unknown price provider {provider!r}; known: {', '.join(published.PRICES)}")
        table = {g: e["value"] for g, e in published.PRICES[provider].items()}
        sources = {f"price {g}": e["source"] for g, e in published.PRICES[provider].items()}
        thr = {g: e["value"] for g, e in published.THROUGHPUT.items()}
        sources.update({f"throughput {g}": e["source"] for g, e in published.THROUGHPUT.items()})
        for g, v in (prices or {}).items():
            table[gpu_type(g)] = float(v)
            sources[f"price {gpu_type(g)}"] = "user (--price)"
        for g, v in (throughput or {}).items():
            thr[gpu_type(g)] = float(v)
            sources[f"throughput {gpu_type(g)}"] = "user (--throughput)"
        if cpu_as is not None:
            cpu_as = (gpu_type(cpu_as[0]), float(cpu_as[1]))
            sources["cpu-hour conversion"] = f"user (--cpu-as): 1 CPU-hour = {cpu_as[1]:g} {cpu_as[0]} hours"
        if cpu_price is not None:
            sources["price cpu"] = "user (--cpu-price)"
        return cls(table, thr, gpu_type(target) if target else None, provider, sources, cpu_as, cpu_price)

    def price(self, gpu: str | None) -> float | None:
        """USD per hour on `gpu`, through PRICE_AS for a type priced as another; None if unknown (or CPU)."""
        if gpu == CPU:
            return self.cpu_price
        if gpu is None:
            return None
        if gpu in self.prices:
            return self.prices[gpu]
        return self.prices.get(published.PRICE_AS.get(gpu, ""))

    def convert(self, hours: float | None, src: str | None, dst: str) -> float | None:
        """Hours on `src` as hours on `dst` (same work): hours · throughput(src) / throughput(dst)."""
        if hours is None:
            return None
        if hours == 0:
            return 0.0
        if src == CPU and self.cpu_as is not None:  # the user's stated conversion, never an assumed one
            return self.convert(hours * self.cpu_as[1], self.cpu_as[0], dst)
        if src is None or src == CPU:
            return None
        if src == dst:
            return hours
        a, b = self.throughput.get(src), self.throughput.get(dst)
        return None if a is None or b is None else hours * a / b

    def usd(self, hours: float | None, gpu: str | None) -> float | None:
        """The price of `hours` spent on `gpu` (on the target type if one is set); None if not priceable."""
        if hours is None:
            return None
        if hours == 0:
            return 0.0
        if self.target and not (gpu == CPU and self.cpu_price is not None and self.cpu_as is None):
            converted, rate = self.convert(hours, gpu, self.target), self.price(self.target)
            return None if converted is None or rate is None else converted * rate
        rate = self.price(gpu)
        return None if rate is None else hours * rate


# ---------------------------------------------------------------- measured per-asset time


@dataclass(frozen=True)
class Timing:
    """Per-asset time of one method measured by a run (means over its completed jobs).

    Seconds are device-seconds: wall seconds times the GPUs the job held (1 on a CPU).
    """

    method: str
    n: int
    warm_s: float  # per-asset work, mean
    cold_s: float  # cold-start overhead per process start, mean
    device: str  # GPU type, or "cpu"
    gpu_count: int
    basis: str  # "stages" (the COLD_STAGES rule), or "none" (no time recorded)
    notes: tuple[str, ...] = ()

    @property
    def on_gpu(self) -> bool:
        return self.device != CPU

    def per_asset_s(self, batch_size: int) -> float:
        return per_asset_seconds(self.warm_s, self.cold_s, batch_size)


def per_asset_seconds(warm_s: float, cold_s: float, batch_size: int) -> float:
    """Warm work plus the cold-start overhead shared by the `batch_size` assets of one process start."""
    if batch_size < 1:
        raise ValueError("batch size must be at least 1")
    return warm_s + cold_s / batch_size


def record_seconds(record: Any, cold_stages: Sequence[str] = COLD_STAGES) -> tuple[float | None, float | None, str]:
    """(warm, cold overhead, basis) seconds of one job (a JobRecord or a dict row); (None, None, "none") without a time.

    The stages named in `cold_stages` are the overhead and the rest of the method's wall time (time_s,
    else timings.method_wall_s, else the sum of stages) is the work. The runner records no separate warm
    call: every job runs its method in a fresh process (`reconbench doctor` measures warm calls apart).
    """
    timings = Timings.from_dict(_get(record, "timings"), "timings")
    stages = timings.method_stages
    wall = _get(record, "time_s")
    if wall is None:
        wall = timings.method_wall_s
    if wall is None:
        wall = sum(stages.values()) if stages else None
    if wall is None:
        return None, None, "none"
    cold = sum(float(v) for k, v in stages.items() if k in cold_stages)
    return max(float(wall) - cold, 0.0), cold, "stages"


def record_device(record: Any) -> tuple[str, int]:
    """(GPU type or "cpu", GPU count) from provenance["gpu"]: {"name", "count"} or a name; missing = CPU."""
    gpu = (_get(record, "provenance") or {}).get("gpu")
    if not gpu:
        return CPU, 1
    parsed = GpuInfo.parse(gpu)
    name, count = parsed.name, parsed.count
    device = gpu_type(name) if name else CPU
    return device, (max(int(count or 1), 1) if device != CPU else 1)


def measure_timings(
    records: Iterable[Any], cold_stages: Sequence[str] = COLD_STAGES, measured_on: str | None = None
) -> dict[str, Timing]:
    """Per method: mean warm and cold-start device-seconds over its completed jobs, and the device.

    `measured_on` names the GPU type the times stand for (times taken on a CPU, or a provenance to
    overrule); otherwise the device comes from each record's provenance (missing = CPU).
    """
    rows: dict[str, list[tuple[float, float | None, str, str, int]]] = {}
    for r in records:
        if _get(r, "status") != "ok":
            continue
        warm, cold, basis = record_seconds(r, cold_stages)
        if warm is None:
            continue
        device, count = record_device(r)
        if measured_on:
            device = gpu_type(measured_on)
        rows.setdefault(_get(r, "method"), []).append((warm, cold, basis, device, count))
    out = {}
    for method, items in rows.items():
        devices = Counter((d, c) for *_, d, c in items)
        (device, count), _ = devices.most_common(1)[0]
        notes = []
        if len(devices) > 1:
            notes.append(f"jobs ran on {', '.join(f'{d} x{c}' for d, c in devices)}; costed as {device} x{count}")
        colds = [c for _, c, *_ in items if c is not None]
        warm = sum(w for w, *_ in items) / len(items)
        cold = sum(colds) / len(colds) if colds else 0.0
        basis = "+".join(sorted({b for _, _, b, *_ in items}))
        out[method] = Timing(method, len(items), warm * count, cold * count, device, count, basis, tuple(notes))
    return out


# ---------------------------------------------------------------- training GPU-hours


def training_for(
    method: str,
    paradigm: str,
    overrides: Mapping[str, GPUHours] | None = None,
    recorded_prior: str | None = None,
    measured: Mapping[str, Any] | None = None,
) -> tuple[GPUHours, str | None]:
    """The training GPU-hours that can be counted for `method`, and the prior it relies on (per-scene only).

    Feed-forward: its own training. Per-scene: the prior's training (counted or sunk by the caller).
    Reference: nothing. A user override (--training-gpu-hours) replaces the figure in every case but
    reference; then a feed-forward method's `measured` training record (reconbench train, carried by its
    results: cost.measured); otherwise the method spec's published.training / .prior (literature/types.py).
    """
    if paradigm == "reference":
        return GPUHours.zero("reference method: nothing trained"), None
    overrides = overrides or {}
    if paradigm == "feed-forward" and measured and method not in overrides:
        from reconbench.cost.measured import training_hours

        return training_hours(measured), None
    entry, spec_prior = _spec_figures(method)
    prior = spec_prior if paradigm == "per-scene" else None
    if method in overrides:
        return overrides[method], prior
    if paradigm == "per-scene" and recorded_prior is not None:
        # The run recorded which prior its results used (e.g. splat-sds: none on a CPU, zero123-xl on a GPU).
        if recorded_prior == NO_PRIOR:
            return GPUHours.zero("no prior: the run used none (reconstruction only)"), None
        prior = recorded_prior
    if paradigm == "per-scene":
        if prior is None:
            return GPUHours.unknown(f"the diffusion prior of {method} is not known"), None
        if prior not in published.PRIORS:
            return GPUHours.unknown(f"training of prior {prior} not known"), prior
        hours = GPUHours.from_entry(published.PRIORS[prior])
        return GPUHours(
            hours.value, hours.low, hours.high, hours.gpu, f"prior {prior}: {hours.source}", hours.note
        ), prior
    if entry.get("value") is not None:
        return GPUHours.from_entry(entry), None
    source = entry.get("source") or f"no published training compute for {method}"
    return GPUHours.unknown(source), None


def user_hours(low: float, high: float | None = None, gpu: str = published.REFERENCE_GPU) -> GPUHours:
    """A training figure supplied by the user: one value, or a low:high range (value = midpoint)."""
    high = low if high is None else high
    if low < 0 or high < low:
        raise ValueError(f"training GPU-hours must satisfy 0 <= low <= high, got {low}:{high}")
    return GPUHours((low + high) / 2, low, high, gpu_type(gpu), "user (--training-gpu-hours)")


def _spec_figures(method: str) -> tuple[dict[str, Any], str | None]:
    """The training figure (as a GPUHours entry) and prior a registered method's spec publishes."""
    from reconbench.registry import get_method

    try:
        pub = get_method(method).published
    except KeyError:  # not registered here (a run made elsewhere): nothing is known of it
        return {}, None
    entry = pub.training.as_cost_entry() if pub.training else {"source": pub.training_note}
    return entry, pub.prior


def resolve_paradigm(method: str, paradigms: Mapping[str, str] | None = None) -> str:
    """The run's own record (store meta "paradigms"), else the method registry, else "unknown"."""
    if paradigms and paradigms.get(method):
        return paradigms[method]
    from reconbench.registry import get_method

    try:
        return get_method(method).paradigm
    except KeyError:
        return "unknown"


# ---------------------------------------------------------------- cost lines and break-even


@dataclass(frozen=True)
class CostLine:
    """cost(N) = training / N + per_asset in one unit ("gpu_h" of one GPU type, or "usd"); None = unknown."""

    training: float | None
    training_low: float | None
    training_high: float | None
    per_asset: float | None
    unit: str

    def at(self, n: float) -> float | None:
        return amortised_cost(self.training, self.per_asset, n)

    def floor(self) -> float | None:
        """What an asset costs at least, whatever the (possibly unknown) training cost: the per-asset part."""
        return self.per_asset


def amortised_cost(training: float | None, per_asset: float | None, n: float) -> float | None:
    """Cost per asset at volume n: training spread over n assets plus the per-asset cost."""
    if n <= 0:
        raise ValueError("the asset volume must be positive")
    if training is None or per_asset is None:
        return None
    return training / n + per_asset


@dataclass(frozen=True)
class BreakEven:
    """Where a feed-forward method becomes cheaper per asset than a per-scene one.

    kind: "above" (cheaper for N > n), "below" (cheaper only for N < n), "always", "never",
    "unknown" (a training cost is unknown) or "unavailable" (a per-asset cost is unknown; see reason).
    low / high: n at the ends of the training-cost ranges.
    """

    kind: str
    n: float | None = None
    low: float | None = None
    high: float | None = None
    basis: str = ""
    reason: str = ""

    def describe(self) -> str:
        unit = {"usd": "in USD", "gpu_h": "in GPU-hours", "cpu_h": "in CPU-hours of one machine"}.get(self.basis, "")
        span = (
            f" (range {asset_count(self.low)}-{asset_count(self.high)})"
            if self.low is not None and self.high is not None and self.low != self.high
            else ""
        )
        text = {
            "above": f"feed-forward cheaper above N* = {asset_count(self.n)} assets{span}",
            "below": f"feed-forward cheaper only below N* = {asset_count(self.n)} assets{span}",
            "always": "feed-forward cheaper at every volume",
            "never": "feed-forward never cheaper",
            "unknown": "unknown",
            "unavailable": "unavailable",
        }[self.kind]
        extra = "; ".join(x for x in (unit if self.kind not in ("unknown", "unavailable") else "", self.reason) if x)
        return f"{text} [{extra}]" if extra else text


def break_even(t_ff: float | None, c_ff: float, t_ps: float | None, c_ps: float) -> BreakEven:
    """Closed form: the feed-forward method is cheaper per asset when (t_ff − t_ps) / N < c_ps − c_ff.

    With the per-scene training sunk (t_ps = 0) and c_ps > c_ff this is N* = t_ff / (c_ps − c_ff).
    An unknown training cost (None) gives "unknown" — except that a feed-forward method whose per-asset
    cost is not lower than a per-scene one with nothing counted is never cheaper, whatever it cost to train.
    """
    dc = c_ps - c_ff
    if t_ff is None or t_ps is None:
        if t_ff is None and t_ps == 0 and dc <= 0:
            return BreakEven("never", reason="per-asset cost not lower, whatever the training cost")
        return BreakEven("unknown", reason="training cost not known")
    dt = t_ff - t_ps
    if dc > 0:
        return BreakEven("always", 0.0) if dt <= 0 else BreakEven("above", dt / dc)
    if dc == 0:
        return BreakEven("always") if dt < 0 else BreakEven("never")
    return BreakEven("below", dt / dc) if dt < 0 else BreakEven("never")


def break_even_lines(ff: CostLine, ps: CostLine, basis: str) -> BreakEven:
    """break_even on two cost lines, with the range of N* implied by the training-cost ranges."""
    if ff.per_asset is None or ps.per_asset is None:
        return BreakEven("unavailable", basis=basis, reason="per-asset cost not known")
    point = break_even(ff.training, ff.per_asset, ps.training, ps.per_asset)
    low = high = None
    dc = ps.per_asset - ff.per_asset
    ff_low, ff_high, ps_low, ps_high = ff.training_low, ff.training_high, ps.training_low, ps.training_high
    if point.kind in ("above", "below") and (
        ff_low is not None and ff_high is not None and ps_low is not None and ps_high is not None
    ):
        ends = [max((ff_low - ps_high) / dc, 0.0), max((ff_high - ps_low) / dc, 0.0)]
        low, high = min(ends), max(ends)
    return BreakEven(point.kind, point.n, low, high, basis, point.reason)


# ---------------------------------------------------------------- anytime curves


def cost_to_reach(target: float, curve: Iterable[tuple[float, float]], higher_is_better: bool = True) -> float | None:
    """GPU-seconds a per-scene method needs to first reach `target` on an anytime curve; None if never.

    `curve` is a list of (gpu_seconds, metric_value) points. The answer is interpolated linearly between
    the last point short of the target and the first point that reaches it; a curve that reaches it at its
    first point answers that point's time (nothing is known before it). NaN values are ignored.
    """
    points = sorted((float(t), float(v)) for t, v in curve if not math.isnan(float(v)))
    reached = (lambda v: v >= target) if higher_is_better else (lambda v: v <= target)
    for i, (t, v) in enumerate(points):
        if reached(v):
            if i == 0:
                return t
            t0, v0 = points[i - 1]
            return t0 + (target - v0) * (t - t0) / (v - v0)
    return None


# ---------------------------------------------------------------- the report


@dataclass
class MethodCost:
    """One method's figures: training (own, or its prior's), measured time, and its cost lines."""

    method: str
    paradigm: str
    training: GPUHours
    prior: str | None
    timing: Timing | None
    per_asset_s: float | None  # device-seconds per asset, warm + cold / batch size (CPU seconds on a CPU)
    lines: dict[str, dict[str, CostLine]]  # lines[prior mode][unit]: unit "gpu_h", "usd" or "cpu_h"
    notes: list[str] = field(default_factory=list)


@dataclass
class PairBreakEven:
    feed_forward: str
    per_scene: str
    by_prior: dict[str, BreakEven]  # "sunk" and "counted"


@dataclass
class CostReport:
    unit_gpu: str  # GPU-hours in the cost lines are hours on this type
    pricing: Pricing
    volumes: tuple[float, ...]
    batch_size: int
    prior: str  # the mode chosen first; both are computed
    methods: dict[str, MethodCost]
    break_evens: list[PairBreakEven]
    notes: list[str]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: every figure, with costs per asset at each volume in both prior modes."""
        methods = {}
        for name, m in self.methods.items():
            d = asdict(m)
            d["cost_per_asset"] = {
                mode: {unit: {str(n): line.at(n) for n in self.volumes} for unit, line in units.items()}
                for mode, units in m.lines.items()
            }
            methods[name] = d
        return {
            "unit_gpu": self.unit_gpu,
            "provider": self.pricing.provider,
            "target_gpu": self.pricing.target,
            "prices_usd_per_gpu_h": self.pricing.prices,
            "throughput": self.pricing.throughput,
            "sources": self.pricing.sources,
            "volumes": list(self.volumes),
            "batch_size": self.batch_size,
            "prior": self.prior,
            "methods": methods,
            "break_even": [
                {
                    "feed_forward": p.feed_forward,
                    "per_scene": p.per_scene,
                    "by_prior": {k: {**asdict(b), "text": b.describe()} for k, b in p.by_prior.items()},
                }
                for p in self.break_evens
            ],
            "notes": self.notes,
        }


def cost_report(
    records: Iterable[Any],
    *,
    paradigms: Mapping[str, str] | None = None,
    volumes: Sequence[float] = DEFAULT_VOLUMES,
    batch_size: int = DEFAULT_BATCH_SIZE,
    prior: str = "sunk",
    pricing: Pricing | None = None,
    training_overrides: Mapping[str, GPUHours] | None = None,
    measured_on: str | None = None,
    cold_stages: Sequence[str] = COLD_STAGES,
) -> CostReport:
    """Cost lines of every method in `records` and the break-even of every (feed-forward, per-scene) pair."""
    if prior not in PRIOR_MODES:
        raise ValueError(f"prior must be one of {PRIOR_MODES}, got {prior!r}")
    records = list(records)
    pricing = pricing or Pricing.default()
    timings = measure_timings(records, cold_stages, measured_on)
    unit_gpu = pricing.target or _most_common_gpu(timings.values()) or published.REFERENCE_GPU
    methods: dict[str, MethodCost] = {}
    notes: list[str] = []
    for name in sorted({_get(r, "method") for r in records}):
        paradigm = resolve_paradigm(name, paradigms)
        measured = recorded_training(records, name)
        training, prior_name = training_for(name, paradigm, training_overrides, recorded_prior(records, name), measured)
        if measured and training.source.startswith("measured"):
            notes += _same_device_notes(name, measured, timings.get(name), recorded_cpu(records, name))
        methods[name] = _method_cost(
            name, paradigm, training, prior_name, timings.get(name), batch_size, pricing, unit_gpu
        )
    if any(t.device == CPU for t in timings.values()) and pricing.cpu_as is None:
        notes.append(
            "some per-asset times were measured on a CPU: they are CPU time, compared in CPU-hours with other "
            "CPU time only, and not priced as GPU time unless --measured-on names the GPU type they stand for "
            "or --cpu-as states a conversion"
        )
    for g in sorted(_converted_types(methods.values(), unit_gpu)):
        a, b = pricing.throughput.get(g), pricing.throughput.get(unit_gpu)
        if a is not None and b is not None:
            notes.append(
                f"{g} hours are shown as {unit_gpu} hours x {a / b:.3g} (throughput {g}: "
                f"{pricing.sources.get(f'throughput {g}', 'user')}; {unit_gpu}: "
                f"{pricing.sources.get(f'throughput {unit_gpu}', 'user')})"
            )
    pairs = []
    for ff in (m for m in methods.values() if m.paradigm == "feed-forward"):
        for ps in (m for m in methods.values() if m.paradigm == "per-scene"):
            pairs.append(
                PairBreakEven(ff.method, ps.method, {mode: _pair_break_even(ff, ps, mode) for mode in PRIOR_MODES})
            )
    return CostReport(unit_gpu, pricing, tuple(volumes), batch_size, prior, methods, pairs, notes)


NO_PRIOR = "none"


def _same_device_notes(
    method: str, measured: Mapping[str, Any], timing: Timing | None, run_cpu: str | None
) -> list[str]:
    """Say when a measured training and the run's per-asset times were not taken on the same device."""
    device = measured.get("device") or {}
    trained_on = "cpu" if device.get("kind") != "gpu" else gpu_type(device.get("name", ""))
    ran_on = timing.device if timing else None
    if ran_on is None:
        return []
    if (trained_on == CPU) != (ran_on == CPU):
        return [
            f"{method}: trained on {'a CPU' if trained_on == CPU else trained_on}, run on "
            f"{'a CPU' if ran_on == CPU else ran_on}: CPU and GPU hours are not mixed (give --cpu-as GPU=FACTOR to "
            f"convert)"
        ]
    if trained_on == CPU and run_cpu and device.get("name") and run_cpu != device.get("name"):
        return [
            f"{method}: trained on CPU {device.get('name')}, run on CPU {run_cpu}: CPU-hours of the two are "
            "compared as if equal (different CPUs do different work per hour)"
        ]
    return []


def recorded_prior(records: Sequence[Any], method: str) -> str | None:
    """The prior a method's completed jobs say they used (provenance method.info.prior), when they all
    agree; None when none records one or they differ (then the published table decides)."""
    priors = set()
    for r in records:
        if _get(r, "method") == method and _get(r, "status") == "ok":
            info = ((_get(r, "provenance") or {}).get("method") or {}).get("info") or {}
            priors.add(info.get("prior"))
    return priors.pop() if len(priors) == 1 and None not in priors else None


def _method_cost(
    name: str,
    paradigm: str,
    training: GPUHours,
    prior: str | None,
    timing: Timing | None,
    batch_size: int,
    pricing: Pricing,
    unit_gpu: str,
) -> MethodCost:
    notes: list[str] = (
        list(timing.notes) if timing else ["no completed job with a recorded time: per-asset time unknown"]
    )
    per_asset_s = timing.per_asset_s(batch_size) if timing else None
    device = timing.device if timing else None
    hours = per_asset_s / 3600 if per_asset_s is not None else None
    if timing and not timing.on_gpu and pricing.cpu_as is None:
        notes.append(
            "per-asset time is CPU time: counted in CPU-hours, not as GPU time (give --measured-on GPU or --cpu-as "
            "GPU=FACTOR)"
        )
    c_gpu_h = pricing.convert(hours, device, unit_gpu) if timing else None
    c_usd = pricing.usd(hours, device) if timing else None
    c_cpu_h = hours if timing and not timing.on_gpu else None
    if timing and timing.on_gpu and c_usd is None:
        notes.append(
            f"cannot price {device} hours{' as ' + pricing.target + ' hours' if pricing.target else ''} "
            f"(give --price GPU=USD and, to convert, --throughput GPU=FACTOR)"
        )
    if not training.known:
        notes.append(f"training GPU-hours unknown: {training.source} (give --training-gpu-hours {name}=H or =LOW:HIGH)")
    lines = {}
    for mode in PRIOR_MODES:
        counted = training if (paradigm != "per-scene" or mode == "counted") else GPUHours.zero("prior sunk")
        t = [pricing.convert(h, counted.gpu, unit_gpu) for h in (counted.value, counted.low, counted.high)]
        u = [pricing.usd(h, counted.gpu) for h in (counted.value, counted.low, counted.high)]
        # CPU-hours: only CPU time (or nothing); GPU hours never become CPU hours.
        c = [h if (h == 0 or counted.gpu == CPU) else None for h in (counted.value, counted.low, counted.high)]
        lines[mode] = {
            "gpu_h": CostLine(t[0], t[1], t[2], c_gpu_h, f"{unit_gpu} GPU-h"),
            "usd": CostLine(u[0], u[1], u[2], c_usd, "USD"),
            "cpu_h": CostLine(c[0], c[1], c[2], c_cpu_h, "CPU-h"),
        }
    return MethodCost(name, paradigm, training, prior, timing, per_asset_s, lines, notes)


def _pair_break_even(ff: MethodCost, ps: MethodCost, mode: str) -> BreakEven:
    """Break-even in CPU-hours where both ran on CPUs (device-hours of one machine), else in money where
    both per-asset costs can be priced, else in GPU-hours, else unavailable."""
    refused = None
    for unit in ("cpu_h", "usd", "gpu_h"):
        a, b = ff.lines[mode][unit], ps.lines[mode][unit]
        if a.per_asset is not None and b.per_asset is not None:
            result = break_even_lines(a, b, unit)
            if result.kind == "unknown":
                missing = [m.method for m, line in ((ff, a), (ps, b)) if line.training is None]
                mixing = _mixing_reason([m for m in (ff, ps) if m.method in missing], unit)
                if mixing:  # known, but spent on the other kind of device: another unit may hold a stated conversion
                    refused = refused or BreakEven("unavailable", basis=unit, reason=mixing)
                    continue
                return BreakEven("unknown", basis=unit, reason=f"training cost of {', '.join(missing)} not known")
            return result
    if refused is not None:
        return refused
    why = [f"{m.method}: {_why_no_per_asset(m)}" for m in (ff, ps) if m.lines[mode]["gpu_h"].per_asset is None]
    return BreakEven("unavailable", reason="; ".join(why) or "per-asset cost not known")


def _mixing_reason(methods: Sequence[MethodCost], unit: str) -> str:
    """Why a known training figure is unusable in `unit`: it was spent on the other kind of device."""
    if unit == "cpu_h":
        spent = [
            f"{m.method} trained on {m.training.gpu}" for m in methods if m.training.known and m.training.gpu != CPU
        ]
    else:
        spent = [f"{m.method} trained on a CPU" for m in methods if m.training.known and m.training.gpu == CPU]
    if not spent:
        return ""
    return (
        f"per-asset times are {'CPU' if unit == 'cpu_h' else 'GPU'} time but {', '.join(spent)}: CPU and GPU "
        "hours are not mixed without a stated conversion (--cpu-as GPU=FACTOR)"
    )


def _why_no_per_asset(m: MethodCost) -> str:
    if m.timing is None:
        return "no completed job with a recorded time"
    if not m.timing.on_gpu:
        return "times are CPU time (give --measured-on GPU)"
    return f"no price (or throughput) for {m.timing.device} hours"


def _converted_types(methods: Iterable[MethodCost], unit_gpu: str) -> set[str]:
    """GPU types whose hours were moved to `unit_gpu` hours for the GPU-hour lines."""
    types = set()
    for m in methods:
        if m.training.value:
            types.add(m.training.gpu)
        if m.timing and m.timing.on_gpu:
            types.add(m.timing.device)
    return {g for g in types if g not in (None, CPU, unit_gpu)}


def _most_common_gpu(timings: Iterable[Timing]) -> str | None:
    devices = Counter(t.device for t in timings if t.on_gpu)
    return devices.most_common(1)[0][0] if devices else None


def _get(record: Any, name: str) -> Any:
    """A field of a JobRecord or of a dict row."""
    return record.get(name) if isinstance(record, Mapping) else getattr(record, name, None)


def asset_count(x: float | None) -> str:
    """A number of assets (a break-even volume N*) as every report writes it: whole and with thousands
    separators from 10 to a billion, three significant digits outside that ("?" when unknown)."""
    if x is None:
        return "?"
    return f"{x:,.0f}" if 10 <= abs(x) < 1e9 else f"{x:.3g}"
