"""The procedural objects as data: id, category, a one-line description, builder name, feature tags.

Feature tags are claims the tests check on the built mesh:
  concave           a part (connected piece) fills well under half of its convex hull
  genus             a closed piece has genus > 0 (Euler characteristic < 2)
  thin              a part's bounding box has a side under 3% of the object's longest side
  multi_material    several parts with different materials
  high_freq_texture a texture with sharp colour changes every few pixels (checker, stripes)
  vertex_colours    coloured by vertex colours only, no texture
"""

from __future__ import annotations

from dataclasses import dataclass

FEATURES = ("concave", "genus", "thin", "multi_material", "high_freq_texture", "vertex_colours")


@dataclass(frozen=True)
class ObjectSpec:
    """One catalogue entry; `builder` names a function in procedural.objects."""

    id: str
    category: str
    builder: str
    features: tuple[str, ...]
    description: str


CATALOGUE: list[ObjectSpec] = [
    ObjectSpec(
        "mug",
        "container",
        "mug",
        ("concave", "multi_material"),
        "concave thick-walled cup; tube handle leaves a through-hole; 2 materials",
    ),
    ObjectSpec(
        "bowl",
        "container",
        "bowl",
        ("concave",),
        "shallow footed bowl: one strongly concave part, checker band below the rim",
    ),
    ObjectSpec(
        "bottle",
        "container",
        "bottle",
        ("multi_material", "high_freq_texture"),
        "narrow-necked bottle, striped label, knurled cap; 2 materials",
    ),
    ObjectSpec(
        "table",
        "furniture",
        "table",
        ("thin", "multi_material"),
        "wooden top on four thin cylindrical legs; 2 materials",
    ),
    ObjectSpec(
        "chair",
        "furniture",
        "chair",
        ("thin", "multi_material", "high_freq_texture"),
        "fine-checker cushion, square legs, thin back slats with gaps",
    ),
    ObjectSpec(
        "frame",
        "furniture",
        "frame",
        ("genus", "thin", "multi_material"),
        "square picture frame (genus 1, through-hole) on a thin strut",
    ),
    ObjectSpec(
        "lamp",
        "furniture",
        "lamp",
        ("genus", "thin", "multi_material", "high_freq_texture"),
        "disc base, thin curved stem, bulb, open shade (genus-1 shell)",
    ),
    ObjectSpec(
        "ring", "toy", "ring", ("genus", "high_freq_texture"), "upright torus (genus 1) with fine rainbow stripes"
    ),
    ObjectSpec(
        "blocks",
        "toy",
        "blocks",
        ("multi_material", "high_freq_texture"),
        "three stacked twisted cubes, fine checkerboards, one material each",
    ),
    ObjectSpec(
        "duck",
        "toy",
        "duck",
        ("vertex_colours", "multi_material"),
        "bumpy rubber-duck blob with beak and eyes; vertex colours only",
    ),
    ObjectSpec(
        "car",
        "toy",
        "car",
        ("multi_material", "high_freq_texture"),
        "toy car side-on: rounded body, window band, four treaded wheels",
    ),
    ObjectSpec(
        "hammer", "tool", "hammer", ("multi_material",), "upright hammer: wooden handle, steel head with a curved claw"
    ),
    ObjectSpec(
        "screwdriver",
        "tool",
        "screwdriver",
        ("thin", "multi_material", "high_freq_texture"),
        "striped grip, thin steel shaft, flattened tip",
    ),
    ObjectSpec(
        "spanner",
        "tool",
        "spanner",
        ("genus", "thin"),
        "flat spanner: ring end (genus 1), thin bar handle, open C-shaped jaw",
    ),
]
