"""Saving a job's renders: the prediction at every protocol view as `renders/METHOD/OBJECT/NAME_ROLE.png`,
for the report (its qualitative grid and worst-views strip show them as 160-px thumbnails) and for people
to look at. Scoring never reads them back.

The run option `renders` (`reconbench run --renders`) says how:
- `small` (default): longest side at most SMALL_RENDER_PX = 256 px (a box average by a whole factor:
  512² views become 256²), enough for everything the report shows, at a quarter of the pixels to encode;
- `full`: the protocol's resolution (what every run wrote before this option existed);
- `none`: no image (views.json, the per-view values, is still written; the report then says "no render").

The PNGs are encoded on two background threads per process (`RenderWriter`), submitted as soon as the
headline renders exist, while the job goes on (usability, stage attribution, anytime snapshots, hashing
its asset); the job waits for them before its record is returned, so a committed record never points at
renders still being written, and a write that fails becomes a warning on the job's record (the scores do
not depend on it). A job that fails after submitting them waits and removes them (`discard`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from PIL import Image

from reconbench.render import RenderedViews

RENDER_OPTIONS = ("small", "full", "none")
DEFAULT_RENDERS = "small"
SMALL_RENDER_PX = 256


def check_renders_option(value: str) -> str:
    """`value` if it is one of RENDER_OPTIONS, else a ValueError naming them."""
    if value not in RENDER_OPTIONS:
        raise ValueError(f"renders {value!r}: choose one of {', '.join(RENDER_OPTIONS)}")
    return value


def write_renders(renders: RenderedViews, folder: Path, size: str, views: Sequence[int] | None = None) -> list[Path]:
    """Write one PNG per view (composited on white, the scoring background) at `size`, of every view or of
    those given by index; the paths written."""
    check_renders_option(size)
    if size == "none":
        return []
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for k in range(len(renders.cameras)) if views is None else views:
        cam = renders.cameras[k]
        path = folder / f"{cam.name}_{cam.role}.png"
        shrink(composited(renders, k), SMALL_RENDER_PX if size == "small" else None).save(path, compress_level=1)
        written.append(path)
    return written


def composited(renders: RenderedViews, k: int) -> Image.Image:
    """View k as `RenderedViews.composited_uint8` gives it (the scoring image), one view at a time. A mesh's
    hard mask goes through Pillow's paste, the same pixels at half the cost of the array version (the
    colour where covered, white elsewhere: tests/runner/test_renders.py); soft-edged splats through the
    renderer's own compositing, so the arithmetic lives in one place."""
    if renders.alpha is None:
        image = Image.new("RGB", renders.color.shape[2:0:-1], (255, 255, 255))
        image.paste(Image.fromarray(renders.color[k], "RGB"), mask=Image.fromarray(renders.mask[k]))
        return image
    one = dataclasses.replace(
        renders,
        cameras=renders.cameras[k : k + 1],
        color=renders.color[k : k + 1],
        mask=renders.mask[k : k + 1],
        depth=renders.depth[k : k + 1],
        normal=renders.normal[k : k + 1],
        alpha=renders.alpha[k : k + 1],
    )
    return Image.fromarray(one.composited_uint8()[0], "RGB")


def shrink(image: Image.Image, longest: int | None) -> Image.Image:
    """The image, reduced by the smallest whole factor that brings its longest side to at most `longest`
    (Pillow's box-average `reduce`: every output pixel the mean of a block, no resampling kernel to pick);
    unchanged when it already fits or `longest` is None."""
    if longest is None or max(image.size) <= longest:
        return image
    return image.reduce(-(-max(image.size) // longest))


# Writer threads per process. Pillow's C routines (paste, reduce, PNG encoding) release the GIL for most of
# their work, so while the job's own thread scores one of them uses another core, and once it waits both
# work (benchmarks/harness_overhead.py prints how long the job still waits for them).
WRITER_THREADS = 2


class RenderWriter:
    """Writes renders on background threads (the views shared between them). `submit` returns at once;
    `wait` blocks until that write is done and says what went wrong, if anything. `background=False` keeps
    the harness as it was (for benchmarks/harness_overhead.py): nothing happens until `wait`, which then
    writes in the caller's thread."""

    def __init__(self, background: bool = True) -> None:
        self._pool = (
            ThreadPoolExecutor(WRITER_THREADS, thread_name_prefix="reconbench-render-writer") if background else None
        )

    def submit(self, renders: RenderedViews, folder: Path, size: str) -> _Pending | _Deferred:
        if self._pool is None:
            return _Deferred(renders, folder)  # full size, whatever `size` asks: the harness as it was
        views = range(len(renders.cameras))
        return _Pending(
            [
                self._pool.submit(write_renders, renders, folder, size, views[i::WRITER_THREADS])
                for i in range(WRITER_THREADS)
            ]
        )

    def close(self) -> None:
        """Finish every submitted write, then stop the threads (end of a run, or of the process)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


class _Pending:
    """One job's write, shared between the writer threads (a Future's `result` interface)."""

    def __init__(self, parts: list[Future]) -> None:
        self.parts = parts

    def result(self) -> list[Path]:
        """Every path written, once all parts are done; the first part's error, if one failed."""
        errors = [error for error in (part.exception() for part in self.parts) if error is not None]  # waits
        if errors:
            raise errors[0]
        return [path for part in self.parts for path in part.result()]


class _Deferred:
    """A write done when its result is asked for (`wait`, once), in the asking thread (a Future's `result`
    interface), the way the harness wrote them before: every view composited at once, then encoded at full
    size."""

    def __init__(self, renders: RenderedViews, folder: Path) -> None:
        self.renders, self.folder = renders, folder

    def result(self) -> list[Path]:
        self.folder.mkdir(parents=True, exist_ok=True)
        written = []
        for image, cam in zip(self.renders.composited_uint8(), self.renders.cameras):
            written.append(self.folder / f"{cam.name}_{cam.role}.png")
            Image.fromarray(image, "RGB").save(written[-1], compress_level=1)
        return written


def discard(pending: _Pending | _Deferred | None) -> None:
    """Wait for a submitted write and remove what it wrote: the job failed after its renders were submitted,
    and a failed job leaves no renders (the report shows "no render (failed)")."""
    if pending is None:
        return
    if isinstance(pending, _Deferred):  # never written: nothing to remove
        return
    for part in pending.parts:  # what the parts that worked wrote
        if part.exception() is None:
            for path in part.result():
                path.unlink(missing_ok=True)


def wait(pending: _Pending | _Deferred, folder: Path) -> list[str]:
    """Block until a submitted write is done: [] when it worked, else the warning to record with the job."""
    try:
        pending.result()
    except Exception as exc:  # a full disk, an unwritable folder: the job's scores stand, its renders are missing
        return [f"renders not saved to {folder}: {type(exc).__name__}: {exc}"]
    return []
