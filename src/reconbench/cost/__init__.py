"""The cost model: GPU-hours and money per asset at an asset volume, and break-even volumes (docs/cost.md).

Published figures (training compute, prices, throughput) are data in `published`; the model in
`model`; the `reconbench cost` subcommand in `cli`.
"""

from reconbench.cost.model import (
    COLD_STAGES,
    DEFAULT_BATCH_SIZE,
    DEFAULT_VOLUMES,
    PRIOR_MODES,
    BreakEven,
    CostLine,
    CostReport,
    GPUHours,
    MethodCost,
    PairBreakEven,
    Pricing,
    Timing,
    amortised_cost,
    break_even,
    break_even_lines,
    cost_report,
    cost_to_reach,
    gpu_type,
    measure_timings,
    per_asset_seconds,
    record_seconds,
    training_for,
    user_hours,
)

__all__ = [
    "COLD_STAGES",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_VOLUMES",
    "PRIOR_MODES",
    "BreakEven",
    "CostLine",
    "CostReport",
    "GPUHours",
    "MethodCost",
    "PairBreakEven",
    "Pricing",
    "Timing",
    "amortised_cost",
    "break_even",
    "break_even_lines",
    "cost_report",
    "cost_to_reach",
    "gpu_type",
    "measure_timings",
    "per_asset_seconds",
    "record_seconds",
    "training_for",
    "user_hours",
]
