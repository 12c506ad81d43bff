"""A tiny "reconstruction method" with known stage durations, standard library only.

python -m tiny_recon IMAGE [IMAGE ...] --out DIR [--load-s S] [--gen-s S] [--alloc-mb MB] [--fail] [--elevation DEG]
                     [--views AZ:EL,AZ:EL,... --views-fov DEG --views-distance D --views-size N]

Like TripoSR's run.py: "loads a model" once (sleeps), then for each input checks it is a PNG,
"generates" (holds --alloc-mb of memory and sleeps) and writes DIR/<index>/mesh.obj: an axis-aligned
box, taller than wide, with vertex colours, in TripoSR's frame (z up, front toward +X), so the caller
must convert it.

With --views, it is a two-stage method: before the box it writes DIR/<index>/views.png, one row of
"generated" views of that same box (flat colour, white background, ray cast exactly) at the given
azimuth:elevation pairs (reconbench's orbit convention about the converted axes: azimuth 0 on the front,
file +X; azimuth 90 on file +Y, which is canonical +X), vertical fov and distance (in file units).
"""

import argparse
import math
import struct
import sys
import time
import zlib

COLOUR = (0.8, 0.3, 0.2)
HALF = (0.3, 0.2, 0.45)  # the box's half extents, in the file's frame


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


def camera(azimuth, elevation, distance):
    """Eye, right, up, forward in the file's frame (z up, front +X) of reconbench's orbit camera: canonical
    (X, Y, Z) is the file's (y, z, x), and the canonical camera sits at r(cos e sin a, sin e, cos e cos a)."""
    a, e = math.radians(azimuth), math.radians(elevation)
    eye = (distance * math.cos(e) * math.cos(a), distance * math.cos(e) * math.sin(a), distance * math.sin(e))
    fwd = unit(tuple(-c for c in eye))
    right = unit(cross(fwd, (0.0, 0.0, 1.0)))
    return eye, right, cross(right, fwd), fwd


def cross(u, v):
    return (u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0])


def unit(v):
    n = math.sqrt(sum(c * c for c in v))
    return tuple(c / n for c in v)


def hits_box(origin, direction):
    """Slab test of the ray against the box centred at the origin."""
    near, far = -math.inf, math.inf
    for o, d, h in zip(origin, direction, HALF):
        if abs(d) < 1e-12:
            if abs(o) > h:
                return False
            continue
        t0, t1 = sorted(((-h - o) / d, (h - o) / d))
        near, far = max(near, t0), min(far, t1)
    return near <= far and far > 0


def render_row(cams, fov, distance, size):
    """size x (size * len(cams)) RGB rows: the box in flat colour on white, one pixel-centre ray each."""
    colour = bytes(round(c * 255) for c in COLOUR)
    f = (size / 2) / math.tan(math.radians(fov) / 2)
    frames = [camera(az, el, distance) for az, el in cams]
    rows = []
    for j in range(size):
        row = bytearray()
        for eye, right, up, fwd in frames:
            for i in range(size):
                x, y = (i + 0.5 - size / 2) / f, -(j + 0.5 - size / 2) / f
                d = tuple(fw + x * r + y * u for fw, r, u in zip(fwd, right, up))
                row += colour if hits_box(eye, d) else b"\xff\xff\xff"
        rows.append(bytes(row))
    return rows


def write_png(path, rows):
    """An 8-bit RGB PNG from rows of bytes (standard library only)."""
    height, width = len(rows), len(rows[0]) // 3

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + r for r in rows)
    with open(path, "wb") as f:
        f.write(
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b"")
        )


def main(argv=None):
    p = argparse.ArgumentParser(prog="tiny_recon")
    p.add_argument("images", nargs="+")
    p.add_argument("--out", required=True)
    p.add_argument("--load-s", type=float, default=0.0)
    p.add_argument("--gen-s", type=float, default=0.0)
    p.add_argument("--alloc-mb", type=int, default=0)
    p.add_argument("--fail", action="store_true")
    p.add_argument("--elevation", type=float, default=None, help="the input camera's elevation, only printed")
    p.add_argument("--views", help="AZ:EL,AZ:EL,...: also write DIR/<index>/views.png, the box seen from there")
    p.add_argument("--views-fov", type=float, default=40.0)
    p.add_argument("--views-distance", type=float, default=2.0)
    p.add_argument("--views-size", type=int, default=64)
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
        if args.views:
            cams = [tuple(float(x) for x in pair.split(":")) for pair in args.views.split(",")]
            rows = render_row(cams, args.views_fov, args.views_distance, args.views_size)
            write_png(os.path.join(args.out, str(index), "views.png"), rows)
        with open(os.path.join(args.out, str(index), "mesh.obj"), "w") as f:
            f.write(box_obj(HALF))  # TripoSR frame: depth along x, width along y, height along z
        print(f"generation done ({width}x{height} input)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
