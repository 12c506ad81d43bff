"""glTF colour = base colour factor x base colour texture x COLOR_0 (glTF 2.0 spec, "Metallic-roughness
material" and "Meshes": COLOR_0 multiplies the base colour), on GLB files written here byte by byte,
independently of trimesh's exporter."""

import io
import itertools
import json
import struct

import numpy as np
import pytest
from PIL import Image

from reconbench.assets import load_mesh
from reconbench.protocol import UNLIT, orbit_camera
from reconbench.render import render_views

BASE = (1.0, 0.5, 0.5, 1.0)
TEXEL = (128, 255, 255)  # a uniform texture
VERTEX = (1.0, 1.0, 0.5, 1.0)


def _glb(base=None, texture=False, vertex=None, vertex_format="float"):
    """A unit quad at z = 0 facing +Z. `base`: a material with this baseColorFactor; `texture`: a uniform 4x4
    PNG as baseColorTexture; `vertex`: COLOR_0 on the four vertices (float VEC4, or normalised ubyte VEC3)."""
    positions = np.array([[-0.5, -0.5, 0], [0.5, -0.5, 0], [0.5, 0.5, 0], [-0.5, 0.5, 0]], np.float32)
    indices = np.array([0, 1, 2, 0, 2, 3], np.uint16)
    chunks, views, accessors, attributes = [], [], [], {}

    def add(data: bytes, **accessor):
        offset = sum(len(c) for c in chunks)
        chunks.append(data + b"\0" * (-len(data) % 4))
        views.append({"buffer": 0, "byteOffset": offset, "byteLength": len(data)})
        if accessor:
            accessors.append({"bufferView": len(views) - 1, **accessor})
            return len(accessors) - 1
        return len(views) - 1

    attributes["POSITION"] = add(
        positions.tobytes(), componentType=5126, count=4, type="VEC3", min=[-0.5, -0.5, 0], max=[0.5, 0.5, 0]
    )
    index = add(indices.tobytes(), componentType=5123, count=6, type="SCALAR")
    tree = {"asset": {"version": "2.0"}, "scenes": [{"nodes": [0]}], "scene": 0, "nodes": [{"mesh": 0}]}
    primitive = {"attributes": attributes, "indices": index, "mode": 4}
    if texture:
        attributes["TEXCOORD_0"] = add(
            np.array([[0, 1], [1, 1], [1, 0], [0, 0]], np.float32).tobytes(), componentType=5126, count=4, type="VEC2"
        )
    if vertex is not None:
        if vertex_format == "float":
            attributes["COLOR_0"] = add(
                np.tile(np.float32(vertex), (4, 1)).tobytes(), componentType=5126, count=4, type="VEC4"
            )
        else:
            rgb = np.tile(np.round(np.array(vertex[:3]) * 255).astype(np.uint8), (4, 1))
            padded = np.hstack([rgb, np.zeros((4, 1), np.uint8)])  # each element aligned to 4 bytes
            attributes["COLOR_0"] = add(padded.tobytes(), componentType=5121, normalized=True, count=4, type="VEC3")
            views[-1]["byteStride"] = 4
    if base is not None or texture:
        pbr = {"metallicFactor": 0.0, "roughnessFactor": 1.0}
        if base is not None:
            pbr["baseColorFactor"] = list(base)
        if texture:
            png = io.BytesIO()
            Image.new("RGB", (4, 4), TEXEL).save(png, format="PNG")
            tree["images"] = [{"bufferView": add(png.getvalue()), "mimeType": "image/png"}]
            tree["samplers"] = [{}]
            tree["textures"] = [{"source": 0, "sampler": 0}]
            pbr["baseColorTexture"] = {"index": 0}
        tree["materials"] = [{"pbrMetallicRoughness": pbr}]
        primitive["material"] = 0
    tree["meshes"] = [{"primitives": [primitive]}]
    binary = b"".join(chunks)
    tree.update(buffers=[{"byteLength": len(binary)}], bufferViews=views, accessors=accessors)
    text = json.dumps(tree).encode()
    text += b" " * (-len(text) % 4)
    body = struct.pack("<II", len(text), 0x4E4F534A) + text + struct.pack("<II", len(binary), 0x004E4942) + binary
    return struct.pack("<III", 0x46546C67, 2, 12 + len(body)) + body


def _expected(base, texture, vertex):
    colour = np.ones(3)
    if base is not None:
        colour *= base[:3]
    if texture:
        colour *= np.array(TEXEL) / 255
    if vertex is not None:
        colour *= np.round(np.array(vertex[:3]) * 255) / 255  # exact for the ubyte case, within 1/255 for floats
    return colour


COMBINATIONS = [
    (base, texture, vertex)
    for base, texture, vertex in itertools.product([None, BASE], [False, True], [None, VERTEX])
    if base is not None or texture or vertex is not None
]


CASES = [(*c, fmt) for c in COMBINATIONS for fmt in (["float", "ubyte"] if c[2] is not None else ["none"])]


@pytest.mark.parametrize("base,texture,vertex,vertex_format", CASES)
def test_gltf_colour_is_base_times_texture_times_vertex_colour(tmp_path, base, texture, vertex, vertex_format):
    path = tmp_path / "quad.glb"
    path.write_bytes(_glb(base, texture, vertex, vertex_format))
    mesh = load_mesh(path)
    cam = orbit_camera("front", "heldout", 0.0, 0.0, 2.0, 30.0, 32, 32)
    views = render_views(mesh, [cam], UNLIT)
    assert views.mask[0, 16, 16]
    pixel = views.color[0, 16, 16].astype(float) / 255
    assert np.abs(pixel - _expected(base, texture, vertex)).max() <= 1.5 / 255, (
        pixel * 255,
        _expected(base, texture, vertex) * 255,
    )


def test_red_base_colour_with_green_vertex_colours_is_black_not_red(tmp_path):
    # The case from issue #21: a red material and green vertex colours multiply to black.
    path = tmp_path / "quad.glb"
    path.write_bytes(_glb((1.0, 0.0, 0.0, 1.0), False, (0.0, 1.0, 0.0, 1.0)))
    views = render_views(load_mesh(path), [orbit_camera("front", "heldout", 0.0, 0.0, 2.0, 30.0, 32, 32)], UNLIT)
    assert views.color[0, 16, 16].tolist() == [0, 0, 0]
