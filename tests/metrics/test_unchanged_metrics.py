"""Nothing changes in the numbers: every metric of a fixed set of pairs equals the values frozen in
unchanged_metrics.json (written by unchanged_metrics.py with main's evaluation code before the speed work
of issue #18), within floating-point noise.

Tolerances, per metric:
- LPIPS and what is derived from it (Janus distances and margin): 1e-6 absolute. The convolutions run in
  float32 and their summation order may depend on how many views share one forward pass (evaluation's
  batches differ by device); between batches of 8 and 25 the features were identical on this machine,
  and LPIPS values are >= 1e-3 where they matter.
- everything else (PSNR, SSIM, mask IoU, sharpness, Chamfer, F-score, normal consistency, volume IoU,
  usability, alignment): relative 1e-9 -- the renders and the float64 geometry are deterministic, so the
  same computation gives the same bits; the margin only admits summation-order noise.
Discrete per-view flags (collapsed, outlier) and notes must be equal.
"""

from __future__ import annotations

import json

import pytest
import unchanged_metrics as frozen

pytestmark = pytest.mark.slow  # nine evaluations at full protocol resolution: about a minute on 2 cores

LPIPS_ABS = 1e-6
REL = 1e-9


def _tolerance(key: str) -> dict:
    if "lpips" in key or "janus" in key:
        return {"rel": 0, "abs": LPIPS_ABS}
    return {"rel": REL, "abs": 1e-12}


def _same(a, b, key: str) -> bool:
    if isinstance(a, (str, bool, type(None))) or isinstance(b, (str, bool, type(None))):
        return a == b  # notes, names, flags; non-finite floats are stored as strings ("nan", "inf")
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    return float(b) == pytest.approx(float(a), **_tolerance(key))


def differences(expected, actual, name: str = "") -> list[str]:
    """Where `actual` differs from `expected` beyond the tolerances; the tolerance is chosen by the
    innermost dict key (a per-view list takes its metric's name)."""
    key = name.rsplit(".", 1)[-1].split("[", 1)[0]
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = [
            f"{name}.{k}: only in {'actual' if k in actual else 'reference'}" for k in expected.keys() ^ actual.keys()
        ]
        for k in sorted(expected.keys() & actual.keys()):
            out += differences(expected[k], actual[k], f"{name}.{k}" if name else k)
        return out
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{name}: length {len(expected)} != {len(actual)}"]
        return [d for i, (x, y) in enumerate(zip(expected, actual)) for d in differences(x, y, f"{name}[{i}]")]
    return [] if _same(expected, actual, key) else [f"{name}: {expected!r} != {actual!r}"]


@pytest.fixture(scope="module")
def reference() -> dict:
    return json.loads(frozen.REFERENCE.read_text())


@pytest.fixture(scope="module")
def prepared() -> dict:
    return {}


@pytest.fixture(scope="module")
def actual(prepared) -> dict:
    """Both metric sets in full (other_set "all"): every value main computed."""
    return json.loads(json.dumps(frozen.plain(frozen.compute(prepared=prepared, other_set="all"))))


@pytest.mark.parametrize("case", [frozen.case_name(c) for c in frozen.CASES])
def test_every_metric_equals_the_frozen_value(case, reference, actual):
    diff = differences(reference[case], actual[case])
    assert not diff, f"{case}: {len(diff)} values changed:\n" + "\n".join(diff[:20])


# The cases where the protocol's default other set ("geometry") leaves metrics out: alignment refines.
REFINED = [c for c in frozen.CASES if c[0] != "gso30-syncdreamer" and c[3] is None]


def test_the_default_sets_are_the_frozen_values_less_the_unaligned_images(reference, prepared):
    """With the unaligned set cut to its geometry (the default), every value left is the frozen one and
    only the unaligned image metrics are missing."""
    computed = json.loads(json.dumps(frozen.plain(frozen.compute(REFINED, prepared))))
    for case in map(frozen.case_name, REFINED):
        expected, got = reference[case], computed[case]
        missing = set(expected["metrics"]) - set(got["metrics"])
        assert missing and all(k.startswith("unaligned_") for k in missing), case
        assert {"unaligned_psnr", "unaligned_ssim", "unaligned_lpips_alex"} <= missing
        assert not {"unaligned_chamfer", "unaligned_fscore", "unaligned_normal_consistency"} & missing
        kept = {**expected, "metrics": {k: v for k, v in expected["metrics"].items() if k not in missing}}
        diff = differences(kept, got)
        assert not diff, f"{case}: {len(diff)} values changed:\n" + "\n".join(diff[:20])


def test_the_comparison_catches_a_change(reference):
    """The comparison itself: a change of one part in 1e6 of a geometric metric, of 1e-5 in an LPIPS
    value or of one per-view value is reported; a change of one part in 1e12 is not."""
    case = reference[frozen.case_name(frozen.CASES[0])]
    assert differences(case, json.loads(json.dumps(case))) == []
    bumped = json.loads(json.dumps(case))
    bumped["metrics"]["chamfer"] *= 1 + 1e-6
    bumped["metrics"]["lpips_alex"] += 1e-5
    bumped["views"]["psnr"][3] += 1e-3
    bumped["notes"].append("extra")
    assert [d.split(":")[0] for d in differences(case, bumped)] == [
        "metrics.chamfer",
        "metrics.lpips_alex",
        "notes: length 0 != 1".split(":")[0],
        "views.psnr[3]",
    ]
    bumped = json.loads(json.dumps(case))
    bumped["metrics"]["chamfer"] *= 1 + 1e-12
    assert differences(case, bumped) == []
