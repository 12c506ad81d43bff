"""The metric catalogue: one description per metric, variants that follow their base, one infinity rule."""

from __future__ import annotations

import math

import pytest

from reconbench.results.catalogue import (
    HEADLINE,
    INPUT_VIEW,
    METRICS,
    OTHER_ALIGNMENT,
    PSNR_CAP_DB,
    USABILITY,
    clean_value,
    metric,
    metric_set,
)


def test_every_entry_has_a_unique_name_and_a_known_direction():
    names = [m.name for m in METRICS]
    assert len(names) == len(set(names))
    assert all(m.direction in ("higher", "lower", None) for m in METRICS)
    # a quality metric without a direction could not be ranked or scored for failures
    assert all(m.direction is not None for m in METRICS if m.on_failure)


def test_variants_follow_their_base_and_keep_their_own_name():
    assert metric("unaligned_lpips").key == "unaligned_lpips_alex" and metric("unaligned_lpips").direction == "lower"
    assert metric("fscore_02").label == "F-score@0.02" and metric("fscore_02").higher_is_better
    assert metric("aligned_psnr").cap == PSNR_CAP_DB and metric("surface_chamfer").fmt == metric("chamfer").fmt
    assert metric("time").name == "time_s"
    with pytest.raises(KeyError, match="mystery"):
        metric("mystery")


def test_table_sets():
    assert [m.name for m in metric_set(HEADLINE)] == [
        "psnr",
        "ssim",
        "lpips",
        "chamfer",
        "fscore",
        "normal_consistency",
        "volume_iou",
        "time_s",
    ]
    assert [m.name for m in metric_set(OTHER_ALIGNMENT, "aligned")][:2] == ["unaligned_psnr", "unaligned_ssim"]
    assert [m.name for m in metric_set(OTHER_ALIGNMENT, "unaligned")][:2] == ["aligned_psnr", "aligned_ssim"]
    assert {m.name for m in metric_set(INPUT_VIEW)} >= {"input_psnr", "input_ssim", "input_lpips", "input_mask_iou"}
    assert "usable_as_is" in {m.name for m in metric_set(USABILITY)}


def test_one_infinity_rule_cap_for_psnr_error_elsewhere_and_not_applicable_dropped():
    for name in ("psnr", "input_psnr", "unaligned_psnr", "psnr_masked"):
        assert clean_value(name, math.inf) == PSNR_CAP_DB
    assert clean_value("psnr", 30.0) == 30.0
    for empty in (None, "", "n/a", math.nan, [], {}):
        assert clean_value("chamfer", empty) is None
    with pytest.raises(ValueError, match="infinite"):
        clean_value("chamfer", math.inf)


def test_the_not_applicable_marker_is_the_one_evaluation_writes():
    from reconbench import evaluation
    from reconbench.results.catalogue import NOT_APPLICABLE

    assert evaluation.NOT_APPLICABLE == NOT_APPLICABLE


def test_formatting():
    assert metric("psnr").format(22.5) == "22.50" and metric("psnr").format(math.inf) == "∞"
    assert metric("chamfer").format(0.00412) == "0.0041" and metric("fscore").format(0.75) == "0.750"
    assert metric("floater_area_share").format(-1e-17) == "0.000"  # no negative zero
    assert metric("ssim").format(None) == "–" and metric("ssim").format(math.nan) == "–"
    assert metric("psnr").header == "PSNR (dB) ↑" and metric("triangles").header == "triangles"


def test_every_metric_column_results_csv_leads_with_is_described_in_the_catalogue():
    from reconbench.runner.export import LEAD_COLUMNS

    identity = {"method", "object", "category", "seed", "status", "error"}
    for column in LEAD_COLUMNS:
        if column not in identity:
            assert metric(column).name == column, column
