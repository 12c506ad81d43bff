"""IEEE float32 arithmetic for scoring on NVIDIA GPUs.

PyTorch lets cuDNN run float32 convolutions in TF32 (10-bit mantissa) on Ampere and later GPUs, by default
(`torch.backends.cudnn.allow_tf32`, or `torch.backends.cudnn.conv.fp32_precision = "tf32"` since 2.9): LPIPS
and the GPU's SSIM, both convolutions, would then differ from their CPU values by about 1e-3 instead of
float32 rounding. Scoring asks for IEEE float32 while it runs and gives the setting back afterwards. While it
does, torch >= 2.9 refuses to read the legacy flag `torch.backends.cudnn.allow_tf32` anywhere in the process
(its check against mixing the two APIs); `torch.backends.cudnn.conv.fp32_precision` reads fine.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_lock = threading.Lock()
_users = 0  # blocks inside `ieee_float32` on any thread: the flag is the process's, not the thread's
_saved: Any = None


@contextmanager
def ieee_float32(device: object) -> Iterator[None]:
    """Within the block, cuDNN convolutions on `device` compute in IEEE float32 (nothing to do off CUDA).
    Nested and concurrent blocks (scoring's threads) share one change: the first sets it, the last restores it."""
    global _users, _saved
    if not str(device).startswith("cuda"):
        yield
        return
    with _lock:
        if _users == 0:
            _saved = _conv_precision()
            _set_conv_precision("ieee")
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                _set_conv_precision(_saved)


def _conv_precision() -> str:
    """cuDNN's float32 convolution precision, "ieee" or "tf32", through the API this torch has."""
    import torch

    conv = getattr(torch.backends.cudnn, "conv", None)
    if conv is not None and hasattr(conv, "fp32_precision"):  # torch >= 2.9; the old flag must not be mixed in
        return str(conv.fp32_precision)
    return "tf32" if torch.backends.cudnn.allow_tf32 else "ieee"


def _set_conv_precision(value: str) -> None:
    import torch

    conv = getattr(torch.backends.cudnn, "conv", None)
    if conv is not None and hasattr(conv, "fp32_precision"):
        conv.fp32_precision = value
    else:
        torch.backends.cudnn.allow_tf32 = value == "tf32"
