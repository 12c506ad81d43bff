import numpy as np
import pytest
from conftest import needs_cuda
from scipy.ndimage import gaussian_filter

from reconbench.metrics.image import SSIM_RADIUS, _ssim_map, mask_iou, psnr, psnr_and_masked, ssim


def _object_images(seed=0, n=3, size=64):
    """White images with a noisy coloured blob, like renders composited on white."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    out = np.ones((n, size, size, 3), np.float32)
    for k in range(n):
        cy, cx = rng.uniform(20, 44, 2)
        blob = (yy - cy) ** 2 + (xx - cx) ** 2 < rng.uniform(60, 200)
        out[k][blob] = rng.uniform(0, 1, (blob.sum(), 3))
    return out


def _ssim_from_the_formula(a, b):
    """Wang et al. 2004 with a Gaussian window (sigma 1.5, truncated at 3.5 sigma), population
    statistics, mean over the image less the 5-pixel border, averaged over channels."""
    c1, c2 = 0.01**2, 0.03**2
    values = []
    for ch in range(3):
        x, y = a[..., ch].astype(np.float64), b[..., ch].astype(np.float64)
        f = lambda z: gaussian_filter(z, 1.5, truncate=3.5)  # noqa: E731
        mx, my = f(x), f(y)
        vx, vy, cxy = f(x * x) - mx * mx, f(y * y) - my * my, f(x * y) - mx * my
        s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
        values.append(s[5:-5, 5:-5].mean())
    return np.mean(values)


def test_psnr_of_a_known_error():
    gt = np.ones((1, 8, 8, 3), np.float32)
    pred = gt.copy()
    pred[0, :2] -= 0.5  # 2 of 8 rows off by 0.5: MSE = 0.25 * 2 / 8
    assert psnr(pred, gt)[0] == pytest.approx(-10 * np.log10(0.25 * 2 / 8), rel=1e-6)
    mask = np.zeros((1, 8, 8), bool)
    mask[0, :4] = True  # half of the masked pixels are wrong
    assert psnr(pred, gt, mask)[0] == pytest.approx(-10 * np.log10(0.125), rel=1e-6)
    assert psnr(gt, gt)[0] == np.inf


def test_psnr_and_masked_in_one_pass_equal_the_two_separate_values():
    rng = np.random.default_rng(5)
    gt = rng.random((3, 20, 24, 3), dtype=np.float32)
    pred = np.clip(gt + rng.normal(0, 0.05, gt.shape).astype(np.float32), 0, 1)
    mask = rng.random((3, 20, 24)) > 0.6
    mask[2] = False  # an empty mask: the guarded division
    whole, masked = psnr_and_masked(pred, gt, mask)
    np.testing.assert_array_equal(whole, psnr(pred, gt))
    np.testing.assert_array_equal(masked, psnr(pred, gt, mask))
    assert not np.array_equal(whole, masked)


@pytest.mark.parametrize(
    "rows,cols",
    [
        (slice(0, 1), slice(0, 1)),
        (slice(47, 48), slice(10, 12)),
        (slice(5, 9), slice(39, 40)),
        (slice(0, 48), slice(3, 4)),
    ],
)
def test_ssim_on_the_crop_around_the_content_equals_the_whole_frame(rows, cols):
    """Content in a corner, on the last row, in the last column, in one column of every row: the crop's value is
    the whole frame's mean over its valid region (which the crop must find in both images, along both axes)."""
    rng = np.random.default_rng(7)
    pred, gt = np.ones((1, 48, 40, 3), np.float32), np.ones((1, 48, 40, 3), np.float32)
    pred[0, rows, cols] = rng.random(pred[0, rows, cols].shape)
    gt[0, 20:22, 20:22] = 0.3  # the other image has content elsewhere
    r = SSIM_RADIUS
    whole = _ssim_map(pred[0], gt[0], 1.0)[r:-r, r:-r].astype(np.float64).mean()
    assert ssim(pred, gt)[0] == pytest.approx(whole, abs=1e-9)
    assert ssim(pred, gt)[0] < 1


def test_ssim_matches_the_formula_computed_independently():
    a, b = _object_images(0), _object_images(1)
    ours = ssim(a, b)
    for k in range(len(a)):
        assert ours[k] == pytest.approx(_ssim_from_the_formula(a[k], b[k]), abs=1e-5)
    assert np.allclose(ssim(a, a), 1.0)


def test_ssim_of_blank_views_is_one_and_objects_lower_it():
    blank = np.ones((1, 32, 32, 3), np.float32)
    assert ssim(blank, blank)[0] == 1.0
    assert ssim(_object_images(2, n=1, size=32), blank)[0] < 0.99


def test_mask_iou():
    a = np.zeros((2, 4, 4), bool)
    b = np.zeros((2, 4, 4), bool)
    a[0, :2], b[0, 1:3] = True, True  # 4 shared of 12 pixels
    assert np.allclose(mask_iou(a, b), [1 / 3, 1.0])


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=[pytest.mark.gpu, needs_cuda])])
@pytest.mark.parametrize("data_range,border", [(1.0, "crop"), (None, "crop"), (None, "reflect"), (1.0, "reflect")])
def test_the_torch_ssim_for_gpus_matches_scikit_image(device, data_range, border):
    """ssim(device=...) takes the torch path (all views at once, the GPU's); on the CPU it must give
    scikit-image's values (which compute in float32) to float32 precision, in every variant."""
    a, b = _object_images(0, 4), _object_images(1, 4)
    b[1] = a[1] * 0.5 + 0.25  # one view with a different data range (the per-view range of torchmetrics)
    reference = ssim(a, b, data_range=data_range, border=border)
    torch_path = ssim(a, b, data_range=data_range, border=border, device=device)
    assert np.abs(torch_path - reference).max() < (2e-6 if device == "cpu" else 1e-5)  # float32 on the GPU
    assert np.ptp(reference) > 0.05  # views differ: a view-order mistake would show
    assert ssim(a, a, device=device) == pytest.approx(np.ones(4), abs=1e-12)


@pytest.mark.parametrize("border", ["crop", "reflect"])
def test_ssim_over_threads_equals_one_view_at_a_time(border, monkeypatch):
    """Views scored on a thread pool give, view for view, the value each gets scored alone on one thread."""
    rng = np.random.default_rng(3)
    pred = np.ones((5, 48, 40, 3), np.float32)
    gt = np.ones_like(pred)
    pred[:4, 10:30, 8:30] = rng.random((4, 20, 22, 3))
    gt[:4, 12:34, 6:28] = rng.random((4, 22, 22, 3))  # the fifth view is blank in both: exactly 1
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    pooled = ssim(pred, gt, border=border)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    alone = np.array([ssim(pred[k : k + 1], gt[k : k + 1], border=border)[0] for k in range(5)])
    np.testing.assert_array_equal(pooled, alone)
    assert pooled[4] == 1.0 and np.all(pooled[:4] < 0.9)
