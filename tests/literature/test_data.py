"""The published figures as data: every figure points at a paper and a protocol, the required tables are
there, a figure quoted differently by two papers stays two figures, unknowns stay unknown."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from reconbench.cost import published as cost_published
from reconbench.literature.collect import entries
from reconbench.literature.others import OTHERS
from reconbench.literature.papers import PAPERS, PROTOCOLS
from reconbench.literature.types import CHECK_STATUSES, Published, Training
from reconbench.methods.base import MethodSpec
from reconbench.registry import get_method, method_names

EXTERNAL = [m for m in method_names() if get_method(m).is_external]


def test_every_figure_names_a_known_paper_and_protocol():
    for p in PROTOCOLS.values():
        assert p.paper in PAPERS and p.check.status in CHECK_STATUSES and p.check.note, p.id
    for e in entries():
        for r in e.published.results:
            assert r.protocol in PROTOCOLS, (e.label, r)
        for t in e.published.times:
            assert t.paper in PAPERS and t.seconds > 0 and t.covers and t.check.status in CHECK_STATUSES, (e.label, t)


def test_required_tables_are_present():
    def methods_under(protocol):
        return {e.label for e in entries() if any(r.protocol == protocol for r in e.published.results)}

    assert PROTOCOLS["sf3d-gso"].objects == 278 and PROTOCOLS["sf3d-omni"].objects == 308
    assert {"sf3d", "triposr", "openlrm", "lgm", "crm", "instantmesh", "ZeroShape"} <= methods_under("sf3d-gso")
    assert {"sf3d", "triposr", "lgm", "crm", "instantmesh", "SPAR3D", "Shap-E", "LN3Diff"} <= methods_under(
        "spar3d-gso"
    )
    assert {"triposr", "openlrm", "One-2-3-45", "TGS", "ZeroShape"} <= methods_under("triposr-omni")
    assert {"crm", "lgm", "openlrm", "SyncDreamer", "Wonder3D", "Magic123", "TGS"} <= methods_under("crm-gso30")
    assert {"SyncDreamer", "Zero123", "RealFusion", "Point-E", "Shap-E"} <= methods_under("syncdreamer-gso30")
    assert get_method("sf3d").published.results_for("sf3d-gso")["fscore@0.1"].value == 0.701


def test_one_figure_quoted_by_two_papers_stays_two_figures():
    tsr = get_method("triposr").published
    assert tsr.results_for("sf3d-gso")["chamfer"].value == 0.111
    assert tsr.results_for("spar3d-gso")["chamfer"].value == 0.145
    assert tsr.results_for("triposr-gso")["chamfer"].value == 0.111
    assert PROTOCOLS["sf3d-gso"].paper != PROTOCOLS["spar3d-gso"].paper


def test_every_upstream_method_has_published_times_with_what_they_cover():
    for m in EXTERNAL:
        times = get_method(m).published.times
        assert times, m
    dg = get_method("dreamgaussian").published.times
    assert any("stage 1" in t.covers for t in dg) and any("both stages" in t.covers for t in dg)
    (ts,) = get_method("threestudio-3dgs").published.times
    assert not ts.applies and "not the 3DGS" in ts.covers  # listed, but measured for another configuration


def test_training_figures_moved_from_cost_published_keep_their_arithmetic():
    assert not hasattr(cost_published, "TRAINING")  # one place: the specs
    assert get_method("lgm").published.training.value == 32 * 4 * 24
    assert get_method("crm").published.training.value == 8 * 6 * 24
    lrm = get_method("openlrm").published.training
    assert (lrm.low, lrm.high) == (64 * 5 * 24, 64 * 6 * 24)
    assert OTHERS["LRM"].training.value == 128 * 3 * 24
    assert get_method("lgm-mesh").published.training == get_method("lgm").published.training
    for m in ("triposr", "sf3d", "instantmesh"):
        pub = get_method(m).published
        assert pub.training is None and "not published" in pub.training_note  # unknown, never invented
    for m in method_names():
        spec = get_method(m)
        if spec.paradigm == "per-scene" and spec.published.prior:
            assert spec.published.prior in cost_published.PRIORS, m
        if spec.published.training:
            assert spec.published.training.gpu in cost_published.THROUGHPUT, m


def test_a_plain_dict_published_is_read_or_refused():
    spec = MethodSpec(
        "x",
        "feed-forward",
        "mesh",
        "t",
        entry="a:b",
        published={"training": {"value": 5.0, "gpu": "H100", "source": "s"}},
    )
    assert isinstance(spec.published, Published) and spec.published.training.low == 5.0
    with pytest.raises(ValueError, match="time_s"):
        MethodSpec("x", "feed-forward", "mesh", "t", entry="a:b", published={"time_s": 1.0})
    crm = get_method("crm")
    assert MethodSpec.from_dict(asdict(crm)).published == crm.published  # a spec survives a round trip through a dict
    with pytest.raises(ValueError):
        Training(10.0, 11.0, 12.0, "H100", "", "s", PROTOCOLS["sf3d-gso"].check)  # value below its range
