"""report.md, summary.md and report.html show the same numbers (one computation), and the failure policy
does not reward a method that fails on hard objects."""

from __future__ import annotations

import html
import math
import re
from pathlib import Path

import pytest

from reconbench.report import write_report
from reconbench.results import JobRecord, load_run
from reconbench.results.tables import ALL_OBJECTS, COMPLETED, build_tables
from reconbench.runner.export import write_report as write_report_md
from reconbench.runner.store import ResultsStore

META = {
    "dataset": "procedural",
    "protocol": "no-such-protocol",
    "align": "icp",
    "lpips": [],
    "headline": "aligned",
    "paradigms": {"m": "feed-forward", "oracle": "reference", "robust": "per-scene", "flaky": "feed-forward"},
}


def rec(method: str, obj: str, seed: int = 0, status: str = "ok", **metrics: float) -> JobRecord:
    return JobRecord(
        f"{method}|{obj}|p|{seed}",
        method,
        obj,
        "cat",
        "p",
        seed,
        status,
        None if status == "ok" else "method failed: boom",
        time_s=1.0 if status == "ok" else None,
        metrics=metrics,
    )


def write_run(folder: Path, records: list[JobRecord]) -> Path:
    with ResultsStore(folder / "results.sqlite") as store:
        store.set_meta(META)
        for r in records:
            store.put(r)
    run = load_run(folder)
    write_report_md(run.records, META, folder / "report.md")
    write_report(folder)
    return folder


# The architecture review's check (shared/docs/architecture-review.md §3.1): method m has objects A (seeds 0
# and 1: PSNR 10, 20) and B (seed 0: 30; seed 1 failed); the oracle has PSNR inf and 40.
REVIEW_RECORDS = [
    rec("m", "A", 0, psnr=10.0, chamfer=0.05, unaligned_psnr=8.0, input_psnr=24.0),
    rec("m", "A", 1, psnr=20.0, chamfer=0.03, unaligned_psnr=9.0, input_psnr=26.0),
    rec("m", "B", 0, psnr=30.0, chamfer=0.01, unaligned_psnr=12.0, input_psnr=28.0),
    rec("m", "B", 1, "failed"),
    rec("oracle", "A", 0, psnr=math.inf, chamfer=0.0),
    rec("oracle", "B", 0, psnr=40.0, chamfer=0.001),
]


def md_table(text: str, heading: str) -> list[list[str]]:
    """Header and body rows of the markdown table under `## heading`."""
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("| ")]
    return [[c.strip() for c in line.strip(" |").split(" | ")] for line in lines[:1] + lines[2:]]


def md_rows(text: str, heading: str) -> list[list[str]]:
    return md_table(text, heading)[1:]


def html_rows(text: str, index: int) -> list[list[str]]:
    """Body rows of the index-th <table> of the page's summary section, whitespace normalised."""
    section = text.split("<h2>2. Summary</h2>", 1)[1].split("<h2>", 1)[0]
    table = re.findall(r"<tbody>(.*?)</tbody>", section, re.S)[index]
    return [
        [" ".join(html.unescape(c).split()) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)
    ]


@pytest.fixture(scope="module")
def review_run(tmp_path_factory) -> Path:
    return write_run(tmp_path_factory.mktemp("review"), REVIEW_RECORDS)


def test_report_md_summary_md_and_html_agree_cell_for_cell(review_run):
    report_md = (review_run / "report.md").read_text()
    summary_md = (review_run / "summary.md").read_text()
    page = (review_run / "report.html").read_text()
    titles = re.findall(r"^## (.+)$", report_md, re.M)
    assert titles == ["Summary", "Input-view fidelity", "Before alignment", "Failures"]
    for i, title in enumerate(titles[:-1]):  # the HTML summary section holds the same tables in the same order
        assert md_rows(report_md, title) == md_rows(summary_md, title) == html_rows(page, i), title
    assert md_rows(report_md, "Failures") == md_rows(summary_md, "Failures")
    rows = md_rows(report_md, "Summary")
    by = {(r[0], r[2]): r for r in rows}
    header = md_table(report_md, "Summary")[0]
    col = header.index("PSNR (dB) ↑")
    # objects first, seeds averaged: m = mean(15, 30) over completed objects; the oracle's ∞ counts as 100 dB
    assert by[("m", COMPLETED)][col].startswith("22.50 ")
    assert by[("oracle", COMPLETED)][col].startswith("70.00 ")
    # all objects: m's failed seed on B scores the run's worst PSNR (10), so B = mean(30, 10) = 20
    assert by[("m", ALL_OBJECTS)][col].startswith("17.50 ")
    assert ("oracle", ALL_OBJECTS) not in by  # no failed job: one row
    before = {(r[0], r[2]): r for r in md_rows(report_md, "Before alignment")}
    assert before[("m", COMPLETED)][col].startswith("10.25 ") and before[("m", ALL_OBJECTS)][col].startswith("9.25 ")


def test_the_tables_are_built_once_from_the_run(review_run):
    tables = build_tables(load_run(review_run))
    md = (review_run / "report.md").read_text()
    for title, table in tables.sections():
        assert f"## {title}" in md
        for row in table.rows:
            assert (
                "| " + " | ".join(str(c[0] if isinstance(c, tuple) else c).replace("\n", " ") for c in row) + " |" in md
            )


def test_a_method_that_fails_on_hard_objects_is_not_flattered(tmp_path):
    """flaky completes only the easy objects, better than robust there; over all objects, each failure scored
    as the run's worst value, robust wins. An object no method completed is left out of both."""
    records = []
    for obj, (f_robust, c_robust, f_flaky, c_flaky) in {
        "e1": (0.9, 0.01, 0.92, 0.008),
        "e2": (0.9, 0.01, 0.92, 0.008),
        "h1": (0.6, 0.05, None, None),
        "h2": (0.4, 0.07, None, None),
    }.items():
        records.append(rec("robust", obj, fscore=f_robust, chamfer=c_robust, psnr=20.0))
        records.append(
            rec("flaky", obj, fscore=f_flaky, chamfer=c_flaky, psnr=25.0)
            if f_flaky
            else rec("flaky", obj, status="failed")
        )
    records += [rec("robust", "broken", status="failed"), rec("flaky", "broken", status="failed")]
    folder = write_run(tmp_path, records)
    text = (folder / "report.md").read_text()
    rows = md_rows(text, "Summary")
    header = md_table(text, "Summary")[0]
    by = {(r[0], r[2]): r for r in rows}

    def mean(method: str, over: str, label: str) -> float:
        return float(by[(method, over)][header.index(label)].split()[0])

    assert mean("flaky", COMPLETED, "F-score ↑") == pytest.approx(0.92) and mean(
        "robust", COMPLETED, "F-score ↑"
    ) == pytest.approx(0.7)
    assert mean("flaky", ALL_OBJECTS, "F-score ↑") == pytest.approx((0.92 * 2 + 0.4 * 2) / 4, abs=5e-4)
    assert mean("flaky", ALL_OBJECTS, "F-score ↑") < 0.7
    assert mean("flaky", COMPLETED, "Chamfer ↓") < mean("robust", COMPLETED, "Chamfer ↓")
    assert mean("flaky", ALL_OBJECTS, "Chamfer ↓") == pytest.approx((0.008 * 2 + 0.07 * 2) / 4, abs=5e-5)
    assert mean("flaky", ALL_OBJECTS, "Chamfer ↓") > mean("robust", COMPLETED, "Chamfer ↓")
    assert by[("flaky", ALL_OBJECTS)][3] == "2 + 2 failed / 5"  # "broken" failed for every method: not scored
    assert ("robust", ALL_OBJECTS) not in by
    assert by[("flaky", ALL_OBJECTS)][header.index("time (s) ↓")] == "–"  # a failure has no time to score
    # the same rows in summary.md and the HTML page
    assert (
        md_rows((folder / "summary.md").read_text(), "Summary")
        == rows
        == html_rows((folder / "report.html").read_text(), 0)
    )
