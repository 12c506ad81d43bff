"""Dataset objects: an id, a category and a ground-truth mesh file, normalised on load."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from reconbench.assets import AssetLoadError, MeshAsset, load_mesh, normalisation_transform
from reconbench.errors import ReconbenchError, UnknownName
from reconbench.protocol.frames import frame_matrix


class DatasetError(ReconbenchError):
    """A dataset spec or root that cannot be used at all (unknown source, missing folder, bad list)."""


@dataclass(frozen=True)
class DatasetProblem:
    """An entry found while listing a dataset that cannot become an object; reported, not fatal."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


# Surface area, in the canonical frame (longest side 1), below which a ground truth has no visible surface.
MIN_AREA = 1e-12


def surface_area(mesh: MeshAsset) -> float:
    """Total triangle area of a mesh (all parts)."""
    v, f = mesh.geometry()
    tri = v[f]
    return float(np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1).sum() / 2)


@dataclass(frozen=True)
class DatasetObject:
    """One ground-truth object. `frame` names the axes its file is written in (protocol/frames.py)."""

    id: str
    category: str
    path: Path
    frame: str = "y-up"
    texture_dirs: tuple[Path, ...] = ()  # extra folders where the file's textures may be found
    kind: str = "mesh"  # "mesh": a ground-truth asset; "image": an input photo without ground truth
    yaw_deg: float = 0.0  # turn about +Y after normalisation, from an object list (datasets/object_list.py)

    @property
    def has_ground_truth(self) -> bool:
        return self.kind == "mesh"

    def load_raw(self) -> MeshAsset:
        """The mesh as stored in its file (AssetLoadError names the file and the reason)."""
        if not self.has_ground_truth:
            raise AssetLoadError(self.path, "an input image has no ground-truth asset")
        return load_mesh(self.path, texture_dirs=self.texture_dirs)

    def canonical_transform(self, raw: MeshAsset) -> np.ndarray:
        """4x4 from file coordinates to the canonical frame: axes first, then bbox normalisation, then
        the object list's yaw about +Y (after normalising, as SyncDreamer's eval_mesh.py transform_gt)."""
        axes = frame_matrix(self.frame)
        matrix = normalisation_transform(raw.transformed(axes).bounds) @ axes
        if self.yaw_deg:
            from reconbench.alignment import rotation_about_up

            matrix = rotation_about_up(self.yaw_deg) @ matrix
        return matrix

    def load(self) -> MeshAsset:
        """The ground truth in the canonical frame: bbox centred at the origin, longest side 1."""
        raw = self.load_raw()
        try:
            mesh = raw.transformed(self.canonical_transform(raw))
        except ValueError as exc:
            raise AssetLoadError(self.path, str(exc)) from exc
        if surface_area(mesh) <= MIN_AREA:  # nothing to see: every score against it would be meaningless (PSNR inf)
            raise AssetLoadError(
                self.path,
                f"the ground truth has zero surface area (all {mesh.n_faces} triangles are degenerate): nothing to "
                f"render or compare",
            )
        return mesh


@dataclass(frozen=True)
class Dataset:
    """The objects of one source, in a fixed order, and the entries that could not be used."""

    spec: str
    source: str
    objects: tuple[DatasetObject, ...]
    problems: tuple[DatasetProblem, ...] = field(default=())

    def __len__(self) -> int:
        return len(self.objects)

    def __iter__(self):
        return iter(self.objects)

    @property
    def ids(self) -> list[str]:
        return [o.id for o in self.objects]

    @property
    def categories(self) -> list[str]:
        return sorted({o.category for o in self.objects})

    def get(self, object_id: str) -> DatasetObject:
        for o in self.objects:
            if o.id == object_id:
                return o
        raise UnknownName(
            f"object {object_id!r} is not in dataset {self.spec!r} ({len(self)} objects: "
            f"{', '.join(self.ids[:8])}{'...' if len(self) > 8 else ''})"
        )

    def select(self, ids: Iterable[str] | None = None, limit: int | None = None) -> Dataset:
        """A subset by ids (in the order given; unknown ids raise KeyError) and/or the first `limit`."""
        objects: Sequence[DatasetObject] = self.objects if ids is None else [self.get(i) for i in ids]
        if limit is not None:
            objects = objects[:limit]
        return Dataset(self.spec, self.source, tuple(objects), self.problems)
