"""Stage attribution end to end on CPU: the tiny external method, run as upstream methods are (spec -> commands
-> outputs), writes "generated" views of its box at known cameras before the box itself; the job scores those
views and the final asset at the declared cameras against the ground truth (stage1_* metrics), and results.csv
and report.md carry them. The real venv backend runs the same path in test_external_venv_e2e.py (slow)."""

from __future__ import annotations

import importlib.util
import time

import pytest
import tiny_external

from reconbench.datasets import DatasetObject
from reconbench.methods.base import MethodSpec
from reconbench.protocol import get_protocol
from reconbench.registry import load_entry
from reconbench.runner.execute import RunSettings, prepare_object, run_job
from reconbench.runner.export import write_csv, write_report
from reconbench.runner.jobs import Job

fake_backend = tiny_external.fake_backend  # the fixture

VIEWS = tiny_external.VIEWS


def _tiny_recon():
    spec = importlib.util.spec_from_file_location("tiny_recon_module", tiny_external.SOURCE / "tiny_recon.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stage_spec(**declared) -> MethodSpec:
    return MethodSpec.from_dict(
        tiny_external.with_views(tiny_external.tiny_spec(tiny_external.SOURCE, "0" * 40), **declared)
    )


class InProcessWorker:
    """MethodWorker's interface, in this process (so the fake backend applies)."""

    def run(self, spec, inp, timeout_s):
        start = time.perf_counter()
        return load_entry(spec)(inp), time.perf_counter() - start


@pytest.fixture(scope="module")
def box_context(tmp_path_factory):
    """The ground truth is the tiny method's own box, written in the canonical frame (y up): the generated views
    and the final asset are then both exact, if and only if the cameras are handled right."""
    folder = tmp_path_factory.mktemp("box")
    tiny = _tiny_recon()
    hx, hy, hz = tiny.HALF  # file frame z-up-front-x: canonical (X, Y, Z) = file (y, z, x)
    tiny.HALF = (hy, hz, hx)
    (folder / "box.obj").write_text(tiny.box_obj(tiny.HALF))
    protocol = get_protocol("gso30-syncdreamer-unlit")
    obj = DatasetObject("box", "test", folder / "box.obj")
    return protocol, prepare_object(obj, protocol, folder / "run", ())


def _run(spec, box_context, tmp_path):
    protocol, ctx = box_context
    settings = RunSettings(protocol, tmp_path, align="none", lpips=())
    return run_job(Job(spec.name, "box", "test", protocol.name), spec, ctx, settings, InProcessWorker())


def test_generated_views_and_final_asset_are_scored_at_the_declared_cameras(fake_backend, box_context, tmp_path):
    rec = _run(stage_spec(), box_context, tmp_path)
    assert rec.status == "ok", rec.error
    m = rec.metrics
    assert m["stage1_views"] == 3
    # Views ray cast through the pixel centres of the ground truth at the right cameras: the renderer samples the
    # same centres, so they are identical to its renders (infinite PSNR); so is the final asset, the same box.
    assert m["stage1_psnr"] == m["stage1_final_psnr"] == float("inf") and m["stage1_ssim"] == 1.0
    for kind in ("generated", "final", "gt"):
        assert (tmp_path / "renders" / "tiny-external" / "box" / "stage1" / f"s02_{kind}.png").is_file()

    write_csv([rec], tmp_path / "results.csv")
    header = (tmp_path / "results.csv").read_text().splitlines()[0].split(",")
    assert {"stage1_psnr", "stage1_ssim", "stage1_final_psnr", "stage1_final_ssim", "stage1_views"} <= set(header)
    write_report([rec], {"paradigms": {"tiny-external": "feed-forward"}}, tmp_path / "report.md")
    report = (tmp_path / "report.md").read_text()
    assert "## Lost in reconstruction" in report and "| tiny-external | 1 |" in report

    from reconbench.report import write_report as write_html_report
    from reconbench.runner.store import ResultsStore

    with ResultsStore(tmp_path / "results.sqlite") as store:
        store.set_meta({"dataset": "folder", "protocol": "gso30-syncdreamer-unlit", "align": "none", "lpips": []})
        store.put(rec)
    html = write_html_report(tmp_path).read_text()
    assert "Lost in reconstruction" in html and "PSNR generated" in html
    assert "## Lost in reconstruction" in (tmp_path / "summary.md").read_text()


@pytest.mark.parametrize("change", ["cameras shuffled", "distance wrong"])
def test_wrongly_declared_cameras_score_the_generated_views_worse(fake_backend, box_context, tmp_path, change):
    right = _run(stage_spec(), box_context, tmp_path / "right").metrics
    if change == "cameras shuffled":
        spec = stage_spec(cameras=[VIEWS[1], VIEWS[2], VIEWS[0]])  # every view declared at another's camera
    else:
        spec = stage_spec(distance=tiny_external.VIEWS_DISTANCE * 1.5)
    wrong = _run(spec, box_context, tmp_path / "wrong").metrics
    # The views no longer show the ground truth from where they claim; the final asset, rendered at the same
    # (wrong) cameras as the ground truth, still matches it.
    assert right["stage1_psnr"] == float("inf") and wrong["stage1_psnr"] < 20
    assert wrong["stage1_final_psnr"] == float("inf")


def test_missing_intermediate_views_are_a_note_not_a_failed_job(fake_backend, box_context, tmp_path):
    rec = _run(stage_spec(path="0/nothing-*.png"), box_context, tmp_path)
    assert rec.status == "ok" and not any(k.startswith("stage1_") for k in rec.metrics)
    assert any("stage attribution failed" in n and "nothing-" in n for n in rec.provenance["notes"])
