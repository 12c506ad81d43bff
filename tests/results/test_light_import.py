"""Reading a run's results needs neither the renderer (moderngl) nor torch: checked in a fresh interpreter
where importing either fails."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from reconbench.results import JobRecord
from reconbench.runner.store import ResultsStore

SRC = Path(__file__).resolve().parents[2] / "src"

BLOCKER = """
import importlib.abc, sys

class Blocked(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("moderngl", "torch"):
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


def test_the_blocker_blocks(tmp_path):
    proc = _run("import reconbench.render.context\n", tmp_path)
    assert proc.returncode != 0 and "moderngl is blocked" in proc.stderr


def test_loading_a_run_and_building_its_tables_and_cost_imports_no_renderer_and_no_torch(tmp_path):
    with ResultsStore(tmp_path / "results.sqlite") as store:
        store.set_meta({"dataset": "procedural", "protocol": "default", "paradigms": {"m": "feed-forward"}})
        store.put(
            JobRecord(
                "m|o|p|0",
                "m",
                "o",
                "c",
                "p",
                0,
                "ok",
                time_s=2.0,
                metrics={"psnr": 20.0, "chamfer": 0.01},
                timings={"method_stages": {"model_load": 1.0, "generation": 1.0}},
            )
        )
        store.put(JobRecord("m|q|p|0", "m", "q", "c", "p", 0, "failed", error="boom"))
    proc = _run(
        """
        import sys
        import reconbench.results
        from reconbench.results import load_run
        from reconbench.results.tables import run_markdown
        from reconbench.runner.export import write_csv
        from reconbench.cost import cost_report
        run = load_run(".")
        text = run_markdown(run)
        write_csv(run.records, __import__("pathlib").Path("results.csv"))
        cost_report(run.records, paradigms=dict(run.meta.paradigms))
        assert "20.00" in text, text
        loaded = sorted(
            m for m in sys.modules if m.split(".")[0] in ("moderngl", "torch") or m.startswith("reconbench.render")
        )
        print("loaded:", loaded)
    """,
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "loaded: []" in proc.stdout
