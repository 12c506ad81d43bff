"""Read and write Gaussian splats as 3DGS PLY files (the Inria `save_ply` layout and its variants).

Layout (graphdeco-inria/gaussian-splatting `GaussianModel.save_ply`): one `vertex` element,
binary little-endian float32 properties

    x y z  nx ny nz  f_dc_0..2  f_rest_0..3*(K-1)-1  opacity  scale_0..2  rot_0..3

stored PRE-activation: opacity is a logit, scale_i = log(std), rot_0..3 an unnormalised (w, x, y, z)
quaternion, and f_rest channel-major (all K-1 coefficients of R, then G, then B). Variants read too:
LGM (no normals, no f_rest, order x y z f_dc opacity scale rot), DreamGaussian (Inria layout with
SH degree 0, so no f_rest), properties in any order, extra properties ignored, float32 or float64,
ascii and big-endian files.

Why our own header parser rather than trimesh or `plyfile`: the format is a short text header and a
fixed-size binary record, so numpy reads it directly without a new dependency; trimesh's PLY loader
is mesh-oriented (it drops or renames custom vertex properties), and parsing the header ourselves
lets `is_splat_ply` look at the header only and lets every failure name its exact reason
(truncated data, a missing property, NaN in a given property...).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reconbench import limits
from reconbench.assets.errors import AssetLoadError
from reconbench.assets.splats import GaussianSplats

# PLY scalar types -> numpy type codes (without byte order).
_PLY_TYPES = {
    "char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1",
    "short": "i2", "int16": "i2", "ushort": "u2", "uint16": "u2",
    "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
    "float": "f4", "float32": "f4", "double": "f8", "float64": "f8",
}  # fmt: skip
_BYTE_ORDER = {"binary_little_endian": "<", "binary_big_endian": ">", "ascii": "="}
_MAX_HEADER_BYTES = 1 << 20  # a degree-3 3DGS header is ~1.5 KB
_END_HEADER = re.compile(rb"(?m)^end_header[ \t]*\r?\n")
_F_REST = re.compile(r"f_rest_(\d+)$")
_MESH_ELEMENTS = ("face", "tristrips")

REQUIRED_PROPERTIES = (
    "x", "y", "z", "f_dc_0", "f_dc_1", "f_dc_2", "opacity",
    "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3",
)  # fmt: skip
OPACITY_CLIP = 1e-6  # save: logit of an opacity clipped to [1e-6, 1 - 1e-6] (finite, as LGM/kiui do)


@dataclass(frozen=True)
class _Property:
    name: str
    dtype: str | None  # numpy type code; None for a list property
    list_types: tuple[str, str] | None = None


@dataclass(frozen=True)
class _Element:
    name: str
    count: int
    properties: tuple[_Property, ...]

    def find(self, name: str) -> _Property | None:
        return next((p for p in self.properties if p.name == name), None)


@dataclass(frozen=True)
class _Header:
    format: str  # ascii | binary_little_endian | binary_big_endian
    elements: tuple[_Element, ...]
    data_offset: int  # bytes from the start of the file to the first data byte

    def element(self, name: str) -> _Element | None:
        return next((e for e in self.elements if e.name == name), None)

    def n_faces(self) -> int:
        return sum(e.count for e in self.elements if e.name in _MESH_ELEMENTS)


def is_splat_ply(path: str | Path) -> bool:
    """True for a PLY whose header has a vertex element with scale_0 and opacity and no faces.

    Reads the header only; any unreadable or non-PLY file is simply not a splat file (False).
    """
    try:
        header = _read_header(Path(path))
    except (AssetLoadError, OSError):
        return False
    vertex = header.element("vertex")
    if vertex is None or header.n_faces() > 0:
        return False
    return vertex.find("scale_0") is not None and vertex.find("opacity") is not None


def load_splats(path: str | Path) -> GaussianSplats:
    """Load a 3DGS-style PLY into activated GaussianSplats; AssetLoadError names the file and reason."""
    path = Path(path)
    header = _read_header(path)
    vertex = _splat_vertex_element(path, header)
    columns = _read_vertex_columns(path, header, vertex)
    return _splats_from_columns(path, columns)


def save_splats(splats: GaussianSplats, path: str | Path) -> Path:
    """Write the Inria 3DGS layout: binary little-endian float32, pre-activation, zero normals."""
    path = Path(path)
    names, table = _inria_columns(splats)
    header = ["ply", "format binary_little_endian 1.0", f"element vertex {splats.n}"]
    header += [f"property float {name}" for name in names]
    header += ["end_header"]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(("\n".join(header) + "\n").encode("ascii"))
        f.write(np.ascontiguousarray(table, dtype="<f4").tobytes())
    return path


# ---------------------------------------------------------------------------------------------
# Header


def _read_header(path: Path) -> _Header:
    """Parse a PLY header (raises AssetLoadError for a missing file, not a PLY, or a bad header)."""
    if not path.exists():
        raise AssetLoadError(path, "file does not exist")
    if not path.is_file():
        raise AssetLoadError(path, "not a file")
    head = _read_head_bytes(path)
    if not (head.startswith(b"ply\n") or head.startswith(b"ply\r\n")):
        raise AssetLoadError(path, "not a PLY file (does not start with the 'ply' magic line)")
    end = _END_HEADER.search(head)
    if end is None:
        raise AssetLoadError(path, f"malformed PLY header: no 'end_header' line in the first {len(head)} bytes")
    try:
        text = head[: end.start()].decode("ascii")
    except UnicodeDecodeError:
        raise AssetLoadError(path, "malformed PLY header: non-ASCII bytes") from None
    fmt, elements = _parse_header_lines(path, text.splitlines()[1:])
    return _Header(fmt, elements, end.end())


def _read_head_bytes(path: Path) -> bytes:
    """The file's first bytes, up to and including `end_header` (or _MAX_HEADER_BYTES)."""
    chunks = b""
    with open(path, "rb") as f:
        while len(chunks) < _MAX_HEADER_BYTES:
            chunk = f.read(4096)
            if not chunk:
                break
            chunks += chunk
            if not chunks.startswith(b"ply") or _END_HEADER.search(chunks):
                break
    return chunks


def _parse_header_lines(path: Path, lines: list[str]) -> tuple[str, tuple[_Element, ...]]:
    """(format, elements) from the header lines after the magic line."""
    fmt: str | None = None
    elements: list[_Element] = []
    for number, line in enumerate(lines, start=2):
        words = line.split()
        if not words or words[0] in ("comment", "obj_info"):
            continue
        bad = f"malformed PLY header, line {number}: {line.strip()!r}"
        if words[0] == "format":
            if len(words) != 3 or words[1] not in _BYTE_ORDER:
                raise AssetLoadError(path, f"{bad} (unknown format)")
            fmt = words[1]
        elif words[0] == "element":
            if len(words) != 3 or not words[2].isdigit():
                raise AssetLoadError(path, bad)
            elements.append(_Element(words[1], int(words[2]), ()))
        elif words[0] == "property":
            if not elements:
                raise AssetLoadError(path, f"{bad} (property before any element)")
            prop = _parse_property(words)
            if prop is None:
                raise AssetLoadError(path, f"{bad} (unknown property type)")
            last = elements[-1]
            if last.find(prop.name) is not None:
                raise AssetLoadError(path, f"{bad} (duplicate property in element {last.name!r})")
            elements[-1] = _Element(last.name, last.count, last.properties + (prop,))
        else:
            raise AssetLoadError(path, bad)
    if fmt is None:
        raise AssetLoadError(path, "malformed PLY header: no 'format' line")
    return fmt, tuple(elements)


def _parse_property(words: list[str]) -> _Property | None:
    """A `property TYPE NAME` or `property list COUNT_TYPE ITEM_TYPE NAME` line, or None if invalid."""
    if len(words) == 3 and words[1] in _PLY_TYPES:
        return _Property(words[2], _PLY_TYPES[words[1]])
    if len(words) == 5 and words[1] == "list" and words[2] in _PLY_TYPES and words[3] in _PLY_TYPES:
        return _Property(words[4], None, (_PLY_TYPES[words[2]], _PLY_TYPES[words[3]]))
    return None


def _splat_vertex_element(path: Path, header: _Header) -> _Element:
    """The vertex element, checked to describe a non-empty Gaussian cloud rather than a mesh."""
    if header.n_faces() > 0:
        raise AssetLoadError(path, f"a mesh PLY ({header.n_faces()} faces), not a Gaussian splat file")
    vertex = header.element("vertex")
    if vertex is None:
        raise AssetLoadError(path, "no 'vertex' element: not a Gaussian splat file")
    missing = [name for name in REQUIRED_PROPERTIES if vertex.find(name) is None]
    if missing:
        raise AssetLoadError(path, f"missing required properties {', '.join(missing)}: not a Gaussian splat file")
    lists = [p.name for p in vertex.properties if p.dtype is None]
    if lists:
        raise AssetLoadError(
            path, f"vertex element has list properties ({', '.join(lists)}), unsupported in a splat file"
        )
    if vertex.count == 0:
        raise AssetLoadError(path, "empty cloud: the vertex element has 0 vertices")
    if vertex.count > limits.SPLATS.get():  # refused from the header, before any allocation
        raise AssetLoadError(path, limits.SPLATS.exceeded(vertex.count, "splat cloud"))
    return vertex


# ---------------------------------------------------------------------------------------------
# Data


def _read_vertex_columns(path: Path, header: _Header, vertex: _Element) -> dict[str, np.ndarray]:
    """The vertex element's values, one array per property name."""
    if header.format == "ascii":
        return _read_ascii_vertices(path, header, vertex)
    return _read_binary_vertices(path, header, vertex)


def _read_binary_vertices(path: Path, header: _Header, vertex: _Element) -> dict[str, np.ndarray]:
    order = _BYTE_ORDER[header.format]
    offset = header.data_offset
    for element in header.elements:
        if element is vertex:
            break
        if any(p.dtype is None for p in element.properties):
            raise AssetLoadError(path, f"element {element.name!r} before 'vertex' has list properties (unsupported)")
        offset += element.count * _record_dtype(element, order).itemsize
    dtype = _record_dtype(vertex, order)
    need = vertex.count * dtype.itemsize
    have = os.path.getsize(path) - offset
    if have < need:
        raise AssetLoadError(
            path,
            f"truncated data: the header promises {vertex.count} vertices x {dtype.itemsize} bytes = {need} bytes, "
            f"the file has {max(have, 0)}",
        )
    table = np.fromfile(path, dtype=dtype, count=vertex.count, offset=offset)
    return {name: table[name] for name in dtype.names}


def _record_dtype(element: _Element, order: str) -> np.dtype:
    """The structured dtype of one record of an element made of scalar properties."""
    return np.dtype([(p.name, order + p.dtype) for p in element.properties])


def _read_ascii_vertices(path: Path, header: _Header, vertex: _Element) -> dict[str, np.ndarray]:
    with open(path, "rb") as f:
        f.seek(header.data_offset)
        lines = [line for line in f.read().splitlines() if line.strip()]
    skip = 0
    for element in header.elements:
        if element is vertex:
            break
        skip += element.count  # one record per line in ascii PLY, lists included
    rows = lines[skip : skip + vertex.count]
    if len(rows) < vertex.count:
        raise AssetLoadError(
            path, f"truncated data: the header promises {vertex.count} vertices, the file has {len(rows)} lines"
        )
    n_props = len(vertex.properties)
    tokens = b" ".join(rows).split()
    if len(tokens) != vertex.count * n_props:
        raise AssetLoadError(
            path, f"malformed ascii data: expected {n_props} values on each of {vertex.count} vertex lines"
        )
    try:
        values = np.array(tokens).astype(np.float64).reshape(vertex.count, n_props)
    except ValueError as exc:
        raise AssetLoadError(path, f"malformed ascii data: {exc}") from None
    return {p.name: values[:, i] for i, p in enumerate(vertex.properties)}


# ---------------------------------------------------------------------------------------------
# Activation


def _splats_from_columns(path: Path, columns: dict[str, np.ndarray]) -> GaussianSplats:
    """Activate the stored (pre-activation) values into GaussianSplats."""
    rest_names = _f_rest_names(path, columns)
    used = list(REQUIRED_PROPERTIES) + rest_names
    col = {name: np.asarray(columns[name], dtype=np.float64) for name in used}
    for name in used:
        bad = ~np.isfinite(col[name])
        if bad.any():
            raise AssetLoadError(path, f"property {name!r} has NaN or infinite values ({int(bad.sum())} vertices)")
    n = len(col["x"])
    rest = np.stack([col[name] for name in rest_names], axis=1) if rest_names else np.zeros((n, 0))
    sh = np.concatenate(
        [
            np.stack([col[f"f_dc_{c}"] for c in range(3)], axis=1)[:, None, :],
            rest.reshape(n, 3, -1).transpose(0, 2, 1),  # channel-major f_rest -> (N, K-1, 3)
        ],
        axis=1,
    )
    quats = np.stack([col[f"rot_{i}"] for i in range(4)], axis=1)
    zero = np.linalg.norm(quats, axis=1) == 0
    if zero.any():
        raise AssetLoadError(path, f"rot_0..3 is the zero quaternion for {int(zero.sum())} vertices")
    with np.errstate(over="ignore", under="ignore"):
        scales = np.exp(np.stack([col[f"scale_{i}"] for i in range(3)], axis=1))
        opacities = _sigmoid(col["opacity"])
    try:
        return GaussianSplats(
            means=np.stack([col["x"], col["y"], col["z"]], axis=1),
            scales=scales,
            quats=quats,
            opacities=opacities,
            sh=sh,
            source=path,
        )
    except ValueError as exc:  # e.g. exp(scale) over/underflowing, an unsupported SH degree
        raise AssetLoadError(path, f"invalid Gaussians after activation: {exc}") from exc


def _f_rest_names(path: Path, columns: dict[str, np.ndarray]) -> list[str]:
    """f_rest_0..M-1 in numeric order, with M = 3 * ((degree + 1)**2 - 1)."""
    indices = sorted(int(m.group(1)) for name in columns if (m := _F_REST.match(name)))
    m = len(indices)
    if indices != list(range(m)):
        raise AssetLoadError(path, f"f_rest_* properties are not numbered 0..{m - 1}")
    k = m // 3 + 1
    if m % 3 or round(np.sqrt(k)) ** 2 != k:
        raise AssetLoadError(path, f"{m} f_rest_* properties: expected 3 * ((degree + 1)**2 - 1) (0, 9, 24 or 45)")
    return [f"f_rest_{i}" for i in range(m)]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """Numerically safe logistic function (3DGS's opacity activation)."""
    from scipy.special import expit

    return expit(x)


def _logit(p: np.ndarray) -> np.ndarray:
    """Inverse sigmoid of an opacity clipped to [OPACITY_CLIP, 1 - OPACITY_CLIP] so it stays finite."""
    q = np.clip(p, OPACITY_CLIP, 1 - OPACITY_CLIP)
    return np.log(q / (1 - q))


def _inria_columns(splats: GaussianSplats) -> tuple[list[str], np.ndarray]:
    """(property names, (N, P) values) of the Inria layout, pre-activation."""
    n, k = splats.n, splats.sh.shape[1]
    rest = splats.sh[:, 1:].transpose(0, 2, 1).reshape(n, 3 * (k - 1))  # channel-major
    names = ["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2"]
    names += [f"f_rest_{i}" for i in range(3 * (k - 1))]
    names += ["opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]
    table = np.concatenate(
        [
            splats.means,
            np.zeros((n, 3)),
            splats.sh[:, 0],
            rest,
            _logit(splats.opacities)[:, None],
            np.log(splats.scales),
            splats.quats,
        ],
        axis=1,
    )
    return names, table
