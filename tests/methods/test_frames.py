"""Frames a method declares in its own spec (MethodSpec.frames): read strictly, carried by the spec object to
wherever a prediction is scored, looked up before the generic frames of protocol/frames.py."""

from __future__ import annotations

import math
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest
import trimesh

from reconbench.alignment import initial_transform
from reconbench.assets import MeshAsset, MeshPart
from reconbench.errors import UnknownName
from reconbench.methods import MethodSpec
from reconbench.methods.recipe import SpecError
from reconbench.protocol.frames import FRAMES, frame_matrix
from reconbench.registry import _registry, frame_named, frame_names, get_method, method_names, register_method

sys.path.insert(0, str(Path(__file__).parent))  # frame_writer: the test method, importable by the job worker too
from frame_writer import X_UP  # noqa: E402


def _toy(**changes) -> dict:
    return {
        "name": "toy-frames",
        "paradigm": "reference",
        "representation": "mesh",
        "description": "a method writing its own frame",
        "entry": "frame_writer:run",
        "needs_ground_truth": True,
        "frame": "toy-x-up",
        "frames": [dict(X_UP)],
        "input_views": (1, 4),
        "scale": "none",
        **changes,
    }


def _marked_cube() -> trimesh.Trimesh:
    """A unit cube at the origin with a small box stuck on its +Y (up) face near +X (right), +Z (front)."""
    cube = trimesh.creation.box(extents=(1, 1, 1))
    marker = trimesh.creation.box(extents=(0.2, 0.2, 0.2))
    marker.apply_translation([0.3, 0.6, 0.3])
    return trimesh.util.concatenate([cube, marker])


def test_a_declared_frame_is_what_alignment_applies_even_after_the_spec_travels_to_a_worker():
    canonical = _marked_cube()
    # Written by the method: canonical right -> -Z, up -> +X, front -> -Y (the frame's definition, by hand).
    to_file = np.array([[0, 1, 0], [0, 0, -1], [-1, 0, 0]], dtype=float)
    assert np.allclose(to_file @ [0, 1, 0], [1, 0, 0]) and np.allclose(to_file @ [0, 0, 1], [0, -1, 0])
    written = MeshAsset((MeshPart(canonical.vertices @ to_file.T, canonical.faces),))
    # As a spawned job worker or Ray receives it (pickled through a pipe): our own object, never a user file.
    spec = pickle.loads(pickle.dumps(MethodSpec.from_dict(_toy())))  # noqa: TID251
    placed = written.transformed(initial_transform(written, spec.frame_for(), spec.scale))
    v = placed.parts[0].vertices
    assert np.allclose(v, canonical.vertices, atol=1e-12)
    # The marker lands on the canonical up face, toward the front and the right: not mirrored, not turned.
    assert v[:, 1].max() == pytest.approx(0.7)
    top = v[v[:, 1] > 0.65]
    assert (top[:, 0] > 0).all() and (top[:, 2] > 0).all()


def test_a_run_scores_a_method_through_the_frame_its_spec_declares(tmp_path, small_protocol):
    """End to end (job worker, scoring): the ground truth written in toy-x-up comes back exact; the same file
    declared y-up does not, so the declared matrix is what the run applied."""
    from reconbench.runner.run import RunConfig, run_benchmark
    from reconbench.runner.store import ResultsStore

    declared = register_method(_toy(name="toy-frames-run"))
    generic = register_method(_toy(name="toy-frames-run-y-up", frame="y-up"))
    out = tmp_path / "run"
    try:
        names = [declared.name, generic.name]
        summary = run_benchmark(
            RunConfig("procedural", names, small_protocol, out, objects=["mug"], lpips=(), progress=False)
        )
    finally:
        for spec in (declared, generic):
            _registry().pop(spec.name)  # other tests see only the built-in methods
    with ResultsStore(out / "results.sqlite") as store:
        records = {r.method: r for r in store.records()}
    assert (summary.ok, summary.failed) == (2, 0), [r.error for r in records.values()]
    chamfer = {name: r.metrics["unaligned_chamfer"] for name, r in records.items()}
    assert chamfer[declared.name] < 1e-4 and math.isfinite(chamfer[generic.name])
    assert chamfer[generic.name] > 100 * max(chamfer[declared.name], 1e-6)


def test_a_misspelled_frame_key_fails_at_registration_naming_it():
    bad = _toy(name="toy-frames-typo", frames=[{**{k: v for k, v in X_UP.items() if k != "matrix"}, "matirx": []}])
    with pytest.raises(SpecError, match=r"'toy-frames-typo'.*'toy-x-up'.*'matirx'.*allowed: name, matrix"):
        register_method(bad)
    assert "toy-frames-typo" not in method_names()


@pytest.mark.parametrize(
    ("frame", "why"),
    [
        ({**X_UP, "matrix": [[2, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]}, "orthonormal"),
        ({**X_UP, "matrix": [[1, 0, 0, 0.5], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]}, "no translation"),
        ({**X_UP, "matrix": [[1, 0, 0], [0, 1, 0], [0, 0, 1]]}, "4x4"),
        ({**X_UP, "matrix": [[-1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]}, "reflection=False"),
        ({**X_UP, "reflection": True}, "reflection=True"),
        ({**X_UP, "name": "z-up"}, "other than the generic"),
        ({**X_UP, "description": ""}, "missing description"),
    ],
)
def test_a_frame_that_is_not_a_rotation_or_is_misdeclared_is_refused(frame, why):
    with pytest.raises(SpecError, match=why):
        MethodSpec.from_dict(_toy(frames=[frame]))


def test_an_unknown_frame_name_errors_naming_the_known_ones():
    spec = MethodSpec.from_dict(_toy())
    with pytest.raises(UnknownName, match=r"'toy-y-up'.*known: y-up, z-up, z-up-front-x, toy-x-up"):
        spec.frame_for("toy-y-up")  # a MethodOutput.frame override that names nothing
    assert spec.frame_for("z-up").name == "z-up"  # an override may name a generic frame too
    with pytest.raises(
        UnknownName, match=r"'instantmesh-ob'; known: y-up, z-up, z-up-front-x, .*crm-obj.*instantmesh-obj"
    ):
        frame_named("instantmesh-ob")  # reconbench evaluate --frame


def test_an_upstream_spec_naming_an_undeclared_frame_fails_validation():
    from reconbench.upstream.validate import validate_spec

    spec = MethodSpec.from_dict({**_adapter_dict("crm"), "frames": []})
    assert [p for p in validate_spec(spec) if "frame" in p] == [
        "crm: frame 'crm-obj' is neither generic (protocol/frames.py: y-up, z-up, z-up-front-x) nor declared in "
        "the spec's frames (none)"
    ]


def _adapter_dict(name: str) -> dict:
    import dataclasses

    return dataclasses.asdict(get_method(name))


def test_the_generic_table_holds_no_method_frames_and_every_declared_name_is_unique():
    assert list(FRAMES) == ["y-up", "z-up", "z-up-front-x"]
    names = frame_names()
    assert len(names) == len(set(names))
    assert {"instantmesh-obj", "y-up-front-neg-z", "crm-obj"} <= set(names)


# ------------------------------------------------- the three frames moved from protocol/frames.py to adapters


def _rx(deg: float) -> np.ndarray:
    return trimesh.transformations.rotation_matrix(np.radians(deg), [1, 0, 0])[:3, :3]


def _ry(deg: float) -> np.ndarray:
    return trimesh.transformations.rotation_matrix(np.radians(deg), [0, 1, 0])[:3, :3]


@pytest.mark.parametrize(
    ("method", "frame"), [("instantmesh", "instantmesh-obj"), ("sf3d", "y-up-front-neg-z"), ("crm", "crm-obj")]
)
def test_an_adapter_frame_resolves_to_the_matrix_its_adapter_declares(method, frame):
    spec = get_method(method)
    declared = {d["name"]: np.asarray(d["matrix"], dtype=float) for d in spec.frames}
    assert spec.frame == frame and list(declared) == [frame]
    assert np.array_equal(spec.frame_for().array, declared[frame])
    assert np.array_equal(frame_named(frame).array, declared[frame])  # the CLI's lookup, through the registry
    assert np.array_equal(frame_matrix(spec.frame_for()), declared[frame])


def test_instantmesh_obj_undoes_the_writers_z_mirror_of_z_up_front_x():
    """save_obj writes diag(1, 1, -1) of the model's z-up-front-x vertices: the frame is a reflection that,
    after undoing that mirror, is exactly the generic z-up-front-x."""
    m = frame_named("instantmesh-obj").array[:3, :3]
    assert frame_named("instantmesh-obj").reflection and np.linalg.det(m) == pytest.approx(-1)
    assert np.allclose(m @ np.diag([1, 1, -1]), frame_matrix("z-up-front-x")[:3, :3])


def test_sf3d_frame_undoes_the_exporters_rotations_and_puts_the_input_camera_on_plus_z():
    """Model in z-up-front-x (input camera on +X); the exporter applies Rx(-90) then Ry(+90)."""
    m = frame_named("y-up-front-neg-z").array[:3, :3]
    exporter = _ry(90) @ _rx(-90)
    assert np.allclose(m @ exporter, frame_matrix("z-up-front-x")[:3, :3])
    assert np.allclose(exporter @ [1, 0, 0], [0, 0, -1])  # the input camera lands on -Z of the GLB ...
    assert np.allclose(m @ [0, 0, -1], [0, 0, 1])  # ... and back on canonical +Z
    assert np.linalg.det(m) == pytest.approx(1) and not frame_named("y-up-front-neg-z").reflection


def test_crm_obj_undoes_the_writers_x_z_minus_y_of_blender_axes():
    """The exporter writes (x, z, -y) of its internal Blender (z-up, front -Y) coordinates: the file is already
    canonical, so the frame is the identity, kept as a name so a correction lands in one place."""
    m = frame_named("crm-obj").array[:3, :3]
    writer = np.array([[1, 0, 0], [0, 0, 1], [0, -1, 0]], dtype=float)  # (x, y, z) -> (x, z, -y)
    assert np.allclose(m @ writer, frame_matrix("z-up")[:3, :3])
    assert np.allclose(m, np.eye(3))
