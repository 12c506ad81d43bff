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
MAX_TRIANGLES = 1_000_000
DEGENERATE_AREA = 1e-12  # in units of the squared longest bounding-box side


def mesh_usability(mesh: MeshAsset, path: str | Path | None = None) -> dict[str, float]:
    """Topology, cleanliness and appearance-format figures of a mesh, and the `usable_as_is` flag (1/0)."""
    import trimesh

    vertices, faces = mesh.geometry()
    welded = trimesh.Trimesh(vertices, faces, process=False)
    welded.merge_vertices(merge_tex=True, merge_norm=True)

    extent = float((mesh.bounds[1] - mesh.bounds[0]).max()) or 1.0
    areas = welded.area_faces
    repeated = (welded.faces[:, 0] == welded.faces[:, 1]) | (welded.faces[:, 1] == welded.faces[:, 2]) | (welded.faces[:, 0] == welded.faces[:, 2])
    degenerate = repeated | (areas < DEGENERATE_AREA * extent**2)

    edges = np.sort(welded.edges, axis=1)
    _, edge_count = np.unique(edges, axis=0, return_counts=True)
    n_edges = max(len(edge_count), 1)

    labels = trimesh.graph.connected_component_labels(welded.face_adjacency, node_count=len(welded.faces))
    component_area = np.bincount(labels, weights=areas)
    total_area = float(areas.sum()) or 1.0

    textured = [p for p in mesh.parts if p.has_texture]
    coloured_by_vertex = [p for p in mesh.parts if p.vertex_colors is not None]
    # A material colour counts unless it is the placeholder given to surfaces whose file has no colour.
    material_coloured = [p for p in mesh.parts if p.material.name not in (Material().name, UNCOLOURED_MATERIAL)]
    texture_px = max((max(p.material.texture.shape[:2]) for p in textured), default=0)

    figures = {
        "triangles": float(len(faces)),
        "watertight": float(bool(welded.is_watertight)),
        "boundary_edge_share": float((edge_count == 1).sum() / n_edges),
        "nonmanifold_edge_share": float((edge_count > 2).sum() / n_edges),
        "components": float(len(component_area)),
        "floater_area_share": float(1 - component_area.max() / total_area) if len(component_area) else 0.0,
        "degenerate_face_share": float(degenerate.mean()) if len(degenerate) else 0.0,
        "has_uv": float(any(p.uv is not None for p in mesh.parts)),
        "has_texture": float(bool(textured)),
        "texture_resolution": float(texture_px),
        "vertex_colour_only": float(bool(coloured_by_vertex) and not textured),
        "has_colour": float(bool(textured or coloured_by_vertex or material_coloured)),
        "file_size_mb": float(Path(path).stat().st_size / 1e6) if path is not None and Path(path).is_file() else float("nan"),
    }
    figures["usable_as_is"] = float(
        figures["nonmanifold_edge_share"] == 0
        and figures["degenerate_face_share"] == 0
        and figures["floater_area_share"] <= MAX_FLOATER_AREA_SHARE
        and figures["has_colour"]
        and figures["triangles"] <= MAX_TRIANGLES
    )
    return figures
