"""Resource limits on untrusted input (dataset files, method outputs): documented defaults a user can
raise with an environment variable (docs/protocol.md, "Limits"). Read at the moment of use, so a
variable set for one run (or exported to a cluster's workers) takes effect without any flag plumbing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from reconbench.errors import ReconbenchError


class LimitError(ReconbenchError, ValueError):
    """An input over one of the limits; the message names the limit and the variable that raises it."""


@dataclass(frozen=True)
class Limit:
    name: str  # environment variable
    default: int
    unit: str
    what: str

    def get(self) -> int:
        raw = os.environ.get(self.name)
        if raw is None or not raw.strip():
            return self.default
        try:
            value = int(float(raw))
        except ValueError:
            raise LimitError(f"{self.name}={raw!r} is not a number") from None
        if value <= 0:
            raise LimitError(f"{self.name}={raw!r} must be positive")
        return value

    def exceeded(self, value: float, subject: str) -> str:
        """The message for `subject` being `value` over this limit."""
        return (
            f"{subject}: {value:,.0f} {self.unit} is over the limit of {self.get():,} {self.unit} ({self.what}; raise "
            f"it with {self.name})"
        )


# 8192 x 8192: four times the largest Google Scanned Objects texture; decoded RGBA is 256 MiB.
TEXTURE_PIXELS = Limit("RECONBENCH_MAX_TEXTURE_PIXELS", 8192 * 8192, "pixels", "decoded pixels of one texture")
# A file an asset refers to (MTL, texture, glTF buffer) is read whole only below this size.
REFERENCED_FILE_BYTES = Limit(
    "RECONBENCH_MAX_REFERENCED_FILE_BYTES", 1 << 30, "bytes", "size of a file an asset refers to"
)
# Scoring memory grows with the triangle count (5.2M triangles peaked at 6.5 GB on the probe machine).
TRIANGLES = Limit("RECONBENCH_MAX_TRIANGLES", 10_000_000, "triangles", "triangles of one mesh")
# Object-level splat outputs hold 10^4..10^6 Gaussians; a whole 3DGS scene a few million.
SPLATS = Limit("RECONBENCH_MAX_SPLATS", 5_000_000, "Gaussians", "Gaussians of one splat cloud")
# Total size of the files extracted from an upstream method's output archive.
EXTRACTED_BYTES = Limit("RECONBENCH_MAX_EXTRACTED_BYTES", 4 << 30, "bytes", "files extracted from an output archive")

ALL = (TEXTURE_PIXELS, REFERENCED_FILE_BYTES, TRIANGLES, SPLATS, EXTRACTED_BYTES)
