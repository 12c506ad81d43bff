"""Errors raised when an asset file cannot be used."""

from __future__ import annotations

from pathlib import Path

from reconbench.errors import ReconbenchError


class AssetLoadError(ReconbenchError):
    """An asset file that cannot be read; the message names the file and the reason."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")
