"""The cost model: amortisation, break-even, unknowns, the prior switch, prices, throughput, cold starts."""

from __future__ import annotations

import numpy as np
import pytest

from reconbench.cost import published
from reconbench.cost.model import (
    CPU,
    CostLine,
    Pricing,
    amortised_cost,
    asset_count,
    break_even,
    break_even_lines,
    cost_report,
    cost_to_reach,
    gpu_type,
    measure_timings,
    per_asset_seconds,
    record_seconds,
    training_for,
    user_hours,
)
from reconbench.runner.store import JobRecord

A100 = {"gpu": {"name": "NVIDIA A100-SXM4-80GB", "count": 1}}
H100 = {"gpu": {"name": "NVIDIA H100 80GB HBM3", "count": 1}}


def job(
    method: str, obj: str, wall: float, stages: dict, provenance: dict | None = None, status: str = "ok", **timings
) -> JobRecord:
    return JobRecord(
        f"{method}/{obj}",
        method,
        obj,
        "cat",
        "default",
        0,
        status,
        time_s=wall,
        timings={"method_stages": stages, **timings},
        provenance=provenance or {},
    )


# ---------------------------------------------------------------- amortisation


def test_amortised_cost_on_hand_numbers():
    assert amortised_cost(1000.0, 0.5, 100) == pytest.approx(10.5)
    assert amortised_cost(1000.0, 0.5, 1) == pytest.approx(1000.5)
    assert amortised_cost(0.0, 0.5, 7) == pytest.approx(0.5)
    assert amortised_cost(None, 0.5, 10) is None
    line = CostLine(9216.0, 7680.0, 10752.0, 0.01, "GPU-h")
    assert line.at(1e6) == pytest.approx(9216 / 1e6 + 0.01)
    with pytest.raises(ValueError):
        amortised_cost(1.0, 1.0, 0)


def test_cold_start_overhead_is_spread_over_the_batch():
    assert per_asset_seconds(2.0, 30.0, 1) == pytest.approx(32.0)
    assert per_asset_seconds(2.0, 30.0, 10) == pytest.approx(5.0)
    assert per_asset_seconds(2.0, 30.0, 100) == pytest.approx(2.3)
    with pytest.raises(ValueError):
        per_asset_seconds(2.0, 30.0, 0)


def test_stages_named_model_load_and_environment_start_are_cold_overhead():
    rec = job("m", "a", 14.0, {"environment_start": 1.0, "model_load": 9.0, "generation": 3.5, "export": 0.4})
    warm, cold, basis = record_seconds(rec)
    assert (warm, cold, basis) == (pytest.approx(4.0), pytest.approx(10.0), "stages")  # wall − cold, not the stage sum


def test_a_timing_field_no_runner_writes_is_refused_not_silently_read():
    from reconbench.results import RecordError

    with pytest.raises(RecordError, match="warm_s"):
        job("m", "a", 14.0, {"model_load": 9.0, "generation": 5.0}, warm_s=2.0)
    warm, cold, basis = record_seconds(job("m", "a", 14.0, {"model_load": 9.0, "generation": 5.0}, method_wall_s=20.0))
    assert (warm, cold, basis) == (pytest.approx(5.0), pytest.approx(9.0), "stages")  # time_s first, then method_wall_s


def test_timings_average_completed_jobs_and_multiply_by_gpu_count():
    two_gpus = {"gpu": {"name": "NVIDIA H100", "count": 2}}
    records = [
        job("m", "a", 12.0, {"model_load": 10.0, "run": 2.0}, two_gpus),
        job("m", "b", 14.0, {"model_load": 10.0, "run": 4.0}, two_gpus),
        job("m", "c", 99.0, {}, two_gpus, status="failed"),
    ]
    t = measure_timings(records)["m"]
    assert (t.n, t.device, t.gpu_count) == (2, "H100", 2)
    assert t.warm_s == pytest.approx(2 * 3.0) and t.cold_s == pytest.approx(2 * 10.0)
    assert t.per_asset_s(10) == pytest.approx(6.0 + 2.0)


def test_times_without_a_gpu_in_provenance_are_cpu_time_until_measured_on_is_given():
    records = [job("m", "a", 5.0, {"run": 5.0})]
    assert measure_timings(records)["m"].device == CPU
    assert measure_timings(records, measured_on="NVIDIA H100 PCIe")["m"].device == "H100"


# ---------------------------------------------------------------- break-even


def test_break_even_closed_form():
    be = break_even(t_ff=9216.0, c_ff=0.001, t_ps=0.0, c_ps=0.05)
    assert be.kind == "above" and be.n == pytest.approx(9216 / 0.049)


@pytest.mark.parametrize("seed", range(40))
def test_break_even_matches_brute_force_over_n(seed):
    rng = np.random.default_rng(seed)
    t_ff = rng.uniform(10, 5000)
    t_ps = 0.0 if seed % 2 else rng.uniform(10, 5000)  # prior sunk / counted
    c_ff, c_ps = rng.uniform(0, 0.05, size=2)
    be = break_even(t_ff, c_ff, t_ps, c_ps)
    n = np.arange(1, 2_000_001, dtype=float)
    cheaper = (t_ff / n + c_ff) < (t_ps / n + c_ps)
    expected = {
        "above": n > (be.n or 0),
        "below": n < (be.n or 0),
        "always": np.ones_like(cheaper),
        "never": np.zeros_like(cheaper),
    }
    assert np.array_equal(cheaper, expected[be.kind])


def test_brute_force_cases_cover_every_kind():
    kinds = set()
    for seed in range(40):
        rng = np.random.default_rng(seed)
        t_ff = rng.uniform(10, 5000)
        t_ps = 0.0 if seed % 2 else rng.uniform(10, 5000)
        c_ff, c_ps = rng.uniform(0, 0.05, size=2)
        kinds.add(break_even(t_ff, c_ff, t_ps, c_ps).kind)
    assert kinds == {"above", "below", "always", "never"}


def test_break_even_edge_cases():
    assert break_even(100.0, 0.5, 0.0, 0.5).kind == "never"  # same per-asset cost, training on top
    assert break_even(100.0, 0.6, 0.0, 0.5).kind == "never"
    assert break_even(0.0, 0.1, 0.0, 0.5).kind == "always"
    assert break_even(100.0, 0.1, 500.0, 0.5).kind == "always"  # counted prior costs more than the training
    below = break_even(100.0, 0.6, 500.0, 0.5)  # cheaper only while the prior dominates
    assert below.kind == "below" and below.n == pytest.approx(4000.0)


def test_unknown_training_cost_gives_unknown_break_even_not_a_number():
    be = break_even(None, 0.001, 0.0, 0.05)
    assert be.kind == "unknown" and be.n is None
    assert break_even(100.0, 0.001, None, 0.05).kind == "unknown"
    # Whatever it cost to train, a method that is not cheaper per asset never wins against a sunk prior.
    assert break_even(None, 0.06, 0.0, 0.05).kind == "never"


def test_break_even_range_comes_from_the_training_ranges():
    ff = CostLine(8448.0, 7680.0, 9216.0, 0.001, "GPU-h")
    ps = CostLine(6000.0, 5500.0, 6500.0, 0.05, "GPU-h")
    be = break_even_lines(ff, ps, "gpu_h")
    assert be.n == pytest.approx((8448 - 6000) / 0.049)
    assert be.low == pytest.approx((7680 - 6500) / 0.049) and be.high == pytest.approx((9216 - 5500) / 0.049)


# ---------------------------------------------------------------- prices and throughput


def test_price_override_and_types_priced_as_their_equivalent():
    pricing = Pricing.default()
    assert pricing.usd(10.0, "H100") == pytest.approx(39.9)
    assert pricing.usd(10.0, "A100-40GB") == pytest.approx(27.9)  # priced as A100-80GB
    assert pricing.usd(10.0, "RTX-4090") is None
    assert pricing.usd(10.0, CPU) is None
    cheap = Pricing.default(prices={"NVIDIA H100 SXM": 2.0, "RTX 4090": 0.5})
    assert cheap.usd(10.0, "H100") == pytest.approx(20.0)
    assert cheap.usd(10.0, "RTX-4090") == pytest.approx(5.0)
    assert Pricing.default("aws").usd(1.0, "H100") == pytest.approx(6.88)


def test_throughput_scaling_prices_a_time_measured_on_one_gpu_on_another():
    pricing = Pricing.default(throughput={"H100": 2.0}, target="A100-80GB")
    assert pricing.convert(1.0, "H100", "A100-80GB") == pytest.approx(2.0)  # an H100-hour is two A100-hours of work
    assert pricing.usd(1.0, "H100") == pytest.approx(2.0 * 2.79)
    assert pricing.usd(1.0, "A800") == pytest.approx(2.79)
    assert Pricing.default(target="H100").usd(3.17, "A100-80GB") == pytest.approx(3.99)
    assert pricing.convert(1.0, "RTX-4090", "A100-80GB") is None  # unknown throughput stays unknown


def test_gpu_type_names():
    assert gpu_type("NVIDIA A100-SXM4-80GB") == "A100-80GB"
    assert gpu_type("NVIDIA A100-PCIE-40GB") == "A100-40GB"
    assert gpu_type("NVIDIA H100 80GB HBM3") == "H100"
    assert gpu_type("a800") == "A800"
    assert gpu_type("NVIDIA GeForce RTX 4090") == "GeForce-RTX-4090"


# ---------------------------------------------------------------- the report


def _run(provenance=A100):
    records = []
    for i, obj in enumerate("abc"):
        records.append(job("openlrm", obj, 13.0 + i, {"model_load": 10.0, "generation": 3.0 + i}, provenance))
        records.append(
            job("dreamgaussian", obj, 130.0, {"model_load": 10.0, "stage1": 60.0, "stage2": 60.0}, provenance)
        )
    return records


PARADIGMS = {"openlrm": "feed-forward", "dreamgaussian": "per-scene"}


def test_prior_switch_changes_per_scene_totals_by_exactly_the_prior_hours_over_n():
    report = cost_report(_run(), paradigms=PARADIGMS, batch_size=10)
    ps = report.methods["dreamgaussian"]
    prior = published.PRIORS["zero123-xl"]["value"]
    assert report.unit_gpu == "A100-80GB"
    for n in (1, 10, 1234, 10**7):
        assert ps.lines["counted"]["gpu_h"].at(n) - ps.lines["sunk"]["gpu_h"].at(n) == pytest.approx(prior / n)
        assert ps.lines["counted"]["usd"].at(n) - ps.lines["sunk"]["usd"].at(n) == pytest.approx(prior * 2.79 / n)
    ff = report.methods["openlrm"]
    assert ff.lines["counted"]["gpu_h"].at(5) == ff.lines["sunk"]["gpu_h"].at(5)  # own training: always counted


def test_report_per_asset_cost_and_break_even_by_hand():
    report = cost_report(_run(), paradigms=PARADIGMS, batch_size=10)
    ff, ps = report.methods["openlrm"], report.methods["dreamgaussian"]
    assert ff.per_asset_s == pytest.approx(4.0 + 10.0 / 10) and ps.per_asset_s == pytest.approx(120.0 + 1.0)
    c_ff, c_ps = 5.0 / 3600, 121.0 / 3600
    assert ff.lines["sunk"]["gpu_h"].at(100) == pytest.approx(8448 / 100 + c_ff)
    pair = report.break_evens[0]
    assert (pair.feed_forward, pair.per_scene) == ("openlrm", "dreamgaussian")
    sunk, counted = pair.by_prior["sunk"], pair.by_prior["counted"]
    assert sunk.basis == "usd" and sunk.n == pytest.approx(8448 / (c_ps - c_ff))  # one price: same N* as GPU-hours
    assert (sunk.low, sunk.high) == (pytest.approx(7680 / (c_ps - c_ff)), pytest.approx(9216 / (c_ps - c_ff)))
    assert counted.n == pytest.approx((8448 - 6000) / (c_ps - c_ff))


def test_report_keeps_unknown_training_unknown():
    records = [*_run(), *[job("triposr", o, 1.0, {"run": 1.0}, A100) for o in "abc"]]
    report = cost_report(records, paradigms={**PARADIGMS, "triposr": "feed-forward"})
    tsr = report.methods["triposr"]
    assert tsr.training.value is None and tsr.lines["sunk"]["usd"].at(1000) is None
    assert tsr.lines["sunk"]["usd"].floor() == pytest.approx(1.0 / 3600 * 2.79)  # shown as a lower bound
    pair = next(p for p in report.break_evens if p.feed_forward == "triposr")
    assert pair.by_prior["sunk"].kind == "unknown" and pair.by_prior["sunk"].n is None
    assert "triposr" in pair.by_prior["sunk"].reason


def test_user_training_hours_replace_unknowns_and_priors():
    overrides = {"triposr": user_hours(1000.0, 3000.0), "dreamgaussian": user_hours(50.0, gpu="H100")}
    fig, prior = training_for("triposr", "feed-forward", overrides)
    assert (fig.value, fig.low, fig.high, fig.gpu) == (2000.0, 1000.0, 3000.0, "A100-80GB")
    fig, prior = training_for("dreamgaussian", "per-scene", overrides)
    assert (fig.value, fig.gpu, prior) == (50.0, "H100", "zero123-xl")
    with pytest.raises(ValueError):
        user_hours(10.0, 5.0)


def test_cpu_times_are_not_priced_as_gpu_time_unless_measured_on_is_given():
    cpu_run = _run(provenance={})
    report = cost_report(cpu_run, paradigms=PARADIGMS)
    ff = report.methods["openlrm"]
    assert ff.timing.device == CPU and ff.lines["sunk"]["usd"].per_asset is None
    assert any("CPU time" in n for n in ff.notes)
    assert report.break_evens[0].by_prior["sunk"].kind == "unavailable"
    priced = cost_report(cpu_run, paradigms=PARADIGMS, measured_on="H100")
    assert priced.unit_gpu == "H100"
    assert priced.methods["openlrm"].lines["sunk"]["usd"].per_asset == pytest.approx((4.0 + 0.1) / 3600 * 3.99)
    assert priced.break_evens[0].by_prior["sunk"].kind == "above"


def test_native_pricing_prices_training_and_inference_on_their_own_gpus():
    report = cost_report(_run(provenance=H100), paradigms=PARADIGMS, batch_size=10)
    ff = report.methods["openlrm"]
    assert report.unit_gpu == "H100"
    usd = ff.lines["sunk"]["usd"]
    assert usd.training == pytest.approx(8448 * 2.79)  # A100-80GB hours at the A100-80GB price
    assert usd.per_asset == pytest.approx(5.0 / 3600 * 3.99)  # H100 seconds at the H100 price
    gpu_h = ff.lines["sunk"]["gpu_h"]
    assert gpu_h.training == pytest.approx(8448 / published.THROUGHPUT["H100"]["value"])  # shown in H100-hours
    assert any("shown as H100 hours" in n for n in report.notes)


# ---------------------------------------------------------------- anytime curves


def test_cost_to_reach_interpolates_a_hand_made_curve():
    curve = [(120.0, 25.0), (0.0, 10.0), (60.0, 20.0), (180.0, 24.0)]  # unsorted on purpose
    assert cost_to_reach(22.0, curve) == pytest.approx(60.0 + 60.0 * 2.0 / 5.0)
    assert cost_to_reach(20.0, curve) == pytest.approx(60.0)
    assert cost_to_reach(5.0, curve) == pytest.approx(0.0)
    assert cost_to_reach(26.0, curve) is None
    chamfer = [(10.0, 0.2), (20.0, 0.1), (30.0, 0.05)]
    assert cost_to_reach(0.08, chamfer, higher_is_better=False) == pytest.approx(20.0 + 10.0 * 0.4)
    assert cost_to_reach(0.01, chamfer, higher_is_better=False) is None


# ---------------------------------------------------------------- the published data


def test_published_prior_and_price_figures_are_consistent_data():
    # Methods' own training figures live in their specs (tests/literature/test_data.py checks them).
    for name, e in published.PRIORS.items():
        assert e["source"], name
        if e["value"] is None:
            assert e["low"] is None and e["high"] is None and e["gpu"] is None, name  # unknown, never invented
        else:
            assert e["low"] <= e["value"] <= e["high"] and e["gpu"] in published.THROUGHPUT, name
    assert published.PRIORS["stable-zero123"]["value"] is None
    assert published.PRIORS["zero123-xl"]["verified"] is False
    for provider in published.PRICES.values():
        for e in provider.values():
            assert e["value"] > 0 and e["unit"] == "USD/GPU-h" and e["source"]


def test_a_method_spec_figure_is_taken_whole(monkeypatch):
    from reconbench.cost import model
    from reconbench.methods.base import MethodSpec

    spec = MethodSpec(
        "openlrm",
        "feed-forward",
        "mesh",
        "test",
        entry="x:y",
        published={"training": {"value": 100.0, "gpu": "H100", "source": "spec"}},
    )

    def get_method(name):
        if name != "openlrm":
            raise KeyError(name)
        return spec

    monkeypatch.setattr("reconbench.registry.get_method", get_method)
    fig, _ = model.training_for("openlrm", "feed-forward")
    assert (fig.value, fig.low, fig.high, fig.gpu, fig.source) == (
        100.0,
        100.0,
        100.0,
        "H100",
        "spec",
    )  # no range from the table


@pytest.mark.parametrize(
    "n,text",
    [(None, "?"), (0.0, "0"), (0.4321, "0.432"), (5.55, "5.55"), (10.0, "10"), (1234.4, "1,234"), (2.5e9, "2.5e+09")],
)
def test_asset_counts_are_written_one_way_in_every_report(n, text):
    """cost, literature and the run report write N* with this one helper (they used three cut-offs before)."""
    assert asset_count(n) == text
