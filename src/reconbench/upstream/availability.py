"""Whether an upstream method is ready on this machine: its environment built, its weights in the local cache."""

from __future__ import annotations

from reconbench.methods.base import MethodSpec
from reconbench.upstream.envs import get_backend
from reconbench.upstream.envs.weights import missing_weights


def upstream_reasons(spec: MethodSpec) -> list[str]:
    """Every reason the upstream method `spec` cannot run yet, each with the command that fixes it."""
    reasons = []
    backend = get_backend()
    if not backend.is_built(spec):
        reasons.append(f"{backend.name} environment not built (reconbench install {spec.name})")
    absent = missing_weights(spec)
    if absent:
        more = f" and {len(absent) - 1} more" if len(absent) > 1 else ""
        reasons.append(f"weights not in the local cache: {absent[0]}{more} (reconbench fetch-weights {spec.name})")
    return reasons
