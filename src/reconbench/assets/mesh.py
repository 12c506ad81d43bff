"""Triangle-mesh assets: the representation every mesh (ground truth or prediction) is turned into.

A mesh asset is a list of parts, one per material, each with its own vertices so that UVs,
vertex colours and textures never have to be merged. The colour rule is the same for every
part and every file format (it is part of the protocol, see docs/protocol.md):

    colour = material.base_color * texture(uv) [if the part has a texture and UVs]
                                  * vertex_color [if the part has vertex colours]
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Material:
    """Colour of a part: a base colour factor and an optional sRGB texture (rows top to bottom)."""

    name: str = "default"
    base_color: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)
    texture: np.ndarray | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.texture is not None:
            tex = np.asarray(self.texture)
            if tex.ndim != 3 or tex.shape[2] != 4 or tex.dtype != np.uint8:
                raise ValueError(f"material {self.name!r}: texture must be HxWx4 uint8, got {tex.shape} {tex.dtype}")


@dataclass(frozen=True)
class MeshPart:
    """Triangles sharing one material; UVs and vertex colours are per vertex."""

    vertices: np.ndarray  # (N, 3) float64
    faces: np.ndarray  # (M, 3) int64
    material: Material = Material()
    uv: np.ndarray | None = None  # (N, 2), OpenGL convention: v = 0 at the bottom of the image
    vertex_colors: np.ndarray | None = None  # (N, 4) float in [0, 1]

    def __post_init__(self) -> None:
        v, f = np.asarray(self.vertices), np.asarray(self.faces)
        if v.ndim != 2 or v.shape[1] != 3:
            raise ValueError(f"vertices must be (N, 3), got {v.shape}")
        if f.ndim != 2 or f.shape[1] != 3:
            raise ValueError(f"faces must be (M, 3) triangles, got {f.shape}")
        if not np.all(np.isfinite(v)):
            raise ValueError("vertices contain NaN or infinite values")
        if f.size and (f.min() < 0 or f.max() >= len(v)):
            raise ValueError(f"faces index vertices outside 0..{len(v) - 1}")
        if self.uv is not None and np.asarray(self.uv).shape != (len(v), 2):
            raise ValueError(f"uv must be (N, 2) with N = {len(v)}, got {np.asarray(self.uv).shape}")
        if self.vertex_colors is not None and np.asarray(self.vertex_colors).shape != (len(v), 4):
            raise ValueError(f"vertex_colors must be (N, 4), got {np.asarray(self.vertex_colors).shape}")

    @property
    def has_texture(self) -> bool:
        return self.material.texture is not None and self.uv is not None

    def transformed(self, matrix: np.ndarray) -> MeshPart:
        """This part with vertices mapped by a 4x4 affine matrix (winding kept consistent)."""
        m = np.asarray(matrix, dtype=np.float64)
        v = self.vertices @ m[:3, :3].T + m[:3, 3]
        faces = self.faces if np.linalg.det(m[:3, :3]) > 0 else self.faces[:, ::-1]
        return replace(self, vertices=v, faces=np.ascontiguousarray(faces))


@dataclass(frozen=True)
class MeshAsset:
    """A triangle mesh made of parts; `source` is the file it came from, if any."""

    parts: tuple[MeshPart, ...]
    source: Path | None = None
    # What the loader dropped and why (a refused or missing texture...): the asset is still usable,
    # and each warning is recorded with the job's results.
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if not self.parts or sum(len(p.faces) for p in self.parts) == 0:
            raise ValueError("mesh has no triangles")

    @property
    def n_faces(self) -> int:
        return sum(len(p.faces) for p in self.parts)

    @property
    def n_vertices(self) -> int:
        return sum(len(p.vertices) for p in self.parts)

    @property
    def bounds(self) -> np.ndarray:
        """(2, 3) axis-aligned bounding box over the vertices used by faces."""
        used = [p.vertices[np.unique(p.faces)] for p in self.parts if len(p.faces)]
        pts = np.concatenate(used)
        return np.stack([pts.min(0), pts.max(0)])

    def transformed(self, matrix: np.ndarray) -> MeshAsset:
        return replace(self, parts=tuple(p.transformed(matrix) for p in self.parts))

    def geometry(self) -> tuple[np.ndarray, np.ndarray]:
        """All parts as one (vertices, faces) pair, for geometry code that ignores colour."""
        verts, faces, offset = [], [], 0
        for p in self.parts:
            verts.append(p.vertices)
            faces.append(p.faces + offset)
            offset += len(p.vertices)
        return np.concatenate(verts), np.concatenate(faces)

    def to_trimesh(self):
        """Geometry only, as one trimesh.Trimesh (not merged, not processed)."""
        import trimesh

        v, f = self.geometry()
        return trimesh.Trimesh(vertices=v, faces=f, process=False)


def normalisation_transform(bounds: np.ndarray) -> np.ndarray:
    """4x4 similarity that centres a bounding box at the origin and scales its longest side to 1."""
    lo, hi = np.asarray(bounds, dtype=np.float64)
    extent = float((hi - lo).max())
    if not np.isfinite(extent) or extent <= 0:
        raise ValueError(f"cannot normalise a degenerate bounding box {bounds.tolist()}")
    m = np.eye(4)
    m[:3, :3] /= extent
    m[:3, 3] = -(lo + hi) / 2 / extent
    return m
