"""Training cost measured by `reconbench train`: read from the results, compared in device-hours of one
device, never mixed across CPU and GPU without a stated conversion; the quality-adjusted break-even."""

from __future__ import annotations

import pytest

from reconbench.cost.measured import recorded_training, training_hours
from reconbench.cost.model import CPU, Pricing, cost_report
from reconbench.cost.reach import quality_break_even
from reconbench.runner.store import JobRecord

CPU_RECORD = {
    "device": {"kind": "cpu", "name": "CPU-X", "count": 1, "threads": 1},
    "device_seconds": 540.0,
    "data_cpu_seconds": 180.0,
    "checkpoint_sha256": "abc",
    "date": "2026-11-30T05:00:00Z",
    "commit": "0123456789abcdef",
}
GPU_RECORD = {
    **CPU_RECORD,
    "device": {"kind": "gpu", "name": "NVIDIA H100 80GB HBM3", "count": 1},
    "device_seconds": 3600.0,
    "checkpoint_sha256": "def",
}
PARADIGMS = {"ff": "feed-forward", "ps": "per-scene"}


def ff_job(obj: str, training: dict | None, cpu: str = "CPU-X", fscore: float = 0.8) -> JobRecord:
    """1 s inference + 4 s model load, on the CPU (no GPU in the provenance)."""
    info = {"training": training, "cpu": cpu}
    return JobRecord(
        f"ff/{obj}",
        "ff",
        obj,
        "cat",
        "default",
        0,
        "ok",
        time_s=5.0,
        metrics={"fscore": fscore},
        timings={"method_stages": {"model_load": 4.0, "inference": 1.0}},
        provenance={"method": {"info": info}},
    )


def ps_job(obj: str, curve: list[tuple[float, float]] | None = None) -> JobRecord:
    """61 s of optimisation, no model load, no prior (reconstruction only), on the CPU."""
    anytime = [{"iteration": i, "seconds": s, "fscore": f} for i, (s, f) in enumerate(curve or [])]
    return JobRecord(
        f"ps/{obj}",
        "ps",
        obj,
        "cat",
        "default",
        0,
        "ok",
        time_s=61.0,
        anytime=anytime,
        timings={"method_stages": {"model_load": 0.0, "optimisation": 61.0}},
        provenance={"method": {"info": {"prior": "none"}}},
    )


# per-asset seconds at the default batch size of 100: ff 1 + 4 / 100, ps 61
C_FF, C_PS = 1.04, 61.0


def test_the_measured_record_becomes_cpu_hours_with_its_source():
    hours = training_hours(CPU_RECORD)
    assert hours.value == pytest.approx((540 + 180) / 3600) and hours.gpu == CPU
    assert hours.source.startswith("measured by reconbench train on CPU CPU-X")
    gpu = training_hours(GPU_RECORD)
    assert gpu.value == pytest.approx(1.0) and gpu.gpu == "H100"  # building the data (CPU) is not added to GPU hours
    assert "not added" in gpu.note


def test_records_that_used_different_weights_give_no_training_record():
    assert recorded_training([ff_job("a", CPU_RECORD), ff_job("b", CPU_RECORD)], "ff") == CPU_RECORD
    assert recorded_training([ff_job("a", CPU_RECORD), ff_job("b", GPU_RECORD)], "ff") is None
    assert recorded_training([ff_job("a", None)], "ff") is None


def test_cpu_only_break_even_in_cpu_hours_by_hand():
    records = [ff_job("a", CPU_RECORD), ff_job("b", CPU_RECORD), ps_job("a"), ps_job("b")]
    report = cost_report(records, paradigms=PARADIGMS)
    be = report.break_evens[0].by_prior["sunk"]
    # N* = training / (c_ps - c_ff), all in CPU-seconds of one machine: 720 / (61 - 1.04)
    assert be.kind == "above" and be.basis == "cpu_h"
    assert be.n == pytest.approx(720.0 / (C_PS - C_FF))
    assert report.break_evens[0].by_prior["counted"].n == pytest.approx(
        720.0 / (C_PS - C_FF)
    )  # no prior: nothing to count
    line = report.methods["ff"].lines["sunk"]["cpu_h"]
    assert line.at(10) == pytest.approx(0.2 / 10 + C_FF / 3600)
    assert report.methods["ff"].training.source.startswith("measured")


def test_gpu_training_and_cpu_times_are_not_mixed_without_a_stated_conversion():
    records = [ff_job("a", GPU_RECORD), ps_job("a")]
    be = cost_report(records, paradigms=PARADIGMS).break_evens[0].by_prior["sunk"]
    assert be.kind == "unavailable" and "not mixed" in be.reason and be.n is None
    # Stated: one CPU-hour of this machine does the work of 0.01 H100-hours.
    pricing = Pricing.default(target="H100", cpu_as=("H100", 0.01))
    be = cost_report(records, paradigms=PARADIGMS, pricing=pricing).break_evens[0].by_prior["sunk"]
    # N* = 1 H100-hour / ((61 - 1.04) s x 0.01 / 3600 H100-hours per asset), priced alike on both sides
    assert be.kind == "above" and be.n == pytest.approx(3600.0 / ((C_PS - C_FF) * 0.01))


def test_a_different_cpu_is_stated():
    records = [ff_job("a", CPU_RECORD, cpu="CPU-Y"), ps_job("a")]
    report = cost_report(records, paradigms=PARADIGMS)
    assert any("trained on CPU CPU-X, run on CPU CPU-Y" in n for n in report.notes)


def test_cpu_price_prices_cpu_hours():
    records = [ff_job("a", CPU_RECORD), ps_job("a")]
    report = cost_report(records, paradigms=PARADIGMS, pricing=Pricing.default(cpu_price=0.05))
    usd = report.methods["ps"].lines["sunk"]["usd"]
    assert usd.per_asset == pytest.approx(61.0 / 3600 * 0.05)


def test_quality_adjusted_break_even_by_hand():
    # ff scores 0.8 and 0.6 (mean 0.7); ps reaches 0.7 at 20 s on "a" (between (10, 0.5) and (30, 0.9))
    # and at 40 s on "b" (between (30, 0.6) and (50, 0.8)); median 30 s.
    records = [
        ff_job("a", CPU_RECORD, fscore=0.8),
        ff_job("b", CPU_RECORD, fscore=0.6),
        ps_job("a", [(10.0, 0.5), (30.0, 0.9), (61.0, 0.95)]),
        ps_job("b", [(30.0, 0.6), (50.0, 0.8), (61.0, 0.85)]),
    ]
    report = cost_report(records, paradigms=PARADIGMS)
    (q,) = quality_break_even(records, report, "fscore")
    assert q["target"] == pytest.approx(0.7) and q["reached"] == 2 and q["median_reach_s"] == pytest.approx(30.0)
    assert q["break_even"].kind == "above" and q["break_even"].n == pytest.approx(720.0 / (30.0 - C_FF))


def test_quality_break_even_when_the_per_scene_method_never_matches():
    records = [ff_job("a", CPU_RECORD, fscore=0.99), ps_job("a", [(10.0, 0.5), (61.0, 0.6)])]
    report = cost_report(records, paradigms=PARADIGMS)
    (q,) = quality_break_even(records, report, "fscore")
    assert q["reached"] == 0 and "on only 0 of 1 objects" in q["break_even"].reason
