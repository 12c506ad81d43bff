"""Metrics: image fidelity (image.py, lpips.py) and geometric error (geometry.py, volume.py).

Definitions, units and defaults are written down in docs/metrics.md.
"""
