import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from reconbench.assets.splats import C0, GaussianSplats, decompose_similarity, sh_basis


def random_splats(n: int = 50, degree: int = 3, seed: int = 0) -> GaussianSplats:
    rng = np.random.default_rng(seed)
    return GaussianSplats(
        means=rng.normal(size=(n, 3)),
        scales=rng.uniform(0.01, 0.3, size=(n, 3)),
        quats=rng.normal(size=(n, 4)),
        opacities=rng.uniform(0, 1, size=n),
        sh=rng.normal(scale=0.5, size=(n, (degree + 1) ** 2, 3)),
    )


def one(**overrides) -> GaussianSplats:
    fields = dict(
        means=np.zeros((1, 3)),
        scales=np.full((1, 3), 0.1),
        quats=np.array([[1.0, 0, 0, 0]]),
        opacities=np.array([0.5]),
        sh=np.zeros((1, 1, 3)),
    )
    fields.update(overrides)
    return GaussianSplats(**fields)


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


# --- construction -------------------------------------------------------------------------------


def test_fields_are_float64_and_quats_normalised():
    s = one(quats=np.array([[2, 0, 0, 0]]), means=np.zeros((1, 3), dtype=np.float32))
    assert s.means.dtype == np.float64 and s.n == 1 and s.sh_degree == 0
    assert np.allclose(s.quats, [[1, 0, 0, 0]])
    assert random_splats(degree=3).sh_degree == 3


@pytest.mark.parametrize(
    "overrides, message",
    [
        (
            dict(
                means=np.zeros((0, 3)),
                scales=np.zeros((0, 3)),
                quats=np.zeros((0, 4)),
                opacities=np.zeros(0),
                sh=np.zeros((0, 1, 3)),
            ),
            "empty cloud",
        ),
        (dict(means=np.array([[0, np.nan, 0]])), "means contains NaN"),
        (dict(sh=np.full((1, 1, 3), np.inf)), "sh contains NaN"),
        (dict(scales=np.array([[0.1, 0.0, 0.1]])), "scales must be > 0"),
        (dict(opacities=np.array([1.5])), "opacities must be in [0, 1]"),
        (dict(sh=np.zeros((1, 3, 3))), "perfect square"),
        (dict(sh=np.zeros((1, 25, 3))), "degree 4"),
        (dict(scales=np.zeros((2, 3)) + 0.1), "scales must be (1, 3)"),
        (dict(quats=np.zeros((1, 4))), "zero quaternion"),
    ],
)
def test_invalid_fields_raise(overrides, message):
    with pytest.raises(
        ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[").replace("]", r"\]")
    ):
        one(**overrides)


# --- colour -------------------------------------------------------------------------------------


def test_colors_dc_hand_value():
    s = one(sh=np.array([[[1.0, 0.0, -1.0]]]))
    assert np.allclose(s.colors_dc(), [[0.5 + C0, 0.5, 0.5 - C0]])
    # Not clamped: a large DC gives a colour above 1.
    assert one(sh=np.full((1, 1, 3), 10.0)).colors_dc()[0, 0] > 1


def test_degree0_colour_is_view_independent():
    s = random_splats(degree=0)
    dirs = unit(np.random.default_rng(1).normal(size=(s.n, 3)))
    assert np.allclose(s.colors(dirs), s.colors_dc())


def test_degree1_follows_3dgs_eval_sh_signs():
    # 3DGS eval_sh: result = C0 sh0 - C1 y sh1 + C1 z sh2 - C1 x sh3, plus 0.5.
    c1 = 0.4886025119029199
    sh = np.zeros((1, 4, 3))
    sh[0, 1] = [1, 0, 0]  # red varies with -y
    sh[0, 2] = [0, 1, 0]  # green with +z
    sh[0, 3] = [0, 0, 1]  # blue with -x
    s = one(sh=sh)
    assert np.allclose(s.colors(np.array([[0, 1.0, 0]])), [[0.5 - c1, 0.5, 0.5]])
    assert np.allclose(s.colors(np.array([[0, 0, 2.0]])), [[0.5, 0.5 + c1, 0.5]])  # normalised here
    assert np.allclose(s.colors(np.array([1.0, 0, 0])), [[0.5, 0.5, 0.5 - c1]])  # one direction for all


def test_sh_basis_is_orthonormal_on_the_sphere():
    # Catches a wrong constant: the 3DGS basis is the orthonormal real SH basis.
    rng = np.random.default_rng(0)
    d = unit(rng.normal(size=(400_000, 3)))
    y = sh_basis(d, 3)
    gram = 4 * np.pi * (y.T @ y) / len(d)
    assert np.allclose(gram, np.eye(16), atol=0.03)


# --- geometry -----------------------------------------------------------------------------------


def test_covariances_axis_aligned_and_rotated():
    s = one(scales=np.array([[1.0, 2.0, 3.0]]))
    assert np.allclose(s.covariances()[0], np.diag([1, 4, 9]))
    quarter_z = np.array([[np.cos(np.pi / 4), 0, 0, np.sin(np.pi / 4)]])  # 90 degrees about z: x -> y
    assert np.allclose(one(scales=np.array([[1.0, 2.0, 3.0]]), quats=quarter_z).covariances()[0], np.diag([4, 1, 9]))


def test_bounds_and_subset():
    s = random_splats(n=10)
    assert np.allclose(s.bounds, [s.means.min(0), s.means.max(0)])
    mask = np.arange(10) % 2 == 0
    sub = s.subset(mask)
    assert sub.n == 5 and np.array_equal(sub.sh, s.sh[mask]) and np.array_equal(sub.quats, s.quats[mask])
    assert s.subset(np.array([3])).n == 1
    with pytest.raises(ValueError, match="empty cloud"):
        s.subset(np.zeros(10, dtype=bool))
    with pytest.raises(ValueError, match="boolean mask"):
        s.subset(np.ones(3, dtype=bool))


def similarity(s: float, rot: np.ndarray, t) -> np.ndarray:
    m = np.eye(4)
    m[:3, :3] = s * rot
    m[:3, 3] = t
    return m


def test_transformed_maps_means_scales_and_covariances():
    s = random_splats()
    rot = Rotation.from_rotvec([0.3, -1.1, 0.7]).as_matrix()
    t = np.array([1.0, -2.0, 0.5])
    out = s.transformed(similarity(2.5, rot, t))
    assert np.allclose(out.means, 2.5 * s.means @ rot.T + t)
    assert np.allclose(out.scales, 2.5 * s.scales)
    assert np.allclose(np.linalg.norm(out.quats, axis=1), 1)
    assert np.allclose(out.covariances(), 2.5**2 * rot @ s.covariances() @ rot.T)
    assert np.array_equal(out.opacities, s.opacities)
    assert np.allclose(out.sh[:, 0], s.sh[:, 0])  # DC is rotation invariant


def test_transformed_rotates_sh_so_colours_follow_the_object():
    s = random_splats(degree=3)
    rot = Rotation.from_rotvec([-0.4, 0.9, 2.0]).as_matrix()
    out = s.transformed(similarity(0.7, rot, [0.1, 0.2, 0.3]))
    d = unit(np.random.default_rng(2).normal(size=(s.n, 3)))
    assert np.allclose(out.colors(d @ rot.T), s.colors(d), atol=1e-10)
    assert not np.allclose(out.colors(d), s.colors(d))  # the view dependence really moved


def test_transformed_composes():
    s = random_splats(degree=2)
    a = similarity(1.5, Rotation.from_rotvec([0.2, 0.1, -0.3]).as_matrix(), [1, 0, 0])
    b = similarity(0.5, Rotation.from_rotvec([-1.0, 0.4, 0.6]).as_matrix(), [0, 2, 0])
    twice, once = s.transformed(a).transformed(b), s.transformed(b @ a)
    assert np.allclose(twice.means, once.means) and np.allclose(twice.covariances(), once.covariances())
    assert np.allclose(twice.sh, once.sh, atol=1e-10)


@pytest.mark.parametrize(
    "matrix, message",
    [
        (np.diag([-1.0, 1, 1, 1]), "reflection"),
        (np.diag([1.0, 2, 1, 1]), "non-uniform scale or shear"),
        (np.array([[1.0, 0.5, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]), "non-uniform scale or shear"),
        (np.array([[1.0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0.1, 1]]), "not an affine"),
        (np.zeros((4, 4)) + np.diag([0, 0, 0, 1.0]), "degenerate"),
    ],
)
def test_transformed_refuses_non_similarities(matrix, message):
    with pytest.raises(ValueError, match=message):
        random_splats(n=3).transformed(matrix)


def test_decompose_similarity():
    rot = Rotation.from_rotvec([0.5, 0.5, 0.0]).as_matrix()
    s, r, t = decompose_similarity(similarity(3.0, rot, [1, 2, 3]))
    assert np.isclose(s, 3.0) and np.allclose(r, rot) and np.allclose(t, [1, 2, 3])
