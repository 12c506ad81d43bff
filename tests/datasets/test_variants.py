"""Training variants of the procedural families: disjoint from the evaluation objects, deterministic,
new parameters and colours, and no side effect on the evaluation objects."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from reconbench.assets.mesh import normalisation_transform
from reconbench.datasets.procedural import CATALOGUE, build_object
from reconbench.datasets.procedural.variants import SEED_START, build_variant, evaluation_seeds, variant_seed


def test_variant_seeds_never_meet_an_evaluation_seed():
    eval_seeds = set(evaluation_seeds().values())
    assert eval_seeds == {zlib.crc32(s.id.encode()) for s in CATALOGUE}  # what build_object seeds with
    assert max(eval_seeds) < SEED_START <= variant_seed(0)  # crc32 < 2**32 <= every variant seed
    assert not eval_seeds & {variant_seed(i) for i in range(100_000)}
    with pytest.raises(ValueError, match="non-negative"):
        variant_seed(-1)


def test_variants_are_deterministic_and_normalised():
    a, b = build_variant(3), build_variant(3)
    assert (a.family, a.seed, a.scale, a.yaw_deg) == (b.family, b.seed, b.scale, b.yaw_deg)
    for pa, pb in zip(a.mesh.parts, b.mesh.parts):
        assert np.array_equal(pa.vertices, pb.vertices)
        if pa.material.texture is not None:
            assert np.array_equal(pa.material.texture, pb.material.texture)
    lo, hi = a.mesh.bounds
    assert np.allclose((lo + hi) / 2, 0, atol=1e-9) and (hi - lo).max() == pytest.approx(1.0)


def test_variants_differ_from_their_evaluation_object():
    """Each of the first variants has another shape (bounding-box proportions) than the evaluation object
    of its family, and at least one recoloured material."""
    seen = set()
    for i in range(30):
        v = build_variant(i)
        seen.add(v.family)
        ref = build_object(v.family)
        ref = ref.transformed(normalisation_transform(ref.bounds))
        ext_v, ext_r = np.ptp(v.mesh.bounds, axis=0), np.ptp(ref.bounds, axis=0)
        assert np.abs(ext_v / ext_r - 1).max() > 0.02, (i, v.family)
    assert len(seen) >= 8  # the families are drawn across the catalogue


def test_building_variants_leaves_the_evaluation_objects_unchanged():
    before = {s.id: build_object(s.id) for s in CATALOGUE[:5]}
    for i in range(20):
        build_variant(i)
    for object_id, asset in before.items():
        again = build_object(object_id)
        for pa, pb in zip(asset.parts, again.parts):
            assert np.array_equal(pa.vertices, pb.vertices)
            if pa.material.texture is not None:
                assert np.array_equal(pa.material.texture, pb.material.texture)
