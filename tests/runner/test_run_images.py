"""Runs on input images without ground truth: what can be measured, and n/a for the rest."""

import csv
import json

import numpy as np
from PIL import Image

from reconbench.datasets import open_dataset
from reconbench.protocol import get_protocol
from reconbench.render import render_views
from reconbench.runner.run import RunConfig, run_benchmark


def _single_input_protocol(small_protocol, folder):
    """small_protocol with one input view (a photo is one view), written as folder/single.json."""
    spec = json.loads(open(small_protocol).read())
    spec["input_rings"] = [{"elevation": 0.0, "azimuth_start": 0.0, "azimuth_step": 0.0, "count": 1}]
    single = folder / "single.json"
    single.write_text(json.dumps(spec))
    return single


def _photos(folder, small_protocol):
    """RGBA images of two procedural objects (as a user's cut-out photos would be), plus an RGB JPEG."""
    folder.mkdir()
    proto = get_protocol(small_protocol)
    cam = proto.input_cameras[0]
    for oid in ("car", "mug"):
        rgba = render_views(open_dataset("procedural").get(oid).load(), [cam], proto.lighting.inputs).rgba()[0]
        padded = np.zeros((rgba.shape[0], rgba.shape[1] + 40, 4), np.uint8)  # not square: padded, not stretched
        padded[:, 20:-20] = rgba
        Image.fromarray(padded, "RGBA").save(folder / f"{oid}.png")
    Image.new("RGB", (64, 48), (200, 10, 10)).save(folder / "no_alpha.jpg")
    # An RGB photo of the car on a plain grey backdrop: the backdrop is keyed out (no rembg needed).
    rgba = (
        render_views(open_dataset("procedural").get("car").load(), [cam], proto.lighting.inputs).rgba()[0].astype(float)
    )
    grey = np.array([128.0, 128.0, 128.0])
    rgb = rgba[..., :3] * rgba[..., 3:] / 255 + grey * (1 - rgba[..., 3:] / 255)
    Image.fromarray(np.round(rgb).astype(np.uint8), "RGB").save(folder / "car_on_grey.png")
    return folder


def test_images_without_ground_truth_report_input_fidelity_and_mark_the_rest_not_applicable(tmp_path, small_protocol):
    single = _single_input_protocol(small_protocol, tmp_path)
    photos = _photos(tmp_path / "photos", str(single))
    out = tmp_path / "run"
    run_benchmark(RunConfig(f"images:{photos}", ["sphere", "oracle"], str(single), out, lpips=(), progress=False))
    with open(out / "results.csv") as f:
        rows = {(r["method"], r["object"]): r for r in csv.DictReader(f)}
    car = rows[("sphere", "car")]
    assert car["status"] == "ok"
    for column in ("psnr", "ssim", "chamfer", "fscore", "normal_consistency", "volume_iou"):
        assert car[column] == "n/a", column
    assert 5 < float(car["input_psnr"]) < 60 and 0 < float(car["input_mask_iou"]) <= 1
    assert car["usable_as_is"] == "1" and float(car["time_s"]) >= 0
    assert rows[("oracle", "car")]["status"] == "skipped" and "needs a ground truth" in rows[("oracle", "car")]["error"]
    jpeg = rows[("sphere", "no_alpha")]
    assert jpeg["status"] == "failed" and "rembg" in jpeg["error"] and "no_alpha.jpg" in jpeg["error"]
    keyed = rows[("sphere", "car_on_grey")]
    assert keyed["status"] == "ok", keyed["error"]
    from reconbench.runner.store import ResultsStore

    record = next(
        r
        for r in ResultsStore(out / "results.sqlite", readonly=True).records()
        if r.object == "car_on_grey" and r.method == "sphere"
    )
    assert record.provenance["input_mask"].startswith("uniform background (128, 128, 128) keyed out")
    # the keyed mask is the rendered silhouette (up to edge pixels blended with the backdrop)
    cut = np.asarray(Image.open(out / "inputs" / "car_on_grey" / "000.png"))[..., 3] > 127
    proto = get_protocol(str(single))
    original = (
        render_views(
            open_dataset("procedural").get("car").load(), proto.input_cameras[:1], proto.lighting.inputs
        ).rgba()[0][..., 3]
        > 127
    )
    assert (cut != original).mean() < 0.01
    # report.md and summary.md show the input-view fidelity they measured, and say why the rest is absent
    from reconbench.report import write_report
    from reconbench.results.catalogue import metric

    write_report(out)
    sphere = [float(rows[("sphere", o)]["input_psnr"]) for o in ("car", "mug", "car_on_grey")]
    for name in ("report.md", "summary.md"):
        text = (out / name).read_text()
        assert "No ground truth: dataset images:" in text and "not applicable" in text, name
        view = text.split("## Input-view fidelity", 1)[1].split("\n## ", 1)[0]
        row = next(line for line in view.splitlines() if line.startswith("| sphere | reference | completed |"))
        assert metric("input_psnr").format(sum(sphere) / 3) in row, (name, row)
