"""The report's break-even section: N* with its range and the figure for every (feed-forward, per-scene)
pair, or a sentence saying what is missing."""

from __future__ import annotations

import re

from reconbench.cost import cost_report
from reconbench.report.breakeven import break_even_section
from reconbench.runner.store import JobRecord

RECORD = {
    "device": {"kind": "cpu", "name": "CPU-X", "count": 1, "threads": 1},
    "device_seconds": 600.0,
    "data_cpu_seconds": 120.0,
    "checkpoint_sha256": "abc",
    "date": "2026-11-30",
    "commit": "0" * 40,
}
PARADIGMS = {"ff": "feed-forward", "ps": "per-scene", "ref": "reference"}


def job(method: str, obj: str, seconds: float, info: dict) -> JobRecord:
    return JobRecord(
        f"{method}/{obj}",
        method,
        obj,
        "cat",
        "default",
        0,
        "ok",
        time_s=seconds,
        metrics={"fscore": 0.5},
        timings={"method_stages": {"run": seconds}},
        provenance={"method": {"info": info}},
        anytime=[{"seconds": seconds / 2, "fscore": 0.4}, {"seconds": seconds, "fscore": 0.6}]
        if method == "ps"
        else [],
    )


def test_section_gives_n_star_and_the_figure_for_each_pair():
    records = [job("ff", o, 1.0, {"training": RECORD}) for o in "ab"] + [
        job("ps", o, 13.0, {"prior": "none"}) for o in "ab"
    ]
    section = break_even_section(records, cost_report(records, paradigms=PARADIGMS))
    assert not section.missing
    n_star = 720.0 / (13.0 - 1.0)  # CPU-seconds of training over CPU-seconds saved per asset
    text = section.html()
    assert f"N* = {n_star:,.0f} assets" in text and "CPU-hours" in text and "measured by reconbench train" in text
    assert re.search(r'<figure>\s*<h3>[^<]+</h3>\s*<img src="data:image/png;base64,', text)
    assert len(section.rows) == 2  # both prior modes
    md = "\n".join(section.markdown())
    assert "## Break-even volumes" in md and "| ff vs ps | sunk |" in md
    # the quality-adjusted line: ps reaches ff's mean F-score 0.5 halfway between its two snapshots (9.75 s)
    assert any("At ff's mean fscore" in q and "2 of 2 objects" in q for q in section.quality)


def test_section_says_what_is_missing():
    records = [job("ref", "a", 1.0, {})]
    section = break_even_section(records, cost_report(records, paradigms=PARADIGMS))
    assert section.missing.startswith("No break-even volume: the run has no feed-forward and no per-scene method")
    assert "voxel-cnn" in section.missing and "splat-sds" in section.missing
    assert section.missing in section.html() and section.missing in "\n".join(section.markdown())
    only_ff = [job("ff", "a", 1.0, {"training": RECORD})]
    assert "no per-scene method" in break_even_section(only_ff, cost_report(only_ff, paradigms=PARADIGMS)).missing
    assert break_even_section(records, None).missing.startswith("No break-even volume: the cost model could not")


def test_section_says_why_no_finite_volume():
    gpu = {**RECORD, "device": {"kind": "gpu", "name": "NVIDIA H100 80GB HBM3", "count": 1}}
    records = [job("ff", "a", 1.0, {"training": gpu}), job("ps", "a", 13.0, {"prior": "none"})]
    section = break_even_section(records, cost_report(records, paradigms=PARADIGMS))
    assert section.missing.startswith("No finite break-even volume") and "not mixed" in section.missing


def test_a_measured_training_gets_the_range_of_the_objects_times():
    # ff 1 s and 3 s per object, ps 10 s and 20 s: N* = 720 / (c_ps - c_ff) from 720/(20-1) to 720/(10-3)
    records = [
        job("ff", "a", 1.0, {"training": RECORD}),
        job("ff", "b", 3.0, {"training": RECORD}),
        job("ps", "a", 10.0, {"prior": "none"}),
        job("ps", "b", 20.0, {"prior": "none"}),
    ]
    section = break_even_section(records, cost_report(records, paradigms=PARADIGMS), with_figure=False)
    assert section.rows[0][3] == f"{720 / 19:,.0f} - {720 / 7:,.0f} (fastest / slowest objects)"  # 38 - 103
