"""Object builders: `builder(detail, rng) -> list[MeshPart]`, +Y up, front facing +Z, within about [-1, 1].

Every piece is a closed surface; pieces sharing a material name are merged into one part later.
`detail` multiplies every tessellation count, so the triangle count grows as detail squared.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from reconbench.assets.mesh import Material, MeshPart
from reconbench.datasets.procedural import textures as tx
from reconbench.datasets.procedural.shapes import box, circle_profile, grid_part, polyline, revolve, transform, tube

Rng = np.random.Generator


def _parts(material: Material, grids: list[np.ndarray]) -> list[MeshPart]:
    """One part per grid, all with the same material."""
    return [grid_part(g, material) for g in grids]


def _sphere(radius: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Profile of a sphere from the bottom pole to the top pole."""
    s = np.linspace(-np.pi / 2, np.pi / 2, n + 1)
    r = radius * np.cos(s)
    r[[0, -1]] = 0.0
    return r, radius * np.sin(s)


def mug(d: int, rng: Rng) -> list[MeshPart]:
    """Thick-walled cup (concavity) and a tube handle that leaves a hole; two materials."""
    glaze = tx.noise(rng, 256, (235, 232, 220), (205, 200, 190))
    band = tx.stripes(256, 24, [(40, 70, 160), (235, 232, 220)])
    body = Material("glaze", texture=tx.banded(glaze, band, 0.28, 0.42))
    r, y = polyline([(0, -0.5), (0.45, -0.5), (0.5, -0.45), (0.5, 0.5), (0.46, 0.5), (0.46, -0.42), (0, -0.42)], 60 * d)
    s = np.linspace(0, np.pi, 40 * d)
    path = np.stack([0.47 + 0.3 * np.sin(s), 0.25 * np.cos(s), np.zeros_like(s)], -1)
    handle = Material("handle", texture=tx.noise(rng, 64, (30, 50, 120), (60, 90, 170)))
    return _parts(body, [revolve(r, y, 96 * d)]) + _parts(handle, [tube(path, 0.045, 16 * d)])


def bowl(d: int, rng: Rng) -> list[MeshPart]:
    """Wide shallow bowl with a foot: one part, strongly concave."""
    s = np.linspace(np.arcsin(1 / 3), np.pi / 2, 24 * d)
    outer = [(0.0, 0.0)] + list(zip(0.9 * np.sin(s), 0.5 * (1 - np.cos(s))))
    s = np.linspace(np.pi / 2, 0, 24 * d)
    inner = list(zip(0.85 * np.sin(s), 0.5 - 0.47 * np.cos(s)))
    r, y = polyline(outer[:1] + [(0.3, 0.0)] + outer[1:] + inner, 80 * d)
    glaze = tx.noise(rng, 256, (70, 120, 110), (160, 195, 175))
    tex = tx.banded(glaze, tx.checker(256, 32, (240, 230, 200), (70, 120, 110)), 0.46, 0.5)
    return _parts(Material("ceramic", texture=tex), [revolve(r, y - 0.25, 96 * d)])


def bottle(d: int, rng: Rng) -> list[MeshPart]:
    """Bottle with a narrow neck and a labelled body, plus a knurled cap (two materials)."""
    s = np.linspace(0, np.pi / 2, 16 * d)
    pts = [(0, -0.8), (0.3, -0.8)] + list(zip(0.1 + 0.2 * np.cos(s), 0.2 + 0.3 * np.sin(s))) + [(0.1, 0.7), (0, 0.7)]
    r, y = polyline(pts, 70 * d)
    label = tx.stripes(256, 20, [(240, 235, 215), (240, 235, 215), (180, 30, 40)], along_u=False)
    glass = Material("glass", texture=tx.banded(tx.noise(rng, 256, (30, 90, 50), (80, 150, 90)), label, 0.2, 0.42))
    cap_r, cap_y = polyline([(0, 0.66), (0.12, 0.66), (0.12, 0.9), (0, 0.9)], 20 * d)
    cap = Material("cap", texture=tx.stripes(128, 48, [(200, 40, 40), (120, 20, 20)]))
    return _parts(glass, [revolve(r, y, 96 * d)]) + _parts(cap, [revolve(cap_r, cap_y, 96 * d)])


def table(d: int, rng: Rng) -> list[MeshPart]:
    """Table top on four thin cylindrical legs (two woods)."""
    top = Material("tabletop", texture=tx.wood(rng, 256, (205, 160, 110), (150, 100, 60)))
    legs = Material("legs", texture=tx.wood(rng, 64, (110, 70, 40), (70, 45, 25), rings=4))
    r, y = polyline([(0, -0.42), (0.025, -0.42), (0.025, 0.37), (0, 0.37)], 20 * d)
    leg = revolve(r, y, 16 * d)
    corners = [(x, 0.0, z) for x in (-0.9, 0.9) for z in (-0.5, 0.5)]
    leg_grids = [transform(leg, move=c) for c in corners]
    return _parts(top, box((-1, 0.36, -0.6), (1, 0.42, 0.6), 24 * d)) + _parts(legs, leg_grids)


def chair(d: int, rng: Rng) -> list[MeshPart]:
    """Chair: cushion seat, four square legs, back posts and three thin slats; back at -Z."""
    cushion = Material("cushion", texture=tx.checker(256, 32, (60, 80, 140), (200, 200, 210)))
    wood = Material("wood", texture=tx.wood(rng, 128, (170, 120, 70), (120, 80, 45)))
    grids = []
    for x in (-0.37, 0.37):
        grids += box((x - 0.03, -0.9, 0.34), (x + 0.03, -0.05, 0.4), 40 * d)
        grids += box((x - 0.03, -0.9, -0.4), (x + 0.03, 0.9, -0.34), 40 * d)
    for y in (0.25, 0.45, 0.65):
        grids += box((-0.36, y - 0.05, -0.385), (0.36, y + 0.05, -0.355), 40 * d)
    return _parts(cushion, box((-0.4, -0.05, -0.4), (0.4, 0.03, 0.4), 40 * d)) + _parts(wood, grids)


def frame(d: int, rng: Rng) -> list[MeshPart]:
    """Square picture frame (one genus-1 part, a through-hole) leaning on a thin back strut."""
    r, y = polyline([(0.6, -0.06), (0.8, -0.06), (0.8, 0.06), (0.6, 0.06), (0.6, -0.06)], 32 * d)
    square = transform(revolve(r, y, 128 * d, power=np.inf), rotate_deg=(90, 0, 0))
    strut_box = box((-0.02, -1, -0.015), (0.02, 0, 0.015), 40 * d)
    strut = [transform(g, rotate_deg=(25, 0, 0), move=(0, 0.1, -0.07)) for g in strut_box]
    wood = Material("frame", texture=tx.wood(rng, 256, (120, 60, 30), (70, 30, 15), rings=30))
    card = Material("strut", texture=tx.noise(rng, 64, (90, 80, 70), (130, 115, 100)))
    return _parts(wood, [square]) + _parts(card, strut)


def lamp(d: int, rng: Rng) -> list[MeshPart]:
    """Desk lamp: disc base, thin curved stem, bulb, and an open conical shade (a genus-1 shell)."""
    metal = Material("metal", texture=tx.noise(rng, 128, (60, 60, 65), (150, 150, 160)))
    r, y = polyline([(0, 0), (0.35, 0), (0.35, 0.04), (0.3, 0.07), (0, 0.07)], 30 * d)
    t = np.linspace(0, 1, 48 * d)
    stem = tube(np.stack([0.1 * np.sin(np.pi * t), 0.05 + 0.95 * t, np.zeros_like(t)], -1), 0.015, 12 * d)
    bulb = revolve(*_sphere(0.08, 24 * d), 32 * d) + np.array([0, 1.0, 0])
    shade_r, shade_y = polyline([(0.45, 0.75), (0.25, 1.3), (0.235, 1.3), (0.435, 0.75), (0.45, 0.75)], 40 * d)
    fabric = Material("shade", texture=tx.stripes(256, 64, [(230, 215, 170), (200, 180, 130)]))
    glass = Material("bulb", texture=tx.noise(rng, 64, (255, 240, 180), (255, 255, 235)))
    parts = _parts(metal, [revolve(r, y, 64 * d), stem]) + _parts(glass, [bulb])
    parts += _parts(fabric, [revolve(shade_r, shade_y, 96 * d)])
    return [replace(p, vertices=p.vertices - [0, 0.65, 0]) for p in parts]


def ring(d: int, rng: Rng) -> list[MeshPart]:
    """Upright toy ring (torus, genus 1) with fine rainbow stripes."""
    colours = [(220, 50, 50), (240, 200, 40), (50, 170, 80), (40, 90, 200)]
    tex = tx.stripes(256, 32, colours)
    torus = transform(revolve(*circle_profile(0.6, 0.0, 0.22, 48 * d), 96 * d), rotate_deg=(90, 0, 0))
    return _parts(Material("plastic", texture=tex), [torus])


def blocks(d: int, rng: Rng) -> list[MeshPart]:
    """Three stacked, twisted cubes with fine checkerboards, one material each."""
    parts, y = [], -0.8
    palette = [((200, 40, 40), (245, 245, 245)), ((40, 90, 200), (245, 215, 60)), ((40, 150, 70), (20, 20, 20))]
    for i, (size, colours) in enumerate(zip((0.7, 0.55, 0.4), palette)):
        angle, shift = rng.uniform(-30, 30), rng.uniform(-0.05, 0.05)
        cube = box([-size / 2] * 3, [size / 2] * 3, 32 * d)
        grids = [transform(g, rotate_deg=(0, angle, 0), move=(shift, y + size / 2, 0)) for g in cube]
        parts += _parts(Material(f"block{i}", texture=tx.checker(256, 32, *colours)), grids)
        y += size
    return parts


def duck(d: int, rng: Rng) -> list[MeshPart]:
    """Rubber-duck blob (bumpy body, head, beak, eyes) coloured by vertex colours only, no texture."""
    body = transform(revolve(*_sphere(0.45, 32 * d), 64 * d), scale=(1, 0.7, 1.35), move=(0, -0.3, 0))
    waves = rng.normal(size=(3, 3)) * 4
    body = body * (1 + 0.03 * np.sin(body @ waves).sum(-1, keepdims=True))
    head = revolve(*_sphere(0.24, 24 * d), 48 * d) + np.array([0, 0.15, 0.32])
    bp = polyline([(0, 0), (0.09, 0), (0, 0.18)], 12 * d)
    beak = transform(revolve(*bp, 32 * d), rotate_deg=(90, 0, 0), scale=(1, 1, 0.5), move=(0, 0.12, 0.52))
    eye = revolve(*_sphere(0.035, 8 * d), 16 * d)
    eyes = [eye + np.array([x, 0.22, 0.5]) for x in (-0.11, 0.11)]
    spec = [
        ("yellow", (1.0, 0.82, 0.15), [body, head]),
        ("orange", (1.0, 0.45, 0.05), [beak]),
        ("black", (0.05, 0.05, 0.05), eyes),
    ]
    parts = []
    for name, rgb, grids in spec:
        for g in grids:
            shade = 0.8 + 0.2 * np.clip(g[..., 1:2] + 0.6, 0, 1)  # darker underneath
            colours = np.concatenate([np.asarray(rgb) * shade, np.ones(g.shape[:2] + (1,))], -1)
            parts.append(grid_part(g, Material(name), colours))
    return parts


def car(d: int, rng: Rng) -> list[MeshPart]:
    """Toy car seen from the side (length along X): rounded body with a window band, four treaded wheels."""
    r, y = polyline([(0, 0.1), (0.85, 0.1), (0.95, 0.2), (0.95, 0.4), (0.6, 0.45), (0.45, 0.7), (0, 0.72)], 60 * d)
    body = transform(revolve(r, y - 0.36, 96 * d, power=4.0), scale=(1, 1, 0.55))
    windows = tx.noise(rng, 256, (30, 40, 60), (90, 110, 140))
    paint = tx.banded(tx.noise(rng, 256, (200, 30, 30), (230, 60, 50)), windows, 0.68, 0.8)
    wr, wy = polyline([(0, -0.07), (0.18, -0.07), (0.18, 0.07), (0, 0.07)], 16 * d)
    wheel = transform(revolve(wr, wy, 64 * d), rotate_deg=(90, 0, 0))
    wheels = [wheel + np.array([x, -0.18, z]) for x in (-0.6, 0.6) for z in (-0.5, 0.5)]
    tyre = Material("tyre", texture=tx.stripes(128, 48, [(25, 25, 25), (70, 70, 70)]))
    return _parts(Material("paint", texture=paint), [body]) + _parts(tyre, wheels)


def hammer(d: int, rng: Rng) -> list[MeshPart]:
    """Upright hammer: wooden handle, steel head with a curved claw."""
    r, y = polyline([(0, -0.9), (0.05, -0.9), (0.06, -0.85), (0.055, 0.5), (0, 0.5)], 40 * d)
    s = np.linspace(0, np.pi / 2, 30 * d)
    claw = tube(np.stack([-0.1 - 0.35 * np.sin(s), 0.2 + 0.35 * np.cos(s), np.zeros_like(s)], -1), 0.05, 16 * d)
    wood = Material("handle", texture=tx.wood(rng, 128, (210, 170, 120), (160, 115, 70), rings=6))
    steel = Material("steel", texture=tx.noise(rng, 128, (90, 95, 100), (170, 175, 180)))
    head = box((-0.12, 0.42, -0.08), (0.3, 0.62, 0.08), 40 * d)
    return _parts(wood, [revolve(r, y, 48 * d)]) + _parts(steel, head + [claw])


def screwdriver(d: int, rng: Rng) -> list[MeshPart]:
    """Upright screwdriver: striped grip and a thin steel shaft with a flattened tip."""
    outline = [(0, -0.9), (0.1, -0.9), (0.13, -0.8), (0.13, -0.35), (0.09, -0.25), (0.05, -0.2), (0, -0.2)]
    r, y = polyline(outline, 50 * d)
    grip = Material("grip", texture=tx.stripes(128, 16, [(200, 30, 30), (30, 30, 30)]))
    sr, sy = polyline([(0, -0.25), (0.022, -0.25), (0.022, 0.71), (0, 0.71)], 40 * d)
    tr, ty = polyline([(0, 0), (0.022, 0), (0.004, 0.12), (0, 0.12)], 10 * d)
    tip = transform(revolve(tr, ty, 24 * d), scale=(1, 1, 0.35), move=(0, 0.7, 0))
    steel = Material("steel", texture=tx.noise(rng, 64, (140, 145, 150), (210, 215, 220)))
    return _parts(grip, [revolve(r, y, 64 * d)]) + _parts(steel, [revolve(sr, sy, 24 * d), tip])


def spanner(d: int, rng: Rng) -> list[MeshPart]:
    """Flat spanner facing +Z: ring end (genus 1), bar handle and an open C-shaped jaw."""
    r, y = polyline([(0.08, -0.03), (0.13, -0.03), (0.13, 0.03), (0.08, 0.03), (0.08, -0.03)], 24 * d)
    ring_end = transform(revolve(r, y, 64 * d), rotate_deg=(90, 0, 0), move=(0.62, 0, 0))
    a = np.radians(np.linspace(-140, 140, 48 * d))
    jaw = tube(np.stack([-0.62 + 0.11 * np.cos(a), 0.11 * np.sin(a), np.zeros_like(a)], -1), 0.035, 16 * d)
    chrome = Material("chrome", texture=tx.noise(rng, 128, (120, 125, 135), (225, 230, 235)))
    return _parts(chrome, box((-0.5, -0.05, -0.02), (0.52, 0.05, 0.02), 60 * d) + [ring_end, jaw])
