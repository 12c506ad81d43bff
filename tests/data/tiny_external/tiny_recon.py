"""A tiny "reconstruction method" with known stage durations, standard library only.

python -m tiny_recon IMAGE [IMAGE ...] --out DIR [--load-s S] [--gen-s S] [--alloc-mb MB] [--fail] [--elevation DEG]

Like TripoSR's run.py: "loads a model" once (sleeps), then for each input checks it is a PNG,
"generates" (holds --alloc-mb of memory and sleeps) and writes DIR/<index>/mesh.obj: an axis-aligned
box, taller than wide, with vertex colours, in TripoSR's frame (z up, front toward +X), so the caller
must convert it.
"""

import argparse
import struct
import sys
import time


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit(f"tiny_recon: {path} is not a PNG")
    return struct.unpack(">II", head[16:24])


def box_obj(half):
    hx, hy, hz = half
    corners = [(x, y, z) for x in (-hx, hx) for y in (-hy, hy) for z in (-hz, hz)]
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    lines = [f"v {x} {y} {z} 0.8 0.3 0.2" for x, y, z in corners]
    for a, b, c, d in quads:
        lines += [f"f {a + 1} {b + 1} {c + 1}", f"f {a + 1} {c + 1} {d + 1}"]
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(prog="tiny_recon")
    p.add_argument("images", nargs="+")
    p.add_argument("--out", required=True)
    p.add_argument("--load-s", type=float, default=0.0)
    p.add_argument("--gen-s", type=float, default=0.0)
    p.add_argument("--alloc-mb", type=int, default=0)
    p.add_argument("--fail", action="store_true")
    p.add_argument("--elevation", type=float, default=None, help="the input camera's elevation, only printed")
    args = p.parse_args(argv)
    import os

    if args.elevation is not None:
        print(f"input elevation {args.elevation:g}", flush=True)

    time.sleep(args.load_s)
    print("model loaded", flush=True)
    for index, image in enumerate(args.images):
        width, height = png_size(image)
        block = bytearray(args.alloc_mb * 2**20)
        for i in range(0, len(block), 4096):  # touch every page so it is resident
            block[i] = 1
        time.sleep(args.gen_s)
        del block
        if args.fail:
            print("tiny_recon: failing on purpose", file=sys.stderr, flush=True)
            return 3
        os.makedirs(os.path.join(args.out, str(index)), exist_ok=True)
        with open(os.path.join(args.out, str(index), "mesh.obj"), "w") as f:
            f.write(box_obj((0.3, 0.2, 0.45)))  # TripoSR frame: depth along x, width along y, height along z
        print(f"generation done ({width}x{height} input)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
