"""Lighting, part of the protocol: how input images, ground-truth views and predictions are shaded.

Scoring images are always unlit albedo (every representation can be drawn that way: splats carry
no normals to relight, baked-colour predictions cannot be un-lit). Inputs may be shaded so that they
look like the renders the methods were trained on. See docs/protocol.md, "Lighting".
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Shading:
    """`unlit`: the surface colour as stored. `lambert`: colour * (ambient + diffuse * max(0, n.l)),
    with a directional light fixed to the camera (direction in camera coordinates, toward the light)."""

    mode: str = "unlit"
    ambient: float = 1.0
    diffuse: float = 0.0
    light_dir_camera: tuple[float, float, float] = (0.0, 0.0, 1.0)

    def __post_init__(self) -> None:
        if self.mode not in ("unlit", "lambert"):
            raise ValueError(f"shading mode must be 'unlit' or 'lambert', got {self.mode!r}")


@dataclass(frozen=True)
class Lighting:
    name: str
    inputs: Shading  # images given to the methods
    references: Shading  # ground-truth views that predictions are scored against
    predictions: Shading  # predicted assets rendered for scoring


UNLIT = Shading("unlit")

# A soft key light from the upper front of the camera: surfaces facing it keep their albedo,
# grazing ones darken to 60 %, so inputs have shading cues without deep shadows.
HEADLIGHT = Shading("lambert", ambient=0.6, diffuse=0.4, light_dir_camera=(0.0, 0.37139068, 0.92847669))

LIGHTINGS: dict[str, Lighting] = {
    "studio": Lighting("studio", inputs=HEADLIGHT, references=UNLIT, predictions=UNLIT),
    "unlit": Lighting("unlit", inputs=UNLIT, references=UNLIT, predictions=UNLIT),
}
