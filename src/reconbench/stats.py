"""Statistics over a run's results: bootstrap confidence intervals of means, paired differences between
methods, win rates, per-category means and failure rates.

Pure numpy and seeded, so the same results give the same numbers. The unit of resampling is the
object: a method's value on an object is the mean over its seeds, and objects are drawn with
replacement (percentile bootstrap, DEFAULT_RESAMPLES resamples, seed DEFAULT_SEED). Inputs are
JobRecord objects or plain dict rows (a results.csv row, a `runner.export.flat_row`). Conventions:

- NaN (not applicable, e.g. volume IoU of an open mesh), None and empty cells are dropped.
- PSNR is capped at PSNR_CAP_DB for statistics: identical images give +inf (docs/metrics.md), which
  no mean or bootstrap survives. Any other infinite value is an error, never silently dropped.
- Only jobs with status "ok" contribute metrics; failure_rates counts the others.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

DEFAULT_RESAMPLES = 2000
DEFAULT_CONFIDENCE = 0.95
DEFAULT_SEED = 0
PSNR_CAP_DB = 100.0

# Direction of each metric: True = higher is better. Prefixed variants (unaligned_, aligned_, input_,
# surface_) and threshold variants (fscore_05, precision_02, ...) follow their base metric.
HIGHER_IS_BETTER: dict[str, bool] = {
    "psnr": True, "psnr_masked": True, "ssim": True, "fscore": True, "precision": True, "recall": True,
    "normal_consistency": True, "volume_iou": True, "mask_iou": True,
    "lpips": False, "lpips_alex": False, "lpips_vgg": False, "chamfer": False, "accuracy": False,
    "completeness": False, "time_s": False, "time": False,
}
_PREFIXES = ("unaligned_", "aligned_", "input_", "surface_")
_ID_FIELDS = {"job", "method", "object", "category", "protocol", "seed", "status", "error", "finished_at"}


def higher_is_better(metric: str) -> bool:
    """Whether a larger value of `metric` is better; KeyError for a metric with no known direction."""
    name = metric
    while name.startswith(_PREFIXES):
        name = name.split("_", 1)[1]
    if name in HIGHER_IS_BETTER:
        return HIGHER_IS_BETTER[name]
    base, _, suffix = name.rpartition("_")
    if suffix.isdigit() and base in HIGHER_IS_BETTER:
        return HIGHER_IS_BETTER[base]
    raise KeyError(f"no direction known for metric {metric!r}")


# ---------------------------------------------------------------- rows and per-object values


def to_rows(records: Iterable[Any]) -> list[dict[str, Any]]:
    """Plain dict rows from JobRecords (metrics flattened, `lpips` = `lpips_alex`) or dict rows (copied)."""
    rows = []
    for r in records:
        if isinstance(r, Mapping):
            rows.append(dict(r))
            continue
        row = {"method": r.method, "object": r.object, "category": r.category, "seed": r.seed, "status": r.status, "time_s": r.time_s}
        row.update(r.metrics)
        if "lpips_alex" in r.metrics and "lpips" not in r.metrics:
            row["lpips"] = r.metrics["lpips_alex"]
        rows.append(row)
    return rows


def clean_value(metric: str, value: Any) -> float | None:
    """A metric value ready for statistics: None when not applicable, PSNR capped at PSNR_CAP_DB."""
    if value is None or value == "" or isinstance(value, (bool, list, dict)):
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    if math.isnan(v):
        return None
    if "psnr" in metric:
        v = min(v, PSNR_CAP_DB)
    if math.isinf(v):
        raise ValueError(f"{metric} = {v}: infinite values are only expected for PSNR (capped at {PSNR_CAP_DB} dB)")
    return v


def object_values(rows: Iterable[Any], method: str, metric: str) -> dict[str, float]:
    """{object: value} of one method, the mean over its seeds of the defined values, completed jobs only."""
    metric = "time_s" if metric == "time" else metric
    per_object: dict[str, list[float]] = defaultdict(list)
    for row in to_rows(rows):
        if row.get("method") != method or row.get("status", "ok") != "ok":
            continue
        v = clean_value(metric, row.get(metric))
        if v is not None:
            per_object[str(row["object"])].append(v)
    return {obj: float(np.mean(vs)) for obj, vs in per_object.items()}


def metric_names(rows: Iterable[Any]) -> list[str]:
    """Every metric with at least one number (or numeric text, as in results.csv) in `rows`, identity fields excluded."""
    names = set()
    for row in to_rows(rows):
        for k, v in row.items():
            if k in _ID_FIELDS or k in names or isinstance(v, (bool, list, dict)) or v is None:
                continue
            try:
                float(v)
            except (TypeError, ValueError):
                continue
            names.add(k)
    return sorted(names)


# ---------------------------------------------------------------- bootstrap


@dataclass(frozen=True)
class Estimate:
    """A mean with its bootstrap confidence interval over n objects (NaN when n = 0)."""

    mean: float
    low: float
    high: float
    n: int


def bootstrap_means(values: Sequence[float], n_resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> np.ndarray:
    """Means of `n_resamples` resamples (with replacement, same size) of `values`."""
    x = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    means = np.empty(n_resamples)
    chunk = max(1, (1 << 22) // max(len(x), 1))  # bounds the index array to ~32 MB
    for start in range(0, n_resamples, chunk):
        k = min(chunk, n_resamples - start)
        means[start:start + k] = x[rng.integers(0, len(x), size=(k, len(x)))].mean(axis=1)
    return means


def bootstrap_ci(
    values: Sequence[float], n_resamples: int = DEFAULT_RESAMPLES, confidence: float = DEFAULT_CONFIDENCE, seed: int = DEFAULT_SEED
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean; one value gives (v, v), none gives (NaN, NaN)."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return math.nan, math.nan
    if x.size == 1:
        return float(x[0]), float(x[0])
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(bootstrap_means(x, n_resamples, seed), [alpha, 1.0 - alpha])
    return float(low), float(high)


def mean_ci(values: Sequence[float], **bootstrap: Any) -> Estimate:
    """Mean and bootstrap interval of `values` (keywords: n_resamples, confidence, seed)."""
    x = np.asarray(values, dtype=float)
    low, high = bootstrap_ci(x, **bootstrap)
    return Estimate(float(x.mean()) if x.size else math.nan, low, high, int(x.size))


def method_means(rows: Iterable[Any], metrics: Sequence[str] | None = None, **bootstrap: Any) -> dict[str, dict[str, Estimate]]:
    """{method: {metric: Estimate}} for every method and metric (default: every metric in the rows)."""
    rows = to_rows(rows)
    metrics = list(metrics) if metrics is not None else metric_names(rows)
    out: dict[str, dict[str, Estimate]] = {}
    for method in sorted({r["method"] for r in rows}):
        for metric in metrics:
            values = list(object_values(rows, method, metric).values())
            if values:
                out.setdefault(method, {})[metric] = mean_ci(values, **bootstrap)
    return out


# ---------------------------------------------------------------- two methods on the same objects


@dataclass(frozen=True)
class PairedDifference:
    """Mean of (a − b) over the objects both methods completed, with its bootstrap interval.

    significant: the interval excludes 0. better: the method the difference favours when significant.
    """

    metric: str
    a: str
    b: str
    mean: float
    low: float
    high: float
    n: int
    significant: bool
    better: str | None


def paired_difference(rows: Iterable[Any], a: str, b: str, metric: str, **bootstrap: Any) -> PairedDifference:
    """Difference a − b on the shared objects, resampling objects (so the pairing is kept)."""
    rows = to_rows(rows)
    va, vb = object_values(rows, a, metric), object_values(rows, b, metric)
    shared = sorted(set(va) & set(vb))
    diffs = [va[o] - vb[o] for o in shared]
    est = mean_ci(diffs, **bootstrap)
    significant = bool(shared) and not (est.low <= 0.0 <= est.high)
    better = None
    if significant:
        a_larger = est.mean > 0
        better = a if a_larger == higher_is_better(metric) else b
    return PairedDifference(metric, a, b, est.mean, est.low, est.high, est.n, significant, better)


@dataclass(frozen=True)
class WinRate:
    """Fraction of shared objects where a beats b on the metric, ties counted half."""

    metric: str
    a: str
    b: str
    wins: int
    ties: int
    losses: int
    n: int
    rate: float


def win_rate(rows: Iterable[Any], a: str, b: str, metric: str) -> WinRate:
    """(wins + ties / 2) / shared objects, "beats" in the metric's direction (higher_is_better)."""
    rows = to_rows(rows)
    va, vb = object_values(rows, a, metric), object_values(rows, b, metric)
    shared = sorted(set(va) & set(vb))
    sign = 1.0 if higher_is_better(metric) else -1.0
    wins = sum(1 for o in shared if sign * (va[o] - vb[o]) > 0)
    ties = sum(1 for o in shared if va[o] == vb[o])
    losses = len(shared) - wins - ties
    rate = (wins + 0.5 * ties) / len(shared) if shared else math.nan
    return WinRate(metric, a, b, wins, ties, losses, len(shared), rate)


def pairwise(rows: Iterable[Any], metric: str, methods: Sequence[str] | None = None, **bootstrap: Any) -> list[tuple[PairedDifference, WinRate]]:
    """Paired difference and win rate of every pair of methods (each pair once, in sorted order)."""
    rows = to_rows(rows)
    names = sorted(methods) if methods is not None else sorted({r["method"] for r in rows})
    return [(paired_difference(rows, a, b, metric, **bootstrap), win_rate(rows, a, b, metric)) for a, b in combinations(names, 2)]


# ---------------------------------------------------------------- breakdowns


def category_means(rows: Iterable[Any], metric: str, **bootstrap: Any) -> dict[str, dict[str, Estimate]]:
    """{category: {method: Estimate}}: the mean (and interval) of each method over each category's objects."""
    rows = to_rows(rows)
    category_of = {str(r["object"]): r.get("category", "") for r in rows}
    out: dict[str, dict[str, Estimate]] = {}
    for method in sorted({r["method"] for r in rows}):
        by_category: dict[str, list[float]] = defaultdict(list)
        for obj, v in object_values(rows, method, metric).items():
            by_category[category_of[obj]].append(v)
        for category, values in by_category.items():
            out.setdefault(category, {})[method] = mean_ci(values, **bootstrap)
    return dict(sorted(out.items()))


@dataclass(frozen=True)
class FailureRate:
    """Jobs of one method by status; rate = (failed + skipped) / total."""

    total: int
    ok: int
    failed: int
    skipped: int
    rate: float


def failure_rates(rows: Iterable[Any]) -> dict[str, FailureRate]:
    """Per method, over every job (each object and seed): the share that did not complete."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"ok": 0, "failed": 0, "skipped": 0})
    for row in to_rows(rows):
        counts[row["method"]][row.get("status", "ok")] += 1
    out = {}
    for method, c in sorted(counts.items()):
        total = c["ok"] + c["failed"] + c["skipped"]
        out[method] = FailureRate(total, c["ok"], c["failed"], c["skipped"], (c["failed"] + c["skipped"]) / total)
    return out


# ---------------------------------------------------------------- shares (yes/no per object)


def _z(confidence: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + confidence / 2.0))


@dataclass(frozen=True)
class Share:
    """k of n with its Wilson score interval (NaN when n = 0)."""

    k: int
    n: int
    share: float
    low: float
    high: float


def wilson_interval(k: int, n: int, confidence: float = DEFAULT_CONFIDENCE) -> Share:
    """Wilson (1927) score interval of the proportion k / n: well behaved at 0 and n and for small n,
    where the Wald interval collapses to a point."""
    if n == 0:
        return Share(0, 0, math.nan, math.nan, math.nan)
    if not 0 <= k <= n:
        raise ValueError(f"k = {k} is not between 0 and n = {n}")
    z = _z(confidence)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return Share(k, n, p, max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class PairedShareDifference:
    """share(a) − share(b) over the objects both were judged on, with Newcombe's interval."""

    a: str
    b: str
    mean: float
    low: float
    high: float
    n: int
    significant: bool


def paired_share_difference(flags_a: Mapping[str, bool], flags_b: Mapping[str, bool], a: str = "a", b: str = "b",
                            confidence: float = DEFAULT_CONFIDENCE) -> PairedShareDifference:
    """Difference of two shares on the same objects ({object: flag} each; the shared objects count):
    Newcombe (1998) method 10, the square-and-add of the two Wilson intervals corrected for the pairing
    (the correlation phi of the 2x2 table, shrunk toward 0 by n/2 when positive)."""
    shared = sorted(set(flags_a) & set(flags_b))
    n = len(shared)
    if n == 0:
        return PairedShareDifference(a, b, math.nan, math.nan, math.nan, 0, False)
    both = sum(1 for o in shared if flags_a[o] and flags_b[o])
    only_a = sum(1 for o in shared if flags_a[o] and not flags_b[o])
    only_b = sum(1 for o in shared if flags_b[o] and not flags_a[o])
    neither = n - both - only_a - only_b
    wa, wb = wilson_interval(both + only_a, n, confidence), wilson_interval(both + only_b, n, confidence)
    denom = (both + only_a) * (neither + only_b) * (both + only_b) * (neither + only_a)
    cross = both * neither - only_a * only_b
    if denom == 0:
        phi = 0.0
    else:
        corrected = max(cross - n / 2, 0.0) if cross > 0 else float(cross)
        phi = corrected / math.sqrt(denom)
    d = wa.share - wb.share
    lower = d - math.sqrt((wa.share - wa.low) ** 2 - 2 * phi * (wa.share - wa.low) * (wb.high - wb.share) + (wb.high - wb.share) ** 2)
    upper = d + math.sqrt((wb.share - wb.low) ** 2 - 2 * phi * (wb.share - wb.low) * (wa.high - wa.share) + (wa.high - wa.share) ** 2)
    return PairedShareDifference(a, b, d, lower, upper, n, not (lower <= 0.0 <= upper))
