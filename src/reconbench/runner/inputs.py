"""The input views every method receives: the ground truth rendered at the protocol's input cameras,
shaded as the protocol says, written once per object as RGBA PNG files plus cameras.json."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from reconbench.assets import MeshAsset
from reconbench.protocol import Camera, Protocol
from reconbench.render import render_views


def prepare_image_input(
    path: Path, protocol: Protocol, folder: Path
) -> tuple[tuple[np.ndarray, ...], tuple[Camera, ...], tuple[Path, ...]]:
    """An input photo without ground truth, as the protocol's single input view (square, its resolution)."""
    from reconbench.datasets.images import load_input_image_with_mask

    if len(protocol.input_cameras) != 1:
        raise ValueError(
            f"input images need a single-view protocol; {protocol.name} has {len(protocol.input_cameras)} input views"
        )
    cam = protocol.input_cameras[0]
    rgba, how = load_input_image_with_mask(path, cam.width)
    return _write(protocol, (cam,), (rgba,), folder, {"mask": how})


def prepare_inputs(
    mesh: MeshAsset, protocol: Protocol, folder: Path
) -> tuple[tuple[np.ndarray, ...], tuple[Camera, ...], tuple[Path, ...]]:
    """(RGBA images, cameras, PNG paths) of the input views; background transparent, alpha = coverage."""
    cameras = protocol.input_cameras
    return _write(protocol, cameras, tuple(render_views(mesh, cameras, protocol.lighting.inputs).rgba()), folder)


def _write(protocol: Protocol, cameras, rgba, folder: Path, extra: dict | None = None):
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for cam, image in zip(cameras, rgba):
        path = folder / f"{cam.name}.png"
        Image.fromarray(image, "RGBA").save(path)
        paths.append(path)
    meta = {
        "protocol": protocol.name,
        "lighting": protocol.lighting.name,
        **(extra or {}),
        "views": [c.to_dict() for c in cameras],
    }
    (folder / "cameras.json").write_text(json.dumps(meta, indent=1))
    return tuple(rgba), cameras, tuple(paths)
