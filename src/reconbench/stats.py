"""Statistics over a run's results: bootstrap confidence intervals of means, paired differences between
methods, win rates, per-category means and failure rates.

Pure numpy and seeded, so the same results give the same numbers. The unit of resampling is the
object: a method's value on an object is the mean over its seeds, and objects are drawn with
replacement (percentile bootstrap, DEFAULT_RESAMPLES resamples, seed DEFAULT_SEED). Inputs are
JobRecord objects or plain dict rows (a results.csv row, a `runner.export.flat_row`). Conventions
(metric directions, the infinite-PSNR rule, what is not applicable) come from the metric catalogue,
reconbench/results/catalogue.py:

- NaN and "n/a" (not applicable, e.g. volume IoU of an open mesh), None and empty cells are dropped.
- PSNR of identical images (+inf) counts as PSNR_CAP_DB. Any other infinite value is an error.
- Failure policy (docs/metrics.md, "Tables, and failed jobs"): `failures="exclude"` (the default)
  averages over the objects a method completed; `failures="worst"` averages over all its objects, each
  failed job scored as the worst value any completed job of the run reached on that metric. Objects no
  method completed (a bad input, or too hard for all) are left out: they cannot separate methods.
  Skipped jobs (the method cannot run on that machine) count in neither; failure_rates counts them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any, Literal

import numpy as np

from reconbench.results.catalogue import PREFIXES, PSNR_CAP_DB, clean_value, higher_is_better  # noqa: F401
from reconbench.results.catalogue import metric as catalogue_metric

DEFAULT_RESAMPLES = 2000
DEFAULT_CONFIDENCE = 0.95
DEFAULT_SEED = 0
FailurePolicy = Literal["exclude", "worst"]
EXCLUDE: Literal["exclude"] = "exclude"
WORST: Literal["worst"] = "worst"

_ID_FIELDS = {"job", "method", "object", "category", "protocol", "seed", "status", "error", "finished_at"}
_ALIASES = {"lpips": "lpips_alex"}  # table name -> record key, as the catalogue's `source`

# PSNR_CAP_DB, higher_is_better and clean_value are the catalogue's, imported here for stats' callers.


# ---------------------------------------------------------------- rows and per-object values


def to_rows(records: Iterable[Any]) -> list[dict[str, Any]]:
    """Plain dict rows from JobRecords (metrics flattened, `lpips` = `lpips_alex`, also prefixed) or dict rows
    (copied)."""
    rows = []
    for r in records:
        if isinstance(r, Mapping):
            rows.append(dict(r))
            continue
        row = {
            "method": r.method,
            "object": r.object,
            "category": r.category,
            "seed": r.seed,
            "status": r.status,
            "time_s": r.time_s,
        }
        row.update(r.metrics)
        for name, source in _ALIASES.items():
            for prefix in ("", *PREFIXES):
                if prefix + source in r.metrics and prefix + name not in r.metrics:
                    row[prefix + name] = r.metrics[prefix + source]
        rows.append(row)
    return rows


def worst_value(rows: Iterable[Any], metric: str) -> float | None:
    """The worst value of `metric` over every completed job in `rows` (any method, any object), in the
    metric's direction; None when no job has one or the metric has no better direction."""
    metric = "time_s" if metric == "time" else metric
    try:
        higher = higher_is_better(metric)
    except KeyError:
        return None
    values = [
        v
        for row in to_rows(rows)
        if row.get("status", "ok") == "ok"
        for v in [clean_value(metric, row.get(metric))]
        if v is not None
    ]
    if not values:
        return None
    return min(values) if higher else max(values)


def scored_failures(rows: Iterable[Any], method: str) -> list[str]:
    """The objects of `method`'s failed jobs that the failure policy scores (one entry per failed job): those
    at least one job of the run (any method) completed."""
    rows = to_rows(rows)
    completed = {str(r["object"]) for r in rows if r.get("status", "ok") == "ok"}
    return [
        str(r["object"])
        for r in rows
        if r.get("method") == method and r.get("status") == "failed" and str(r["object"]) in completed
    ]


def _scored_on_failure(metric: str) -> bool:
    try:
        return catalogue_metric(metric).on_failure
    except KeyError:
        return True


def object_values(rows: Iterable[Any], method: str, metric: str, failures: FailurePolicy = EXCLUDE) -> dict[str, float]:
    """{object: value} of one method, the mean over its seeds. `failures="exclude"`: completed jobs only.
    `failures="worst"`: a failed job (on an object some job completed: scored_failures) counts as
    `worst_value` of the run, for metrics the method's completed jobs define (volume IoU stays undefined for
    splats) or every metric when it completed nothing; time and descriptive figures (catalogue `on_failure`)
    are never scored for a failure."""
    metric = "time_s" if metric == "time" else metric
    rows = to_rows(rows)
    per_object: dict[str, list[float]] = defaultdict(list)
    completed = False
    for row in rows:
        if row.get("method") != method or row.get("status", "ok") != "ok":
            continue
        completed = True
        v = clean_value(metric, row.get(metric))
        if v is not None:
            per_object[str(row["object"])].append(v)
    failed = scored_failures(rows, method) if failures == WORST else []
    if failed and _scored_on_failure(metric) and (per_object or not completed):
        worst = worst_value(rows, metric)
        if worst is not None:
            for obj in failed:
                per_object[obj].append(worst)
    elif failures not in (EXCLUDE, WORST):
        raise ValueError(f"failures={failures!r}; expected {EXCLUDE!r} or {WORST!r}")
    return {obj: float(np.mean(vs)) for obj, vs in per_object.items()}


def metric_names(rows: Iterable[Any]) -> list[str]:
    """Every metric with at least one number (or numeric text, as in results.csv) in `rows`, identity fields
    excluded."""
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


def bootstrap_means(
    values: Sequence[float] | np.ndarray, n_resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED
) -> np.ndarray:
    """Means of `n_resamples` resamples (with replacement, same size) of `values`."""
    x = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    means = np.empty(n_resamples)
    chunk = max(1, (1 << 22) // max(len(x), 1))  # bounds the index array to ~32 MB
    for start in range(0, n_resamples, chunk):
        k = min(chunk, n_resamples - start)
        means[start : start + k] = x[rng.integers(0, len(x), size=(k, len(x)))].mean(axis=1)
    return means


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = DEFAULT_SEED,
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


def method_means(
    rows: Iterable[Any], metrics: Sequence[str] | None = None, failures: FailurePolicy = EXCLUDE, **bootstrap: Any
) -> dict[str, dict[str, Estimate]]:
    """{method: {metric: Estimate}} for every method and metric (default: every metric in the rows), over
    the objects each method completed (`failures="exclude"`) or over all of them (`"worst"`, see object_values)."""
    rows = to_rows(rows)
    metrics = list(metrics) if metrics is not None else metric_names(rows)
    out: dict[str, dict[str, Estimate]] = {}
    for method in sorted({r["method"] for r in rows}):
        for metric in metrics:
            values = list(object_values(rows, method, metric, failures).values())
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


def pairwise(
    rows: Iterable[Any], metric: str, methods: Sequence[str] | None = None, **bootstrap: Any
) -> list[tuple[PairedDifference, WinRate]]:
    """Paired difference and win rate of every pair of methods (each pair once, in sorted order)."""
    rows = to_rows(rows)
    names = sorted(methods) if methods is not None else sorted({r["method"] for r in rows})
    return [
        (paired_difference(rows, a, b, metric, **bootstrap), win_rate(rows, a, b, metric))
        for a, b in combinations(names, 2)
    ]


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


def paired_share_difference(
    flags_a: Mapping[str, bool],
    flags_b: Mapping[str, bool],
    a: str = "a",
    b: str = "b",
    confidence: float = DEFAULT_CONFIDENCE,
) -> PairedShareDifference:
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
    lower = d - math.sqrt(
        (wa.share - wa.low) ** 2 - 2 * phi * (wa.share - wa.low) * (wb.high - wb.share) + (wb.high - wb.share) ** 2
    )
    upper = d + math.sqrt(
        (wb.share - wb.low) ** 2 - 2 * phi * (wb.share - wb.low) * (wa.high - wa.share) + (wa.high - wa.share) ** 2
    )
    return PairedShareDifference(a, b, d, lower, upper, n, not (lower <= 0.0 <= upper))
