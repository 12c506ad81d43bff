"""Built-in procedural dataset: textured objects generated with numpy, no downloads.

Objects (see `CATALOGUE`) are built from parametric surfaces (revolved profiles, tori, tubes
along curves, boxes), so UVs come naturally; every piece is closed (once the points that UV
seams repeat are welded) and wound counter-clockwise seen from outside. All
objects are UV-textured except `duck`, which is coloured by vertex colours only. Frame: +Y up,
front (most recognisable side) facing +Z, roughly within [-1, 1]; the dataset layer normalises.

`catalogue` lists the objects, `objects` builds their pieces from `shapes` and `textures`, `generate`
builds one object (`build_object`) and writes the dataset's files (`ensure_generated`), and `variants`
draws random variants of the families for training.
"""

from reconbench.datasets.procedural.catalogue import CATALOGUE, FEATURES, ObjectSpec
from reconbench.datasets.procedural.generate import (
    LARGE_OBJECT,
    PROCEDURAL_VERSION,
    build_object,
    catalogue_ids,
    ensure_generated,
)

__all__ = [
    "CATALOGUE",
    "FEATURES",
    "LARGE_OBJECT",
    "PROCEDURAL_VERSION",
    "ObjectSpec",
    "build_object",
    "catalogue_ids",
    "ensure_generated",
]
