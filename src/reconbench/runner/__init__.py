"""The runner: jobs (method x object x protocol x seed), the method worker, the results store, exports.

The driver (`runner.run`) imports the scoring and rendering stack; it is loaded on first use of its
names, so `reconbench.runner.store` (all that reading a run needs) stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["RunConfig", "RunError", "RunSummary", "run_benchmark"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("reconbench.runner.run"), name)
    raise AttributeError(f"module 'reconbench.runner' has no attribute {name!r}")
