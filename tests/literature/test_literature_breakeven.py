"""Break-even from published figures, checked against hand-computed cases (cost/model.py does the solving)."""

from __future__ import annotations

import pytest

from reconbench.cost import published as cost_published
from reconbench.cost.model import Pricing
from reconbench.literature.breakeven import literature_cost, pair_break_even, per_asset
from reconbench.literature.collect import Entry
from reconbench.literature.types import Check, Published, TimeFigure, Training

OK = Check("checked", "test")


def _ff(name, seconds, gpu, training=None):
    times = tuple(TimeFigure(s, g, "image to mesh", "sf3d", "t", OK) for s, g in zip(seconds, gpu))
    return Entry(name, name, "feed-forward", Published(training=training, training_note="not published", times=times))


def _ps(name, seconds, gpu, prior="zero123"):
    times = tuple(TimeFigure(s, g, "optimisation", "dreamgaussian", "t", OK) for s, g in zip(seconds, gpu))
    return Entry(name, name, "per-scene", Published(prior=prior, times=times))


def test_factors_used_by_the_hand_computations():
    assert cost_published.THROUGHPUT["H100"]["value"] == 3.17 and cost_published.THROUGHPUT["V100"]["value"] == 0.40
    assert cost_published.REFERENCE_GPU == "A100-80GB"
    assert (
        cost_published.PRIORS["zero123"]["value"],
        cost_published.PRIORS["zero123"]["low"],
        cost_published.PRIORS["zero123"]["high"],
    ) == (6000.0, 5500.0, 6500.0)


def test_feed_forward_with_training_against_per_scene_by_hand():
    ff = _ff("ff", [2.0], ["H100"], Training(8448.0, 7680.0, 9216.0, "A100-80GB", "", "s", OK))
    ps = _ps("ps", [60.0], ["V100"])
    dc = (60.0 * 0.40 - 2.0 * 3.17) / 3600  # A100-80GB hours per asset saved
    sunk = pair_break_even(ff, ps, "sunk", Pricing.default())
    assert sunk.result.kind == "above" and sunk.result.n == pytest.approx(8448 / dc)
    assert (sunk.n_low, sunk.n_high) == (pytest.approx(7680 / dc), pytest.approx(9216 / dc))
    counted = pair_break_even(ff, ps, "counted", Pricing.default())
    assert counted.result.n == pytest.approx((8448 - 6000) / dc)
    assert (counted.n_low, counted.n_high) == (pytest.approx((7680 - 6500) / dc), pytest.approx((9216 - 5500) / dc))


def test_range_spans_every_published_time():
    ff = _ff("ff", [1.0, 3.0], ["A100-80GB", "A100-80GB"], Training(100.0, 100.0, 100.0, "A100-80GB", "", "s", OK))
    ps = _ps("ps", [10.0, 20.0], ["A100-80GB", "A100-80GB"])
    r = pair_break_even(ff, ps, "sunk", Pricing.default())
    assert r.result.n == pytest.approx(100 / ((10 - 1) / 3600))  # the first-listed times
    assert r.n_low == pytest.approx(100 / ((20 - 1) / 3600)) and r.n_high == pytest.approx(100 / ((10 - 3) / 3600))


def test_a_slower_feed_forward_is_never_cheaper_and_a_stated_factor_changes_that():
    ff = _ff("ff", [10.2], ["H100"], Training(1152.0, 1056.0, 1248.0, "A800", "", "s", OK))
    ps = _ps("ps", [60.0], ["V100"])
    assert pair_break_even(ff, ps, "sunk", Pricing.default()).result.kind == "never"  # 32.3 s > 24 A100-s
    slow_h100 = pair_break_even(ff, ps, "sunk", Pricing.default(throughput={"H100": 1.0}))
    assert slow_h100.result.kind == "above" and slow_h100.result.n == pytest.approx(1152 / ((24.0 - 10.2) / 3600))


def test_unknown_training_stays_unknown_and_says_what_settles_it():
    ff = _ff("tsr", [0.5], ["A100"])
    ps = _ps("ps", [60.0], ["V100"])
    r = pair_break_even(ff, ps, "sunk", Pricing.default())
    assert r.result.kind == "unknown" and r.result.n is None
    assert r.n_per_1000_gpu_h == pytest.approx(1000 / ((24.0 - 0.5) / 3600))  # A100(-40GB) = A100-80GB x 1
    assert any("training GPU-hours of tsr" in s for s in r.settle)
    counted = pair_break_even(ff, ps, "counted", Pricing.default())
    assert counted.result.kind == "unknown" and counted.n_per_1000_gpu_h is None  # the prior is no longer 0
    unknown_prior = pair_break_even(
        _ff("f", [0.5], ["A100"], Training(1.0, 1.0, 1.0, "A100-80GB", "", "s", OK)),
        _ps("p", [60.0], ["V100"], prior="stable-zero123"),
        "counted",
        Pricing.default(),
    )
    assert unknown_prior.result.kind == "unknown" and any("prior" in s for s in unknown_prior.settle)


def test_times_without_hardware_or_for_another_configuration_are_not_used():
    e = Entry(
        "x",
        "x",
        "feed-forward",
        Published(
            times=(
                TimeFigure(5.0, None, "c", "lgm", "t", OK),
                TimeFigure(9.0, "A100", "c", "lgm", "t", OK, applies=False),
            )
        ),
    )
    pa = per_asset(e, Pricing.default())
    assert not pa.known and [why for _, why in pa.left_out] == [
        "hardware not published: cannot be converted",
        "measured for another configuration",
    ]
    r = pair_break_even(e, _ps("ps", [60.0], ["V100"]), "sunk", Pricing.default())
    assert r.result.kind == "unavailable" and any("per-asset time of x" in s for s in r.settle)


def test_the_registered_methods_pairs_use_the_same_arithmetic():
    cost = literature_cost()
    (pair,) = [p for p in cost.pairs if (p.feed_forward, p.per_scene, p.mode) == ("openlrm", "dreamgaussian", "sunk")]
    assert pair.result.n == pytest.approx(8448 / ((60 * 0.40 - 2.0 * 3.17) / 3600))
    assert {p.mode for p in cost.pairs} == {"sunk", "counted"}
    assert cost.factors["H100"][0] == pytest.approx(3.17)
