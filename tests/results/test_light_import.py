"""Reading a run's results needs neither the renderer (moderngl) nor torch nor trimesh: checked in fresh
interpreters, one that lists what reading loaded and one where importing any of them fails."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reconbench.results import JobRecord
from reconbench.runner.store import ResultsStore

SRC = Path(__file__).resolve().parents[2] / "src"

BLOCKER = """
import importlib.abc, sys

class Blocked(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("moderngl", "torch", "trimesh"):
            raise ImportError(f"{name} is blocked in this test")
        return None

sys.meta_path.insert(0, Blocked())
"""


def _run(code: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    return subprocess.run(
        [sys.executable, "-c", BLOCKER + textwrap.dedent(code)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("module", ["reconbench.render.context", "torch", "trimesh"])
def test_the_blocker_blocks(tmp_path, module):
    proc = _run(f"import {module}\n", tmp_path)
    assert proc.returncode != 0 and "is blocked in this test" in proc.stderr


def _write_run(folder: Path) -> None:
    """Two methods on two objects of the procedural set, one job failed."""
    with ResultsStore(folder / "results.sqlite") as store:
        store.set_meta(
            {"dataset": "procedural", "protocol": "default", "paradigms": {"m": "feed-forward", "n": "per-scene"}}
        )
        for method, psnr in (("m", 20.0), ("n", 23.0)):
            for obj in ("o", "q"):
                store.put(
                    JobRecord(
                        f"{method}|{obj}|p|0",
                        method,
                        obj,
                        "c",
                        "p",
                        0,
                        "ok",
                        time_s=2.0,
                        metrics={"psnr": psnr, "chamfer": 0.01},
                        timings={"method_stages": {"model_load": 1.0, "generation": 1.0}},
                    )
                )
        store.put(JobRecord("m|r|p|0", "m", "r", "c", "p", 0, "failed", error="boom"))


def test_loading_a_run_and_building_its_tables_and_cost_imports_no_renderer_torch_or_trimesh(tmp_path):
    _write_run(tmp_path)
    proc = _run(
        """
        import sys
        import reconbench.results
        from reconbench.results import load_run
        from reconbench.results.tables import run_markdown
        from reconbench.runner.export import write_csv
        from reconbench.cost import cost_report
        from reconbench.report.conventions import conventions
        from reconbench.report.tables import method_table, paired_table, published_table
        run = load_run(".")
        text = run_markdown(run)
        write_csv(run.records, __import__("pathlib").Path("results.csv"))
        cost_report(run.records, paradigms=dict(run.meta.paradigms))
        assert "20.00" in text, text
        assert dict(conventions(run))["protocol"].startswith("default: "), conventions(run)
        assert paired_table(run).rows and method_table(run).rows and published_table(run) is not None
        loaded = sorted(
            m
            for m in sys.modules
            if m.split(".")[0] in ("moderngl", "torch", "trimesh") or m.startswith("reconbench.render")
        )
        print("loaded:", loaded)
    """,
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "loaded: []" in proc.stdout


def test_cost_and_report_commands_work_where_renderer_torch_and_trimesh_cannot_be_imported(tmp_path):
    _write_run(tmp_path)
    proc = _run(
        """
        from reconbench.cli import main
        assert main(["cost", "."]) == 0
        assert main(["report", "."]) == 0
        """,
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "m vs n" in proc.stdout  # the cost command's break-even pair
    html, summary = (tmp_path / "report.html").read_text(), (tmp_path / "summary.md").read_text()
    assert "ground truth unavailable" in html  # the grid says why it has no ground truth, the rest is there
    assert "23.00" in summary and "Paired comparisons" in summary and "boom" in summary
