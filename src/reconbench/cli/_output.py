"""Command output shared by several commands."""

from __future__ import annotations

import json
import math
from typing import Any


def json_safe(value: Any) -> Any:
    """JSON has no NaN or infinity: they become null (not applicable / identical images)."""
    if isinstance(value, float) and not math.isfinite(value):  # numpy's float64 is a float too
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def print_json(value: Any) -> None:
    """One JSON object on stdout, NaN and infinity as null."""
    print(json.dumps(json_safe(value), indent=1))
