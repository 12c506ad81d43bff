"""The external-method path (upstream/run.py): commands in an environment, stage times,
peak memory, output discovery. A fake backend runs the tiny method from its source folder; the real
venv backend is exercised end to end in test_external_venv_e2e.py."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import tiny_external

from reconbench.methods.base import MethodInput, MethodSpec
from reconbench.methods.recipe import StageMarker
from reconbench.system.monitor import ResourceMonitor
from reconbench.upstream import timing
from reconbench.upstream.run import ExternalMethodError, run_external, time_batch
from reconbench.upstream.shim import SHIM_READY_LINE

fake_backend = tiny_external.fake_backend  # the fixture

JITTER_S = 0.05
# A stage is timed from the line that starts it to the line that ends it, as read from the method's pipe: a
# start line read late (a loaded machine) shortens the stage by that delay; 0.233 s for a 0.3 s stage was
# seen once at a load average near 6. Still short enough that swapped stages (0.3 s and 0.5 s) fail.
READ_DELAY_S = 0.15


def _input(tmp_path: Path) -> MethodInput:
    image = np.zeros((64, 64, 4), np.uint8)
    image[16:48, 16:48] = (200, 50, 50, 255)
    return MethodInput(images=(image,), cameras=(), image_paths=(), workdir=tmp_path / "work")


def _spec(**overrides) -> MethodSpec:
    d = tiny_external.tiny_spec(tiny_external.SOURCE, "0" * 40)
    d.update(overrides)
    return MethodSpec.from_dict(d)


def test_known_stage_durations_are_measured(tmp_path, fake_backend):
    out = run_external(_spec(), _input(tmp_path))
    stages = out.stage_seconds
    assert set(stages) == {"environment_start", "model_load", "generation", "export"}
    # The tiny method sleeps LOAD_S then GEN_S; each stage is that, give or take the latency of
    # reading lines from a pipe on a busy machine (imports land in environment_start / model_load).
    assert tiny_external.LOAD_S - READ_DELAY_S <= stages["model_load"] < tiny_external.LOAD_S + 0.5
    assert tiny_external.GEN_S - READ_DELAY_S <= stages["generation"] < tiny_external.GEN_S + 0.5
    assert 0 < stages["environment_start"] < 5
    assert out.asset == tmp_path / "work" / "out" / "0" / "mesh.obj" and out.asset.exists()
    wall = out.info["timing"]["steps"][0]["wall_s"]
    assert sum(stages.values()) == pytest.approx(wall)


def test_peak_host_memory_covers_what_the_method_holds(tmp_path, fake_backend):
    out = run_external(_spec(), _input(tmp_path))
    peak = out.info["resources"]["peak_host_rss_mb"]
    assert tiny_external.ALLOC_MB <= peak < tiny_external.ALLOC_MB + 200
    assert out.info["resources"]["peak_gpu_mem_mb"] is None or out.info["gpu"] is not None


def test_log_and_commands_are_kept(tmp_path, fake_backend):
    out = run_external(_spec(), _input(tmp_path))
    log = Path(out.info["log"]).read_text()
    assert SHIM_READY_LINE in log and "generation done (128x128 input)" in log
    argv = out.info["commands"][0]
    assert argv[:3] == [sys.executable, "-m", "tiny_recon"] and "{" not in " ".join(argv)


def test_failing_command_names_step_code_and_log(tmp_path, fake_backend):
    spec = _spec(
        steps=({"stage": "export", "argv": ["{python}", "-m", "tiny_recon", "{input}", "--out", "{out}", "--fail"]},)
    )
    with pytest.raises(
        ExternalMethodError, match=r"(?s)step 'export' exited with code 3 \(log: .*method.log\).*failing on purpose"
    ):
        run_external(spec, _input(tmp_path))


def test_missing_output_is_a_clear_error(tmp_path, fake_backend):
    spec = _spec(output={"path": "nothing-*.glb", "format": "glb"})
    with pytest.raises(Exception, match="nothing-"):
        run_external(spec, _input(tmp_path))


def test_cold_and_warm_times_of_several_inputs_in_one_process(tmp_path, fake_backend):
    images = _input(tmp_path).images * 3
    result = time_batch(_spec(), images, tmp_path / "batch")
    assert result["inputs"] == 3 and result["per_input_stage"] == "generation"
    # cold: start-up, model load and the first input; warm: one input each.
    assert result["cold_s"] >= tiny_external.LOAD_S + tiny_external.GEN_S - JITTER_S
    assert len(result["warm_s"]) == 2
    assert all(tiny_external.GEN_S - READ_DELAY_S <= w < tiny_external.GEN_S + 0.5 for w in result["warm_s"])
    assert sorted(p.name for p in (tmp_path / "batch" / "out").iterdir()) == ["0", "1", "2"]


def test_step_timing_splits_at_markers_and_repeats():
    markers = timing.compile_markers([StageMarker("model_load", "loaded"), StageMarker("generation", r"^done \d")])
    lines = [
        (1.0, SHIM_READY_LINE),
        (3.0, "model loaded"),
        (4.0, "noise"),
        (5.5, "done 1"),
        (6.0, "done 2"),
        (6.25, "done 3"),
    ]
    step = timing.step_timing(lines, 0.5, 7.0, "export", markers)
    assert step.stages == {
        "environment_start": [0.5],
        "model_load": [2.0],
        "generation": [2.5, 0.5, 0.25],
        "export": [0.75],
    }
    totals, details = timing.combine([step, timing.step_timing([], 0.0, 2.0, "convert", markers)])
    assert totals == {"environment_start": 0.5, "model_load": 2.0, "generation": 3.25, "export": 0.75, "convert": 2.0}
    assert details["repeated"]["generation"] == {"cold_s": 2.5, "warm_s": [0.5, 0.25]}


def test_resource_monitor_sums_the_process_tree(tmp_path):
    import subprocess

    code = (
        "import subprocess, sys, time; b = bytearray(80 * 2**20); b[::4096] = b'x' * len(b[::4096]); "
        "c = subprocess.Popen([sys.executable, '-c', 'b = bytearray(80 * 2**20); b[::4096] = b\"x\" * len(b[::4096]); "
        "import time; time.sleep(1.5)']); time.sleep(1.5); c.wait()"
    )
    proc = subprocess.Popen([sys.executable, "-c", code])
    with ResourceMonitor(proc.pid, interval_s=0.05) as monitor:
        proc.wait()
    assert monitor.peaks.host_rss_mb >= 160  # parent and child each hold 80 MiB at the same time
    assert monitor.peaks.samples > 5


def test_a_relative_work_folder_still_works_from_the_checkout(tmp_path, fake_backend, monkeypatch):
    # Upstream commands run from their checkout (cwd {repo}): every path handed to them must be absolute.
    monkeypatch.chdir(tmp_path)
    d = tiny_external.tiny_spec(tiny_external.SOURCE, "0" * 40)
    d["steps"] = ({**d["steps"][0], "cwd": "{repo}"},)
    out = run_external(MethodSpec.from_dict(d), MethodInput(_input(tmp_path).images, (), (), Path("relative/work")))
    assert out.asset == tmp_path / "relative" / "work" / "out" / "0" / "mesh.obj"


def test_a_timeout_kills_the_command_and_its_children(tmp_path, fake_backend):
    import psutil

    pid_file = tmp_path / "grandchild.pid"
    code = (
        f"import subprocess, sys, time; c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        f"open({str(pid_file)!r}, 'w').write(str(c.pid)); time.sleep(60)"
    )
    spec = _spec(steps=({"stage": "generation", "argv": ["{python}", "-c", code]},), timeout_s=2)
    with pytest.raises(ExternalMethodError, match="timed out after 2 s in step 'generation'"):
        run_external(spec, _input(tmp_path))
    grandchild = int(pid_file.read_text())
    gone = not psutil.pid_exists(grandchild) or psutil.Process(grandchild).status() == psutil.STATUS_ZOMBIE
    assert gone, "the command's own child outlived the timeout"


@pytest.mark.parametrize("elevation, flagged", [(30.0, True), (0.0, False)])
def test_a_result_outside_the_methods_input_camera_says_so(tmp_path, fake_backend, elevation, flagged):
    from reconbench.protocol import orbit_camera

    spec = _spec(input_camera={"elevation": 0.0, "azimuth": 0.0, "source": "tiny_recon: trained at elevation 0"})
    inp = _input(tmp_path)
    camera = orbit_camera("000", "input", elevation, 0.0, 2.0, 49.1, 64, 64)
    out = run_external(spec, MethodInput(inp.images, (camera,), (), inp.workdir))
    reason = out.info["outside_assumptions"]
    assert (reason is not None) == flagged
    if flagged:
        assert "elevation 30° where the method assumes 0°" in reason and "trained at elevation 0" in reason
