"""Published figures the cost model starts from that are no method's own: the diffusion priors per-scene
methods distil, GPU prices and GPU throughput. A method's own figures (its training compute, its times, its
results) live in its spec's typed `published` field (methods/specs/*.py, literature/types.py), so a
corrected paper is edited in one place.

Every entry is a dict with "value", "low", "high" (the uncertainty range), "unit", "source" and, for
GPU-hours, the "gpu" type the hours were spent on. A figure that was never published is `None` —
never estimated here; the user supplies it on the command line (docs/cost.md).

Range rule for figures stated without one: the true value is taken to lie within half a unit of the
last stated digit ("3 days" → 2.5–3.5 days, "6000 hours" → 5,500–6,500), because that is all the
rounding of the statement guarantees. Stated ranges ("5–6 days") are used as stated.
"""

from __future__ import annotations

from typing import Any

REFERENCE_GPU = "A100-80GB"  # throughput factors below are relative to this type

# Diffusion priors the per-scene methods distil from. Counted only at the user's choice (--prior counted).
# Rule for every method and prior alike: only the compute reported for the named model itself counts, not
# that of the models it was initialised from (Zero123 starts from SD image variations, itself from SD v1).
PRIORS: dict[str, dict[str, Any]] = {
    "zero123": {
        "value": 6000.0,
        "low": 5500.0,
        "high": 6500.0,
        "unit": "GPU-h",
        "gpu": "A100-80GB",
        "derivation": "stated in hours; range half a thousand either side",
        "source": "cvlab-columbia/zero123 README: '300000.ckpt is trained for around 6000 A100 hours' "
        "(training script set for 8 GPUs with 80GB each)",
        "note": "For the 300k-iteration checkpoint; the default 105k checkpoint took proportionally less.",
        "base": "stable-diffusion-v1",
    },
    "zero123-xl": {
        "value": 6000.0,
        "low": 5500.0,
        "high": 6500.0,
        "unit": "GPU-h",
        "gpu": "A100-80GB",
        "derivation": "Zero123's figure used as a stand-in",
        "source": "Zero123's figure (cvlab-columbia/zero123 README, 300k-iteration checkpoint, ~6000 A100 hours); "
        "Zero123-XL's own training compute is not published",
        "note": "unverified: XL was trained on Objaverse-XL, and its compute may differ from Zero123's.",
        "verified": False,
        "base": "stable-diffusion-v1",
    },
    "stable-zero123": {
        "value": None,
        "low": None,
        "high": None,
        "unit": "GPU-h",
        "gpu": None,
        "source": "not published (no training GPU-hours found for Stability AI's Stable Zero123)",
    },
    "stable-diffusion-v1": {
        "value": 150000.0,
        "low": 145000.0,
        "high": 155000.0,
        "unit": "GPU-h",
        "gpu": "A100-40GB",
        "derivation": "stated in hours; range half of ten thousand either side",
        "source": "Stable Diffusion v1 model card (CompVis), Environmental Impact: "
        "'Hardware Type: A100 PCIe 40GB, Hours used: 150000'",
        "note": "The base of the Zero123 family; not counted by --prior counted (see the rule above).",
    },
}

_PRICE_SNAPSHOT = "on-demand, late-2026 snapshot (shared/docs/upstream-methods.md)"

# On-demand prices per GPU-hour, per provider. A type missing here is priced through PRICE_AS.
PRICES: dict[str, dict[str, dict[str, Any]]] = {
    "lambda": {
        "A100-80GB": {"value": 2.79, "unit": "USD/GPU-h", "source": f"Lambda, {_PRICE_SNAPSHOT}"},
        "H100": {"value": 3.99, "unit": "USD/GPU-h", "source": f"Lambda, {_PRICE_SNAPSHOT}"},
    },
    "aws": {
        "A100-80GB": {"value": 3.43, "unit": "USD/GPU-h", "source": f"AWS, {_PRICE_SNAPSHOT}"},
        "H100": {"value": 6.88, "unit": "USD/GPU-h", "source": f"AWS, {_PRICE_SNAPSHOT}"},
    },
}
DEFAULT_PROVIDER = "lambda"

# A type without a price of its own is priced as a type with the same silicon: the A100-40GB and the
# A800 are GA100 chips with the A100-80GB's compute (the A800 differs in NVLink bandwidth only).
# Renting an A100-40GB is usually cheaper, so this errs high for the hours spent on it.
PRICE_AS: dict[str, str] = {"A100-40GB": "A100-80GB", "A800": "A100-80GB"}

_DATASHEET = "NVIDIA datasheet, dense FP16/BF16 Tensor Core peak"

# Relative throughput (how much work per hour, REFERENCE_GPU = 1): used only to move GPU-hours from one
# type to another. The GA100 family is equal by construction; other ratios are peak datasheet ratios,
# an upper bound on real speed-ups (memory-bound and small-batch work gains less) — override them
# with --throughput when a measured ratio is known.
THROUGHPUT: dict[str, dict[str, Any]] = {
    "A100-80GB": {"value": 1.0, "source": "reference type"},
    "A100-40GB": {"value": 1.0, "source": f"same GA100 chip: 312 TFLOPS ({_DATASHEET})"},
    "A800": {"value": 1.0, "source": f"same GA100 chip: 312 TFLOPS ({_DATASHEET}); NVLink reduced only"},
    "H100": {"value": 3.17, "source": f"989 / 312 TFLOPS, H100 SXM vs A100 ({_DATASHEET}); peak ratio, assumed"},
    "H200": {
        "value": 3.17,
        "source": f"same Hopper compute as H100 SXM, 989 TFLOPS ({_DATASHEET}); peak ratio, assumed",
    },
    "V100": {"value": 0.40, "source": f"125 / 312 TFLOPS, V100 SXM2 vs A100 ({_DATASHEET}); peak ratio, assumed"},
}
