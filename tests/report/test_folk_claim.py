"""The folk claim's verdict on synthetic records: supported, contradicted and not significant are each
reached, and the section says what is missing when the run lacks a paradigm."""

import numpy as np
import pytest

from reconbench.report.folk_claim import missing_sentence, pair_verdicts, summarise
from reconbench.runner.store import JobRecord

PARADIGMS = {"ff": "feed-forward", "ps": "per-scene", "ref": "reference"}
SOUND = {"broken_view_share": 0.0, "janus_margin": 0.0, "floater_area_share": 0.0, "boundary_edge_share": 0.0}


def record(method, obj, sharpness, broken=False, status="ok"):
    metrics = {**SOUND, "sharpness": sharpness, **({"broken_view_share": 0.5} if broken else {})}
    return JobRecord(
        f"{method}|{obj}|p|0",
        method,
        obj,
        "c",
        "p",
        0,
        status,
        None if status == "ok" else "boom",
        metrics=metrics if status == "ok" else {},
    )


def run(ff_sharp, ps_sharp, ff_broken, ps_broken):
    return [record("ff", f"o{i}", s, b) for i, (s, b) in enumerate(zip(ff_sharp, ff_broken))] + [
        record("ps", f"o{i}", s, b) for i, (s, b) in enumerate(zip(ps_sharp, ps_broken))
    ]


N = 12
rng = np.random.default_rng(0)
NOISE = rng.normal(0, 0.02, N)


def test_supported_when_feed_forward_is_blurrier_and_per_scene_broken_more_often():
    records = run(0.5 + NOISE, 0.95 + NOISE[::-1], [False] * N, [True] * 8 + [False] * 4)
    (v,) = pair_verdicts(records, PARADIGMS)
    assert v.verdict == "supported", v.sentence
    assert v.sharpness.high < 0 and v.broken.low > 0 and v.broken.mean == pytest.approx(8 / 12)
    assert v.sentence.startswith("ff vs ps: supported")


def test_contradicted_when_feed_forward_is_sharper():
    records = run(1.0 + NOISE, 0.6 + NOISE[::-1], [False] * N, [True] * 8 + [False] * 4)
    (v,) = pair_verdicts(records, PARADIGMS)
    assert v.verdict == "contradicted" and "'blurrier' half is contradicted" in v.sentence


def test_contradicted_when_feed_forward_breaks_more_often():
    records = run(0.5 + NOISE, 0.95 + NOISE[::-1], [True] * 9 + [False] * 3, [False] * N)
    (v,) = pair_verdicts(records, PARADIGMS)
    assert v.verdict == "contradicted" and "'more often broken' half is contradicted" in v.sentence


def test_not_significant_when_the_differences_are_noise_or_only_half_holds():
    noise = rng.normal(0, 0.2, N)
    records = run(0.8 + noise, 0.8 - noise, [False, True] * 6, [True, False] * 6)
    (v,) = pair_verdicts(records, PARADIGMS)
    assert v.verdict == "not significant"
    half = run(0.5 + NOISE, 0.95 + NOISE[::-1], [False] * N, [False] * N)
    (v,) = pair_verdicts(half, PARADIGMS)
    assert v.verdict == "not significant" and "'blurrier' half holds" in v.sentence


def test_noise_above_the_truths_detail_does_not_make_the_other_method_blurrier():
    """A per-scene result noisier than the truth (sharpness 3) against a feed-forward one as sharp as the truth:
    the sharpness half compares values capped at 1, so it is not significant rather than 'holds'."""
    records = run([1.0] * N, 3.0 + NOISE, [False] * N, [True] * 8 + [False] * 4)
    (v,) = pair_verdicts(records, PARADIGMS)
    assert (
        v.sharpness.mean == 0.0
        and v.verdict == "not significant"
        and "'blurrier' half is not significant" in v.sentence
    )


def test_a_failed_job_counts_as_broken_and_a_skipped_one_is_left_out():
    records = [
        record("ps", "a", 1.0),
        record("ps", "b", 1.0, status="failed"),
        record("ps", "c", 1.0, status="skipped"),
        record("ff", "a", 0.5),
    ]
    by_method = {s.method: s for s in summarise(records, PARADIGMS)}
    assert (by_method["ps"].broken.k, by_method["ps"].broken.n) == (1, 2) and by_method["ps"].reasons["failed"] == 1
    assert by_method["ps"].sharpness.n == 1  # the failed job has no sharpness


def test_every_pair_of_paradigms_and_the_missing_sentence():
    records = run([0.5] * 3, [0.9] * 3, [False] * 3, [False] * 3) + [record("ref", "o0", 0.0)]
    assert [(v.feed_forward, v.per_scene) for v in pair_verdicts(records, PARADIGMS)] == [("ff", "ps")]
    assert missing_sentence(PARADIGMS, ["ff", "ps"]) is None
    assert "no per-scene method" in missing_sentence(PARADIGMS, ["ff", "ref"])
    assert "no feed-forward and no per-scene method" in missing_sentence(PARADIGMS, ["ref"])
