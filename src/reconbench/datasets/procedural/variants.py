"""Random training variants of the procedural families, never the evaluation objects themselves.

A variant takes one catalogue family's builder with a fresh random generator (new noise, wood and,
for `blocks` and `duck`, new shape details), then draws new parameters: a scale per axis, a turn
about +Y, and a colour remapping per material (channel order and gains). The built-in evaluation
objects seed their generator with crc32(id) < 2**32; variant seeds start at 2**32, so no variant
can reproduce an evaluation object's random draws (tests assert it). Variants are the training
source of learned methods (methods/voxel_cnn): scoring them on the evaluation objects measures
in-distribution generalisation (same families, unseen instances), not generalisation to new kinds
of object.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace

import numpy as np

from reconbench.assets.mesh import Material, MeshAsset, MeshPart, normalisation_transform
from reconbench.datasets.procedural import objects
from reconbench.datasets.procedural.catalogue import CATALOGUE
from reconbench.datasets.procedural.generate import merge_by_material

VARIANTS_VERSION = "1"  # bump when the draws below change: cached training sets are keyed by it
SEED_START = 2**32  # evaluation objects use crc32(id), always below this
SCALE_RANGE = (0.7, 1.3)  # per axis, before normalisation to longest side 1
YAW_RANGE_DEG = (-20.0, 20.0)
GAIN_RANGE = (0.7, 1.15)


@dataclass(frozen=True)
class Variant:
    """One training object: its family, seed, drawn parameters and the normalised mesh."""

    family: str
    seed: int
    scale: tuple[float, float, float]
    yaw_deg: float
    mesh: MeshAsset  # canonical frame: bounding box centred at the origin, longest side 1


def evaluation_seeds() -> dict[str, int]:
    """The generator seed each built-in evaluation object is built with (see procedural.build_object)."""
    return {spec.id: zlib.crc32(spec.id.encode()) for spec in CATALOGUE}


def variant_seed(index: int) -> int:
    """The seed of training variant `index` (0, 1, ...): disjoint from every evaluation seed."""
    if int(index) != index or index < 0:
        raise ValueError(f"variant index must be a non-negative integer, got {index!r}")
    return SEED_START + int(index)


def build_variant(index: int) -> Variant:
    """Training variant `index`: a family chosen by its seed, with new textures and parameters."""
    seed = variant_seed(index)
    rng = np.random.default_rng(seed)
    family = CATALOGUE[int(rng.integers(len(CATALOGUE)))]
    scale = tuple(float(s) for s in rng.uniform(*SCALE_RANGE, size=3))
    yaw = float(rng.uniform(*YAW_RANGE_DEG))
    pieces = getattr(objects, family.builder)(1, np.random.default_rng(rng.integers(2**63)))
    parts = [_recolour(p, rng) for p in merge_by_material(pieces)]
    mesh = MeshAsset(parts=tuple(parts)).transformed(_yaw_scale(yaw, scale))
    return Variant(family.id, seed, scale, yaw, mesh.transformed(normalisation_transform(mesh.bounds)))


def _yaw_scale(yaw_deg: float, scale: tuple[float, float, float]) -> np.ndarray:
    """4x4: scale per axis, then turn about +Y."""
    a = np.radians(yaw_deg)
    m = np.eye(4)
    m[:3, :3] = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]]) @ np.diag(scale)
    return m


def _recolour(part: MeshPart, rng: np.random.Generator) -> MeshPart:
    """New colours for one material: its RGB channels permuted (half the time) and scaled by random gains."""
    order = rng.permutation(3) if rng.random() < 0.5 else np.arange(3)
    gains = rng.uniform(*GAIN_RANGE, size=3)
    if part.vertex_colors is not None:
        colours = part.vertex_colors.copy()
        colours[:, :3] = np.clip(colours[:, order] * gains, 0.0, 1.0)
        return replace(part, vertex_colors=colours)
    texture = part.material.texture
    if texture is None:
        return part
    new = texture.copy()
    new[..., :3] = np.clip(np.round(texture[..., order].astype(np.float64) * gains), 0, 255).astype(np.uint8)
    return replace(part, material=Material(part.material.name, part.material.base_color, new))


__all__ = ["SEED_START", "VARIANTS_VERSION", "Variant", "build_variant", "evaluation_seeds", "variant_seed"]
