"""Downstream usability of a predicted mesh: can a production pipeline use it without repair?

Measured on the asset as the method wrote it (before alignment; topology does not depend on pose).
Topology is read after welding vertices that share a position, so texture seams (vertices repeated
with other UVs) are not mistaken for holes. Definitions and the "usable as is" rule: docs/metrics.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reconbench.assets import Material, MeshAsset
from reconbench.assets.mesh_io import UNCOLOURED_MATERIAL

# "Usable as is": what a pipeline can take without a repair step (docs/metrics.md).
MAX_FLOATER_AREA_SHARE = 0.01
# A connected component is a floater when its surface lies on average farther than this from the
# object (the ground-truth surface; without one, the components holding >= BODY_SHARE of the area),
# in units of the object's size (docs/metrics.md, "floaters").
FLOATER_DISTANCE = 0.05
FLOATER_GAP = 0.02  # without a ground truth: parts closer than this to the body belong to it
FLOATER_SAMPLES = 5000
MAX_TRIANGLES = 1_000_000
DEGENERATE_AREA = 1e-12  # in units of the squared longest bounding-box side


def mesh_usability(
    mesh: MeshAsset,
    path: str | Path | None = None,
    ground_truth: MeshAsset | None = None,
    to_canonical: np.ndarray | None = None,
) -> dict[str, float]:
    """Topology, cleanliness and appearance-format figures of a mesh, and the `usable_as_is` flag (1/0).

    Floaters are judged against `ground_truth` (canonical frame) with the prediction placed there by
    `to_canonical` (its alignment); without a ground truth, against the mesh's own large components."""
    import trimesh

    vertices, faces = mesh.geometry()
    welded = trimesh.Trimesh(vertices, faces, process=False)
    welded.merge_vertices(merge_tex=True, merge_norm=True)

    extent = float((mesh.bounds[1] - mesh.bounds[0]).max()) or 1.0
    areas = welded.area_faces
    repeated = (
        (welded.faces[:, 0] == welded.faces[:, 1])
        | (welded.faces[:, 1] == welded.faces[:, 2])
        | (welded.faces[:, 0] == welded.faces[:, 2])
    )
    degenerate = repeated | (areas < DEGENERATE_AREA * extent**2)

    edges = np.sort(welded.edges, axis=1)
    _, edge_count = np.unique(edges, axis=0, return_counts=True)
    n_edges = max(len(edge_count), 1)

    labels = trimesh.graph.connected_component_labels(welded.face_adjacency, node_count=len(welded.faces))
    component_area = np.bincount(labels, weights=areas)

    textured = [p for p in mesh.parts if p.has_texture]
    coloured_by_vertex = [p for p in mesh.parts if p.vertex_colors is not None]
    # A material colour counts unless it is the placeholder given to surfaces whose file has no colour.
    material_coloured = [p for p in mesh.parts if p.material.name not in (Material().name, UNCOLOURED_MATERIAL)]
    texture_px = max((max(p.material.texture.shape[:2]) for p in textured if p.material.texture is not None), default=0)

    figures = {
        "triangles": float(len(faces)),
        "watertight": float(bool(welded.is_watertight)),
        "boundary_edge_share": float((edge_count == 1).sum() / n_edges),
        "nonmanifold_edge_share": float((edge_count > 2).sum() / n_edges),
        "components": float(len(component_area)),
        "floater_area_share": floater_area_share(welded, labels, component_area, ground_truth, to_canonical),
        "degenerate_face_share": float(degenerate.mean()) if len(degenerate) else 0.0,
        "has_uv": float(any(p.uv is not None for p in mesh.parts)),
        "has_texture": float(bool(textured)),
        "texture_resolution": float(texture_px),
        "vertex_colour_only": float(bool(coloured_by_vertex) and not textured),
        "has_colour": float(bool(textured or coloured_by_vertex or material_coloured)),
        "file_size_mb": float(Path(path).stat().st_size / 1e6)
        if path is not None and Path(path).is_file()
        else float("nan"),
    }
    figures["usable_as_is"] = float(
        figures["nonmanifold_edge_share"] == 0
        and figures["degenerate_face_share"] == 0
        and figures["floater_area_share"] <= MAX_FLOATER_AREA_SHARE
        and figures["has_colour"]
        and figures["triangles"] <= MAX_TRIANGLES
    )
    return figures


def floater_area_share(
    welded,
    labels: np.ndarray,
    component_area: np.ndarray,
    ground_truth: MeshAsset | None,
    to_canonical: np.ndarray | None,
) -> float:
    """Share of the surface area in floater components (docs/metrics.md, "floaters").

    With a ground truth (canonical frame; the prediction placed by `to_canonical`): a component is a
    floater when its area-weighted mean distance to the ground-truth surface exceeds FLOATER_DISTANCE,
    so every part of a multi-part object (a nesting toy's pieces, a chair's legs) counts as object
    when it is where the object is. Without one: the body grows from the largest component by every
    component that comes within FLOATER_GAP of it (in units of the mesh's longest side); the rest float.
    Components are judged by area-uniform samples (FLOATER_SAMPLES, seed 0), plus the face centroids
    of a component too small to receive a sample."""
    import trimesh

    n = len(component_area)
    total = float(component_area.sum())
    if n <= 1 or total <= 0:
        return 0.0
    points, faces = trimesh.sample.sample_surface(welded, FLOATER_SAMPLES, seed=0)
    extra = np.nonzero(np.isin(labels, np.setdiff1d(np.arange(n), labels[faces])))[0]
    points = np.vstack([points, welded.triangles_center[extra]])
    owner = np.concatenate([labels[faces], labels[extra]])
    weight = np.concatenate([np.full(len(faces), total / max(len(faces), 1)), welded.area_faces[extra]])
    if ground_truth is not None:
        m = np.eye(4) if to_canonical is None else np.asarray(to_canonical, np.float64)
        v, f = ground_truth.geometry()
        _, dist, _ = trimesh.proximity.closest_point(
            trimesh.Trimesh(v, f, process=False), points @ m[:3, :3].T + m[:3, 3]
        )
        mean = np.bincount(owner, weights=weight * dist, minlength=n) / np.maximum(
            np.bincount(owner, weights=weight, minlength=n), 1e-300
        )
        floating = mean > FLOATER_DISTANCE
    else:
        unit = float(np.ptp(welded.vertices, axis=0).max()) or 1.0
        body = np.zeros(n, bool)
        body[np.argmax(component_area)] = True
        while not body.all():
            reference = trimesh.Trimesh(welded.vertices, welded.faces[body[labels]], process=False)
            outside = ~body[owner]
            _, dist, _ = trimesh.proximity.closest_point(reference, points[outside])
            near = np.zeros(n, bool)
            near[owner[outside][dist / unit < FLOATER_GAP]] = True
            if not near.any():
                break
            body |= near
        floating = ~body
    return float(component_area[floating].sum() / total)
