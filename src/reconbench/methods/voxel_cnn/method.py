"""voxel-cnn as a reconbench method: load the trained weights, predict the grid from the front view,
keep what every input silhouette allows, mesh it, colour it.

Stages: model_load (read the checkpoint; cold-start overhead), inference (the network), mesh
(2x trilinear upsampling to 64^3, silhouette carving with every input view, marching cubes),
colour (learned colour at each vertex, replaced by the input pixel where an input view sees the
vertex), export.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from reconbench.methods.base import MethodInput, MethodOutput
from reconbench.methods.reference._common import project, silhouette, stage

CHECKPOINT_ENV = "RECONBENCH_VOXEL_CNN_CHECKPOINT"  # a folder holding model.pt and training.json
SHIPPED = Path(__file__).resolve().parent / "weights"
FINE = 64  # meshing resolution after upsampling the 32^3 prediction
CARVE_BLUR_PX = 2.0  # silhouette softening (pixels at the input resolution) before carving


def checkpoint_dir() -> Path:
    """Where the weights are read from: $RECONBENCH_VOXEL_CNN_CHECKPOINT, else the shipped folder."""
    return Path(os.environ.get(CHECKPOINT_ENV) or SHIPPED)


def load_record(folder: Path | None = None) -> dict[str, Any] | None:
    """The training record next to the weights, or None when there is none."""
    path = (folder or checkpoint_dir()) / "training.json"
    return json.loads(path.read_text()) if path.is_file() else None


@functools.lru_cache(maxsize=2)
def load_model(folder: str, device: str):
    """The network with the weights of `folder`/model.pt (a plain state_dict, read with weights_only)."""
    import torch

    from reconbench.methods.voxel_cnn.network import VoxelCNN

    path = Path(folder) / "model.pt"
    if not path.is_file():
        raise FileNotFoundError(
            f"voxel-cnn weights not found at {path}: run `reconbench train voxel-cnn` "
            f"or point {CHECKPOINT_ENV} at a folder holding model.pt"
        )
    model = VoxelCNN()
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.to(device).eval()


def check_camera(camera) -> None:
    """The network was trained for one input camera (the `default` protocol's): refuse others plainly."""
    from reconbench.methods.voxel_cnn.data import PROTOCOL
    from reconbench.protocol import get_protocol

    trained = get_protocol(PROTOCOL).input_cameras[0]
    if not (np.allclose(camera.c2w, trained.c2w, atol=1e-6) and abs(camera.fov - trained.fov) < 1e-6):
        raise ValueError(
            f"voxel-cnn is trained for the input camera at elevation {trained.elevation:g}, azimuth "
            f"{trained.azimuth:g}, "
            f"radius {trained.radius:g}, fov {trained.fov:g} (protocols default, sparse4); got elevation "
            f"{camera.elevation:g}, azimuth {camera.azimuth:g}, radius {camera.radius:g}, fov {camera.fov:g}"
        )


def predict(model, image: np.ndarray, device: str) -> tuple[np.ndarray, np.ndarray]:
    """(64^3 occupancy probability, 32^3 x 3 colour in [0, 1]) for one RGBA input image, indexed [x, y, z]."""
    import torch
    import torch.nn.functional as F

    from reconbench.methods.voxel_cnn.data import image_to_input

    x = torch.from_numpy(image_to_input(image))[None].to(device)
    with torch.no_grad():
        out = model(x)
        prob = F.interpolate(torch.sigmoid(out[:, :1]), size=(FINE,) * 3, mode="trilinear", align_corners=False)
        colour = torch.sigmoid(out[0, 1:]).permute(1, 2, 3, 0)
    return prob[0, 0].cpu().numpy(), colour.cpu().numpy()


def carve(prob: np.ndarray, images, cameras) -> tuple[np.ndarray, np.ndarray]:
    """(carved 64^3 probability, cell-centre axis): each cell scaled by the softened coverage of every input view."""
    from scipy import ndimage

    from reconbench.methods.voxel_cnn.network import HALF_EXTENT

    axis = (np.arange(FINE) + 0.5) / FINE * 2 * HALF_EXTENT - HALF_EXTENT
    points = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), -1).reshape(-1, 3)
    keep = np.ones(len(points))
    for image, cam in zip(images, cameras):
        cover = ndimage.gaussian_filter(silhouette(image).astype(np.float32), CARVE_BLUR_PX)
        u, v, depth = project(points, cam)
        col = np.clip(np.floor(u).astype(int), 0, cover.shape[1] - 1)
        row = np.clip(np.floor(v).astype(int), 0, cover.shape[0] - 1)
        inside = (depth > 0) & (u >= 0) & (u < cover.shape[1]) & (v >= 0) & (v < cover.shape[0])
        keep *= np.where(inside, np.clip(2 * cover[row, col], 0, 1), 0.0)
    return prob * keep.reshape(prob.shape), axis


MIN_LEVEL = 0.15


def iso_level(prob: np.ndarray) -> float:
    """The level to mesh at: 1/2, or lower where the prediction is unsure, so that the meshed volume is
    the expected volume (the sum of the probabilities): an under-confident part (probabilities around
    0.3 on a thin wall) is kept rather than dropped. Never below MIN_LEVEL."""
    expected = int(round(float(prob.sum())))
    if expected < 1 or prob.max() < MIN_LEVEL:
        raise ValueError(f"voxel-cnn predicted no occupied cell (highest probability {prob.max():.3f})")
    kth = np.partition(prob.ravel(), -expected)[-expected]  # the expected-volume-th largest probability
    return float(np.clip(kth, MIN_LEVEL, 0.5))


def learned_colours(colour: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """Trilinear interpolation of the 32^3 colour grid at world points."""
    from scipy import ndimage

    from reconbench.methods.voxel_cnn.network import GRID, HALF_EXTENT

    coords = ((vertices + HALF_EXTENT) / (2 * HALF_EXTENT) * GRID - 0.5).T
    return np.stack([ndimage.map_coordinates(colour[..., c], coords, order=1, mode="nearest") for c in range(3)], -1)


def run(inp: MethodInput) -> MethodOutput:
    import torch

    from reconbench.assets import Material, MeshAsset, MeshPart, save_mesh
    from reconbench.methods.reference.visual_hull import hull_mesh, projected_colours

    seconds: dict[str, float] = {}
    check_camera(inp.cameras[0])
    device = "cuda" if torch.cuda.is_available() else "cpu"
    folder = checkpoint_dir()
    with stage(seconds, "model_load"):
        model = load_model(str(folder), device)
    with stage(seconds, "inference"):
        prob, colour = predict(model, inp.images[0], device)
    with stage(seconds, "mesh"):
        carved, axis = carve(prob, inp.images, inp.cameras)
        level = iso_level(carved)
        mesh = hull_mesh(np.clip(carved * (0.5 / level), 0.0, 1.0), axis)  # hull_mesh meshes at 1/2
    with stage(seconds, "colour"):
        part = mesh.parts[0]
        masks = [silhouette(img) for img in inp.images]
        rgb = projected_colours(
            mesh,
            inp.images,
            masks,
            inp.cameras,
            tolerance=2 * (axis[1] - axis[0]),
            fallback=learned_colours(colour, part.vertices),
        )
    with stage(seconds, "export"):
        coloured = MeshAsset((MeshPart(part.vertices, part.faces, Material("voxel-cnn"), vertex_colors=rgb),))
        path = save_mesh(coloured, inp.workdir / "voxel_cnn.glb")
    record = load_record(folder) or {}
    from reconbench.methods.voxel_cnn.train import cpu_model

    info = {
        "device": device,
        "cpu": cpu_model(),
        "checkpoint": str(folder),
        "faces": int(len(part.faces)),
        "iso_level": level,
        "training": {
            k: record[k]
            for k in (
                "device",
                "device_seconds",
                "data_cpu_seconds",
                "steps",
                "samples",
                "checkpoint_sha256",
                "commit",
                "date",
            )
            if k in record
        }
        or None,
    }
    return MethodOutput(asset=path, stage_seconds=seconds, info=info)
