"""Input photos without alpha: a plain uniform background is keyed out; anything else needs rembg."""

import numpy as np
import pytest
from PIL import Image

from reconbench.assets import AssetLoadError
from reconbench.datasets.images import load_input_image_with_mask


def _photo_on_plain_background(path, background=(90, 140, 200), noise=0):
    """A red disc with a background-coloured hole, on a uniform background (JPEG-like noise optional)."""
    rng = np.random.default_rng(0)
    pixels = np.tile(np.array(background, np.int16), (60, 80, 1))
    j, i = np.mgrid[0:60, 0:80]
    r = np.hypot(i - 40, j - 30)
    pixels[r < 20] = (220, 30, 30)
    pixels[r < 6] = background  # a hole of the background colour inside the object: part of the object
    if noise:
        pixels += rng.integers(-noise, noise + 1, pixels.shape)
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB").save(path)
    return path, r


@pytest.mark.parametrize("noise", [0, 6])
def test_a_uniform_background_is_keyed_out_and_recorded(tmp_path, noise):
    path, r = _photo_on_plain_background(tmp_path / "p.png", noise=noise)
    rgba, how = load_input_image_with_mask(path, 80)
    assert how.startswith("uniform background (90, 140, 200) keyed out")
    alpha = rgba[10:70, :, 3]  # the 60-row photo sits in the middle of the 80x80 square
    assert (alpha[r < 19] == 255).all() and (alpha[r > 21] == 0).all()  # the hole is kept


def test_a_busy_background_without_rembg_is_a_clear_error(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "rembg", None)  # import rembg -> ImportError
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8), "RGB").save(tmp_path / "busy.png")
    with pytest.raises(AssetLoadError, match=r"busy.png: .*not one uniform colour.*rembg is not installed"):
        load_input_image_with_mask(tmp_path / "busy.png", 32)


def test_an_input_photo_over_the_pixel_limit_is_refused_before_decoding(tmp_path, monkeypatch):
    path, _ = _photo_on_plain_background(tmp_path / "p.png")
    monkeypatch.setenv("RECONBENCH_MAX_TEXTURE_PIXELS", "1000")
    with pytest.raises(AssetLoadError, match=r"image 80x60: 4,800 pixels is over the limit of 1,000 pixels"):
        load_input_image_with_mask(path, 32)


def test_alpha_comes_first(tmp_path):
    rgba = np.zeros((20, 20, 4), np.uint8)
    rgba[5:15, 5:15] = (10, 200, 10, 255)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    _, how = load_input_image_with_mask(tmp_path / "a.png", 20)
    assert how == "alpha channel"
