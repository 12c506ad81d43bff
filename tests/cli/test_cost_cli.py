"""`reconbench cost RUN_DIR` on small run folders written in the test."""

from __future__ import annotations

import json

import pytest

from reconbench.cli import main
from reconbench.runner.store import JobRecord, ResultsStore

H100 = {"gpu": {"name": "NVIDIA H100 80GB HBM3", "count": 1}}
PARADIGMS = {"ff-net": "feed-forward", "ps-sds": "per-scene", "ff-unpublished": "feed-forward"}


def make_run(folder, provenance=H100, paradigms=PARADIGMS):
    """Two objects per method: ff-net 2 s warm + 20 s load, ps-sds 100 s warm + 20 s load, ff-unpublished 1 s."""
    with ResultsStore(folder / "results.sqlite") as store:
        if paradigms is not None:
            store.set_meta({"paradigms": paradigms})
        for obj in ("a", "b"):
            for method, work in (("ff-net", 2.0), ("ps-sds", 100.0), ("ff-unpublished", 1.0)):
                store.put(
                    JobRecord(
                        f"{method}/{obj}",
                        method,
                        obj,
                        "cat",
                        "default",
                        0,
                        "ok",
                        time_s=work + 20.0,
                        timings={"method_stages": {"model_load": 20.0, "run": work}},
                        provenance=provenance,
                    )
                )
        store.put(JobRecord("ps-sds/c", "ps-sds", "c", "cat", "default", 0, "failed", error="boom"))
    return folder


def run_cli(argv, capsys):
    code = main(["cost", *argv])
    return code, capsys.readouterr()


# per-asset device-seconds with the default batch size of 100: warm + 20 s / 100
C_FF, C_PS = (2.0 + 0.2) / 3600, (100.0 + 0.2) / 3600


def test_cost_prints_tables_and_the_break_even_line(tmp_path, capsys):
    run = make_run(tmp_path)
    code, out = run_cli(
        [str(run), "--training-gpu-hours", "ff-net=1000:1500@H100", "--training-gpu-hours", "ps-sds=300@H100"], capsys
    )
    assert code == 0
    text = out.out
    n_sunk = 1250.0 / (C_PS - C_FF)
    n_counted = (1250.0 - 300.0) / (C_PS - C_FF)
    assert "ff-net vs ps-sds" in text
    assert f"prior sunk:     feed-forward cheaper above N* = {n_sunk:,.0f} assets" in text
    assert f"prior counted:  feed-forward cheaper above N* = {n_counted:,.0f} assets" in text
    assert "ps-sds [prior counted]" in text  # both prior modes shown
    assert "Cost per asset in H100 GPU-hours" in text and "Cost per asset in USD" in text
    assert "ff-unpublished vs ps-sds" in text and "unknown [training cost of ff-unpublished not known]" in text


def test_cost_json_is_parseable_and_matches_the_closed_form(tmp_path, capsys):
    run = make_run(tmp_path)
    code, out = run_cli(
        [
            str(run),
            "--json",
            "--training-gpu-hours",
            "ff-net=1000:1500@H100",
            "--volumes",
            "1,1000,1e6",
            "--price",
            "H100=2.5",
        ],
        capsys,
    )
    data = json.loads(out.out)
    assert code == 0 and data["volumes"] == [1, 1000, 1000000]
    pair = next(p for p in data["break_even"] if p["feed_forward"] == "ff-net")
    sunk = pair["by_prior"]["sunk"]
    assert sunk["kind"] == "above" and sunk["basis"] == "usd"
    assert sunk["n"] == pytest.approx(1250.0 / (C_PS - C_FF))
    assert (sunk["low"], sunk["high"]) == (pytest.approx(1000.0 / (C_PS - C_FF)), pytest.approx(1500.0 / (C_PS - C_FF)))
    assert pair["by_prior"]["counted"]["kind"] == "unknown"  # ps-sds names no prior: unknown, not a number
    usd = data["methods"]["ff-net"]["cost_per_asset"]["sunk"]["usd"]
    assert usd["1000"] == pytest.approx((1250.0 / 1000 + C_FF) * 2.5)
    unknown = data["methods"]["ff-unpublished"]
    assert unknown["training"]["value"] is None and unknown["cost_per_asset"]["sunk"]["usd"]["1000"] is None
    assert data["methods"]["ps-sds"]["timing"]["n"] == 2  # the failed job adds no time


def test_cost_batch_size_and_gpu_repricing(tmp_path, capsys):
    run = make_run(tmp_path)
    _, out = run_cli([str(run), "--json", "--batch-size", "1", "--gpu", "A100-80GB", "--throughput", "H100=2"], capsys)
    data = json.loads(out.out)
    assert data["methods"]["ff-net"]["per_asset_s"] == pytest.approx(22.0)  # the whole load on every asset
    assert data["unit_gpu"] == "A100-80GB"
    ps = data["methods"]["ps-sds"]["cost_per_asset"]["sunk"]
    assert ps["gpu_h"]["10"] == pytest.approx(120.0 / 3600 * 2)  # an H100-hour is two A100-hours of work
    assert ps["usd"]["10"] == pytest.approx(120.0 / 3600 * 2 * 2.79)  # priced as A100-80GB hours


def test_cpu_measured_times_are_labelled_and_not_priced(tmp_path, capsys):
    run = make_run(tmp_path, provenance={})
    _, out = run_cli([str(run), "--training-gpu-hours", "ff-net=1000"], capsys)
    assert "CPU-s" in out.out and "CPU time" in out.out
    assert "unavailable" in out.out and "feed-forward cheaper above" not in out.out
    _, out = run_cli([str(run), "--training-gpu-hours", "ff-net=1000", "--measured-on", "H100"], capsys)
    assert "feed-forward cheaper above" in out.out


def test_paradigms_fall_back_to_the_method_registry(tmp_path, capsys):
    with ResultsStore(tmp_path / "results.sqlite") as store:
        store.put(
            JobRecord("oracle/a", "oracle", "a", "cat", "default", 0, "ok", time_s=0.1, timings={"method_stages": {}})
        )
    _, out = run_cli([str(tmp_path), "--json"], capsys)
    assert json.loads(out.out)["methods"]["oracle"]["paradigm"] == "reference"


def test_missing_run_folder_and_bad_arguments(tmp_path, capsys):
    code, out = run_cli([str(tmp_path / "nowhere")], capsys)
    assert code == 2 and "results.sqlite" in out.err
    assert not (tmp_path / "nowhere").exists()  # nothing created
    for bad in (
        ["--price", "H100"],
        ["--price", "H100=-1"],
        ["--volumes", "0,10"],
        ["--training-gpu-hours", "x=5:2"],
        ["--batch-size", "0"],
        ["--prior", "maybe"],
    ):
        code, out = run_cli([str(tmp_path), *bad], capsys)
        assert code == 2 and "reconbench cost: error: argument" in out.err, bad


def test_time_to_reach_a_fidelity_on_anytime_curves(tmp_path, capsys):
    with ResultsStore(tmp_path / "results.sqlite") as store:
        store.set_meta({"paradigms": {"ps-sds": "per-scene"}})
        curves = {
            "a": [(10, 15.0), (20, 17.0), (40, 19.0)],
            "b": [(10, 14.0), (20, 15.0), (40, 16.0)],
            "c": [(10, 18.5), (20, 19.0)],
        }
        for obj, curve in curves.items():
            points = [{"iteration": i, "seconds": t, "psnr": v} for i, (t, v) in enumerate(curve)]
            store.put(JobRecord(f"ps-sds/{obj}", "ps-sds", obj, "cat", "default", 0, "ok", time_s=40.0, anytime=points))
    code, out = run_cli([str(tmp_path), "--reach", "psnr=18", "--json"], capsys)
    assert code == 0
    reach = json.loads(out.out)["reach"][0]["methods"]["ps-sds"]
    # a: 17 at 20 s, 19 at 40 s -> 18 at 30 s; b never; c already at its first point (10 s).
    assert reach["objects"] == 3 and reach["reached"] == {"a": 30.0, "c": 10.0} and reach["median_s"] == 20.0
    code, out = run_cli([str(tmp_path), "--reach", "psnr=18"], capsys)
    assert "reached on 2 of 3 objects, median 20 s" in out.out


def test_a_recorded_prior_decides_what_a_per_scene_method_counts(tmp_path, capsys):
    from reconbench.cost.model import recorded_prior, training_for

    def run(folder, prior):
        with ResultsStore(folder / "results.sqlite") as store:
            store.set_meta({"paradigms": {"ps-x": "per-scene"}})
            store.put(
                JobRecord(
                    "ps-x/a",
                    "ps-x",
                    "a",
                    "cat",
                    "default",
                    0,
                    "ok",
                    time_s=10.0,
                    provenance={**H100, "method": {"info": {"prior": prior}}},
                )
            )
        return list(ResultsStore(folder / "results.sqlite").records())

    (tmp_path / "none").mkdir()
    (tmp_path / "z").mkdir()
    none, zero = run(tmp_path / "none", "none"), run(tmp_path / "z", "zero123")
    assert recorded_prior(none, "ps-x") == "none" and recorded_prior(zero, "ps-x") == "zero123"
    hours, prior = training_for("ps-x", "per-scene", None, "none")
    assert hours.value == 0 and prior is None
    hours, prior = training_for("ps-x", "per-scene", None, "zero123")
    assert prior == "zero123" and hours.known
