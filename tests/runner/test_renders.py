"""Saving a job's renders: the saved PNGs are the scoring images (at the protocol's size, or box-averaged to
at most 256 px), written on a background thread that is waited for, whose failures are reported, and
that finishes its queue on close."""

import threading

import numpy as np
import pytest
from PIL import Image

from reconbench.protocol import get_protocol
from reconbench.render import RenderedViews
from reconbench.runner import renders
from reconbench.runner.renders import SMALL_RENDER_PX, RenderWriter, composited, discard, wait, write_renders


def _views(size=512, views=3, soft=False, seed=0) -> RenderedViews:
    """Renderer-shaped output with random colour everywhere (also off the object, where it must not show)."""
    rng = np.random.default_rng(seed)
    cameras = tuple(get_protocol("default").cameras[:views])
    yy, xx = np.mgrid[:size, :size]
    disc = (yy - size / 2) ** 2 + (xx - size / 3) ** 2 < (size / 4) ** 2
    mask = np.stack([np.roll(disc, 7 * k, axis=1) for k in range(views)])
    color = rng.integers(0, 256, (views, size, size, 3), dtype=np.uint8)
    alpha = np.where(mask, rng.uniform(0.2, 1.0, mask.shape), 0.0).astype(np.float32) if soft else None
    depth = np.zeros((views, size, size), np.float32)
    return RenderedViews(cameras, color, mask, depth, np.zeros((views, size, size, 3), np.float32), alpha)


def _read(path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


@pytest.mark.parametrize("soft", [False, True], ids=["mesh", "splats"])
def test_each_saved_view_is_the_scoring_image(soft):
    views = _views(size=64, soft=soft)
    expected = views.composited_uint8()
    for k in range(len(views)):
        assert np.array_equal(np.asarray(composited(views, k)), expected[k])


def test_full_renders_are_the_scoring_images_at_the_protocol_resolution(tmp_path):
    views = _views(size=320)
    written = write_renders(views, tmp_path, "full")
    assert [p.name for p in written] == [f"{c.name}_{c.role}.png" for c in views.cameras]
    for path, image in zip(written, views.composited_uint8()):
        assert np.array_equal(_read(path), image)


@pytest.mark.parametrize("size, factor", [(512, 2), (600, 3), (256, 1), (128, 1)])
def test_small_renders_are_the_block_means_of_the_scoring_images(tmp_path, size, factor):
    views = _views(size=size)
    written = write_renders(views, tmp_path, "small")
    for path, image in zip(written, views.composited_uint8()):
        saved = _read(path)
        assert max(saved.shape[:2]) <= SMALL_RENDER_PX and saved.shape[0] == size // factor
        h = saved.shape[0] * factor  # Pillow's reduce averages the last partial block too; compare whole blocks
        means = image[:h, :h].reshape(h // factor, factor, h // factor, factor, 3).mean(axis=(1, 3))
        assert np.abs(saved.astype(float) - means).max() < 1  # the mean, rounded (Pillow: in fixed point)


def test_none_writes_no_image_and_an_unknown_option_is_refused(tmp_path):
    assert write_renders(_views(size=32), tmp_path / "r", "none") == []
    assert not (tmp_path / "r").exists()
    with pytest.raises(ValueError, match="small, full, none"):
        write_renders(_views(size=32), tmp_path, "thumbs")


def test_the_writer_writes_on_its_own_thread_and_wait_returns_when_written(tmp_path, monkeypatch):
    threads = []
    real = renders.write_renders

    def spy(*args):
        threads.append(threading.current_thread().name)
        return real(*args)

    monkeypatch.setattr(renders, "write_renders", spy)
    writer = RenderWriter()
    try:
        pending = writer.submit(_views(size=64), tmp_path, "full")
        assert wait(pending, tmp_path) == []
        assert len(list(tmp_path.glob("*.png"))) == 3
        assert threads and threads[0].startswith("reconbench-render-writer")
    finally:
        writer.close()


def test_a_failed_write_is_reported_as_a_warning_naming_the_folder(tmp_path):
    blocker = tmp_path / "renders"
    blocker.write_text("a file where the folder should be")
    writer = RenderWriter()
    try:
        warnings = wait(writer.submit(_views(size=32), blocker / "sphere", "full"), blocker / "sphere")
    finally:
        writer.close()
    assert len(warnings) == 1 and warnings[0].startswith(f"renders not saved to {blocker / 'sphere'}: ")


def test_close_finishes_every_submitted_write(tmp_path):
    writer = RenderWriter()
    for k in range(4):
        writer.submit(_views(size=128, seed=k), tmp_path / str(k), "full")
    writer.close()
    assert all(len(list((tmp_path / str(k)).glob("*.png"))) == 3 for k in range(4))


@pytest.mark.parametrize("background", [True, False])
def test_discard_leaves_no_render_behind(tmp_path, background):
    writer = RenderWriter(background=background)
    try:
        discard(writer.submit(_views(size=64), tmp_path, "full"))
    finally:
        writer.close()
    assert list(tmp_path.glob("*.png")) == []


def test_the_old_path_writes_the_same_full_size_files_when_waited_for(tmp_path):
    views = _views(size=64)
    pending = RenderWriter(background=False).submit(views, tmp_path / "old", "small")
    assert not (tmp_path / "old").exists()  # nothing until the job waits for it, as the harness did before
    assert wait(pending, tmp_path / "old") == []
    write_renders(views, tmp_path / "new", "full")
    for path in sorted((tmp_path / "new").glob("*.png")):
        assert np.array_equal(_read(path), _read(tmp_path / "old" / path.name))
