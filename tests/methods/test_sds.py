"""SDS math against an analytic Gaussian prior, the guidance interface, availability and camera conventions.

The Zero123 pipeline test at the end runs only where diffusers and transformers are installed; it
uses tiny random components, so it checks the code path (shapes, calls, gradient flow), not quality.
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
import torch

from reconbench.methods.splat_sds.guidance import (
    WEIGHT_FILES,
    ZERO123_REPO,
    Guidance,
    GuidanceUnavailable,
    NoGuidance,
    RelativeCamera,
    guidance_availability,
    make_guidance,
    missing_weight_files,
    relative_camera,
    zero123_camera_features,
    zero123_pose_deltas,
)
from reconbench.methods.splat_sds.sds import (
    GaussianPrior,
    NoiseSchedule,
    annealed_timestep,
    sds_gradient,
    sds_loss,
)
from reconbench.protocol.cameras import orbit_camera

SCHEDULE = NoiseSchedule()
PRIOR = GaussianPrior(mean=torch.tensor([0.3, -0.2, 1.0, 0.0, 0.5, -1.0, 0.2, 0.7], dtype=torch.float64), std=0.5)
X0 = PRIOR.mean + torch.tensor([1.0, -1.5, 0.8, 2.0, -1.2, 1.1, -0.9, 1.4], dtype=torch.float64)


def _mc_sds_mean(x: torch.Tensor, t: int, draws: int, seed: int) -> torch.Tensor:
    """Monte-Carlo mean of the single-sample SDS gradient at x over `draws` noise draws."""
    gen = torch.Generator().manual_seed(seed)
    noise = torch.randn((draws,) + tuple(x.shape), generator=gen, dtype=torch.float64)
    grads = sds_gradient(x.expand_as(noise), PRIOR.noise_predictor(SCHEDULE), t, noise, SCHEDULE)
    return grads.mean(dim=0)


# ---------------------------------------------------------------------------------------------
# Schedule and timesteps


def test_schedule_is_variance_preserving_and_matches_stable_diffusion():
    t = torch.arange(1000)
    assert torch.allclose(SCHEDULE.alpha(t) ** 2 + SCHEDULE.sigma(t) ** 2, torch.ones(1000, dtype=torch.float64))
    assert SCHEDULE.alpha_bar(0).item() == pytest.approx(1 - 0.00085)
    assert SCHEDULE.alpha_bar(999).item() == pytest.approx(0.0046, abs=2e-4)  # SD v1's final ᾱ
    assert bool((SCHEDULE.alphas_cumprod[1:] < SCHEDULE.alphas_cumprod[:-1]).all())
    with pytest.raises(ValueError):
        SCHEDULE.alpha(1000)


def test_annealed_timestep_matches_dreamgaussian():
    # DreamGaussian zero123_utils.py:134 with main.py:190's step_ratio = min(1, step / iters), steps from 1
    total = 500
    ours = [annealed_timestep(step, total) for step in range(1, total + 1)]
    theirs = [int(np.round((1 - min(1, step / total)) * 1000).clip(20, 980)) for step in range(1, total + 1)]
    assert ours == theirs
    assert ours[0] == 980 and ours[249] == 500 and ours[-1] == 20


# ---------------------------------------------------------------------------------------------
# The Gaussian prior and the SDS gradient


def test_gaussian_noise_predictor_is_the_mmse_estimate():
    """Residual ε̂(x_t) − ε is orthogonal to 1 and x_t (x₀ drawn from the prior), so ε̂ = E[ε | x_t]."""
    gen = torch.Generator().manual_seed(1)
    n, t = 200_000, 300
    mu, s = 0.4, PRIOR.std
    prior = GaussianPrior(mu, s)
    x0 = mu + s * torch.randn(n, generator=gen, dtype=torch.float64)
    eps = torch.randn(n, generator=gen, dtype=torch.float64)
    x_t = SCHEDULE.add_noise(x0, eps, t)
    residual = prior.predict_noise(x_t, t, SCHEDULE) - eps
    assert abs(residual.mean().item()) < 0.01
    assert abs((residual * (x_t - x_t.mean())).mean().item()) < 0.01
    wrong = GaussianPrior(mu, 2 * s).predict_noise(x_t, t, SCHEDULE) - eps  # a mis-specified prior is not orthogonal
    assert abs((wrong * (x_t - x_t.mean())).mean().item()) > 0.05


@pytest.mark.parametrize("t", [50, 200, 500, 900])
def test_mc_mean_of_sds_gradient_matches_closed_form(t):
    expected = PRIOR.expected_sds_gradient(X0, t, SCHEDULE)
    a, s = SCHEDULE.alpha(t), SCHEDULE.sigma(t)
    by_hand = (1 - a * a) * a * s / (a * a * PRIOR.std**2 + s * s) * (X0 - PRIOR.mean)  # w = σ² = 1 − α²
    assert torch.allclose(expected, by_hand)
    mean = _mc_sds_mean(X0, t, draws=20_000, seed=t)
    assert (mean - expected).norm() / expected.norm() < 0.02


def test_weighting_one_drops_the_sigma2_factor():
    t = 400
    rate_one = PRIOR.sds_rate(t, SCHEDULE, "one")
    rate_sigma2 = PRIOR.sds_rate(t, SCHEDULE, "sigma2")
    assert rate_sigma2.item() == pytest.approx(rate_one.item() * SCHEDULE.sigma(t).item() ** 2)
    noise = torch.randn((4096,) + X0.shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    g_one = sds_gradient(X0.expand_as(noise), PRIOR.noise_predictor(SCHEDULE), t, noise, SCHEDULE, weighting="one")
    g_two = sds_gradient(X0.expand_as(noise), PRIOR.noise_predictor(SCHEDULE), t, noise, SCHEDULE, weighting="sigma2")
    assert torch.allclose(g_two, g_one * SCHEDULE.sigma(t) ** 2)
    with pytest.raises(ValueError):
        sds_gradient(X0, PRIOR.noise_predictor(SCHEDULE), t, torch.zeros_like(X0), SCHEDULE, weighting="snr")


def test_per_sample_timesteps_broadcast_over_the_batch():
    t = torch.tensor([100, 700])
    x = torch.stack([X0, X0])
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    batched = sds_gradient(x, PRIOR.noise_predictor(SCHEDULE), t, noise, SCHEDULE)
    for i in range(2):
        single = sds_gradient(X0, PRIOR.noise_predictor(SCHEDULE), int(t[i]), noise[i], SCHEDULE)
        assert torch.allclose(batched[i], single)


def test_expected_sds_descent_contracts_geometrically_to_the_mode():
    """x ← x − lr·E[grad] with E[grad] estimated by Monte Carlo: |x_k − μ| = |x_0 − μ|(1 − lr·ρ)^k."""
    t, lr, steps = 200, 1.0, 12
    factor = 1 - lr * PRIOR.sds_rate(t, SCHEDULE).item()
    assert 0 < factor < 1
    x = X0.clone()
    for k in range(1, steps + 1):
        x = x - lr * _mc_sds_mean(x, t, draws=8192, seed=1000 + k)
        predicted = (X0 - PRIOR.mean).norm().item() * factor**k
        assert (x - PRIOR.mean).norm().item() == pytest.approx(predicted, rel=0.03, abs=5e-3)
    # x ends at the mode, and the expected gradient vanishes there and only there
    assert torch.allclose(x, PRIOR.mean, atol=0.1)
    assert PRIOR.expected_sds_gradient(PRIOR.mean, t, SCHEDULE).abs().max().item() == 0.0
    assert PRIOR.expected_sds_gradient(PRIOR.mean + 0.01, t, SCHEDULE).abs().min().item() > 0.0


def test_single_sample_sds_descent_follows_the_rate_on_average_and_settles_at_the_mode():
    """Independent runs, one noise draw per step: their mean follows the geometric law, spread as predicted."""
    t, lr, runs, steps = 200, 1.0, 4000, 60
    factor = 1 - lr * PRIOR.sds_rate(t, SCHEDULE).item()
    gen = torch.Generator().manual_seed(7)
    x = X0.expand(runs, -1).clone()
    late = []
    for k in range(1, steps + 1):
        noise = torch.randn(x.shape, generator=gen, dtype=torch.float64)
        x = x - lr * sds_gradient(x, PRIOR.noise_predictor(SCHEDULE), t, noise, SCHEDULE)
        if k <= 10:
            predicted = (X0 - PRIOR.mean) * factor**k
            assert torch.allclose(x.mean(dim=0) - PRIOR.mean, predicted, atol=0.02)
        if k > steps - 20:
            late.append(x)
    late = torch.stack(late)
    assert torch.allclose(late.mean(dim=(0, 1)), PRIOR.mean, atol=0.01)  # stops at μ, not elsewhere
    # AR(1) around μ: stationary variance (lr·noise std)²/(1 − factor²)
    var = (lr * PRIOR.sds_noise_std(t, SCHEDULE).item()) ** 2 / (1 - factor**2)
    assert late[-1].var(dim=0).mean().item() == pytest.approx(var, rel=0.1)


# ---------------------------------------------------------------------------------------------
# The surrogate loss


def test_sds_loss_backward_gives_exactly_grad():
    gen = torch.Generator().manual_seed(5)
    x = (10 * torch.randn(2, 4, 8, 8, generator=gen)).requires_grad_()
    grad = 1e-3 * torch.randn(2, 4, 8, 8, generator=gen)
    loss = sds_loss(x, grad)
    loss.backward()
    assert torch.equal(x.grad, grad)
    # same value as the MSE trick (whose gradient x − (x − grad) only matches up to rounding)
    trick = 0.5 * torch.nn.functional.mse_loss(x.detach(), (x.detach() - grad), reduction="sum")
    assert loss.item() == pytest.approx(trick.item(), rel=1e-3)
    assert loss.item() == pytest.approx(0.5 * grad.double().pow(2).sum().item(), rel=1e-6)


def test_sds_loss_keeps_the_input_dtype_and_chains():
    x = torch.randn(3, 5, dtype=torch.float16, requires_grad=True)
    grad = torch.randn(3, 5, dtype=torch.float32)
    (2.0 * sds_loss(x, grad)).backward()
    assert x.grad.dtype == torch.float16
    assert torch.equal(x.grad, (2.0 * grad).half())


# ---------------------------------------------------------------------------------------------
# Guidance interface and availability


def test_no_guidance_is_zero_with_a_valid_graph():
    guidance = make_guidance("none")
    assert isinstance(guidance, NoGuidance) and isinstance(guidance, Guidance)
    guidance.prepare(np.zeros((8, 8, 4), np.uint8), None)
    rendered = torch.rand(2, 3, 16, 16, requires_grad=True)
    loss = guidance.loss(rendered, [RelativeCamera(10, 20), RelativeCamera(0, 90)], step=1, total_steps=10)
    assert loss.ndim == 0 and loss.item() == 0.0 and loss.requires_grad
    (loss + rendered.mean()).backward()
    assert torch.allclose(rendered.grad, torch.full_like(rendered, 1 / rendered.numel()))
    assert guidance_availability("none")[0]


def test_zero123_unavailable_here_names_the_reason():
    ok, reason = guidance_availability("zero123")
    if ok:
        pytest.skip("zero123 guidance is available on this machine")
    assert any(word in reason for word in ("diffusers", "CUDA", "cache"))
    with pytest.raises(GuidanceUnavailable) as err:
        make_guidance("zero123")
    assert err.value.reason == reason
    ok_stable, reason_stable = guidance_availability("stable-zero123")
    assert not ok_stable or "stable-zero123-diffusers" in reason_stable


def test_unknown_guidance_lists_the_known_names():
    for call in (lambda: make_guidance("bogus"), lambda: guidance_availability("bogus")):
        with pytest.raises(ValueError) as err:
            call()
        assert all(name in str(err.value) for name in ("none", "zero123", "stable-zero123"))


def _fake_hub_cache(root, repo_id: str, files=WEIGHT_FILES, commit: str = "0" * 40):
    repo_dir = root / ("models--" + repo_id.replace("/", "--"))
    (repo_dir / "refs").mkdir(parents=True)
    (repo_dir / "refs" / "main").write_text(commit)
    for name in files:
        path = repo_dir / "snapshots" / commit / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    return repo_dir / "snapshots" / commit


def test_weight_lookup_reads_the_hub_cache_layout(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    assert missing_weight_files(ZERO123_REPO, cache_dir=tmp_path) == list(WEIGHT_FILES)
    _, reason = guidance_availability("zero123", cache_dir=tmp_path)
    assert "huggingface-cli download ashawkey/zero123-xl-diffusers" in reason
    assert "fetch-weights" not in reason  # splat-sds declares no weights: that command would fetch nothing
    _, reason = guidance_availability("zero123", cache_dir=tmp_path, allow_download=True)
    assert "cache" not in reason  # downloading allowed: missing weights are no obstacle
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    _, reason = guidance_availability("zero123", cache_dir=tmp_path, allow_download=True)
    assert "cache" in reason  # ... unless the Hub is switched off

    _fake_hub_cache(tmp_path, ZERO123_REPO, files=WEIGHT_FILES[:-1])
    assert missing_weight_files(ZERO123_REPO, cache_dir=tmp_path) == [WEIGHT_FILES[-1]]
    (tmp_path / "models--ashawkey--zero123-xl-diffusers" / "snapshots" / ("0" * 40) / WEIGHT_FILES[-1]).write_text("{}")
    assert missing_weight_files(ZERO123_REPO, cache_dir=tmp_path) == []
    ok, reason = guidance_availability("zero123", cache_dir=tmp_path)
    assert ok or "cache" not in reason


# ---------------------------------------------------------------------------------------------
# Camera convention


def test_camera_above_and_right_maps_to_dreamgaussian_features():
    """30° above and 90° to the right of the input: Δpolar −30°, Δazimuth +90°.

    DreamGaussian samples kiui-orbit deltas (ver, hor) with elevation negative above (cam_utils.py:47-55,
    main.py:222-230) and feeds [rad(ver), sin(hor), cos(hor), radius] (zero123_utils.py:71): for this
    view ver = −30, hor = 90.
    """
    cam = RelativeCamera(elevation=30.0, azimuth=90.0, radius=0.0)
    assert np.allclose(zero123_pose_deltas(cam), [[-30.0, 90.0, 0.0]])
    ver, hor, radius = -30.0, 90.0, 0.0
    dreamgaussian = [np.deg2rad(ver), np.sin(np.deg2rad(hor)), np.cos(np.deg2rad(hor)), radius]
    assert np.allclose(zero123_camera_features(cam), [dreamgaussian])
    assert np.allclose(zero123_camera_features(cam), [[-math.pi / 6, 1.0, 0.0, 0.0]])
    # Stable Zero123: 4th feature is the input's polar angle; zero123_utils.py:68 writes rad(90 + elev_kiui)
    assert zero123_camera_features(cam, stable=True)[0, 3] == pytest.approx(math.pi / 2)
    assert zero123_camera_features(cam, stable=True, input_elevation=20.0)[0, 3] == pytest.approx(np.deg2rad(90 + -20))
    # the radius delta passes through; array input is accepted too
    assert np.allclose(
        zero123_camera_features(np.array([[-10.0, -45.0, 0.3]]))[0],
        [np.deg2rad(10), -math.sqrt(0.5), math.sqrt(0.5), 0.3],
    )


def test_positive_azimuth_moves_to_the_input_cameras_right():
    start = orbit_camera("in", "input", 0.0, 0.0, 2.0, 49.1, 64, 64)
    moved = orbit_camera("nv", "heldout", 0.0, 10.0, 2.0, 49.1, 64, 64)
    right = start.c2w[:3, 0]
    assert float((moved.position - start.position) @ right) > 0
    assert zero123_camera_features(relative_camera(moved, start))[0, 1] > 0  # sin Δφ > 0


def _zero123_get_T(target_pos: np.ndarray, cond_pos: np.ndarray) -> np.ndarray:
    """zero123/ldm/data/simple.py `get_T` (cvlab-columbia/zero123 @ b5edd78) on camera centres, written anew.

    Our +Y-up frame goes to Blender's +Z-up frame by the proper rotation (x, y, z) → (z, x, y), which
    keeps handedness, so relative azimuths transfer unchanged.
    """

    def spherical(p: np.ndarray) -> tuple[float, float, float]:
        x, y, z = p[2], p[0], p[1]
        xy = x * x + y * y
        return math.atan2(math.sqrt(xy), z), math.atan2(y, x), math.sqrt(xy + z * z)

    th_t, az_t, r_t = spherical(target_pos)
    th_c, az_c, r_c = spherical(cond_pos)
    d_az = (az_t - az_c) % (2 * math.pi)
    return np.array([th_t - th_c, math.sin(d_az), math.cos(d_az), r_t - r_c])


def test_features_match_zero123_training_convention_on_random_pairs():
    rng = np.random.default_rng(0)
    for _ in range(50):
        e0, e1 = rng.uniform(-60, 60, 2)
        a0, a1 = rng.uniform(-180, 180, 2)
        r0, r1 = rng.uniform(1.5, 2.2, 2)
        cond = orbit_camera("in", "input", e0, a0, r0, 49.1, 64, 64)
        target = orbit_camera("nv", "heldout", e1, a1, r1, 49.1, 64, 64)
        ours = zero123_camera_features(relative_camera(target, cond))[0]
        assert np.allclose(ours, _zero123_get_T(target.position, cond.position), atol=1e-9)


def test_relative_camera_uses_positions_when_angles_are_missing():
    cond = orbit_camera("in", "input", 5.0, 350.0, 2.0, 49.1, 64, 64)
    target = orbit_camera("nv", "heldout", 35.0, 10.0, 2.5, 49.1, 64, 64)
    rel = relative_camera(target, cond)
    assert (rel.elevation, rel.azimuth, rel.radius) == pytest.approx((30.0, 20.0, 0.5))  # azimuth wraps
    bare = [dataclasses.replace(c, elevation=math.nan, azimuth=math.nan, radius=math.nan) for c in (target, cond)]
    rel_bare = relative_camera(*bare)
    assert (rel_bare.elevation, rel_bare.azimuth, rel_bare.radius) == pytest.approx((30.0, 20.0, 0.5))


# ---------------------------------------------------------------------------------------------
# Zero123 code path on tiny random components (needs diffusers + transformers; skipped otherwise)


def _tiny_zero123_dir(root):
    diffusers = pytest.importorskip("diffusers")
    transformers = pytest.importorskip("transformers")
    safetensors_torch = pytest.importorskip("safetensors.torch")
    torch.manual_seed(0)
    dim = 16
    diffusers.AutoencoderKL(
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(8, 8, 8, 8),
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=4,
        sample_size=256,
    ).save_pretrained(root / "vae")
    diffusers.UNet2DConditionModel(
        sample_size=32,
        in_channels=8,
        out_channels=4,
        layers_per_block=1,
        block_out_channels=(8, 16),
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=dim,
        attention_head_dim=4,
        norm_num_groups=4,
    ).save_pretrained(root / "unet")
    vision = transformers.CLIPVisionConfig(
        hidden_size=dim,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        image_size=32,
        patch_size=8,
        projection_dim=dim,
    )
    transformers.CLIPVisionModelWithProjection(vision).save_pretrained(root / "image_encoder")
    transformers.CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(
        root / "feature_extractor"
    )
    diffusers.DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    ).save_pretrained(root / "scheduler")
    proj = root / "clip_camera_projection"
    proj.mkdir()
    (proj / "config.json").write_text(
        json.dumps({"_class_name": "CLIPCameraProjection", "embedding_dim": dim, "additional_embeddings": 4})
    )
    layer = torch.nn.Linear(dim + 4, dim)
    safetensors_torch.save_file(
        {"proj.weight": layer.weight.detach().contiguous(), "proj.bias": layer.bias.detach().contiguous()},
        str(proj / "diffusion_pytorch_model.safetensors"),
    )
    return root


def test_zero123_code_path_on_tiny_components(tmp_path):
    from reconbench.methods.splat_sds.guidance import StableZero123Guidance, Zero123Guidance

    folder = _tiny_zero123_dir(tmp_path / "tiny")
    assert all((folder / name).is_file() for name in WEIGHT_FILES)  # save_pretrained writes the names we look for
    from diffusers import DDIMScheduler

    reference = DDIMScheduler.from_pretrained(folder, subfolder="scheduler").alphas_cumprod
    guidance = Zero123Guidance(local_dir=folder, device="cpu", seed=0)
    assert torch.allclose(guidance.schedule.alphas_cumprod.float(), reference, atol=1e-6)

    rgba = np.zeros((64, 64, 4), np.uint8)
    rgba[16:48, 16:48] = (200, 40, 40, 255)
    guidance.prepare(rgba, orbit_camera("in", "input", 20.0, 0.0, 2.0, 49.1, 64, 64))
    cams = [RelativeCamera(30.0, 90.0), RelativeCamera(-10.0, -45.0)]
    assert torch.allclose(
        guidance.camera_features(cams), torch.as_tensor(zero123_camera_features(cams), dtype=torch.float32)
    )
    rendered = torch.rand(2, 3, 128, 128, requires_grad=True)
    loss = guidance.loss(rendered, cams, step=1, total_steps=10)
    loss.backward()
    assert loss.ndim == 0 and torch.isfinite(loss)
    assert torch.isfinite(rendered.grad).all() and rendered.grad.abs().sum() > 0
    again = Zero123Guidance(local_dir=folder, device="cpu", seed=0)
    again.prepare(rgba, None)
    assert again.loss(rendered, cams, step=1, total_steps=10).item() == pytest.approx(loss.item(), rel=1e-5)
    with pytest.raises(ValueError):
        guidance.loss(rendered, cams[:1], step=1, total_steps=10)

    stable = StableZero123Guidance(local_dir=folder, device="cpu", seed=0)
    stable.prepare(rgba, orbit_camera("in", "input", 20.0, 0.0, 2.0, 49.1, 64, 64))
    assert stable.camera_features(cams)[:, 3].tolist() == pytest.approx([np.deg2rad(70.0)] * 2)


def test_zero123_loads_from_the_hub_cache_offline(tmp_path, monkeypatch):
    from reconbench.methods.splat_sds.guidance import Zero123Guidance

    folder = _tiny_zero123_dir(tmp_path / "tiny")
    snapshot = _fake_hub_cache(tmp_path / "hub", "someone/tiny-zero123", files=())
    for name in WEIGHT_FILES:
        (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
        (snapshot / name).write_bytes((folder / name).read_bytes())
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    guidance = Zero123Guidance("someone/tiny-zero123", device="cpu", cache_dir=tmp_path / "hub")
    assert guidance.root == snapshot
