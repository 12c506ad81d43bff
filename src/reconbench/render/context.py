"""The OpenGL context: headless EGL, the same shaders on Mesa llvmpipe (CPU) and NVIDIA GPUs.

On a machine with several GPUs the context is made on the EGL device of the GPU this process was given
(`egl_device_index`): a worker pinned to one GPU with CUDA_VISIBLE_DEVICES renders there, not on GPU 0.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

import moderngl

from reconbench.errors import ReconbenchError

DEVICE_ENV = "RECONBENCH_EGL_DEVICE"  # an explicit index into EGL's device list
_EGL_CUDA_DEVICE_NV = 0x323A  # EGL_NV_device_cuda: the CUDA device ordinal of an EGL device


class RendererUnavailable(ReconbenchError, RuntimeError):
    """No headless OpenGL 3.3 context could be created (EGL/Mesa missing)."""


@dataclass(frozen=True)
class EglDevice:
    """One entry of EGL's device list (eglQueryDevicesEXT): its position and, for an NVIDIA GPU, its CUDA
    device ordinal (EGL_NV_device_cuda; None for Mesa's software device and other drivers)."""

    index: int
    cuda: int | None = None


def egl_device_index(devices: Sequence[EglDevice], environ: Mapping[str, str] | None = None) -> int | None:
    """The EGL device to render on, as an index into `devices` (None: EGL's default device).

    $RECONBENCH_EGL_DEVICE wins. Otherwise, when the driver names the CUDA ordinal of its devices, the GPU
    this process was given -- the first of CUDA_VISIBLE_DEVICES, the one torch calls cuda:0 -- is matched:
    by its ordinal among the visible GPUs (0) when the driver numbers only those, by its physical ordinal
    (the number in CUDA_VISIBLE_DEVICES) when it lists more GPUs than are visible. A GPU given by UUID or
    a MIG slice cannot be matched this way: EGL's default then, as before."""
    environ = os.environ if environ is None else environ
    explicit = environ.get(DEVICE_ENV, "").strip()
    if explicit:
        index = int(explicit)
        if not 0 <= index < max(len(devices), 1):
            raise RendererUnavailable(f"${DEVICE_ENV}={explicit}: EGL lists {len(devices)} device(s)")
        return index
    gpus = {d.cuda: d.index for d in devices if d.cuda is not None}
    if not gpus:
        return None
    visible = environ.get("CUDA_VISIBLE_DEVICES")
    if visible is None:
        return gpus.get(0)
    entries = [v.strip() for v in visible.split(",") if v.strip()]
    if not entries or not all(v.isdigit() for v in entries):
        return None
    if len(gpus) > len(entries):  # the driver lists every GPU: physical numbering
        return gpus.get(int(entries[0]))
    return gpus.get(0)


def egl_devices() -> list[EglDevice]:
    """EGL's device list with each device's CUDA ordinal where the driver gives one; [] when EGL cannot
    enumerate devices (no libEGL, no EGL_EXT_device_enumeration)."""
    name = ctypes.util.find_library("EGL")
    if name is None:
        return []
    try:
        egl = ctypes.CDLL(name)
    except OSError:
        return []
    egl.eglGetProcAddress.restype = ctypes.c_void_p
    egl.eglGetProcAddress.argtypes = [ctypes.c_char_p]
    query = egl.eglGetProcAddress(b"eglQueryDevicesEXT")
    attrib = egl.eglGetProcAddress(b"eglQueryDeviceAttribEXT")
    if not query:
        return []
    query_devices = ctypes.CFUNCTYPE(
        ctypes.c_uint, ctypes.c_int, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_int)
    )(query)
    count = ctypes.c_int(0)
    if not query_devices(0, None, ctypes.byref(count)) or count.value <= 0:
        return []
    handles = (ctypes.c_void_p * count.value)()
    if not query_devices(count.value, handles, ctypes.byref(count)):
        return []
    query_attrib = (
        ctypes.CFUNCTYPE(ctypes.c_uint, ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_ssize_t))(attrib)
        if attrib
        else None
    )
    out = []
    for i in range(count.value):
        value = ctypes.c_ssize_t(-1)
        has_cuda = query_attrib is not None and query_attrib(handles[i], _EGL_CUDA_DEVICE_NV, ctypes.byref(value))
        out.append(EglDevice(i, int(value.value) if has_cuda and value.value >= 0 else None))
    return out


@functools.lru_cache(maxsize=1)
def gl_context() -> moderngl.Context:
    """One standalone EGL context per process, created on first use, on `egl_device_index`'s device."""
    try:
        index = egl_device_index(egl_devices())
        if index is None:
            return moderngl.create_context(standalone=True, backend="egl", require=330)
        return moderngl.create_context(standalone=True, backend="egl", require=330, device_index=index)
    except RendererUnavailable:
        raise
    except Exception as exc:
        raise RendererUnavailable(
            f"cannot create a headless EGL OpenGL 3.3 context ({exc}). On Debian/Ubuntu install "
            "libegl1 libegl-mesa0 libgl1-mesa-dri (CPU) or the NVIDIA driver's EGL library (GPU)."
        ) from exc


def renderer_info() -> dict[str, str]:
    """GL vendor, renderer and version strings, recorded with every result for provenance."""
    info = gl_context().info
    return {k: str(info[f"GL_{k.upper()}"]) for k in ("vendor", "renderer", "version")}


def load_shader(name: str) -> str:
    """GLSL source shipped in reconbench/render/shaders/."""
    return resources.files("reconbench.render").joinpath("shaders", name).read_text()
