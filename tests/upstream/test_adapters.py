"""Every upstream adapter's frame conversion, checked exactly.

For each adapter: a ground-truth object (the procedural duck, asymmetric under every axis flip) is put into
the method's documented output convention and file format, as its writer would leave it, with an arbitrary
method-side scale and offset; then it is loaded exactly as the runner does (output discovery, load_asset,
the spec's frame and scale through alignment.initial_transform, as evaluation applies them) and must land
back on the canonical ground truth to ~1e-5.

The conventions below are written from each upstream's own camera definitions (docs/adapters.md), not
from protocol/frames.py, so the frames are checked against an independent statement of the same facts.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
import trimesh

from reconbench.alignment import initial_transform
from reconbench.assets import GaussianSplats, MeshAsset, load_asset, normalisation_transform, save_splats
from reconbench.assets.splats import splats_on_surface
from reconbench.metrics.geometry import nearest_neighbours
from reconbench.protocol.frames import frame_matrix
from reconbench.registry import get_method, method_names
from reconbench.upstream.outputs import discover_output

TOL = 1e-5
NAME = "duck"

# Where the canonical axes point in each method's FILE coordinates: "front" = toward the input camera
# (canonical +Z), "up" (canonical +Y), "right" = the input camera's right (canonical +X).
FILE_AXES = {
    # TripoSR: "x back, y right, z up"; the input camera sits on +X looking at -X.
    "triposr": {"front": (1, 0, 0), "up": (0, 0, 1), "right": (0, 1, 0)},
    # LGM: OpenGL y-up, input camera orbit_camera(0, 0) on +Z; convert.py keeps the coordinates.
    "lgm": {"front": (0, 0, 1), "up": (0, 1, 0), "right": (1, 0, 0)},
    "lgm-mesh": {"front": (0, 0, 1), "up": (0, 1, 0), "right": (1, 0, 0)},
    # OpenLRM: source camera-to-world [[1,0,0,0],[0,0,-1,-2],[0,1,0,0]] (OpenGL): at (0,-2,0), up +Z, right +X.
    "openlrm": {"front": (0, -1, 0), "up": (0, 0, 1), "right": (1, 0, 0)},
    # InstantMesh: model z-up, input view at azimuth 0 (+X), right +Y; the OBJ writer negates z.
    "instantmesh": {"front": (1, 0, 0), "up": (0, 0, -1), "right": (0, 1, 0)},
    # SF3D: camera at (+1.6, 0, 0) with right +Y, up +Z; exporter Rx(-90) then Ry(+90): (x,y,z) -> (-y, z, -x).
    "sf3d": {"front": (0, 0, -1), "up": (0, 1, 0), "right": (-1, 0, 0)},
    # CRM: written as (x, z, -y) of an internal Blender z-up, front -Y frame (read from code, docs/adapters.md).
    "crm": {"front": (0, 0, 1), "up": (0, 1, 0), "right": (1, 0, 0)},
    # DreamGaussian: OpenGL y-up, reference camera orbit_camera(elevation, 0, 2) on +Z.
    "dreamgaussian": {"front": (0, 0, 1), "up": (0, 1, 0), "right": (1, 0, 0)},
    "dreamgaussian-stable-zero123": {"front": (0, 0, 1), "up": (0, 1, 0), "right": (1, 0, 0)},
    # threestudio: camera position d (cos e cos a, cos e sin a, sin e), up +Z: azimuth 0 on +X, right +Y.
    "threestudio-3dgs": {"front": (1, 0, 0), "up": (0, 0, 1), "right": (0, 1, 0)},
}

# The internal (model) frame of methods whose writer changes coordinates, and the writer's operation.
INTERNAL_AXES = {
    "instantmesh": {"front": (1, 0, 0), "up": (0, 0, 1), "right": (0, 1, 0)},
    "sf3d": {"front": (1, 0, 0), "up": (0, 0, 1), "right": (0, 1, 0)},
    "crm": {
        "front": (0, -1, 0),
        "up": (0, 0, 1),
        "right": (1, 0, 0),
    },  # from code (docs/adapters.md); signs of learned maps unconfirmed
}

SCALE, OFFSET = 1.74, np.array([0.031, -0.052, 0.017])  # an arbitrary method-side size and position


def external_methods() -> list[str]:
    return [n for n in method_names() if get_method(n).is_external]


def _to_method(axes: dict) -> np.ndarray:
    """3x3 taking canonical coordinates to a method's, from where the canonical axes point there."""
    return np.column_stack([axes["right"], axes["up"], axes["front"]]).astype(np.float64)


@pytest.fixture(scope="module")
def gt() -> MeshAsset:
    from reconbench.datasets import open_dataset

    mesh = open_dataset("procedural").get(NAME).load()
    lo, hi = mesh.bounds
    assert np.allclose((lo + hi) / 2, 0, atol=1e-9) and (hi - lo).max() == pytest.approx(1)
    return mesh


@pytest.fixture(scope="module")
def gt_splats(gt) -> GaussianSplats:
    v, f = gt.geometry()
    splats = splats_on_surface(trimesh.Trimesh(v, f, process=False), 1500, seed=3)
    return splats.transformed(normalisation_transform(splats.bounds))  # canonical: means' box centred, side 1


def test_every_external_adapter_is_covered_here():
    assert set(external_methods()) == set(FILE_AXES)
    assert set(external_methods()) >= {
        "triposr",
        "lgm",
        "lgm-mesh",
        "openlrm",
        "instantmesh",
        "sf3d",
        "crm",
        "dreamgaussian",
        "dreamgaussian-stable-zero123",
        "threestudio-3dgs",
    }


def test_the_ground_truth_is_asymmetric_so_a_mirror_or_swap_would_show(gt):
    v, _ = gt.geometry()
    for flip in ([-1, 1, 1], [1, -1, 1], [1, 1, -1]):
        assert nearest_neighbours(v * flip, v)[0].max() > 0.04
    assert nearest_neighbours(v[:, [2, 1, 0]], v)[0].max() > 0.04


@pytest.mark.parametrize("method", sorted(FILE_AXES))
def test_frame_sends_the_documented_axes_to_canonical_ones(method):
    """The input camera's side lands on canonical +Z (toward our input camera), up on +Y, its right on +X."""
    spec = get_method(method)
    a = spec.frame_for().array[:3, :3]  # the spec's declared frame, else a generic one
    axes = FILE_AXES[method]
    assert np.allclose(a @ axes["front"], [0, 0, 1])
    assert np.allclose(a @ axes["up"], [0, 1, 0])
    assert np.allclose(a @ axes["right"], [1, 0, 0])
    assert np.allclose(a @ _to_method(axes), np.eye(3))  # exactly the inverse, nothing else


def test_only_instantmesh_needs_a_reflection_and_its_frame_says_so():
    frames = {f.name: f for m in FILE_AXES for f in (get_method(m).frame_for(), *get_method(m).declared_frames)}
    for frame in frames.values():
        assert np.linalg.det(frame.array[:3, :3]) == pytest.approx(-1 if frame.reflection else 1)
    assert [n for n, f in frames.items() if f.reflection] == ["instantmesh-obj"]


# ---------------------------------------------------------------- writers, as upstream leaves its files


def _colours(v: np.ndarray) -> np.ndarray:
    rgb = (np.clip(v - v.min(0), 0, None) / np.ptp(v, axis=0).max() * 200 + 30).astype(np.uint8)
    return np.c_[rgb, np.full(len(v), 255, np.uint8)]


def _similar(v: np.ndarray) -> np.ndarray:
    return v * SCALE + OFFSET


def _write_vertex_colour(v, f, path: Path, colours) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    trimesh.Trimesh(v, f, vertex_colors=colours, process=False).export(path)
    return path


def _textured(v, f) -> trimesh.Trimesh:
    from PIL import Image

    uv = np.random.default_rng(0).random((len(v), 2))

    tex = Image.fromarray(np.random.default_rng(1).integers(0, 256, (16, 16, 3), dtype=np.uint8))
    return trimesh.Trimesh(v, f, visual=trimesh.visual.TextureVisuals(uv=uv, image=tex), process=False)


def _write_lgm_ply(splats: GaussianSplats, path: Path) -> Path:
    """LGM's core/gs.py save_ply(compatible=True): x y z f_dc opacity scale rot, float32, no normals/f_rest."""
    logit = np.log(splats.opacities / (1 - splats.opacities))
    table = np.c_[splats.means, splats.sh[:, 0, :], logit, np.log(splats.scales), splats.quats].astype("<f4")
    names = [
        "x",
        "y",
        "z",
        "f_dc_0",
        "f_dc_1",
        "f_dc_2",
        "opacity",
        "scale_0",
        "scale_1",
        "scale_2",
        "rot_0",
        "rot_1",
        "rot_2",
        "rot_3",
    ]
    header = "ply\nformat binary_little_endian 1.0\n" + f"element vertex {len(table)}\n"
    header += "".join(f"property float {n}\n" for n in names) + "end_header\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header.encode() + table.tobytes())
    return path


def write_mesh_output(method: str, gt: MeshAsset, out: Path) -> None:
    """Write the ground truth as `method` would: its convention, its writer's quirks, its file and place."""
    v, f = gt.geometry()
    colours = _colours(v)
    if method in INTERNAL_AXES:
        internal = _similar(v @ _to_method(INTERNAL_AXES[method]).T)
        if method == "instantmesh":  # src/utils/mesh_util.save_obj
            fv, ff = internal @ np.diag([1.0, 1.0, -1.0]), f[:, [2, 1, 0]]
            _write_vertex_colour(fv, ff, out / "instant-mesh-large" / "meshes" / f"{NAME}.obj", colours)
        elif method == "sf3d":  # sf3d/system.py: Rx(-90 deg) then Ry(+90 deg), GLB with a UV texture
            mesh = _textured(internal, f)
            mesh.apply_transform(trimesh.transformations.rotation_matrix(np.radians(-90), [1, 0, 0]))
            mesh.apply_transform(trimesh.transformations.rotation_matrix(np.radians(90), [0, 1, 0]))
            (out / "0").mkdir(parents=True)
            mesh.export(out / "0" / "mesh.glb")
        elif method == "crm":  # model/crm/model.py export_mesh_wt_uv writes "v x z -y"; zipped with its MTL and PNG
            fv = np.c_[internal[:, 0], internal[:, 2], -internal[:, 1]]
            tmp = out / "tmp"
            tmp.mkdir(parents=True)
            _textured(fv, f).export(tmp / "tmpab12cd.obj")
            with zipfile.ZipFile(out / "output3d.zip", "w") as zf:
                for p in sorted(tmp.iterdir()):
                    zf.write(p, p.name)
            for p in tmp.iterdir():
                p.unlink()
            tmp.rmdir()
        return
    fv = _similar(v @ _to_method(FILE_AXES[method]).T)
    if method == "triposr":  # trimesh OBJ with vertex colours, OUT/0/mesh.obj
        _write_vertex_colour(fv, f, out / "0" / "mesh.obj", colours)
        (out / "0" / "input.png").write_bytes(b"")  # run.py also saves its preprocessed input there
    elif method == "openlrm":  # trimesh PLY with vertex colours, OUT/meshes/<uid>.ply
        _write_vertex_colour(fv, f, out / "meshes" / f"{NAME}.ply", colours)
    elif method == "lgm-mesh":  # kiui Mesh.write_glb: positions as they are, UV texture
        (out / "lgm").mkdir(parents=True)
        _textured(fv, f).export(out / "lgm" / f"{NAME}.glb")
        _write_lgm_ply(splats_on_surface(trimesh.Trimesh(fv, f, process=False), 50), out / "lgm" / f"{NAME}.ply")
    else:
        raise AssertionError(f"no mesh writer for {method}")


def write_splat_output(method: str, splats: GaussianSplats, out: Path) -> None:
    m = np.eye(4)
    m[:3, :3] = SCALE * _to_method(FILE_AXES[method])
    m[:3, 3] = OFFSET
    method_side = splats.transformed(m)
    if method == "lgm":
        _write_lgm_ply(method_side, out / "lgm" / f"{NAME}.ply")
        (out / "lgm" / f"{NAME}.mp4").write_bytes(b"")
    elif method.startswith("dreamgaussian"):  # Inria layout with normals, SH degree 0: OUT/NAME_model.ply
        out.mkdir(parents=True, exist_ok=True)
        save_splats(method_side, out / f"{NAME}_model.ply")
        (out / f"{NAME}_mesh.obj").write_text("")
    elif method == "threestudio-3dgs":  # our hook: GaussianBaseModel.save_ply -> OUT/gaussians/NAME.ply
        (out / "gaussians").mkdir(parents=True)
        save_splats(method_side, out / "gaussians" / f"{NAME}.ply")
    else:
        raise AssertionError(f"no splat writer for {method}")


def load_as_the_runner_does(method: str, out: Path, frame: str | None = None):
    """Output discovery, load_asset, then the spec's frame and scale as evaluation applies them."""
    spec = get_method(method)
    asset = load_asset(discover_output(spec, out))
    return asset.transformed(initial_transform(asset, spec.frame_for(frame), spec.scale))


def _hausdorff(a: np.ndarray, b: np.ndarray) -> float:
    return max(nearest_neighbours(a, b)[0].max(), nearest_neighbours(b, a)[0].max())


def _signed_volume(asset: MeshAsset) -> float:
    v, f = asset.geometry()
    t = v[f]
    return float(np.einsum("ij,ij->i", t[:, 0], np.cross(t[:, 1], t[:, 2])).sum() / 6)


MESH_METHODS = sorted(n for n, s in ((n, get_method(n)) for n in FILE_AXES) if s.representation == "mesh")
SPLAT_METHODS = sorted(n for n in FILE_AXES if get_method(n).representation == "splats")


@pytest.mark.parametrize("method", MESH_METHODS)
def test_mesh_output_comes_back_to_the_canonical_ground_truth(method, gt, tmp_path):
    write_mesh_output(method, gt, tmp_path)
    placed = load_as_the_runner_does(method, tmp_path)
    assert isinstance(placed, MeshAsset)
    truth, _ = gt.geometry()
    got, _ = placed.geometry()
    assert _hausdorff(got, truth) < TOL
    assert np.allclose(placed.bounds, gt.bounds, atol=TOL)


@pytest.mark.parametrize("method", SPLAT_METHODS)
def test_splat_output_comes_back_to_the_canonical_ground_truth(method, gt_splats, tmp_path):
    write_splat_output(method, gt_splats, tmp_path)
    placed = load_as_the_runner_does(method, tmp_path)
    assert isinstance(placed, GaussianSplats) and placed.n == gt_splats.n
    assert np.abs(placed.means - gt_splats.means).max() < TOL  # PLY keeps the order
    assert np.allclose(placed.scales, gt_splats.scales, rtol=1e-4)
    assert np.allclose(placed.opacities, gt_splats.opacities, atol=1e-5)
    assert np.allclose(placed.covariances(), gt_splats.covariances(), atol=1e-9)


@pytest.mark.parametrize(
    "method, wrong", [("triposr", "y-up"), ("instantmesh", "z-up-front-x"), ("sf3d", "y-up"), ("openlrm", "y-up")]
)
def test_a_wrong_frame_would_be_caught(method, wrong, gt, tmp_path):
    """The round trip is sensitive: reading with a plausible but wrong frame misses by far more than TOL
    (for InstantMesh, forgetting the writer's z negation)."""
    write_mesh_output(method, gt, tmp_path)
    got, _ = load_as_the_runner_does(method, tmp_path, frame=wrong).geometry()
    assert _hausdorff(got, gt.geometry()[0]) > 0.05


def test_instantmesh_round_trip_keeps_the_winding(gt, tmp_path):
    """The writer mirrors z and reverses the faces; undoing the mirror reverses them back (outward stays outward)."""
    write_mesh_output("instantmesh", gt, tmp_path)
    placed = load_as_the_runner_does("instantmesh", tmp_path)
    assert _signed_volume(placed) == pytest.approx(_signed_volume(gt), rel=1e-4)
    assert _signed_volume(gt) > 0


def test_triposr_a_point_on_plus_x_lands_toward_our_input_camera(gt, tmp_path):
    """TripoSR's input camera sits on +X: the vertex furthest along +X in its file is the one nearest our
    input camera (largest canonical z) after conversion; the one furthest along +Z is on top (+Y)."""
    write_mesh_output("triposr", gt, tmp_path)
    raw = trimesh.load(tmp_path / "0" / "mesh.obj", process=False)
    placed, _ = load_as_the_runner_does("triposr", tmp_path).geometry()
    rot = frame_matrix("z-up-front-x")[:3, :3]
    # the duck's box is canonical already, so undoing the method-side size and offset gives canonical units
    front = rot @ ((raw.vertices[np.argmax(raw.vertices[:, 0])] - OFFSET) / SCALE)
    top = rot @ ((raw.vertices[np.argmax(raw.vertices[:, 2])] - OFFSET) / SCALE)
    assert front[2] == pytest.approx(placed[:, 2].max(), abs=TOL) and front[2] == pytest.approx(0.5, abs=TOL)
    assert top[1] == pytest.approx(placed[:, 1].max(), abs=TOL)
    assert nearest_neighbours(np.stack([front, top]), placed)[0].max() < TOL
