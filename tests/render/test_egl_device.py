"""The EGL device follows the GPU this process was given (render/context.py), tested on faked device lists:
this machine has no GPU, so the choice on a real multi-GPU driver is unverified; the last test checks a real
GPU where there is one (scripts/gpu_check.sh)."""

import pytest
from conftest import needs_cuda

from reconbench.render.context import EglDevice, RendererUnavailable, egl_device_index, egl_devices

SOFTWARE = EglDevice(4)  # Mesa's software device: no CUDA ordinal


def _gpus(n: int) -> list[EglDevice]:
    return [EglDevice(i, i) for i in range(n)] + [SOFTWARE]


def test_a_driver_that_numbers_every_gpu_gives_the_assigned_physical_one():
    assert egl_device_index(_gpus(4), {"CUDA_VISIBLE_DEVICES": "2"}) == 2
    assert egl_device_index(_gpus(4), {"CUDA_VISIBLE_DEVICES": "3,1"}) == 3  # the first visible is cuda:0


def test_a_driver_that_numbers_only_the_visible_gpus_gives_the_first_of_them():
    devices = [EglDevice(0, 0), EglDevice(1, 1), SOFTWARE]
    assert egl_device_index(devices, {"CUDA_VISIBLE_DEVICES": "5,6"}) == 0


def test_list_order_and_cuda_ordinals_may_differ():
    devices = [EglDevice(0, 1), EglDevice(1, 0), EglDevice(2, 3), EglDevice(3, 2)]
    assert egl_device_index(devices, {"CUDA_VISIBLE_DEVICES": "2"}) == 3
    assert egl_device_index(devices, {}) == 1  # nothing assigned: cuda:0


def test_without_a_usable_assignment_egl_chooses():
    assert egl_device_index([SOFTWARE], {"CUDA_VISIBLE_DEVICES": "1"}) is None  # Mesa only (this machine)
    assert egl_device_index(_gpus(2), {"CUDA_VISIBLE_DEVICES": "GPU-8f3a2c1e"}) is None  # a UUID
    assert egl_device_index(_gpus(2), {"CUDA_VISIBLE_DEVICES": "MIG-1234,0"}) is None
    assert egl_device_index(_gpus(4), {"CUDA_VISIBLE_DEVICES": "7"}) is None  # not among EGL's devices
    assert egl_device_index([], {}) is None


def test_an_explicit_device_wins_and_is_checked():
    assert egl_device_index(_gpus(4), {"RECONBENCH_EGL_DEVICE": "4", "CUDA_VISIBLE_DEVICES": "2"}) == 4
    with pytest.raises(RendererUnavailable, match="RECONBENCH_EGL_DEVICE"):
        egl_device_index(_gpus(2), {"RECONBENCH_EGL_DEVICE": "9"})


def test_this_machine_lists_its_egl_devices():
    devices = egl_devices()
    assert [d.index for d in devices] == list(range(len(devices)))
    assert egl_device_index(devices, {}) in (None, *(d.index for d in devices))


@pytest.mark.gpu
@needs_cuda
def test_with_a_gpu_the_renderer_runs_on_it():
    """Where torch sees an NVIDIA GPU, EGL names its CUDA ordinal and the context is made there, not on Mesa's
    software device."""
    from reconbench.render.context import renderer_info

    assert any(d.cuda is not None for d in egl_devices())
    info = renderer_info()
    assert "NVIDIA" in info["vendor"] and "llvmpipe" not in info["renderer"].lower(), info
