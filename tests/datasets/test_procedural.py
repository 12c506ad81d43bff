"""Procedural dataset: catalogue contents, geometry claims, GLB files, atomic generation, determinism."""

from __future__ import annotations

import hashlib
import json
import os
import re
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import trimesh

from reconbench.assets.mesh import MeshAsset, MeshPart
from reconbench.assets.mesh_io import load_mesh, save_mesh
from reconbench.datasets.procedural import (
    CATALOGUE,
    FEATURES,
    LARGE_OBJECT,
    PROCEDURAL_VERSION,
    build_object,
    catalogue_ids,
    ensure_generated,
    generate,
)
from reconbench.datasets.procedural.generate import _publish

IDS = [spec.id for spec in CATALOGUE]
SPECS = {spec.id: spec for spec in CATALOGUE}
OLD_NS = 1_000_000_000 * 10**9  # 2001: a timestamp no fresh write can produce


@cache
def built(object_id: str) -> MeshAsset:
    return build_object(object_id)


def pieces(part: MeshPart) -> list[trimesh.Trimesh]:
    """Connected pieces of a part after welding coincident vertices (UV seams repeat points)."""
    verts, inverse = np.unique(np.round(part.vertices, 8) + 0.0, axis=0, return_inverse=True)
    return trimesh.Trimesh(verts, inverse.reshape(-1)[part.faces], process=False).split(only_watertight=False)


def longest_side(asset: MeshAsset) -> float:
    return float(np.ptp(asset.bounds, axis=0).max())


def sharp_edge_fraction(texture: np.ndarray) -> float:
    """Largest, over the two image axes, fraction of neighbouring pixels with a strong colour change."""
    rgb = texture[..., :3].astype(int)
    return max(float((np.abs(np.diff(rgb, axis=a)).sum(-1) > 60).mean()) for a in (0, 1))


def has_feature(asset: MeshAsset, feature: str) -> bool:
    """Check a catalogue feature tag against the built geometry and materials."""
    all_pieces = [p for part in asset.parts for p in pieces(part)]
    if feature == "genus":
        return any(p.is_watertight and p.euler_number < 2 for p in all_pieces)
    if feature == "concave":
        return any(p.volume < 0.5 * p.convex_hull.volume for p in all_pieces)
    if feature == "thin":
        return any(p.extents.min() < 0.03 * longest_side(asset) for p in all_pieces)
    if feature == "multi_material":
        return len({part.material.name for part in asset.parts}) >= 2
    if feature == "high_freq_texture":
        textures = [p.material.texture for p in asset.parts if p.material.texture is not None]
        return any(sharp_edge_fraction(t) > 0.08 for t in textures)
    if feature == "vertex_colours":
        untextured = all(p.material.texture is None for p in asset.parts)
        return untextured and all(
            p.vertex_colors is not None and np.ptp(p.vertex_colors[:, :3]) > 0 for p in asset.parts
        )
    raise AssertionError(f"no check for feature {feature!r}")


def test_catalogue_has_12_plus_objects_in_4_plus_categories_with_unique_snake_case_ids():
    assert len(CATALOGUE) >= 12
    assert len({spec.category for spec in CATALOGUE}) >= 4
    assert len(set(IDS)) == len(IDS) and catalogue_ids() == IDS
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", i) for i in IDS)
    assert all(spec.description and "\n" not in spec.description for spec in CATALOGUE)


def test_every_required_feature_is_claimed_by_some_object_and_tags_are_known():
    claimed = {f for spec in CATALOGUE for f in spec.features}
    assert claimed == set(FEATURES)


@pytest.mark.parametrize("feature_claim", [(s.id, f) for s in CATALOGUE for f in s.features], ids="-".join)
def test_claimed_feature_holds_on_built_mesh(feature_claim):
    object_id, feature = feature_claim
    assert has_feature(built(object_id), feature)


def test_objects_not_tagged_multi_material_have_a_single_part():
    for spec in CATALOGUE:
        if "multi_material" not in spec.features:
            assert len(built(spec.id).parts) == 1, spec.id


def test_feature_checks_reject_objects_lacking_the_feature():
    assert not has_feature(built("ring"), "thin")
    assert not has_feature(built("blocks"), "genus")
    assert not has_feature(built("ring"), "vertex_colours")


@pytest.mark.parametrize("object_id", IDS)
def test_object_builds_with_a_few_thousand_to_20k_triangles_inside_unit_cube(object_id):
    asset = built(object_id)
    assert 2_000 <= asset.n_faces <= 20_000
    assert np.all(np.abs(asset.bounds) <= 1.0)
    assert longest_side(asset) > 1.0


@pytest.mark.parametrize("object_id", IDS)
def test_every_piece_is_watertight_consistently_wound_and_faces_outward(object_id):
    for part in built(object_id).parts:
        for piece in pieces(part):
            assert piece.is_watertight, part.material.name
            assert piece.is_winding_consistent, part.material.name
            assert piece.volume > 0, part.material.name


@pytest.mark.parametrize("object_id", IDS)
def test_parts_are_uv_textured_unless_object_is_vertex_coloured(object_id):
    parts = built(object_id).parts
    if "vertex_colours" in SPECS[object_id].features:
        assert all(p.material.texture is None and p.uv is None and p.vertex_colors is not None for p in parts)
    else:
        assert all(p.has_texture for p in parts)
        assert all(p.uv.min() >= 0 and p.uv.max() <= 1 for p in parts)
        assert all(p.material.texture.shape[0] in (64, 128, 256, 512) for p in parts)


@pytest.mark.parametrize("object_id", IDS)
def test_glb_round_trip_keeps_face_count_and_textures(object_id, tmp_path):
    asset = built(object_id)
    loaded = load_mesh(save_mesh(asset, tmp_path / f"{object_id}.glb"))
    assert loaded.n_faces == asset.n_faces
    assert len(loaded.parts) == len(asset.parts)
    assert sum(p.has_texture for p in loaded.parts) == sum(p.has_texture for p in asset.parts)
    coloured = [sum(p.vertex_colors is not None for p in a.parts) for a in (loaded, asset)]
    assert coloured[0] == coloured[1]


def test_documented_detail_reaches_about_100k_triangles():
    object_id, detail = LARGE_OBJECT
    assert f'build_object("{object_id}", detail={detail})' in generate.__doc__
    assert 80_000 <= build_object(object_id, detail=detail).n_faces <= 150_000
    assert build_object("ring", detail=2).n_faces == 4 * built("ring").n_faces


def test_build_object_rejects_unknown_id_and_bad_detail():
    with pytest.raises(KeyError, match="teapot"):
        build_object("teapot")
    with pytest.raises(ValueError):
        build_object("mug", detail=0)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    return ensure_generated(tmp_path_factory.mktemp("data"))


def test_ensure_generated_writes_every_object_and_an_index(generated):
    assert generated.parts[-2:] == ("procedural", f"v{PROCEDURAL_VERSION}")
    index = json.loads((generated / "index.json").read_text())
    assert [e["id"] for e in index] == IDS
    for entry in index:
        assert set(entry) == {"id", "category", "description", "file", "n_faces"}
        assert entry["category"] == SPECS[entry["id"]].category
        assert load_mesh(generated / entry["file"]).n_faces == entry["n_faces"] == built(entry["id"]).n_faces
    assert sorted(p.name for p in generated.iterdir()) == sorted([f"{i}.glb" for i in IDS] + ["index.json"])


def test_ensure_generated_second_call_builds_and_rewrites_nothing(generated, monkeypatch):
    files = sorted(generated.iterdir())
    for f in files:
        os.utime(f, ns=(OLD_NS, OLD_NS))
    monkeypatch.setattr(generate, "build_object", lambda *a, **k: pytest.fail("second call rebuilt objects"))
    assert ensure_generated(generated.parent.parent) == generated
    assert all(f.stat().st_mtime_ns == OLD_NS for f in files)
    assert [p.name for p in generated.parent.iterdir()] == [generated.name]


def test_generation_is_byte_identical_across_runs(generated, tmp_path):
    def digests(folder: Path) -> dict[str, str]:
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}

    assert digests(ensure_generated(tmp_path)) == digests(generated)


def test_losing_the_race_keeps_the_winners_copy(tmp_path, monkeypatch):
    final = tmp_path / "procedural" / f"v{PROCEDURAL_VERSION}"
    real_build = generate.build_object

    def build_while_another_process_finishes(object_id, detail=1):
        if not final.exists():  # the other process publishes while we are still building
            final.mkdir(parents=True)
            (final / "index.json").write_text("theirs")
        return real_build(object_id, detail)

    monkeypatch.setattr(generate, "build_object", build_while_another_process_finishes)
    assert ensure_generated(tmp_path) == final
    assert (final / "index.json").read_text() == "theirs"
    assert [p.name for p in final.parent.iterdir()] == [final.name]


def test_publish_refuses_to_replace_a_folder_that_is_not_a_finished_set(tmp_path):
    tmp, final = tmp_path / "tmp", tmp_path / "final"
    tmp.mkdir()
    (tmp / "index.json").write_text("mine")
    final.mkdir()
    (final / "stray.txt").write_text("partial")
    with pytest.raises(OSError):
        _publish(tmp, final)
    final.joinpath("stray.txt").unlink()
    _publish(tmp, final)
    assert (final / "index.json").read_text() == "mine"
