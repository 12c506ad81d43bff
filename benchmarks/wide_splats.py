"""Seconds per view to draw Gaussian splat clouds with and without the drawer's early termination:
a cloud of small Gaussians (an ordinary method output) and one where every Gaussian covers the whole
screen (the hostile case of docs/protocol.md, "Gaussian splats"; without termination its cost is
N x pixels fragments per view).

    python benchmarks/wide_splats.py [--n 20000] [--views 2] [--protocol default]

"without" draws everything in one batch, as the drawer did before early termination.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from reconbench.assets import GaussianSplats
from reconbench.protocol import UNLIT, get_protocol
from reconbench.render import render_views, splat_renderer


def cloud(n: int, std: float, seed: int = 0) -> GaussianSplats:
    rng = np.random.default_rng(seed)
    return GaussianSplats(
        rng.uniform(-0.5, 0.5, (n, 3)),
        np.full((n, 3), std),
        np.tile([1.0, 0, 0, 0], (n, 1)),
        np.full(n, 0.5),
        rng.uniform(-1, 1, (n, 1, 3)),
    )


def seconds_per_view(splats: GaussianSplats, cameras, first_batch: int) -> float:
    saved = splat_renderer.FIRST_BATCH
    splat_renderer.FIRST_BATCH = first_batch
    try:
        start = time.perf_counter()
        render_views(splats, cameras, UNLIT)
        return (time.perf_counter() - start) / len(cameras)
    finally:
        splat_renderer.FIRST_BATCH = saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--views", type=int, default=2)
    parser.add_argument("--protocol", default="default")
    args = parser.parse_args()
    cameras = list(get_protocol(args.protocol).cameras[: args.views])
    render_views(cloud(100, 0.01), cameras[:1], UNLIT)  # GL context and shaders, not timed
    print(f"{args.n} Gaussians, {cameras[0].width}x{cameras[0].height}, {len(cameras)} view(s)")
    print(f"{'cloud':32s} {'with s/view':>12s} {'without s/view':>15s}")
    for label, std in (("small (std 0.01)", 0.01), ("screen-covering (std e^5)", float(np.exp(5.0)))):
        splats = cloud(args.n, std)
        with_t = seconds_per_view(splats, cameras, splat_renderer.FIRST_BATCH)
        without_t = seconds_per_view(splats, cameras, args.n)
        print(f"{label:32s} {with_t:12.2f} {without_t:15.2f}")


if __name__ == "__main__":
    main()
