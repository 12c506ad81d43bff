"""docs/adding-a-method.md: its two examples (docs/examples/) run, and the guide shows them exactly."""

from __future__ import annotations

import importlib
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from reconbench.methods.base import MethodSpec
from reconbench.registry import _registry, register_method
from reconbench.runner.run import RunConfig, run_benchmark
from reconbench.runner.store import ResultsStore
from reconbench.upstream.command import run_commands
from reconbench.upstream.inputs import prepare_method_inputs
from reconbench.upstream.outputs import discover_output
from reconbench.upstream.validate import validate_spec

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "docs" / "examples"
GUIDE = ROOT / "docs" / "adding-a-method.md"
sys.path.insert(0, str(ROOT / "tests" / "upstream"))  # tiny_external: the stand-in upstream repository

import tiny_external  # noqa: E402


@pytest.fixture
def examples(monkeypatch):
    """The examples folder importable, as the guide's entry point "my_method:run" expects."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    return EXAMPLES


@pytest.mark.parametrize("name", ["my_method.py", "my_adapter.py"])
def test_the_guide_shows_each_example_file_exactly(name):
    text = (EXAMPLES / name).read_text()
    assert f"```python\n# docs/examples/{name}\n{text}```" in GUIDE.read_text(), (
        f"{GUIDE} no longer shows docs/examples/{name}"
    )


def test_the_in_process_example_runs_through_the_benchmark(examples, tmp_path, small_protocol):
    spec = register_method(importlib.import_module("my_method").SPEC)
    out = tmp_path / "run"
    try:
        summary = run_benchmark(
            RunConfig("procedural", [spec.name], small_protocol, out, objects=["mug"], lpips=(), progress=False)
        )
    finally:
        _registry().pop(spec.name)  # other tests see only the built-in methods
    assert (summary.ok, summary.failed, summary.skipped) == (1, 0, 0)
    with ResultsStore(out / "results.sqlite") as store:
        (record,) = store.records()
    assert record.status == "ok", record.error
    assert math.isfinite(record.metrics["chamfer"]) and record.metrics["chamfer"] > 0  # a sphere is not the mug


def test_the_adapter_example_is_a_valid_spec_whose_command_runs_the_program(examples, tmp_path):
    spec = MethodSpec.from_dict(importlib.import_module("my_adapter").SPEC)
    assert spec.is_external and validate_spec(spec) == []
    # The tiny stand-in upstream method as a git checkout: run the spec's command with this interpreter in
    # place of the environment's (no venv is built here), and find the output where the spec says it is.
    repo, _commit = tiny_external.git_repo(tmp_path / "checkout")
    image = np.zeros((96, 64, 4), np.uint8)
    image[20:70, 16:48] = (200, 80, 40, 255)
    inputs = prepare_method_inputs(spec, [image], tmp_path / "inputs", "duck")
    out = tmp_path / "out"
    out.mkdir()
    (step,) = run_commands(
        spec, {"python": sys.executable, "repo": str(repo), "inputs": [str(p) for p in inputs], "out": str(out)}
    )
    assert step.argv == [sys.executable, "-m", "tiny_recon", *map(str, inputs), "--out", str(out)]
    done = subprocess.run(step.argv, cwd=step.cwd, env={"PYTHONPATH": str(repo)}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert any(line.startswith("model loaded") for line in done.stdout.splitlines())  # the spec's stage marker
    assert discover_output(spec, out) == out / "0" / "mesh.obj"
