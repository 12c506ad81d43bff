"""results.csv and report.md (runner/export.py): a result run outside its method's input camera says so."""

import csv

from reconbench.runner.export import write_csv, write_report
from reconbench.runner.store import JobRecord

REASON = "input view 000: elevation 30° where the method assumes 0° (it cannot be told: lgm infer.py:91)"


def _record(obj: str, reason: str | None, method: str = "lgm") -> JobRecord:
    info = {"outside_assumptions": reason} if reason is not None else {}
    return JobRecord(
        f"{method}/{obj}",
        method,
        obj,
        "toys",
        "gso30-syncdreamer",
        0,
        "ok",
        time_s=1.0,
        metrics={"psnr": 20.0},
        provenance={"method": {"entry": "external", "info": info}},
    )


def test_results_csv_has_the_reason_for_flagged_results_only(tmp_path):
    write_csv([_record("duck", REASON), _record("car", None, method="sphere")], tmp_path / "results.csv")
    with open(tmp_path / "results.csv") as f:
        rows = {r["object"]: r for r in csv.DictReader(f)}
    assert rows["duck"]["outside_assumptions"] == REASON
    assert rows["car"]["outside_assumptions"] == ""


def test_report_lists_results_run_outside_the_methods_assumptions(tmp_path):
    text = write_report(
        [_record("duck", REASON), _record("car", None)], {"protocol": "gso30-syncdreamer"}, tmp_path / "r.md"
    ).read_text()
    assert "## Results run outside the method's assumptions" in text
    assert f"| lgm | duck | {REASON} |" in text and "| lgm | car |" not in text
    clean = write_report([_record("car", None)], {}, tmp_path / "clean.md").read_text()
    assert "outside the method's assumptions" not in clean
