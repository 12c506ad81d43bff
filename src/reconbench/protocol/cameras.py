"""Pinhole cameras on a sphere around the origin, in the canonical frame (pure functions, no I/O).

Conventions (docs/protocol.md):
- world: right-handed, +Y up, the object's front faces +Z;
- camera-to-world matrices use the OpenGL camera convention: the camera looks down its -Z axis,
  +Y is up in the image, +X is right;
- orbit angles: azimuth 0 puts the camera on +Z, azimuth 90 on +X; elevation is positive above the
  horizon (SyncDreamer's sign; kiui/DreamGaussian/LGM's `orbit_camera` uses the opposite sign);
- intrinsics in pixels, image x to the right and y down, pixel (i, j) has its centre at (i + 0.5, j + 0.5);
  fov is vertical; square pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

WORLD_UP = np.array([0.0, 1.0, 0.0])
ORIGIN = np.zeros(3)


@dataclass(frozen=True)
class Camera:
    """One view: intrinsics, camera-to-world pose, and the orbit parameters it was built from."""

    name: str
    role: str  # "input" or "heldout"
    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    c2w: np.ndarray  # (4, 4) OpenGL convention
    elevation: float = float("nan")
    azimuth: float = float("nan")
    radius: float = float("nan")
    fov: float = float("nan")

    @property
    def position(self) -> np.ndarray:
        return self.c2w[:3, 3]

    @property
    def w2c(self) -> np.ndarray:
        return np.linalg.inv(self.c2w)

    def intrinsics(self) -> np.ndarray:
        """3x3 K for image coordinates with y down (the OpenCV layout of the same numbers)."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    def projection(self, near: float, far: float) -> np.ndarray:
        """OpenGL clip-from-camera matrix matching these intrinsics (window y up)."""
        w, h = self.width, self.height
        return np.array(
            [
                [2 * self.fx / w, 0.0, 1 - 2 * self.cx / w, 0.0],
                [0.0, 2 * self.fy / h, 2 * self.cy / h - 1, 0.0],
                [0.0, 0.0, -(far + near) / (far - near), -2 * far * near / (far - near)],
                [0.0, 0.0, -1.0, 0.0],
            ]
        )

    def pixel_rays(self) -> tuple[np.ndarray, np.ndarray]:
        """World-space ray origins and unit directions through every pixel centre, row-major (H*W, 3)."""
        j, i = np.mgrid[0 : self.height, 0 : self.width]
        x = (i + 0.5 - self.cx) / self.fx
        y = -(j + 0.5 - self.cy) / self.fy
        dirs_cam = np.stack([x, y, -np.ones_like(x)], axis=-1).reshape(-1, 3)
        dirs = dirs_cam @ self.c2w[:3, :3].T
        dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
        return np.broadcast_to(self.position, dirs.shape).copy(), dirs

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "width": self.width,
            "height": self.height,
            "fx": self.fx,
            "fy": self.fy,
            "cx": self.cx,
            "cy": self.cy,
            "c2w": self.c2w.tolist(),
            "elevation_deg": self.elevation,
            "azimuth_deg": self.azimuth,
            "radius": self.radius,
            "fov_deg": self.fov,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Camera:
        return cls(
            name=d["name"],
            role=d["role"],
            width=int(d["width"]),
            height=int(d["height"]),
            fx=float(d["fx"]),
            fy=float(d["fy"]),
            cx=float(d["cx"]),
            cy=float(d["cy"]),
            c2w=np.asarray(d["c2w"], dtype=np.float64),
            elevation=float(d.get("elevation_deg", math.nan)),
            azimuth=float(d.get("azimuth_deg", math.nan)),
            radius=float(d.get("radius", math.nan)),
            fov=float(d.get("fov_deg", math.nan)),
        )


def orbit_position(elevation_deg: float, azimuth_deg: float, radius: float) -> np.ndarray:
    """Point on the sphere: azimuth 0 on +Z, 90 on +X, elevation positive toward +Y."""
    e, a = math.radians(elevation_deg), math.radians(azimuth_deg)
    return radius * np.array([math.cos(e) * math.sin(a), math.sin(e), math.cos(e) * math.cos(a)])


def look_at(eye: np.ndarray, target: np.ndarray = ORIGIN, up: np.ndarray = WORLD_UP) -> np.ndarray:
    """OpenGL camera-to-world matrix for a camera at `eye` looking at `target` with +Y roughly up."""
    back = np.asarray(eye, dtype=np.float64) - target
    back /= np.linalg.norm(back)
    right = np.cross(up, back)
    if np.linalg.norm(right) < 1e-9:
        raise ValueError("camera looks straight along the up axis; its roll is undefined")
    right /= np.linalg.norm(right)
    true_up = np.cross(back, right)
    c2w = np.eye(4)
    c2w[:3, 0], c2w[:3, 1], c2w[:3, 2], c2w[:3, 3] = right, true_up, back, eye
    return c2w


def focal_from_fov(fov_deg: float, size: int) -> float:
    return (size / 2) / math.tan(math.radians(fov_deg) / 2)


def orbit_angles(camera: Camera) -> tuple[float, float, float]:
    """(elevation°, azimuth°, radius) of a camera about the origin, from its fields or else its position."""
    if all(math.isfinite(v) for v in (camera.elevation, camera.azimuth, camera.radius)):
        return camera.elevation, camera.azimuth, camera.radius
    x, y, z = (float(v) for v in camera.position)
    r = math.sqrt(x * x + y * y + z * z)
    return math.degrees(math.asin(y / r)), math.degrees(math.atan2(x, z)), r


def vertical_fov(camera: Camera) -> float:
    """The vertical field of view in degrees, from its field or else its intrinsics."""
    return camera.fov if math.isfinite(camera.fov) else math.degrees(2 * math.atan(camera.height / 2 / camera.fy))


def orbit_camera(
    name: str,
    role: str,
    elevation_deg: float,
    azimuth_deg: float,
    radius: float,
    fov_deg: float,
    width: int,
    height: int,
    focal: float | None = None,
) -> Camera:
    """A camera on the sphere looking at the origin, with vertical field of view `fov_deg` (or, when
    given, focal length `focal` in pixels: an exact published focal is not rounded through a fov)."""
    if role not in ("input", "heldout"):
        raise ValueError(f"role must be 'input' or 'heldout', got {role!r}")
    if not -90 < elevation_deg < 90:
        raise ValueError(f"elevation must be strictly between -90 and 90 degrees, got {elevation_deg}")
    f = float(focal) if focal is not None else focal_from_fov(fov_deg, height)
    return Camera(
        name=name,
        role=role,
        width=width,
        height=height,
        fx=f,
        fy=f,
        cx=width / 2,
        cy=height / 2,
        c2w=look_at(orbit_position(elevation_deg, azimuth_deg, radius)),
        elevation=float(elevation_deg),
        azimuth=float(azimuth_deg),
        radius=float(radius),
        fov=float(fov_deg),
    )
