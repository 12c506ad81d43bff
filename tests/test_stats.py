"""Statistics: bootstrap coverage, paired differences, win rates, metric directions, breakdowns."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reconbench import stats
from reconbench.runner.store import JobRecord


def rows_for(values: dict[str, list[float]], metric: str = "psnr", categories: list[str] | None = None) -> list[dict]:
    """One ok row per (method, object i) with the given metric values."""
    rows = []
    for method, vs in values.items():
        for i, v in enumerate(vs):
            rows.append(
                {
                    "method": method,
                    "object": f"o{i}",
                    "category": (categories or ["c"] * len(vs))[i],
                    "seed": 0,
                    "status": "ok",
                    metric: v,
                }
            )
    return rows


def test_bootstrap_interval_covers_the_true_mean_about_95_percent_of_the_time():
    rng = np.random.default_rng(2)
    true_mean, covered, reps = 3.0, 0, 200
    for rep in range(reps):
        sample = rng.normal(true_mean, 2.0, size=50)
        low, high = stats.bootstrap_ci(sample, seed=rep)
        covered += low <= true_mean <= high
    assert 0.90 <= covered / reps <= 0.98


def test_bootstrap_is_seeded_and_degenerate_cases_are_defined():
    x = np.random.default_rng(0).normal(size=20)
    assert stats.bootstrap_ci(x) == stats.bootstrap_ci(x)
    assert stats.bootstrap_ci(x, seed=1) != stats.bootstrap_ci(x, seed=2)
    assert stats.bootstrap_ci([4.0]) == (4.0, 4.0)
    assert all(math.isnan(v) for v in stats.bootstrap_ci([]))
    est = stats.mean_ci(x)
    assert est.low < est.mean < est.high and est.n == 20
    wide, narrow = stats.bootstrap_ci(x, confidence=0.99), stats.bootstrap_ci(x, confidence=0.5)
    assert wide[0] < narrow[0] and narrow[1] < wide[1]


def test_paired_difference_of_identical_methods_contains_zero():
    v = list(np.random.default_rng(1).normal(20, 3, size=25))
    d = stats.paired_difference(rows_for({"a": v, "b": v}), "a", "b", "psnr")
    assert d.low <= 0.0 <= d.high and d.mean == 0.0 and not d.significant and d.better is None and d.n == 25


def test_paired_difference_detects_a_constant_shift():
    rng = np.random.default_rng(3)
    base = rng.normal(0.1, 0.05, size=20)  # large spread between objects...
    shifted = base + 0.02 + rng.normal(0, 0.002, size=20)  # ...small, consistent shift
    d = stats.paired_difference(rows_for({"a": list(base), "b": list(shifted)}, "chamfer"), "a", "b", "chamfer")
    assert d.significant and d.high < 0 and d.mean == pytest.approx(-0.02, abs=0.002)
    assert d.better == "a"  # lower Chamfer is better
    exact = stats.paired_difference(rows_for({"a": [1.0, 5.0, 9.0], "b": [1.5, 5.5, 9.5]}), "a", "b", "psnr")
    assert (exact.low, exact.high) == (pytest.approx(-0.5), pytest.approx(-0.5)) and exact.better == "b"
    # unpaired, the same shift would hide in the spread between objects
    assert stats.mean_ci(base).high > stats.mean_ci(shifted).low


def test_win_rate_hand_computed_with_a_tie():
    rows = rows_for({"a": [1.0, 2.0, 3.0, 4.0], "b": [0.0, 2.0, 5.0, 1.0]}, "psnr")
    w = stats.win_rate(rows, "a", "b", "psnr")
    assert (w.wins, w.ties, w.losses, w.n) == (2, 1, 1, 4) and w.rate == pytest.approx(2.5 / 4)
    rows = rows_for({"a": [1.0, 2.0, 3.0, 4.0], "b": [0.0, 2.0, 5.0, 1.0]}, "chamfer")
    w = stats.win_rate(rows, "a", "b", "chamfer")
    assert (w.wins, w.ties, w.losses) == (1, 1, 2) and w.rate == pytest.approx(1.5 / 4)
    assert stats.win_rate(rows, "b", "a", "chamfer").rate == pytest.approx(1 - 1.5 / 4)


def test_win_rate_uses_only_objects_both_methods_have():
    rows = rows_for({"a": [3.0, 3.0, 3.0], "b": [1.0, 5.0]}, "ssim")
    w = stats.win_rate(rows, "a", "b", "ssim")
    assert w.n == 2 and w.rate == pytest.approx(0.5)


@pytest.mark.parametrize(
    "metric, higher",
    [
        ("psnr", True),
        ("ssim", True),
        ("fscore", True),
        ("normal_consistency", True),
        ("volume_iou", True),
        ("mask_iou", True),
        ("psnr_masked", True),
        ("fscore_05", True),
        ("fscore_10", True),
        ("precision_02", True),
        ("unaligned_psnr", True),
        ("input_ssim", True),
        ("surface_fscore", True),
        ("lpips", False),
        ("lpips_alex", False),
        ("lpips_vgg", False),
        ("unaligned_lpips_alex", False),
        ("chamfer", False),
        ("surface_chamfer", False),
        ("unaligned_chamfer", False),
        ("accuracy", False),
        ("completeness", False),
        ("time_s", False),
        ("time", False),
    ],
)
def test_metric_directions(metric, higher):
    assert stats.higher_is_better(metric) is higher


def test_unknown_metric_direction_is_an_error():
    with pytest.raises(KeyError):
        stats.higher_is_better("mystery")


def test_nan_is_dropped_and_infinite_psnr_is_capped():
    rows = rows_for({"a": [math.inf, math.inf, 30.0, math.nan]}, "psnr")
    values = stats.object_values(rows, "a", "psnr")
    assert values == {"o0": stats.PSNR_CAP_DB, "o1": stats.PSNR_CAP_DB, "o2": 30.0}
    est = stats.method_means(rows, ["psnr"])["a"]["psnr"]
    assert (
        est.n == 3 and est.mean == pytest.approx((200 + 30) / 3) and math.isfinite(est.low) and math.isfinite(est.high)
    )
    oracle = stats.method_means(rows_for({"oracle": [math.inf] * 5}), ["psnr"])["oracle"]["psnr"]
    assert (oracle.mean, oracle.low, oracle.high) == (100.0, 100.0, 100.0)
    with pytest.raises(ValueError):
        stats.object_values(rows_for({"a": [math.inf]}, "chamfer"), "a", "chamfer")


def test_seeds_are_averaged_per_object_and_failed_jobs_give_no_values():
    rows = [
        {"method": "a", "object": "x", "category": "c", "seed": 0, "status": "ok", "ssim": 0.8},
        {"method": "a", "object": "x", "category": "c", "seed": 1, "status": "ok", "ssim": 0.6},
        {"method": "a", "object": "y", "category": "c", "seed": 0, "status": "failed", "ssim": 0.1},
    ]
    assert stats.object_values(rows, "a", "ssim") == {"x": pytest.approx(0.7)}


def test_job_records_and_csv_like_rows_give_the_same_numbers():
    records = [
        JobRecord(f"a/{o}", "a", o, "cat", "default", 0, "ok", time_s=t, metrics={"lpips_alex": v, "chamfer": c})
        for o, v, c, t in (("x", 0.1, 0.02, 1.0), ("y", 0.2, 0.04, 2.0), ("z", 0.3, float("nan"), 3.0))
    ]
    csv_rows = [
        {
            "method": "a",
            "object": o,
            "category": "cat",
            "seed": "0",
            "status": "ok",
            "lpips": s,
            "chamfer": c,
            "time_s": t,
        }
        for o, s, c, t in (("x", "0.1", "0.02", "1"), ("y", "0.2", "0.04", "2"), ("z", "0.3", "", "3"))
    ]
    for metric in ("lpips", "chamfer", "time_s"):
        assert stats.method_means(records, [metric]) == stats.method_means(csv_rows, [metric])
    assert stats.method_means(records, ["time"])["a"]["time"].mean == pytest.approx(2.0)
    assert "lpips_alex" in stats.method_means(records)["a"]  # default: every metric present
    assert set(stats.method_means(csv_rows)["a"]) == {"lpips", "chamfer", "time_s"}


def test_category_means():
    rows = rows_for({"a": [1.0, 3.0, 10.0], "b": [2.0, 2.0, 20.0]}, "psnr", categories=["mug", "mug", "shoe"])
    by = stats.category_means(rows, "psnr")
    assert list(by) == ["mug", "shoe"]
    assert by["mug"]["a"].mean == pytest.approx(2.0) and by["mug"]["a"].n == 2
    assert by["shoe"]["b"].mean == pytest.approx(20.0) and by["shoe"]["b"].n == 1


def test_failure_rates_count_failed_and_skipped_over_all_jobs():
    rows = [{"method": "a", "object": str(i), "status": s} for i, s in enumerate(["ok", "ok", "failed", "skipped"])]
    rows += [{"method": "b", "object": "0", "status": "ok"}]
    rates = stats.failure_rates(rows)
    assert rates["a"] == stats.FailureRate(4, 2, 1, 1, 0.5)
    assert rates["b"].rate == 0.0


def test_pairwise_compares_every_pair_once():
    rows = rows_for({"a": [1.0, 2.0], "b": [2.0, 3.0], "c": [0.0, 0.0]}, "psnr")
    pairs = stats.pairwise(rows, "psnr")
    assert [(d.a, d.b) for d, _ in pairs] == [("a", "b"), ("a", "c"), ("b", "c")]
    assert pairs[0][1].rate == 0.0 and pairs[1][1].rate == 1.0


def test_failure_policy_scores_failed_jobs_as_the_runs_worst_value():
    rows = [
        {"method": "a", "object": "x", "seed": 0, "status": "ok", "fscore": 0.9, "volume_iou": math.nan},
        {"method": "a", "object": "y", "seed": 0, "status": "failed"},
        {"method": "a", "object": "z", "seed": 0, "status": "skipped"},  # could not run here: not the method's failure
        {"method": "b", "object": "x", "seed": 0, "status": "ok", "fscore": 0.5, "volume_iou": 0.7},
        {"method": "b", "object": "y", "seed": 0, "status": "ok", "fscore": 0.3, "volume_iou": 0.2},
        {"method": "b", "object": "w", "seed": 0, "status": "failed"},  # no method completed w: left out
        {"method": "a", "object": "w", "seed": 0, "status": "failed"},
    ]
    assert stats.worst_value(rows, "fscore") == 0.3 and stats.worst_value(rows, "chamfer") is None
    assert stats.object_values(rows, "a", "fscore") == {"x": 0.9}
    assert stats.object_values(rows, "a", "fscore", failures="worst") == {"x": 0.9, "y": 0.3}
    assert stats.scored_failures(rows, "a") == ["y"] and stats.scored_failures(rows, "b") == []
    # a metric the method's completed jobs never define (volume IoU of a splat) stays undefined for it
    assert stats.object_values(rows, "a", "volume_iou", failures="worst") == {}
    assert stats.method_means(rows, ["fscore"], failures="worst")["a"]["fscore"].mean == pytest.approx(0.6)
    assert stats.method_means(rows, ["fscore"])["b"] == stats.method_means(rows, ["fscore"], failures="worst")["b"]
    with pytest.raises(ValueError, match="failures"):
        stats.object_values(rows, "a", "fscore", failures="ignore")


def test_failure_policy_lower_is_better_takes_the_largest_and_time_is_never_scored():
    rows = [
        {"method": "a", "object": "x", "seed": 0, "status": "ok", "chamfer": 0.01, "time_s": 1.0},
        {"method": "a", "object": "y", "seed": 0, "status": "failed"},
        {"method": "b", "object": "y", "seed": 0, "status": "ok", "chamfer": 0.08, "time_s": 9.0},
        {
            "method": "c",
            "object": "y",
            "seed": 0,
            "status": "failed",
        },  # completed nothing: every quality metric is scored
    ]
    assert stats.object_values(rows, "a", "chamfer", failures="worst") == {"x": 0.01, "y": 0.08}
    assert stats.object_values(rows, "a", "time_s", failures="worst") == {"x": 1.0}
    assert stats.object_values(rows, "c", "chamfer", failures="worst") == {"y": 0.08}
