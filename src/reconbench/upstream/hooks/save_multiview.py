"""Keep the multi-view images a two-stage method generates in memory only, then run the upstream script.

LGM's infer.py passes ImageDream's views straight to its reconstruction model and never writes them
(infer.py:91-92 at fe8d12c). This wraps the `__call__` of the pipeline class named by --pipeline so that
each call's returned images are also written as one row, then runs SCRIPT in this same process (as
`python SCRIPT ARGS` would: as __main__, same argv, the script's folder first on sys.path):

    python save_multiview.py --pipeline MODULE:CLASS --dest DIR [--views N] -- SCRIPT ARGS...

Each call k writes DIR/mv_<k>.png: the first N images the pipeline returned ((N', H, W, 3) floats in
[0, 1], as MVDreamPipeline returns with output_type "numpy"), side by side, 8-bit RGB. Nothing else
changes: the images are returned to the caller untouched. Standard library plus numpy and PIL, which the
environments that use it have. Not run here (LGM needs CUDA); its file handling is tested on CPU.
"""

from __future__ import annotations

import argparse
import importlib
import os
import runpy
import sys


def fail(message: str) -> None:
    print(f"save_multiview: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def write_row(images, path: str, views: int) -> None:
    import numpy as np
    from PIL import Image

    stack = np.asarray(images, dtype=np.float32)
    if stack.ndim != 4 or stack.shape[-1] != 3 or len(stack) < views:
        fail(f"expected at least {views} images of shape (H, W, 3), got an array of shape {stack.shape}")
    row = np.concatenate(list(stack[:views]), axis=1)
    Image.fromarray(np.round(np.clip(row, 0, 1) * 255).astype(np.uint8), "RGB").save(path)
    print(f"save_multiview: {views} views written to {path}", flush=True)


def wrap(cls, dest: str, views: int) -> None:
    original = cls.__call__
    calls = [0]

    def __call__(self, *args, **kwargs):
        images = original(self, *args, **kwargs)
        write_row(images, os.path.join(dest, f"mv_{calls[0]}.png"), views)
        calls[0] += 1
        return images

    cls.__call__ = __call__


def main(argv: list[str]) -> None:
    if "--" not in argv:
        fail("give the command to run after --")
    own, command = argv[: argv.index("--")], argv[argv.index("--") + 1 :]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipeline", required=True, metavar="MODULE:CLASS")
    parser.add_argument("--dest", required=True)
    parser.add_argument("--views", type=int, default=4)
    args = parser.parse_args(own)
    if not command:
        fail("give the command to run after --")
    script = os.path.abspath(command[0])
    sys.argv = list(command)
    sys.path[0] = os.path.dirname(script)  # the upstream checkout: its packages import as the script's would
    module, _, name = args.pipeline.partition(":")
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        fail(f"cannot find the pipeline {args.pipeline} ({type(exc).__name__}: {exc})")
    os.makedirs(args.dest, exist_ok=True)
    wrap(cls, args.dest, args.views)
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
