"""Scoring asks cuDNN for IEEE float32 while it runs on a GPU, and gives the setting back (metrics/precision.py).
The flag is a process-wide setting that a CPU build of torch also holds, so its handling is tested here."""

import threading

import pytest

from reconbench.metrics import precision


@pytest.fixture
def tf32_on():
    """cuDNN allowed TF32 (PyTorch's default for convolutions), whatever it was before the test."""
    before = precision._conv_precision()
    precision._set_conv_precision("tf32")
    yield
    precision._set_conv_precision(before)


def test_a_gpu_block_computes_in_ieee_float32_and_restores_the_setting(tf32_on):
    with precision.ieee_float32("cuda:0"):
        assert precision._conv_precision() == "ieee"
    assert precision._conv_precision() == "tf32"


def test_cpu_scoring_leaves_the_setting_alone(tf32_on):
    with precision.ieee_float32("cpu"):
        assert precision._conv_precision() == "tf32"


def test_overlapping_blocks_on_two_threads_keep_ieee_until_the_last_ends(tf32_on):
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen = []

    def first():
        with precision.ieee_float32("cuda"):
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second():
        first_in.wait(5)
        with precision.ieee_float32("cuda"):
            second_in.set()
            first_out.wait(5)
            seen.append(precision._conv_precision())  # the first block has ended: still IEEE here

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == ["ieee"]
    assert precision._conv_precision() == "tf32"
