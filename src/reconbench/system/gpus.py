"""Which NVIDIA GPUs this process may use: the one answer to "is there a GPU", from the driver.

Asked of the driver (NVML through nvidia-ml-py, else `nvidia-smi`), never of the host's PyTorch: an
upstream method runs in its own environment, so a CPU build of torch in reconbench's venv says nothing
about whether the method can use the GPU. `reconbench methods`, `reconbench.registry.availability`, the executors
(which pin workers to GPUs) and provenance (the GPU model a result was measured on) all read it here.

CUDA_VISIBLE_DEVICES is honoured as CUDA reads it: a comma-separated list of device indices or UUIDs
(`GPU-…`, a unique prefix is enough; `MIG-…` slices), in that order; the list ends at the first entry
that names no device; set but empty (or `-1`) hides every GPU. Indices are taken in the driver's order
(nvidia-smi's, PCI bus order); CUDA's own default order (CUDA_DEVICE_ORDER=FASTEST_FIRST) can differ on
a machine that mixes GPU models, so there prefer UUIDs or set CUDA_DEVICE_ORDER=PCI_BUS_ID.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from dataclasses import dataclass


@dataclass(frozen=True)
class Gpu:
    index: int
    name: str
    uuid: str


def installed_gpus() -> tuple[Gpu, ...]:
    """Every NVIDIA GPU of this machine in driver order (CUDA_VISIBLE_DEVICES not applied)."""
    return tuple(Gpu(i, name, uuid) for i, (name, uuid) in enumerate(_installed_gpus()))


@functools.lru_cache(maxsize=1)
def _installed_gpus() -> tuple[tuple[str, str], ...]:
    """(name, uuid) of every NVIDIA GPU, from NVML when installed, else nvidia-smi; read once per process
    (the hardware does not change under it). Tests replace this function with faked driver answers."""
    return tuple(_nvml_gpus() or _smi_gpus())


def visible_gpus_list() -> list[tuple[str, Gpu]]:
    """(CUDA_VISIBLE_DEVICES entry, GPU) of each GPU this process may use, in CUDA's order.

    Unset: every installed GPU, by index. A MIG slice is attributed to its GPU (the `MIG-GPU-<uuid>/…`
    form names it; the newer `MIG-<uuid>` form does not, so the first GPU stands in: same model on a
    MIG machine)."""
    gpus = installed_gpus()
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is None:
        return [(str(g.index), g) for g in gpus]
    chosen: list[tuple[str, Gpu]] = []
    for raw in visible.split(","):
        item = raw.strip()
        gpu = _resolve(item, gpus)
        if gpu is None:  # CUDA stops at the first entry that names no device
            break
        chosen.append((item, gpu))
    return chosen


def _resolve(item: str, gpus: tuple[Gpu, ...]) -> Gpu | None:
    if item.isdigit():
        return gpus[int(item)] if int(item) < len(gpus) else None
    if item.startswith("GPU-"):
        matches = [g for g in gpus if g.uuid.startswith(item)]
        return matches[0] if len(matches) == 1 else None  # an ambiguous prefix names no device
    if item.startswith("MIG-") and gpus:
        parent = item[len("MIG-") :].split("/")[0]
        return next((g for g in gpus if parent.startswith("GPU-") and g.uuid == parent), gpus[0])
    return None


def visible_gpu_ids() -> list[str]:
    """The CUDA_VISIBLE_DEVICES entries of the GPUs this process may use (what an executor pins a worker to)."""
    return [item for item, _ in visible_gpus_list()]


def gpus_present() -> bool:
    """The driver reports at least one GPU this process may use."""
    return bool(visible_gpus_list())


def visible_gpus() -> dict | None:
    """{"name", "count"} of the GPUs this process may use, or None. The cost model prices GPU-seconds by
    this name (a MIG slice is priced as its whole GPU's model)."""
    chosen = visible_gpus_list()
    if not chosen:
        return None
    return {"name": chosen[0][1].name, "count": len(chosen)}


def _nvml_gpus() -> list[tuple[str, str]]:
    try:
        import pynvml

        pynvml.nvmlInit()
        out = []
        for i in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(i)
            name, uuid = (_text(v) for v in (pynvml.nvmlDeviceGetName(handle), pynvml.nvmlDeviceGetUUID(handle)))
            out.append((name, uuid))
        return out
    except Exception:  # no module, no driver: try nvidia-smi
        return []


def _smi_gpus() -> list[tuple[str, str]]:
    smi = shutil.which("nvidia-smi")
    if not smi:
        return []
    try:
        done = subprocess.run(
            [smi, "--query-gpu=name,uuid", "--format=csv,noheader"], capture_output=True, text=True, timeout=20
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    if done.returncode != 0:
        return []
    return parse_smi(done.stdout)


def parse_smi(text: str) -> list[tuple[str, str]]:
    """(name, uuid) per line of `nvidia-smi --query-gpu=name,uuid --format=csv,noheader` (a name may hold commas)."""
    rows = [line.rsplit(",", 1) for line in text.splitlines() if "," in line]
    return [(name.strip(), uuid.strip()) for name, uuid in rows]


def _text(value: object) -> str:
    """NVML answers bytes in older bindings, str in newer ones."""
    return value.decode() if isinstance(value, bytes) else str(value)
