"""Methods: what any method is (base.py: MethodSpec, MethodInput, MethodOutput; recipe.py: the typed upstream
recipe), in-process specs as data (specs/) and built-in in-process methods (reference/, splat_sds/, voxel_cnn/).

Pure data and in-process code: nothing here imports reconbench.upstream (upstream adapters and how they run) or
the registry (reconbench.registry: discovery, validation at registration, availability), which sit above it.
"""

from __future__ import annotations

from reconbench.methods.base import GroundTruthFile, MethodInput, MethodOutput, MethodSpec

__all__ = ["GroundTruthFile", "MethodInput", "MethodOutput", "MethodSpec"]
