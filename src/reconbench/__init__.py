"""reconbench: feed-forward vs per-scene 3D reconstruction, measured the same way for every method."""

__version__ = "0.1.0"
