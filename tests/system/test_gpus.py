"""One answer to "is there a GPU": the driver's (NVML, else nvidia-smi), CUDA_VISIBLE_DEVICES applied.

The driver is faked at its two real interfaces: a `pynvml` module in sys.modules, and an `nvidia-smi`
executable on PATH; the cached answer is cleared around each test.
"""

import os
import sys
import types

import pytest

from reconbench.methods.base import MethodSpec
from reconbench.system import gpus

H100, A100 = "NVIDIA H100 80GB HBM3", "NVIDIA A100-SXM4-80GB"
THREE = [(H100, "GPU-aaaa1111"), (H100, "GPU-bbbb2222"), (A100, "GPU-cccc3333")]


@pytest.fixture(autouse=True)
def fresh_driver_answer():
    gpus._installed_gpus.cache_clear()
    yield
    gpus._installed_gpus.cache_clear()


def fake_nvml(monkeypatch, devices):
    """A pynvml stand-in answering like the real one (bytes names, as older nvidia-ml-py returns)."""
    mod = types.SimpleNamespace(
        nvmlInit=lambda: None,
        nvmlDeviceGetCount=lambda: len(devices),
        nvmlDeviceGetHandleByIndex=lambda i: i,
        nvmlDeviceGetName=lambda h: devices[h][0].encode(),
        nvmlDeviceGetUUID=lambda h: devices[h][1],
    )
    monkeypatch.setitem(sys.modules, "pynvml", mod)


def no_nvml(monkeypatch):
    def fail():
        raise RuntimeError("NVML Shared Library Not Found")

    monkeypatch.setitem(sys.modules, "pynvml", types.SimpleNamespace(nvmlInit=fail))


def fake_smi(monkeypatch, tmp_path, devices, rc=0):
    script = tmp_path / "nvidia-smi"
    lines = "\n".join(f"{name}, {uuid}" for name, uuid in devices)
    script.write_text(f"#!/bin/sh\ncat <<'END'\n{lines}\nEND\nexit {rc}\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}/usr/bin{os.pathsep}/bin")


def no_smi(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))


def test_no_driver_means_no_gpu(monkeypatch, tmp_path):
    no_nvml(monkeypatch)
    no_smi(monkeypatch, tmp_path)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")  # set by a scheduler, but nothing answers: no GPU
    assert gpus.installed_gpus() == ()
    assert not gpus.gpus_present() and gpus.visible_gpus() is None and gpus.visible_gpu_ids() == []


def test_one_gpu_from_nvml(monkeypatch):
    fake_nvml(monkeypatch, THREE[:1])
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert gpus.installed_gpus() == (gpus.Gpu(0, H100, "GPU-aaaa1111"),)
    assert gpus.gpus_present() and gpus.visible_gpus() == {"name": H100, "count": 1}


def test_several_gpus_from_nvidia_smi_when_nvml_is_missing(monkeypatch, tmp_path):
    no_nvml(monkeypatch)
    fake_smi(monkeypatch, tmp_path, THREE)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert gpus.visible_gpu_ids() == ["0", "1", "2"]
    assert gpus.visible_gpus() == {"name": H100, "count": 3}
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2")
    assert gpus.visible_gpus() == {"name": A100, "count": 1}


def test_failing_nvidia_smi_means_no_gpu(monkeypatch, tmp_path):
    no_nvml(monkeypatch)
    fake_smi(monkeypatch, tmp_path, THREE, rc=9)  # "NVIDIA-SMI has failed ... driver": prints, exits non-zero
    assert not gpus.gpus_present()


def test_cuda_visible_devices_by_uuid_list_and_prefix(monkeypatch):
    fake_nvml(monkeypatch, THREE)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-cccc3333,GPU-aaaa1111")
    assert gpus.visible_gpu_ids() == ["GPU-cccc3333", "GPU-aaaa1111"]
    assert gpus.visible_gpus() == {"name": A100, "count": 2}
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-bbbb")  # a unique prefix names a device, as in CUDA
    assert gpus.visible_gpus() == {"name": H100, "count": 1}
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-")  # ambiguous: names none
    assert not gpus.gpus_present()


def test_cuda_visible_devices_stops_at_the_first_invalid_entry(monkeypatch):
    fake_nvml(monkeypatch, THREE)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1,7,0")  # CUDA sees device 1 only
    assert gpus.visible_gpu_ids() == ["1"]
    for hidden in ("", "-1", "7", "GPU-ffff"):
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", hidden)
        assert not gpus.gpus_present(), hidden


def test_mig_slice_counts_as_its_gpu(monkeypatch):
    fake_nvml(monkeypatch, THREE)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "MIG-GPU-cccc3333/1/0")
    assert gpus.visible_gpus() == {"name": A100, "count": 1}


def _external(needs_gpu=True):
    return MethodSpec.from_dict(
        {
            "name": "ext",
            "paradigm": "feed-forward",
            "representation": "mesh",
            "description": "d",
            "needs_gpu": needs_gpu,
            "upstream": {"repo": "https://example.org/x", "commit": "a" * 40},
            "steps": ({"stage": "generation", "argv": ["{python}", "run.py"]},),
            "output": {"path": "*.obj"},
        }
    )


def test_availability_of_an_upstream_method_reads_the_driver_not_host_torch(monkeypatch):
    from reconbench import registry

    monkeypatch.setattr(registry, "host_torch_cuda", lambda: False)  # reconbench's venv has a CPU build of torch
    monkeypatch.setattr(gpus, "_installed_gpus", lambda: (THREE[0],))
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert registry.gpu_reasons(_external()) == []
    monkeypatch.setattr(gpus, "_installed_gpus", lambda: ())
    assert "NVIDIA driver reports none" in registry.gpu_reasons(_external())[0]
    assert registry.gpu_reasons(_external(needs_gpu=False)) == []


def test_in_process_gpu_method_also_needs_host_torch_cuda(monkeypatch):
    from reconbench import registry

    spec = MethodSpec(
        name="inproc", paradigm="per-scene", representation="splats", description="d", entry="x:y", needs_gpu=True
    )
    monkeypatch.setattr(gpus, "_installed_gpus", lambda: (THREE[0],))
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setattr(registry, "host_torch_cuda", lambda: False)
    assert "PyTorch with CUDA" in registry.gpu_reasons(spec)[0]
    monkeypatch.setattr(registry, "host_torch_cuda", lambda: True)
    assert registry.gpu_reasons(spec) == []
