"""The evaluation protocol: canonical frame, camera rigs, lighting and presets. Pure, no I/O but reading a
protocol file.

`protocol` holds the `Protocol` type and builds one (`get_protocol`: a preset by name or a JSON file);
`scoring` its scoring settings (`Evaluation`); `cameras`, `lighting`, `frames` and `presets` the data and
maths they are made of.
"""

from reconbench.protocol.cameras import Camera, look_at, orbit_camera, orbit_position
from reconbench.protocol.lighting import LIGHTINGS, UNLIT, Lighting, Shading
from reconbench.protocol.protocol import Protocol, build_protocol, get_protocol, load_protocol_file, protocol_names
from reconbench.protocol.scoring import OTHER_SETS, Evaluation, fibonacci_directions

__all__ = [
    "Camera",
    "Evaluation",
    "LIGHTINGS",
    "Lighting",
    "OTHER_SETS",
    "Protocol",
    "Shading",
    "UNLIT",
    "build_protocol",
    "fibonacci_directions",
    "get_protocol",
    "load_protocol_file",
    "look_at",
    "orbit_camera",
    "orbit_position",
    "protocol_names",
]
