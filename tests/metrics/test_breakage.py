"""Breakage detectors on hand-made cases: a collapsed render, a Janus back made by mirroring the front's
appearance, a symmetric object that must not be flagged; object verdicts from a record's metrics."""

import math

import numpy as np
import pytest
import trimesh

from reconbench.assets import MeshAsset
from reconbench.assets.mesh import MeshPart
from reconbench.evaluation import evaluate, prepare_ground_truth
from reconbench.metrics import breakage
from reconbench.metrics.per_view import back_camera
from reconbench.protocol import load_protocol_file
from reconbench.protocol.cameras import orbit_camera

ALEX = ("alex",)


def ball(colour, radius: float = 0.5, centre=(0.0, 0.0, 0.0)) -> MeshAsset:
    """A sphere coloured per vertex by colour(positions relative to its centre)."""
    s = trimesh.creation.icosphere(subdivisions=5, radius=radius)
    v = np.asarray(s.vertices)
    rgba = np.concatenate([colour(v), np.ones((len(v), 1))], 1)
    return MeshAsset((MeshPart(v + np.asarray(centre), np.asarray(s.faces, np.int64), vertex_colors=rgba),))


def front_pattern(v: np.ndarray) -> np.ndarray:
    """Stripes and a two-tone band on the front half (z > 0, toward the input camera), plain grey behind."""
    x, y, z = v.T
    stripes = 0.5 + 0.45 * np.sign(np.sin(14 * x + 3 * y) * np.sin(11 * y))
    front = np.stack([stripes, 0.3 + 0.4 * (x > 0.1), 1 - stripes], 1)
    return np.where((z > 0)[:, None], front, 0.55)


def mirrored_to_back(v: np.ndarray) -> np.ndarray:
    """The front's appearance repeated on the back (mirror through z = 0): a two-faced object."""
    return front_pattern(v * np.array([1.0, 1.0, 0.0]) + np.abs(v) * np.array([0.0, 0.0, 1.0]))


@pytest.fixture(scope="module")
def protocol(small_protocol):
    from pathlib import Path

    return load_protocol_file(Path(small_protocol))


@pytest.fixture(scope="module")
def asymmetric_gt(protocol):
    return prepare_ground_truth(ball(front_pattern), protocol, ALEX)


def score(pred, gt):
    return evaluate(pred, gt, scale="none", align="none", lpips_nets=ALEX)


def test_the_back_camera_is_the_input_camera_turned_half_way_round():
    cam = orbit_camera("in", "input", 20.0, 30.0, 2.0, 49.1, 64, 64)
    expected = orbit_camera("x", "heldout", 20.0, 210.0, 2.0, 49.1, 64, 64)
    back = back_camera(cam)
    assert np.allclose(back.c2w, expected.c2w) and back.azimuth == 210.0 and back.role == "heldout"


def test_a_faithful_prediction_is_sound(asymmetric_gt):
    result = score(ball(front_pattern), asymmetric_gt)
    m = result.metrics
    assert m["janus_margin"] == pytest.approx(0.0, abs=1e-6) and m["janus_lpips_gt"] > 0.2
    assert m["collapsed_views"] == 0 and m["sharpness"] == pytest.approx(1.0)
    assert breakage.reasons("ok", m) == []
    assert len(result.views["name"]) == len(asymmetric_gt.protocol.cameras) and result.views["collapsed"] == [0] * len(
        result.views["name"]
    )


def test_a_janus_back_is_flagged(asymmetric_gt):
    m = score(ball(mirrored_to_back), asymmetric_gt).metrics
    assert m["janus_lpips"] < 0.05 and m["janus_margin"] > 2 * breakage.THRESHOLDS.janus_margin
    assert breakage.reasons("ok", m) == ["janus"]


def test_a_symmetric_object_predicted_faithfully_is_not_flagged(protocol):
    """The truth itself shows the front's appearance at the back: the prediction's back resembles the input
    as much as the truth's does, so the margin is ~0 although the raw resemblance is total."""
    gt = prepare_ground_truth(ball(mirrored_to_back), protocol, ALEX)
    m = score(ball(mirrored_to_back), gt).metrics
    assert m["janus_lpips"] < 0.05 and m["janus_lpips_gt"] < 0.05
    assert m["janus_margin"] < breakage.THRESHOLDS.janus_margin
    assert "janus" not in breakage.reasons("ok", m)


def test_a_collapsed_prediction_is_flagged(asymmetric_gt):
    """A tiny ball off to the side: every view's silhouette misses the truth's."""
    m = score(ball(front_pattern, radius=0.08, centre=(0.4, 0.4, 0.0)), asymmetric_gt).metrics
    assert m["broken_view_share"] == 1.0 and m["collapsed_views"] == 8
    assert "collapse" in breakage.reasons("ok", m)


def test_without_lpips_janus_is_not_measured_and_never_fires(protocol):
    gt = prepare_ground_truth(ball(front_pattern), protocol, ())
    m = evaluate(ball(mirrored_to_back), gt, scale="none", align="none", lpips_nets=()).metrics
    assert math.isnan(m["janus_margin"]) and "janus" not in breakage.reasons("ok", m)


def test_object_verdicts_from_record_metrics():
    t = breakage.THRESHOLDS
    assert breakage.reasons("failed", {}) == ["failed"]
    with pytest.raises(ValueError, match="skipped"):
        breakage.reasons("skipped", {})
    sound = {"broken_view_share": 0.0, "janus_margin": 0.0, "floater_area_share": 0.0, "boundary_edge_share": 0.0}
    assert breakage.object_flags(sound) == {"broken": 0.0, "broken_by": ""}
    splat = {
        "extracted_floater_area_share": t.floater_area_share + 0.01,
        "extracted_boundary_edge_share": t.boundary_edge_share + 0.01,
    }
    assert breakage.reasons("ok", splat) == ["floaters", "holes"]
    assert breakage.object_flags({**sound, "broken_view_share": 0.5, "janus_margin": 0.3}) == {
        "broken": 1.0,
        "broken_by": "collapse+janus",
    }
    photo = {"broken_view_share": "n/a", "input_broken_view_share": 1.0}
    assert breakage.reasons("ok", photo) == ["collapse"]


def test_a_view_that_alone_goes_wrong_is_an_outlier_but_worse_back_views_are_not():
    """24 views: front ones near 0.10, back ones (a third) near 0.28, as a single-view method guesses the back;
    nothing is flagged. One view jumping to 0.6 (a floater filling it) is."""
    rng = np.random.default_rng(0)
    errors = np.concatenate([0.10 + rng.normal(0, 0.01, 16), 0.28 + rng.normal(0, 0.02, 8)])
    assert not breakage.error_outliers(errors).any()
    spiked = errors.copy()
    spiked[3] = 0.6
    assert breakage.error_outliers(spiked).tolist() == [k == 3 for k in range(24)]
    assert not breakage.error_outliers(
        np.full(24, 0.1) + np.arange(24) * 1e-4
    ).any()  # tiny spread: the minimum gap holds


def test_an_outlier_view_counts_toward_the_broken_view_share(asymmetric_gt):
    """Per-view LPIPS handed to the per-view scoring with three views far above the rest: 3 of 8 held-out views."""
    from reconbench.metrics.per_view import janus, janus_view
    from reconbench.metrics.per_view import score as score_views
    from reconbench.render import render_views

    proto = asymmetric_gt.protocol
    views = render_views(ball(front_pattern), proto.cameras, proto.lighting.predictions)
    lpips = np.full(len(proto.cameras), 0.1)
    held = [k for k, c in enumerate(proto.cameras) if c.role == "heldout"]
    lpips[held[:3]] = 0.7
    back = janus_view(ball(front_pattern), asymmetric_gt.per_view, proto)
    m = score_views(
        janus(back, asymmetric_gt.per_view), views, views.composited(), asymmetric_gt, {"lpips_alex": lpips}
    )
    assert m["collapsed_views"] == 0 and m["outlier_views"] == 3 and m["broken_view_share"] == 3 / 8
    assert m["views"]["outlier"] == [int(k in held[:3]) for k in range(len(proto.cameras))]
