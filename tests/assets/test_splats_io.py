from pathlib import Path

import numpy as np
import pytest
from conftest import write_vertex_colored_ply

from reconbench.assets.errors import AssetLoadError
from reconbench.assets.splats import C0, GaussianSplats
from reconbench.assets.splats_io import is_splat_ply, load_splats, save_splats

INRIA_DEGREE3 = (
    ["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2"]
    + [f"f_rest_{i}" for i in range(45)]
    + ["opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]
)
LGM_ORDER = [
    "x",
    "y",
    "z",
    "f_dc_0",
    "f_dc_1",
    "f_dc_2",
    "opacity",
    "scale_0",
    "scale_1",
    "scale_2",
    "rot_0",
    "rot_1",
    "rot_2",
    "rot_3",
]
DREAMGAUSSIAN_ORDER = [
    "x",
    "y",
    "z",
    "nx",
    "ny",
    "nz",
    "f_dc_0",
    "f_dc_1",
    "f_dc_2",
    "opacity",
    "scale_0",
    "scale_1",
    "scale_2",
    "rot_0",
    "rot_1",
    "rot_2",
    "rot_3",
]


def write_ply(
    path: Path,
    columns: dict[str, np.ndarray],
    fmt: str = "binary_little_endian",
    types: dict[str, str] | None = None,
    extra_elements: str = "",
) -> Path:
    """A hand-written PLY with one vertex element; `types` maps a property to a PLY type (default float)."""
    types = types or {}
    names = list(columns)
    n = len(next(iter(columns.values()))) if columns else 0
    ply_to_np = {"float": "f4", "double": "f8", "uchar": "u1", "int": "i4"}
    lines = ["ply", f"format {fmt} 1.0", "comment hand-written test file", f"element vertex {n}"]
    lines += [f"property {types.get(name, 'float')} {name}" for name in names]
    lines += [extra_elements] if extra_elements else []
    lines += ["end_header"]
    header = ("\n".join(lines) + "\n").encode("ascii")
    if fmt == "ascii":
        body = "".join(" ".join(repr(float(columns[k][i])) for k in names) + "\n" for i in range(n)).encode("ascii")
    else:
        order = "<" if fmt == "binary_little_endian" else ">"
        table = np.empty(n, dtype=[(k, order + ply_to_np[types.get(k, "float")]) for k in names])
        for k in names:
            table[k] = columns[k]
        body = table.tobytes()
    path.write_bytes(header + body)
    return path


def lgm_columns(n: int = 3) -> dict[str, np.ndarray]:
    """LGM core/gs.py save_ply values for known activated Gaussians (opacity 0.5, std 0.01, identity rotation)."""
    rgb = np.array([0.2, 0.6, 0.9])
    cols = {name: np.zeros(n) for name in LGM_ORDER}
    cols["x"] = np.arange(n, dtype=float)
    cols["y"] = -np.arange(n, dtype=float)
    cols["z"] = np.full(n, 0.5)
    for c in range(3):
        cols[f"f_dc_{c}"] = np.full(n, (rgb[c] - 0.5) / C0)  # LGM: (rgb - 0.5) / C0
    cols["opacity"] = np.zeros(n)  # inverse_sigmoid(0.5)
    for i in range(3):
        cols[f"scale_{i}"] = np.full(n, np.log(0.01))
    cols["rot_0"] = np.full(n, 2.0)  # unnormalised (w, x, y, z) = (2, 0, 0, 0)
    return cols


def random_splats(n: int, degree: int, seed: int = 0) -> GaussianSplats:
    rng = np.random.default_rng(seed)
    return GaussianSplats(
        means=rng.normal(size=(n, 3)),
        scales=rng.uniform(1e-3, 0.5, size=(n, 3)),
        quats=rng.normal(size=(n, 4)),
        opacities=rng.uniform(0.001, 0.999, size=n),
        sh=rng.normal(scale=0.5, size=(n, (degree + 1) ** 2, 3)),
    )


def header_of(path: Path) -> str:
    data = path.read_bytes()
    return data[: data.index(b"end_header")].decode("ascii")


# --- round trip ---------------------------------------------------------------------------------


@pytest.mark.parametrize("degree", [0, 3])
def test_save_then_load_reproduces_activated_parameters(tmp_path, degree):
    original = random_splats(200, degree)
    path = save_splats(original, tmp_path / "sub" / "s.ply")
    again = load_splats(path)
    assert again.source == path and again.n == 200 and again.sh_degree == degree
    assert np.allclose(again.means, original.means, rtol=1e-6, atol=1e-7)
    assert np.allclose(again.scales, original.scales, rtol=1e-6)
    assert np.allclose(again.quats, original.quats, atol=1e-7)
    assert np.allclose(again.opacities, original.opacities, atol=1e-6)
    assert np.allclose(again.sh, original.sh, rtol=1e-6, atol=1e-7)


def test_saved_file_is_the_inria_layout(tmp_path):
    path = save_splats(random_splats(5, 3), tmp_path / "s.ply")
    lines = header_of(path).splitlines()
    assert lines[:3] == ["ply", "format binary_little_endian 1.0", "element vertex 5"]
    assert lines[3:] == [f"property float {name}" for name in INRIA_DEGREE3]
    assert path.stat().st_size == len(header_of(path)) + len("end_header\n") + 5 * 62 * 4


def test_saved_values_are_pre_activation_and_f_rest_channel_major(tmp_path):
    sh = np.zeros((1, 16, 3))
    sh[0, 1:, 0], sh[0, 1:, 1], sh[0, 1:, 2] = np.arange(15), 100 + np.arange(15), 200 + np.arange(15)
    splats = GaussianSplats(np.zeros((1, 3)), np.full((1, 3), 0.01), np.array([[1.0, 0, 0, 0]]), np.array([0.5]), sh)
    path = save_splats(splats, tmp_path / "s.ply")
    values = np.frombuffer(path.read_bytes()[-62 * 4 :], dtype="<f4")
    named = dict(zip(INRIA_DEGREE3, values))
    assert named["opacity"] == 0 and np.isclose(named["scale_1"], np.log(0.01)) and named["nx"] == 0
    assert (
        named["f_rest_0"] == 0 and named["f_rest_14"] == 14 and named["f_rest_15"] == 100 and named["f_rest_44"] == 214
    )


def test_extreme_opacities_are_clipped_to_finite_logits(tmp_path):
    splats = GaussianSplats(
        np.zeros((2, 3)),
        np.full((2, 3), 0.1),
        np.tile([1.0, 0, 0, 0], (2, 1)),
        np.array([0.0, 1.0]),
        np.zeros((2, 1, 3)),
    )
    again = load_splats(save_splats(splats, tmp_path / "s.ply"))
    assert np.allclose(again.opacities, [0, 1], atol=2e-6)


# --- upstream variants --------------------------------------------------------------------------


def check_known_activation(splats: GaussianSplats) -> None:
    assert np.allclose(splats.opacities, 0.5)
    assert np.allclose(splats.scales, 0.01)
    assert np.allclose(splats.quats, [1, 0, 0, 0])
    assert np.allclose(splats.colors_dc(), [0.2, 0.6, 0.9], atol=1e-6)
    assert np.allclose(splats.means[:, 0], np.arange(splats.n)) and np.allclose(splats.means[:, 2], 0.5)


def test_lgm_style_file(tmp_path):
    path = write_ply(tmp_path / "lgm.ply", lgm_columns())
    assert is_splat_ply(path)
    splats = load_splats(path)
    assert splats.sh_degree == 0
    check_known_activation(splats)


def test_dreamgaussian_style_file_with_normals(tmp_path):
    cols = lgm_columns()
    cols = {name: cols.get(name, np.zeros(3)) for name in DREAMGAUSSIAN_ORDER}
    path = write_ply(tmp_path / "dg_model.ply", cols)
    assert is_splat_ply(path)
    check_known_activation(load_splats(path))


def test_any_order_extra_properties_float64_and_big_endian(tmp_path):
    cols = lgm_columns()
    shuffled = {name: cols[name] for name in reversed(LGM_ORDER)}
    shuffled["red"] = np.full(3, 255)
    shuffled["filter_3D"] = np.ones(3)
    types = {"red": "uchar", "x": "double", "scale_2": "double"}
    for fmt in ("binary_little_endian", "binary_big_endian"):
        check_known_activation(load_splats(write_ply(tmp_path / f"{fmt}.ply", shuffled, fmt=fmt, types=types)))


def test_ascii_file(tmp_path):
    path = write_ply(tmp_path / "a.ply", lgm_columns(), fmt="ascii")
    check_known_activation(load_splats(path))


def test_degree3_file_reads_f_rest_channel_major(tmp_path):
    cols = {name: np.zeros(1) for name in INRIA_DEGREE3}
    cols["rot_0"] = np.ones(1)
    for i in range(45):
        cols[f"f_rest_{i}"] = np.array([float(i)])
    splats = load_splats(write_ply(tmp_path / "d3.ply", cols))
    assert splats.sh_degree == 3
    assert np.array_equal(splats.sh[0, 1:, 0], np.arange(15))  # R: f_rest_0..14
    assert np.array_equal(splats.sh[0, 1:, 1], 15 + np.arange(15))  # G: f_rest_15..29
    assert np.array_equal(splats.sh[0, 1:, 2], 30 + np.arange(15))  # B: f_rest_30..44


# --- errors -------------------------------------------------------------------------------------


def expect_error(path: Path, *fragments: str) -> None:
    with pytest.raises(AssetLoadError) as info:
        load_splats(path)
    assert info.value.path == path and str(path) in str(info.value)
    for fragment in fragments:
        assert fragment in info.value.reason, info.value.reason


def test_missing_file(tmp_path):
    expect_error(tmp_path / "nope.ply", "does not exist")


def test_not_a_ply(tmp_path):
    path = tmp_path / "x.ply"
    path.write_text("solid cube\nendsolid\n")
    expect_error(path, "not a PLY")


def test_malformed_headers(tmp_path):
    good = write_ply(tmp_path / "g.ply", lgm_columns()).read_bytes()
    no_end = tmp_path / "no_end.ply"
    no_end.write_bytes(good.replace(b"end_header", b"end_hdr"))
    expect_error(no_end, "malformed PLY header", "end_header")
    bad_type = tmp_path / "bad_type.ply"
    bad_type.write_bytes(good.replace(b"property float opacity", b"property flaot opacity"))
    expect_error(bad_type, "malformed PLY header", "unknown property type")
    no_format = tmp_path / "no_format.ply"
    no_format.write_bytes(good.replace(b"format binary_little_endian 1.0\n", b""))
    expect_error(no_format, "no 'format' line")


def test_truncated_file(tmp_path):
    path = write_ply(tmp_path / "t.ply", lgm_columns(3))
    path.write_bytes(path.read_bytes()[:-10])
    expect_error(path, "truncated", "3 vertices")
    ascii_path = write_ply(tmp_path / "ta.ply", lgm_columns(3), fmt="ascii")
    ascii_path.write_bytes(b"\n".join(ascii_path.read_bytes().splitlines()[:-1]))
    expect_error(ascii_path, "truncated")


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_nan_or_inf_names_the_property(tmp_path, value):
    cols = lgm_columns()
    cols["scale_1"][1] = value
    expect_error(write_ply(tmp_path / "n.ply", cols), "scale_1", "NaN or infinite")


def test_empty_cloud(tmp_path):
    expect_error(write_ply(tmp_path / "e.ply", {name: np.zeros(0) for name in LGM_ORDER}), "empty cloud", "0 vertices")


def test_mesh_ply_is_not_a_splat_file(tmp_path):
    path = write_vertex_colored_ply(tmp_path / "mesh.ply")
    assert not is_splat_ply(path)
    expect_error(path, "mesh", "not a Gaussian splat file")


def test_missing_properties_are_named(tmp_path):
    cols = lgm_columns()
    del cols["rot_3"], cols["opacity"]
    expect_error(write_ply(tmp_path / "m.ply", cols), "missing required properties", "opacity", "rot_3")


def test_point_cloud_ply_is_not_a_splat_file(tmp_path):
    path = write_ply(tmp_path / "pc.ply", {"x": np.zeros(2), "y": np.zeros(2), "z": np.zeros(2)})
    assert not is_splat_ply(path)
    expect_error(path, "not a Gaussian splat file")


def test_bad_f_rest_count(tmp_path):
    cols = lgm_columns()
    cols.update({f"f_rest_{i}": np.zeros(3) for i in range(5)})
    expect_error(write_ply(tmp_path / "r.ply", cols), "5 f_rest_*")


def test_zero_quaternion(tmp_path):
    cols = lgm_columns()
    cols["rot_0"][0] = 0
    expect_error(write_ply(tmp_path / "q.ply", cols), "zero quaternion")


# --- sniffing -----------------------------------------------------------------------------------


def test_is_splat_ply(tmp_path):
    assert is_splat_ply(save_splats(random_splats(4, 1), tmp_path / "s.ply"))
    assert is_splat_ply(write_ply(tmp_path / "lgm.ply", lgm_columns()))
    assert not is_splat_ply(tmp_path / "missing.ply")
    text = tmp_path / "t.ply"
    text.write_text("hello")
    assert not is_splat_ply(text)
    assert not is_splat_ply(tmp_path)  # a folder
    # Splat properties but also faces: a mesh, left to the mesh loader.
    faced = write_ply(
        tmp_path / "f.ply", lgm_columns(), extra_elements="element face 1\nproperty list uchar int vertex_indices"
    )
    assert not is_splat_ply(faced)


def test_a_cloud_over_the_splat_limit_is_refused_from_its_header(tmp_path, monkeypatch):
    path = save_splats(random_splats(20, 0), tmp_path / "s.ply")
    monkeypatch.setenv("RECONBENCH_MAX_SPLATS", "19")
    with pytest.raises(AssetLoadError, match=r"20 Gaussians is over the limit of 19 .*RECONBENCH_MAX_SPLATS"):
        load_splats(path)
    monkeypatch.setenv("RECONBENCH_MAX_SPLATS", "20")
    assert load_splats(path).n == 20
