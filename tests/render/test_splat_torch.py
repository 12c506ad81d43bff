"""The differentiable PyTorch splat compositor: same images as the exact numpy reference, correct
gradients (gradcheck), a small fit converges, and the optional gsplat backend agrees when it can run."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from reconbench.assets.splats import GaussianSplats  # noqa: E402
from reconbench.assets.splats import sh_basis as sh_basis_numpy  # noqa: E402
from reconbench.protocol.cameras import orbit_camera  # noqa: E402
from reconbench.render.splat_math import ALPHA_MAX, ALPHA_MIN, project  # noqa: E402
from reconbench.render.splat_reference import composite_reference  # noqa: E402
from reconbench.render.splat_torch import gsplat_status, project_gaussians, rasterize, sh_basis  # noqa: E402

WHITE = (1.0, 1.0, 1.0)


def random_splats(n: int, degree: int, seed: int = 0, opacity=(0.1, 1.0), scale=(0.02, 0.15)) -> GaussianSplats:
    rng = np.random.default_rng(seed)
    return GaussianSplats(
        means=rng.uniform(-0.5, 0.5, (n, 3)),
        scales=rng.uniform(*scale, (n, 3)),
        quats=rng.normal(size=(n, 4)),
        opacities=rng.uniform(*opacity, n),
        sh=rng.normal(0.0, 0.5, (n, (degree + 1) ** 2, 3)),
    )


def tensors(splats: GaussianSplats, dtype=torch.float64) -> tuple:
    """means, quats, scales, opacities, sh as tensors."""
    arrays = (splats.means, splats.quats, splats.scales, splats.opacities, splats.sh)
    return tuple(torch.tensor(a, dtype=dtype) for a in arrays)


def camera(size: int = 64, radius: float = 2.5):
    return orbit_camera("cam", "input", 20.0, 30.0, radius, 49.1, size, size)


@pytest.mark.parametrize("degree", [0, 1, 3])
def test_same_images_as_reference(degree):
    splats, cam = random_splats(50, degree, seed=degree), camera()
    ref = composite_reference(splats, cam, background=WHITE)
    assert 0.05 < ref["alpha"].mean() < 0.9  # a scene with overlaps and empty background
    rgb, alpha, depth = rasterize(*tensors(splats), cam, background=WHITE, backend="torch")
    for ours, theirs in ((rgb, ref["color"]), (alpha, ref["alpha"]), (depth, ref["depth"])):
        diff = np.abs(ours.numpy() - theirs)
        assert diff.mean() <= 1e-5
        assert diff.max() <= 1e-9  # in float64 they agree to rounding


def test_float32_close_to_reference():
    splats, cam = random_splats(50, 1), camera()
    ref = composite_reference(splats, cam, background=WHITE)
    rgb, alpha, _ = rasterize(*tensors(splats, torch.float32), cam, background=WHITE, backend="torch")
    assert np.abs(rgb.numpy() - ref["color"]).max() < 1e-4
    assert np.abs(alpha.numpy() - ref["alpha"]).max() < 1e-4


def test_projection_matches_splat_math():
    splats, cam = random_splats(40, 2), camera()
    p = project(splats, cam)
    t = project_gaussians(*tensors(splats), cam)
    assert np.array_equal(t.index.numpy(), p.index)
    for ours, theirs in (
        (t.center, p.center),
        (t.depth, p.depth),
        (t.conic, p.conic),
        (t.extent, p.extent),
        (t.color, p.color),
    ):
        np.testing.assert_allclose(ours.numpy(), theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("degree", [0, 1, 2, 3])
def test_sh_basis_matches_numpy(degree):
    dirs = np.random.default_rng(degree).normal(size=(20, 3))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    np.testing.assert_allclose(sh_basis(torch.tensor(dirs), degree).numpy(), sh_basis_numpy(dirs, degree), atol=1e-15)


def test_tiles_and_chunks_do_not_change_the_image_or_gradients():
    splats, cam = random_splats(50, 1), camera(48)
    weights = torch.rand(48, 48, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    results = []
    for tile, max_pairs in ((48, 10**9), (5, 200)):  # one dense tile; ragged tiles in tiny pixel chunks
        args = tuple(t.requires_grad_(True) for t in tensors(splats))
        rgb, alpha, depth = rasterize(*args, cam, background=WHITE, backend="torch", tile=tile, max_pairs=max_pairs)
        loss = (rgb * weights).sum() + alpha.sum() + depth.sum()
        results.append((rgb, alpha, depth) + torch.autograd.grad(loss, args))
    for a, b in zip(*results):
        assert torch.allclose(a, b, rtol=0, atol=1e-12)


def test_precomputed_colors_and_background_none():
    splats, cam = random_splats(30, 0), camera(32)
    means, quats, scales, opacities, sh = tensors(splats)
    rgb_sh, alpha, _ = rasterize(means, quats, scales, opacities, sh, cam, background=WHITE, backend="torch")
    colors = torch.tensor(np.maximum(splats.colors_dc(), 0.0))
    premult, alpha2, _ = rasterize(means, quats, scales, opacities, colors, cam, backend="torch")
    assert torch.allclose(alpha, alpha2, atol=1e-14)
    # background=None composites over black: adding (1 − alpha)·bg gives the image over bg.
    assert torch.allclose(premult + (1 - alpha)[..., None], rgb_sh, atol=1e-14)


def test_nothing_in_front_of_the_camera():
    splats = random_splats(5, 0)
    cam = camera(16)
    behind = torch.tensor(splats.means + 3.0 * cam.position)  # all behind the camera
    _, quats, scales, opacities, sh = tensors(splats)
    rgb, alpha, depth = rasterize(behind, quats, scales, opacities, sh, cam, background=WHITE, backend="torch")
    assert torch.all(rgb == 1.0) and torch.all(alpha == 0.0) and torch.all(depth == 0.0)


def gradcheck_scene():
    """3 Gaussians in a 12x12 view, overlapping, none capped at 0.99, no pixel near the 1/255 cut."""
    splats = random_splats(3, 1, seed=4, opacity=(0.3, 0.8), scale=(0.15, 0.35))
    splats = GaussianSplats(splats.means * 0.4, splats.scales, splats.quats, splats.opacities, splats.sh * 0.3)
    cam = orbit_camera("cam", "input", 20.0, 30.0, 3.0, 49.1, 12, 12)
    # Guard the preconditions rather than hope: gradcheck's finite differences must not cross a cut.
    p = project(splats, cam)
    j, i = np.mgrid[0:12, 0:12]
    for k in range(len(p.index)):
        dx, dy = i + 0.5 - p.center[k, 0], j + 0.5 - p.center[k, 1]
        a, b, c = p.conic[k]
        raw = p.opacity[k] * np.exp(-0.5 * (a * dx * dx + 2 * b * dx * dy + c * dy * dy))
        assert np.abs(raw / ALPHA_MIN - 1).min() > 1e-3 and raw.max() < ALPHA_MAX - 1e-3
        assert 0.1 < (raw >= ALPHA_MIN).mean() < 1.0
    assert len(p.index) == 3 and np.all(p.color > 1e-3)  # no SH colour clamped at 0
    return splats, cam


def test_gradcheck_all_parameters_precomputed_colors():
    splats, cam = gradcheck_scene()
    means, quats, scales, opacities, _ = tensors(splats)
    colors = torch.tensor(np.random.default_rng(1).uniform(0.1, 0.9, (3, 3)))
    inputs = tuple(t.clone().requires_grad_(True) for t in (means, quats, scales, opacities, colors))

    def render(*params):
        rgb, alpha, depth = rasterize(*params, cam, background=(0.2, 0.5, 0.8), backend="torch")
        return torch.cat([rgb.reshape(-1), alpha.reshape(-1), depth.reshape(-1)])

    assert torch.autograd.gradcheck(render, inputs, eps=1e-6, atol=1e-6, rtol=1e-4)


def test_gradcheck_sh_colors_and_means():
    splats, cam = gradcheck_scene()
    means, quats, scales, opacities, sh = tensors(splats)
    means, sh = means.requires_grad_(True), sh.requires_grad_(True)

    def render(means, sh):
        rgb, _, _ = rasterize(means, quats, scales, opacities, sh, cam, backend="torch")
        return rgb

    assert torch.autograd.gradcheck(render, (means, sh), eps=1e-6, atol=1e-6, rtol=1e-4)


def test_capped_alpha_has_no_opacity_gradient():
    cam = orbit_camera("front", "input", 0.0, 0.0, 5.0, 49.1, 33, 33)
    means = torch.zeros(1, 3, dtype=torch.float64)
    quats = torch.tensor([[1.0, 0.0, 0.0, 0.0]], dtype=torch.float64)
    scales = torch.full((1, 3), 0.3, dtype=torch.float64)
    opacities = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    colors = torch.tensor([[1.0, 0.0, 0.0]], dtype=torch.float64)
    _, alpha, _ = rasterize(means, quats, scales, opacities, colors, cam, backend="torch")
    (grad_centre,) = torch.autograd.grad(alpha[16, 16], opacities, retain_graph=True)  # α = min(0.99, 1) there
    (grad_edge,) = torch.autograd.grad(alpha[16, 20], opacities)
    assert alpha[16, 16].item() == ALPHA_MAX and grad_centre.item() == 0.0
    assert grad_edge.item() > 0.0


def test_fitting_colours_and_opacities_converges():
    torch.manual_seed(0)
    splats, cam = random_splats(10, 0, seed=7, scale=(0.08, 0.2)), camera(32)
    means, quats, scales, _, _ = tensors(splats, torch.float32)
    target_colors = torch.rand(10, 3)
    target_opacities = torch.rand(10) * 0.8 + 0.1
    with torch.no_grad():
        target, _, _ = rasterize(
            means, quats, scales, target_opacities, target_colors, cam, background=WHITE, backend="torch"
        )
    color_logits = torch.zeros(10, 3, requires_grad=True)  # start grey, half transparent
    opacity_logits = torch.zeros(10, requires_grad=True)
    optim = torch.optim.Adam([color_logits, opacity_logits], lr=0.1)
    losses = []
    threads = torch.get_num_threads()
    # Hundreds of tiny ops: with several intra-op threads on a busy machine, their synchronisation
    # (not the work) dominates and made this 20x slower; one thread keeps it well under a second.
    torch.set_num_threads(1)
    try:
        for _ in range(100):
            rgb, _, _ = rasterize(
                means,
                quats,
                scales,
                torch.sigmoid(opacity_logits),
                torch.sigmoid(color_logits),
                cam,
                background=WHITE,
                backend="torch",
            )
            loss = torch.mean((rgb - target) ** 2)
            optim.zero_grad()
            loss.backward()
            optim.step()
            losses.append(loss.item())
    finally:
        torch.set_num_threads(threads)
    assert losses[-1] < 0.1 * losses[0]


def test_backend_selection_on_cpu():
    splats, cam = random_splats(5, 0), camera(16)
    args = tensors(splats, torch.float32)
    auto = rasterize(*args, cam, backend="auto")  # CPU tensors: always the PyTorch path
    forced = rasterize(*args, cam, backend="torch")
    assert all(torch.equal(a, b) for a, b in zip(auto, forced))
    with pytest.raises(ValueError, match="backend"):
        rasterize(*args, cam, backend="opengl")
    with pytest.raises(RuntimeError, match="gsplat"):
        rasterize(*args, cam, backend="gsplat")


GSPLAT_OK, GSPLAT_WHY = gsplat_status("cuda")


@pytest.mark.skipif(not GSPLAT_OK, reason=f"gsplat backend needs CUDA and the gsplat package: {GSPLAT_WHY}")
@pytest.mark.parametrize("degree", [0, 1])
def test_gsplat_backend_matches_torch(degree):
    splats, cam = random_splats(50, degree, seed=degree, opacity=(0.1, 0.6)), camera()
    # No pixel gets near gsplat's T <= 1e-4 early stop: only float32 rounding should differ.
    assert composite_reference(splats, cam)["alpha"].max() < 0.99
    args = tuple(t.cuda() for t in tensors(splats, torch.float32))
    ours = rasterize(*args, cam, background=WHITE, backend="torch")
    theirs = rasterize(*args, cam, background=WHITE, backend="gsplat")
    for a, b in zip(ours[:2], theirs[:2]):  # rgb, alpha
        assert (a - b).abs().mean().item() < 1e-4
        assert (a - b).abs().max().item() < 5e-3  # one float32 flip at the 1/255 edge is ≤ 1/255
    # Depth is a ratio: where coverage is faint, one flip at the 1/255 edge moves it a lot.
    solid = (ours[1] > 0.2) & (theirs[1] > 0.2)
    assert solid.float().mean().item() > 0.05
    assert (ours[2] - theirs[2])[solid].abs().mean().item() < 1e-3
