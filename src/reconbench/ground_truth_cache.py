"""Ground-truth products on disk: a resumed or repeated run loads what `prepare_ground_truth` made instead of
rendering and sampling the object again.

One folder per (object, protocol, settings) under the caller's cache folder (the runner uses the run
folder's `.cache/ground_truth/OBJECT/`), named by a fingerprint of everything the products depend on: the
mesh's arrays (geometry, UVs, colours, textures), the protocol's cameras, lighting and evaluation settings,
the LPIPS backbones, reconbench's version, this format's version and the renderer (vendor, renderer,
version strings: a cluster's nodes may draw differently). Anything else is a different folder: a miss.

Kept: the renders at every protocol camera (colour, mask, depth, normal: the covered pixels only, the rest
is 0 by the renderer's contract), both point clouds, the occupancy grid (or why there is none) and the
per-view references (detail per view, the truth's own Janus distance): 18-24 MB an object under
`default`. Not kept: the LPIPS features (about 11 MB a view for AlexNet and 128 MB for VGG at 512x512:
265 MB and 3.2 GB an object under `default`, too much to keep per object; recomputed from the kept
images, batched as in scoring: evaluation.truth_features) and the composited images (exactly recomputed
from the renders).
Written to a temporary folder and renamed, so a reader never sees half a folder; two processes writing
the same products both produce the same bytes and the first rename wins.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from reconbench import __version__
from reconbench.assets import MeshAsset
from reconbench.metrics.geometry import PointCloud
from reconbench.protocol import Protocol

if TYPE_CHECKING:
    from reconbench.evaluation import GroundTruth

FORMAT_VERSION = "1"
_FILE = "products.npz"


def fingerprint(mesh: MeshAsset, protocol: Protocol, lpips_nets: Sequence[str]) -> str:
    """Hex digest naming the products of `mesh` under `protocol` (see the module docstring)."""
    from reconbench.render import renderer_info

    h = hashlib.sha256()
    for part in mesh.parts:
        for array in (part.vertices, part.faces, part.uv, part.vertex_colors, part.material.texture):
            h.update(b"-" if array is None else np.ascontiguousarray(array).tobytes() + str(array.dtype).encode())
        h.update(repr(part.material.base_color).encode())
    meta = {
        "format": FORMAT_VERSION,
        "reconbench": __version__,
        "cameras": repr(protocol.cameras),
        "lighting": repr(protocol.lighting),
        "evaluation": protocol.evaluation.to_dict(),
        "lpips": list(lpips_nets),
        "renderer": renderer_info(),
    }
    h.update(json.dumps(meta, sort_keys=True, default=str).encode())
    return h.hexdigest()[:32]


def save(folder: str | Path, gt: GroundTruth, lpips_nets: Sequence[str]) -> Path:
    """Write `gt`'s products under `folder`/FINGERPRINT (kept if another process wrote them first)."""
    folder = Path(folder)
    final = folder / fingerprint(gt.mesh, gt.protocol, lpips_nets)
    if (final / _FILE).is_file():
        return final
    views, ref = gt.views, gt.per_view
    arrays: dict[str, np.ndarray] = {"mask": views.mask}
    for name in ("color", "depth", "normal"):
        full = getattr(views, name)
        if np.any(full[~views.mask]):  # not the renderer's contract: keep the whole array
            arrays[f"{name}_full"] = full
        else:
            arrays[f"{name}_covered"] = full[views.mask]
    arrays.update(surface_points=gt.surface.points, surface_normals=gt.surface.normals)
    if gt.cloud is not gt.surface:  # else one cloud serves both (meta's cloud_is_surface)
        arrays.update(cloud_points=gt.cloud.points, cloud_normals=gt.cloud.normals)
    if gt.occupancy is not None:
        arrays["occupancy"] = np.packbits(gt.occupancy)
    if ref is not None and ref.gradients is not None:
        arrays["gradients"] = ref.gradients
    meta = {
        "occupancy_shape": None if gt.occupancy is None else list(gt.occupancy.shape),
        "occupancy_note": gt.occupancy_note,
        "gt_distance": None if ref is None else float(ref.gt_distance),
        "cloud_is_surface": gt.cloud is gt.surface,
    }
    folder.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder))
    try:
        np.savez(tmp / _FILE, **arrays)
        (tmp / "meta.json").write_text(json.dumps(meta))
        os.rename(tmp, final)
    except OSError:
        if not (final / _FILE).is_file():
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def load(
    folder: str | Path, mesh: MeshAsset, protocol: Protocol, lpips_nets: Sequence[str], device: str = "cpu"
) -> GroundTruth | None:
    """The products saved for exactly this mesh, protocol and settings, or None (a miss, or unreadable)."""
    from reconbench.evaluation import GroundTruth, truth_features
    from reconbench.metrics import per_view
    from reconbench.render import RenderedViews

    path = Path(folder) / fingerprint(mesh, protocol, lpips_nets)
    try:
        meta = json.loads((path / "meta.json").read_text())
        with np.load(path / _FILE, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError):
        return None
    mask = arrays["mask"]
    channels = {}
    for name, shape in (("color", (3,)), ("depth", ()), ("normal", (3,))):
        if f"{name}_full" in arrays:
            channels[name] = arrays[f"{name}_full"]
        else:
            covered = arrays[f"{name}_covered"]
            full = np.zeros(mask.shape + shape, covered.dtype)
            full[mask] = covered
            channels[name] = full
    views = RenderedViews(tuple(protocol.cameras), channels["color"], mask, channels["depth"], channels["normal"])
    images = views.composited()
    surface = PointCloud(arrays["surface_points"], arrays["surface_normals"])
    cloud = surface if meta["cloud_is_surface"] else PointCloud(arrays["cloud_points"], arrays["cloud_normals"])
    occupancy = None
    if meta["occupancy_shape"] is not None:
        shape = tuple(meta["occupancy_shape"])
        occupancy = np.unpackbits(arrays["occupancy"], count=int(np.prod(shape))).reshape(shape).astype(bool)
    gt = GroundTruth(mesh, protocol, views, images, cloud, surface, occupancy, meta["occupancy_note"])
    gt.lpips_features = {net: truth_features(net, images, device) for net in lpips_nets}
    gt.per_view = per_view.prepare_reference(
        mesh,
        protocol,
        views,
        images,
        lpips_nets,
        device,
        gradients=arrays.get("gradients"),
        gt_distance=meta["gt_distance"],
    )
    return gt
