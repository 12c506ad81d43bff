"""Gaussian-splat assets: 3D Gaussians with their parameters ACTIVATED, in the 3DGS conventions.

The conventions are those of the reference 3D Gaussian Splatting code (graphdeco-inria
gaussian-splatting, `scene/gaussian_model.py`, `utils/sh_utils.py` and the CUDA rasterizer),
which every splat writer we read (Inria, DreamGaussian, LGM) follows:

* means: world positions (N, 3).
* scales: standard deviations along the Gaussian's local axes, > 0. A PLY stores log(scale).
* quats: unit quaternions (w, x, y, z) -- scalar FIRST, as in 3DGS `build_rotation`, where
  r = q[0]. A PLY stores rot_0..3 unnormalised; they are normalised on the way in.
  The covariance is Sigma = R S S^T R^T with R = rotation(q), S = diag(scales).
* opacities: in [0, 1]. A PLY stores the logit (3DGS activates with a sigmoid).
* sh: (N, K, 3) real spherical-harmonic coefficients per colour channel, K = (degree + 1)**2,
  degree 0..3, in the 3DGS basis order and signs (`eval_sh`). sh[:, 0] is the DC term;
  RGB2SH / SH2RGB are rgb = 0.5 + C0 * sh_dc with C0 = 0.28209479177387814.
* colour seen from a camera: 0.5 + sum_k Y_k(d) sh[:, k] where d is the UNIT direction FROM THE
  CAMERA CENTRE TO THE GAUSSIAN (3DGS: dir = normalize(mean - campos)). 3DGS then clamps the
  result below at 0 only (the rasterizer's `computeColorFromSH`); we return it unclamped and
  leave clamping to the renderer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

C0 = 0.28209479177387814  # Y_0^0; 3DGS RGB2SH / SH2RGB
MAX_SH_DEGREE = 3  # what 3DGS (`eval_sh`, the CUDA rasterizer) supports

# 3DGS `eval_sh` constants (real SH with the Condon-Shortley sign folded into the signs below).
_C1 = 0.4886025119029199
_C2 = (1.0925484305920792, -1.0925484305920792, 0.31539156525252005, -1.0925484305920792, 0.5462742152960396)
_C3 = (
    -0.5900435899266435,
    2.890611442640554,
    -0.4570457994644658,
    0.3731763325901154,
    -0.4570457994644658,
    1.445305721320277,
    -0.5900435899266435,
)


@dataclass(frozen=True)
class GaussianSplats:
    """3D Gaussians with ACTIVATED parameters (the 3DGS conventions, documented in the module docstring)."""

    means: np.ndarray  # (N, 3) float64, world positions
    scales: np.ndarray  # (N, 3) float64 > 0, standard deviations along the local axes
    quats: np.ndarray  # (N, 4) float64, unit quaternions (w, x, y, z)
    opacities: np.ndarray  # (N,) float64 in [0, 1]
    sh: np.ndarray  # (N, K, 3) float64, K = (degree + 1) ** 2, 3DGS basis order
    source: Path | None = None

    def __post_init__(self) -> None:
        arrays = {
            name: np.asarray(getattr(self, name), dtype=np.float64)
            for name in ("means", "scales", "quats", "opacities", "sh")
        }
        _check_shapes(**arrays)
        for name, value in arrays.items():
            if not np.all(np.isfinite(value)):
                raise ValueError(f"{name} contains NaN or infinite values ({int(np.sum(~np.isfinite(value)))} entries)")
        if np.any(arrays["scales"] <= 0):
            raise ValueError(f"scales must be > 0 (min {arrays['scales'].min():.3g})")
        op = arrays["opacities"]
        if np.any((op < 0) | (op > 1)):
            raise ValueError(f"opacities must be in [0, 1] (range {op.min():.3g}..{op.max():.3g})")
        arrays["quats"] = _normalised_quats(arrays["quats"])
        for name, value in arrays.items():
            object.__setattr__(self, name, value)
        if self.source is not None:
            object.__setattr__(self, "source", Path(self.source))

    @property
    def n(self) -> int:
        """Number of Gaussians."""
        return len(self.means)

    @property
    def sh_degree(self) -> int:
        """Spherical-harmonic degree, from K = (degree + 1) ** 2."""
        return int(round(np.sqrt(self.sh.shape[1]))) - 1

    @property
    def bounds(self) -> np.ndarray:
        """(2, 3) axis-aligned bounding box of the means (the Gaussians' extent is not included)."""
        return np.stack([self.means.min(0), self.means.max(0)])

    def colors_dc(self) -> np.ndarray:
        """(N, 3) view-independent colour 0.5 + C0 * sh_dc (3DGS SH2RGB), not clamped."""
        return 0.5 + C0 * self.sh[:, 0]

    def colors(self, view_dirs: np.ndarray) -> np.ndarray:
        """(N, 3) colour of each Gaussian seen along `view_dirs` (camera -> Gaussian), not clamped.

        `view_dirs` is (N, 3) or one (3,) direction for all; it is normalised here, as 3DGS does.
        """
        d = np.broadcast_to(np.asarray(view_dirs, dtype=np.float64), (self.n, 3))
        d = d / np.linalg.norm(d, axis=1, keepdims=True)
        basis = sh_basis(d, self.sh_degree)  # (N, K)
        return 0.5 + np.einsum("nk,nkc->nc", basis, self.sh)

    def covariances(self) -> np.ndarray:
        """(N, 3, 3) world covariances R S S^T R^T."""
        rs = quat_to_matrix(self.quats) * self.scales[:, None, :]
        return rs @ np.transpose(rs, (0, 2, 1))

    def transformed(self, matrix: np.ndarray) -> GaussianSplats:
        """These Gaussians mapped by a 4x4 similarity (uniform scale s, rotation R, translation t).

        means' = s R m + t, scales' = s scales, quats' = quat(R) * q, opacities unchanged, and the
        SH rotated so that the colour seen along R d afterwards equals the colour along d before.
        A non-uniform scale, shear, reflection or projective matrix raises ValueError: a Gaussian's
        covariance would stay representable, but not its (scale, quat) parameters per axis, and
        a reflection would also mirror the SH.
        """
        s, rot, t = decompose_similarity(matrix)
        quats = quat_multiply(matrix_to_quat(rot), self.quats)
        return replace(
            self,
            means=s * self.means @ rot.T + t,
            scales=s * self.scales,
            quats=quats,
            sh=rotate_sh(self.sh, rot),
        )

    def subset(self, mask: np.ndarray) -> GaussianSplats:
        """The Gaussians selected by a boolean mask or an index array (ValueError if none)."""
        idx = np.asarray(mask)
        if idx.dtype == bool and idx.shape != (self.n,):
            raise ValueError(f"boolean mask must have shape ({self.n},), got {idx.shape}")
        return replace(
            self,
            means=self.means[idx],
            scales=self.scales[idx],
            quats=self.quats[idx],
            opacities=self.opacities[idx],
            sh=self.sh[idx],
        )


def _check_shapes(
    means: np.ndarray, scales: np.ndarray, quats: np.ndarray, opacities: np.ndarray, sh: np.ndarray
) -> None:
    """Raise ValueError unless all arrays describe the same N >= 1 Gaussians with a supported SH degree."""
    if means.ndim != 2 or means.shape[1] != 3:
        raise ValueError(f"means must be (N, 3), got {means.shape}")
    n = len(means)
    if n == 0:
        raise ValueError("empty cloud: no Gaussians")
    expected = {"scales": (scales, (n, 3)), "quats": (quats, (n, 4)), "opacities": (opacities, (n,))}
    for name, (value, shape) in expected.items():
        if value.shape != shape:
            raise ValueError(f"{name} must be {shape} for N = {n}, got {value.shape}")
    if sh.ndim != 3 or sh.shape[0] != n or sh.shape[2] != 3:
        raise ValueError(f"sh must be (N, K, 3) for N = {n}, got {sh.shape}")
    degree = int(round(np.sqrt(sh.shape[1]))) - 1
    if sh.shape[1] == 0 or (degree + 1) ** 2 != sh.shape[1]:
        raise ValueError(f"sh has K = {sh.shape[1]} coefficients per channel, not a perfect square (degree + 1)**2")
    if degree > MAX_SH_DEGREE:
        raise ValueError(f"sh degree {degree} is not supported (3DGS uses at most {MAX_SH_DEGREE})")


def _normalised_quats(quats: np.ndarray) -> np.ndarray:
    """Unit quaternions; a zero quaternion is an error (it is no rotation at all)."""
    norm = np.linalg.norm(quats, axis=1, keepdims=True)
    if np.any(norm == 0):
        raise ValueError(f"quats contain {int(np.sum(norm == 0))} zero quaternions")
    # Rows already unit length are kept bit for bit, so subset()/replace() never drift.
    return np.where(np.abs(norm - 1) < 1e-12, quats, quats / norm)


def sh_basis_columns(x, y, z, degree: int) -> list:
    """The real SH basis functions at unit directions (x, y, z), 3DGS `eval_sh` order and signs, as a
    list of arrays; arithmetic only, so numpy arrays and torch tensors (with autograd) both work."""
    if degree > MAX_SH_DEGREE:
        raise ValueError(f"sh degree {degree} is not supported")
    cols = [x * 0 + C0]
    if degree >= 1:
        cols += [-_C1 * y, _C1 * z, -_C1 * x]
    if degree >= 2:
        xx, yy, zz = x * x, y * y, z * z
        cols += [_C2[0] * x * y, _C2[1] * y * z, _C2[2] * (2 * zz - xx - yy), _C2[3] * x * z, _C2[4] * (xx - yy)]
    if degree >= 3:
        cols += [
            _C3[0] * y * (3 * xx - yy),
            _C3[1] * x * y * z,
            _C3[2] * y * (4 * zz - xx - yy),
            _C3[3] * z * (2 * zz - 3 * xx - 3 * yy),
            _C3[4] * x * (4 * zz - xx - yy),
            _C3[5] * z * (xx - yy),
            _C3[6] * x * (xx - 3 * yy),
        ]
    return cols


def sh_basis(dirs: np.ndarray, degree: int) -> np.ndarray:
    """(M, (degree+1)**2) real SH basis at unit directions, in 3DGS `eval_sh` order and signs."""
    return np.stack(sh_basis_columns(dirs[:, 0], dirs[:, 1], dirs[:, 2], degree), axis=1)


def _fibonacci_sphere(n: int) -> np.ndarray:
    """n well-spread unit directions (deterministic), for fitting the SH rotation."""
    i = np.arange(n) + 0.5
    z = 1 - 2 * i / n
    phi = np.pi * (1 + 5**0.5) * i
    r = np.sqrt(1 - z * z)
    return np.stack([r * np.cos(phi), r * np.sin(phi), z], axis=1)


def sh_rotation_matrices(rot: np.ndarray, degree: int) -> list[np.ndarray]:
    """Per band l = 1..degree, the (2l+1, 2l+1) matrix D_l with c' = D_l c rotating SH by `rot`.

    We want f'(R d) = f(d), i.e. Y_l(e) . c' = Y_l(R^T e) . c for every direction e, so D_l solves
    Y_l(E) D_l = Y_l(R^T E) over sampled directions E. Why a least-squares fit rather than closed-form
    Wigner-D matrices: it works for 3DGS's own basis order and sign conventions without deriving them
    by hand (easy to get a sign wrong), and it is exact -- each band spans a rotation-invariant
    space, so the fit's residual is rounding error only.
    """
    dirs = _fibonacci_sphere(64)
    basis = sh_basis(dirs, degree)
    basis_back = sh_basis(dirs @ rot, degree)  # rows are R^T e
    mats = []
    for band in range(1, degree + 1):
        cols = slice(band * band, (band + 1) * (band + 1))
        d_l, *_ = np.linalg.lstsq(basis[:, cols], basis_back[:, cols], rcond=None)
        mats.append(d_l)
    return mats


def rotate_sh(sh: np.ndarray, rot: np.ndarray) -> np.ndarray:
    """(N, K, 3) coefficients rotated by a 3x3 rotation (band 0 is invariant)."""
    degree = int(round(np.sqrt(sh.shape[1]))) - 1
    out = sh.copy()
    for band, d_l in enumerate(sh_rotation_matrices(rot, degree), start=1):
        cols = slice(band * band, (band + 1) * (band + 1))
        out[:, cols] = np.einsum("ij,njc->nic", d_l, sh[:, cols])
    return out


def quat_to_matrix(quats: np.ndarray) -> np.ndarray:
    """(N, 3, 3) rotation matrices of unit quaternions (w, x, y, z), as 3DGS `build_rotation`."""
    w, x, y, z = quats.T
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], axis=-1),
            np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], axis=-1),
            np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], axis=-1),
        ],
        axis=-2,
    )


def matrix_to_quat(rot: np.ndarray) -> np.ndarray:
    """Unit quaternion (w, x, y, z) of a 3x3 rotation matrix."""
    from scipy.spatial.transform import Rotation

    x, y, z, w = Rotation.from_matrix(rot).as_quat()  # scipy is scalar-last
    return np.array([w, x, y, z])


def quat_multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product a (x) b of (w, x, y, z) quaternions (broadcasting), i.e. rotate by b then a."""
    aw, ax, ay, az = np.moveaxis(np.asarray(a, dtype=np.float64), -1, 0)
    bw, bx, by, bz = np.moveaxis(np.asarray(b, dtype=np.float64), -1, 0)
    return np.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        axis=-1,
    )


def decompose_similarity(matrix: np.ndarray, tol: float = 1e-6) -> tuple[float, np.ndarray, np.ndarray]:
    """(s, R, t) of a 4x4 similarity s R x + t; ValueError for anything else (shear, reflection...)."""
    m = np.asarray(matrix, dtype=np.float64)
    if m.shape != (4, 4) or not np.all(np.isfinite(m)):
        raise ValueError(f"expected a finite 4x4 matrix, got shape {m.shape}")
    if not np.allclose(m[3], [0, 0, 0, 1], atol=tol):
        raise ValueError(f"not an affine matrix: last row is {m[3].tolist()}")
    linear = m[:3, :3]
    det = float(np.linalg.det(linear))
    if det == 0:
        raise ValueError("degenerate matrix (determinant 0)")
    if det < 0:
        raise ValueError(
            "the matrix contains a reflection (negative determinant); Gaussians and their SH cannot be mirrored"
        )
    s = det ** (1 / 3)
    rot = linear / s
    if np.abs(rot.T @ rot - np.eye(3)).max() > tol:
        raise ValueError("not a similarity: non-uniform scale or shear (only uniform scale, rotation and translation)")
    u, _, vt = np.linalg.svd(rot)  # closest exact rotation, removing rounding
    return s, u @ vt, m[:3, 3].copy()


def splats_on_surface(
    mesh, n: int, seed: int = 0, color: tuple[float, float, float] = (1.0, 1.0, 1.0), opacity: float = 0.95
) -> GaussianSplats:
    """Flat Gaussians tangent to a trimesh surface (even samples, local z along the face normal): a splat
    stand-in for a mesh, for tests and benchmarks that need both representations of one object."""
    import trimesh

    points, faces = trimesh.sample.sample_surface_even(mesh, n, seed=seed)
    normals = mesh.face_normals[faces]
    axis = np.cross([0.0, 0.0, 1.0], normals)
    sin = np.linalg.norm(axis, axis=1, keepdims=True)
    half = np.arctan2(sin[:, 0], normals[:, 2]) / 2
    axis = np.where(sin > 1e-9, axis / np.maximum(sin, 1e-12), [1.0, 0.0, 0.0])
    quats = np.c_[np.cos(half), axis * np.sin(half)[:, None]]
    spacing = np.sqrt(mesh.area / len(points))
    sh = np.tile((np.asarray(color, np.float64) - 0.5) / C0, (len(points), 1))[:, None, :]
    return GaussianSplats(
        points, np.tile([spacing, spacing, spacing * 0.05], (len(points), 1)), quats, np.full(len(points), opacity), sh
    )
