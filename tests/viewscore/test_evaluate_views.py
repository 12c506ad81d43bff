"""`reconbench evaluate-views`: a folder of views scored against another folder or against ground-truth renders,
with clear errors for a missing view, a wrong size and a missing alpha."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reconbench.cli import main

CHICKEN = Path(__file__).parents[1] / "data" / "syncdreamer-gso-chicken"
PRED, GT = CHICKEN / "chicken-pr", CHICKEN / "chicken-gt"
EVAL_NVS_PSNR = 25.413  # SyncDreamer's eval_nvs.py on this pair (mean over the 16 views; issue #20)


def _json(capsys, argv) -> dict:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_syncdreamer_pair_folder_against_folder(capsys):
    out = _json(capsys, ["evaluate-views", "--pred", str(PRED), "--ref", str(GT), "--lpips", "none", "--json"])
    assert [v["view"] for v in out["views"]] == [f"{k:03d}" for k in range(16)]
    assert out["mean"]["psnr"] == pytest.approx(EVAL_NVS_PSNR, abs=1e-3)
    # Per view, independently: GT composited on white by its alpha, PSNR over all pixels and channels.
    gt = np.asarray(Image.open(GT / "005.png"), np.float64) / 255
    gt = gt[..., :3] * gt[..., 3:] + (1 - gt[..., 3:])
    pr = np.asarray(Image.open(PRED / "005.png").convert("RGB"), np.float64) / 255
    assert out["views"][5]["psnr"] == pytest.approx(-10 * np.log10(np.mean((pr - gt) ** 2)), abs=1e-4)
    assert np.mean([v["ssim"] for v in out["views"]]) == pytest.approx(out["mean"]["ssim"])
    assert 0.8 < out["mean"]["ssim"] < 1


def test_missing_view_is_named(tmp_path, capsys):
    pred = tmp_path / "pred"
    shutil.copytree(PRED, pred)
    (pred / "007.png").unlink()
    assert main(["evaluate-views", "--pred", str(pred), "--ref", str(GT), "--lpips", "none"]) == 2
    assert f"{pred / '007.png'}: missing view" in capsys.readouterr().err


def test_wrong_size_is_named(tmp_path, capsys):
    pred = tmp_path / "pred"
    shutil.copytree(PRED, pred)
    Image.open(PRED / "003.png").resize((128, 128)).save(pred / "003.png")
    assert main(["evaluate-views", "--pred", str(pred), "--ref", str(GT), "--lpips", "none"]) == 2
    assert f"{pred / '003.png'}: wrong size 128x128, expected 256x256" in capsys.readouterr().err


def test_masked_metrics_need_alpha_and_name_the_file(capsys):
    # SyncDreamer's generated views are RGB on white: no silhouette to take a masked PSNR over.
    assert main(["evaluate-views", "--pred", str(PRED), "--ref", str(GT), "--lpips", "none", "--masked"]) == 2
    assert f"{PRED / '000.png'}: no alpha channel (mode RGB)" in capsys.readouterr().err


def test_masked_metrics_with_alpha_on_both_sides(capsys):
    out = _json(
        capsys, ["evaluate-views", "--pred", str(GT), "--ref", str(GT), "--lpips", "none", "--masked", "--json"]
    )
    assert out["mean"]["mask_iou"] == 1.0 and out["mean"]["psnr_masked"] is None  # identical: infinite PSNR -> null


def test_against_ground_truth_renders_at_the_protocol_cameras(tmp_path, capsys):
    from reconbench.datasets import open_dataset
    from reconbench.protocol import get_protocol
    from reconbench.render import render_views

    protocol = get_protocol("gso30-syncdreamer-unlit")
    views = render_views(open_dataset("procedural").get("mug").load(), protocol.cameras, protocol.lighting.references)
    pred = tmp_path / "pred"
    pred.mkdir()
    for image, cam in zip(views.rgba(), protocol.cameras):
        Image.fromarray(image, "RGBA").save(pred / f"{cam.name}.png")
    argv = [
        "evaluate-views",
        "--pred",
        str(pred),
        "--dataset",
        "procedural",
        "--object",
        "mug",
        "--protocol",
        protocol.name,
        "--lpips",
        "none",
        "--json",
    ]
    out = _json(capsys, argv)
    assert len(out["views"]) == 16 and out["views"][0]["role"] == "input" and "mean_heldout" in out
    assert all(v["psnr"] is None and v["ssim"] == pytest.approx(1.0) for v in out["views"])  # identical renders
    # Two views swapped: exactly those two score worse, so views are matched to cameras by name.
    a, b = pred / "003.png", pred / "011.png"
    a.rename(tmp_path / "tmp.png")
    b.rename(a)
    (tmp_path / "tmp.png").rename(b)
    out = _json(capsys, argv)
    worse = [v["view"] for v in out["views"] if v["psnr"] is not None]
    assert worse == ["003", "011"] and all(v["psnr"] < 30 for v in out["views"] if v["psnr"] is not None)
    out = _json(capsys, [*argv, "--views", "heldout"])
    assert [v["view"] for v in out["views"]] == [f"{k:03d}" for k in range(1, 16)]


def test_a_missing_prediction_folder_is_named(tmp_path, capsys):
    assert main(["evaluate-views", "--pred", str(tmp_path / "nope"), "--ref", str(GT), "--lpips", "none"]) == 2
    assert f"{tmp_path / 'nope'}: not a folder" in capsys.readouterr().err


def test_the_reference_must_be_given_exactly_once(capsys):
    assert main(["evaluate-views", "--pred", str(PRED), "--ref", str(GT), "--gt", "x.obj"]) == 2
    assert "either as --ref DIR" in capsys.readouterr().err


def test_the_protocols_image_metrics_are_used(capsys):
    """Under gso30-syncdreamer the views are scored with eval_nvs.py's SSIM (data range from the images; checked
    against torchmetrics in tests/metrics/test_syncdreamer_reproduction.py), not reconbench's own (range 1)."""
    from reconbench.metrics import image as image_metrics
    from reconbench.viewscore.score import read_view

    names = [f"{k:03d}" for k in range(16)]
    pred = np.stack([read_view(PRED / f"{n}.png")[0] for n in names])
    gt = np.stack([read_view(GT / f"{n}.png")[0] for n in names])
    base = ["evaluate-views", "--pred", str(PRED), "--ref", str(GT), "--lpips", "none", "--json"]
    sync = _json(capsys, base + ["--protocol", "gso30-syncdreamer"])["mean"]["ssim"]
    own = _json(capsys, base)["mean"]["ssim"]
    assert sync == pytest.approx(image_metrics.ssim(pred, gt, data_range=None).mean(), abs=1e-9)
    assert own == pytest.approx(image_metrics.ssim(pred, gt, data_range=1.0).mean(), abs=1e-9)
    # On this pair the images span about [0, 1], so the two rules nearly agree; on dim images they do not.
    from reconbench.protocol import get_protocol
    from reconbench.viewscore.score import ViewScoring, score_views

    dim_pred, dim_gt = pred[:2] * 0.4, gt[:2] * 0.4
    syncdreamer = ViewScoring.for_evaluation(get_protocol("gso30-syncdreamer").evaluation, lpips=())
    assert syncdreamer.ssim == "torchmetrics" and syncdreamer.lpips == ()
    by_preset = score_views(dim_pred, dim_gt, syncdreamer)["ssim"]
    assert np.allclose(by_preset, image_metrics.ssim(dim_pred, dim_gt, background=-1.0, data_range=None))
    assert not np.allclose(by_preset, score_views(dim_pred, dim_gt, ViewScoring(lpips=()))["ssim"], atol=1e-3)
