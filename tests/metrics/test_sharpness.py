"""Sharpness: the truth scores 1, blur lowers it monotonically, noise raises it, a small shift barely moves it."""

from dataclasses import replace

import numpy as np
import pytest
from scipy import ndimage

from reconbench.datasets import open_dataset
from reconbench.metrics.sharpness import mean_sharpness, per_view_sharpness, sharpness_ratio
from reconbench.protocol import get_protocol
from reconbench.render import render_views


@pytest.fixture(scope="module")
def renders():
    """Two held-out views of two textured procedural objects (default protocol, 512x512, scoring shading)."""
    proto = get_protocol("default")
    cams = [proto.heldout_cameras[0], proto.heldout_cameras[5]]
    out = []
    for obj in ("mug", "car"):
        mesh = open_dataset("procedural").get(obj).load()
        views = render_views(mesh, cams, proto.lighting.references)
        out.append((mesh, cams, views.composited(), views.mask))
    return proto, out


def test_the_ground_truth_scores_exactly_one(renders):
    _, objects = renders
    for _, _, images, masks in objects:
        assert np.array_equal(per_view_sharpness(images, masks, images, masks), np.ones(len(images)))


def test_gaussian_blur_lowers_it_monotonically_with_its_width(renders):
    _, objects = renders
    for _, _, images, masks in objects:
        for image, mask in zip(images, masks):
            scores = [
                sharpness_ratio(ndimage.gaussian_filter(image, (s, s, 0)), mask, image, mask) for s in (0.5, 1, 2, 3, 4)
            ]
            assert 1 > scores[0] and all(a > b for a, b in zip(scores, scores[1:])), scores
            assert scores[-1] < 0.6


def test_added_noise_raises_it(renders):
    _, objects = renders
    rng = np.random.default_rng(0)
    for _, _, images, masks in objects:
        image, mask = images[0], masks[0]
        scores = [
            sharpness_ratio(np.clip(image + rng.normal(0, s, image.shape), 0, 1), mask, image, mask)
            for s in (0.02, 0.05, 0.1)
        ]
        assert 1 < scores[0] < scores[1] < scores[2], scores


def test_a_one_pixel_camera_shift_barely_changes_it(renders):
    """The truth rendered again with its principal point moved by one pixel (a real re-rasterisation, not
    an array roll) scores within 3 % of 1, while a blur of 1 px already costs over 10 %."""
    proto, objects = renders
    for mesh, cams, images, masks in objects:
        moved = [replace(c, cx=c.cx + 1.0, cy=c.cy - 0.5) for c in cams]
        shifted = render_views(mesh, moved, proto.lighting.references)
        assert not np.array_equal(shifted.mask, masks)
        for k in range(len(cams)):
            assert sharpness_ratio(shifted.composited()[k], shifted.mask[k], images[k], masks[k]) == pytest.approx(
                1.0, abs=0.03
            )
            assert sharpness_ratio(ndimage.gaussian_filter(images[k], (1, 1, 0)), masks[k], images[k], masks[k]) < 0.9


def test_the_background_does_not_count(renders):
    """Repainting everything outside the silhouette (and the 3-pixel rim) leaves the score unchanged."""
    _, objects = renders
    _, _, images, masks = objects[0]
    image, mask = images[0], masks[0]
    noisy_bg = image.copy()
    outside = ~ndimage.binary_dilation(mask, iterations=1)
    noisy_bg[outside] = np.random.default_rng(1).random((int(outside.sum()), 3))
    assert sharpness_ratio(noisy_bg, mask, image, mask) == pytest.approx(1.0, abs=1e-9)


def test_a_flat_truth_or_an_empty_render_is_undefined_and_a_flat_render_scores_zero(renders):
    _, objects = renders
    _, _, images, masks = objects[0]
    image, mask = images[0], masks[0]
    flat = np.where(mask[..., None], np.float32(0.4), np.float32(1.0))
    assert np.isnan(sharpness_ratio(image, mask, flat, mask))
    assert np.isnan(sharpness_ratio(image, np.zeros_like(mask), image, mask))
    assert sharpness_ratio(flat, mask, image, mask) == 0.0
    assert mean_sharpness(np.array([0.0, 1.0, np.nan])) == 0.5


def test_the_crop_to_the_silhouette_changes_nothing():
    """gradient_rms works on the silhouette's bounding box; the full-frame computation gives the same value
    (masks touching the image border included)."""
    from reconbench.metrics.sharpness import gradient_rms, interior

    def full_frame(image, mask):
        energy = sum(
            ndimage.sobel(image[..., c], axis=a, mode="nearest").astype(np.float64) ** 2 / 64
            for c in range(3)
            for a in (0, 1)
        )
        return float(np.sqrt(energy[interior(mask)].mean() / 3))

    rng = np.random.default_rng(0)
    for trial in range(4):
        image = rng.random((96, 96, 3)).astype(np.float32)
        mask = np.zeros((96, 96), bool)
        r, c = rng.integers(0, 60, 2)
        mask[r : r + 30, c : c + 36] = True
        if trial % 2:
            mask[:12, :20] = True  # a second part on the border
        assert gradient_rms(image, mask) == pytest.approx(full_frame(image, mask), rel=1e-12)
