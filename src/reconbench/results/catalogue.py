"""The metric catalogue: every number a table shows, with its direction, unit, format and the table set
it belongs to. results.csv, report.md, summary.md, report.html, stats and cost read metrics through it,
so a metric is described once (docs/metrics.md has the definitions).

A new column is one more `Metric` in `METRICS` (its `sets` put it in a table); prefixed variants
(`unaligned_`, `aligned_`, `input_`, `surface_`, `extracted_`) and threshold variants (`fscore_05`,
`precision_02`) follow their base entry without being listed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Literal

Direction = Literal["higher", "lower"] | None

# The rule for infinite PSNR (identical images: MSE = 0): every mean, interval, difference, win rate
# and figure counts it as PSNR_CAP_DB; per-job values (results.csv, the store) keep `inf`.
# docs/metrics.md, "Infinite PSNR".
PSNR_CAP_DB = 100.0

# The value evaluation.py writes for a ground-truth metric of an input image without ground truth.
NOT_APPLICABLE = "n/a"

# Table sets. headline: the protocol's headline metrics (plain names). other_alignment: the same under the
# other alignment's prefix. input_view: fidelity on the input view, which every run (also input images
# without ground truth) measures. usability: the asset's downstream usability figures.
HEADLINE, OTHER_ALIGNMENT, INPUT_VIEW, USABILITY = "headline", "other_alignment", "input_view", "usability"

PREFIXES = ("unaligned_", "aligned_", "input_", "surface_", "extracted_")


@dataclass(frozen=True)
class Metric:
    """One reported number. `source` is the record key it is read from when it differs from `name`
    (`lpips` is LPIPS-alex); `cap` bounds +inf for statistics (PSNR only); `on_failure`: whether a failed
    job is scored in the all-objects means (quality metrics yes; time and descriptive counts no)."""

    name: str
    label: str
    direction: Direction
    unit: str = ""
    fmt: str = ".4g"
    sets: frozenset[str] = frozenset()
    source: str | None = None
    cap: float | None = None
    on_failure: bool = True

    @property
    def key(self) -> str:
        return self.source or self.name

    @property
    def higher_is_better(self) -> bool:
        if self.direction is None:
            raise KeyError(f"metric {self.name!r} has no better direction (a descriptive figure)")
        return self.direction == "higher"

    @property
    def arrow(self) -> str:
        return {"higher": " ↑", "lower": " ↓", None: ""}[self.direction]

    @property
    def label_unit(self) -> str:
        """Label and unit, e.g. `PSNR (dB)`: an axis label."""
        return f"{self.label} ({self.unit})" if self.unit else self.label

    @property
    def header(self) -> str:
        """Column header: label, unit, direction arrow."""
        return self.label_unit + self.arrow

    def format(self, value: float | None) -> str:
        """One cell: `–` for no value, `∞` for an infinite one, else the metric's format."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "–"
        if math.isinf(value):
            return "∞" if value > 0 else "-∞"
        text = format(value, self.fmt)
        return text[1:] if text.startswith("-") and not any(c in text for c in "123456789") else text  # no "-0.000"

    def clean(self, value: Any) -> float | None:
        """A value ready for statistics: None when absent or not applicable (NaN, "n/a", empty), +inf capped
        where the metric has a cap; any other infinite value is an error, never silently dropped."""
        if value is None or value == "" or isinstance(value, (bool, list, dict)):
            return None
        try:
            v = float(value)
        except (TypeError, ValueError):
            return None
        if math.isnan(v):
            return None
        if self.cap is not None:
            v = min(v, self.cap)
        if math.isinf(v):
            raise ValueError(
                f"{self.name} = {v}: infinite values are only expected for PSNR (counted as {PSNR_CAP_DB:g} dB)"
            )
        return v


def _m(name: str, label: str, direction: Direction, *sets: str, **kw: Any) -> Metric:
    return Metric(name, label, direction, sets=frozenset(sets), **kw)


_PSNR = {"unit": "dB", "fmt": ".2f", "cap": PSNR_CAP_DB}
_SHARE = {"fmt": ".3f"}  # values in [0, 1]
_LENGTH = {"fmt": ".4f"}  # in units of the object's size (longest side 1)

METRICS: tuple[Metric, ...] = (
    # image fidelity (held-out views; `input_` on the input view)
    _m("psnr", "PSNR", "higher", HEADLINE, OTHER_ALIGNMENT, **_PSNR),
    _m("psnr_masked", "PSNR masked", "higher", **_PSNR),
    _m("ssim", "SSIM", "higher", HEADLINE, OTHER_ALIGNMENT, **_SHARE),
    _m("lpips", "LPIPS", "lower", HEADLINE, OTHER_ALIGNMENT, source="lpips_alex", **_SHARE),
    _m("lpips_alex", "LPIPS-alex", "lower", **_SHARE),
    _m("lpips_vgg", "LPIPS-vgg", "lower", **_SHARE),
    _m("mask_iou", "mask IoU", "higher", **_SHARE),
    # geometry
    _m("chamfer", "Chamfer", "lower", HEADLINE, OTHER_ALIGNMENT, **_LENGTH),
    _m("accuracy", "accuracy", "lower", **_LENGTH),
    _m("completeness", "completeness", "lower", **_LENGTH),
    _m("fscore", "F-score", "higher", HEADLINE, OTHER_ALIGNMENT, **_SHARE),
    _m("precision", "precision", "higher", **_SHARE),
    _m("recall", "recall", "higher", **_SHARE),
    _m("normal_consistency", "NC", "higher", HEADLINE, OTHER_ALIGNMENT, **_SHARE),
    _m("volume_iou", "vol. IoU", "higher", HEADLINE, OTHER_ALIGNMENT, **_SHARE),
    # time
    _m("time_s", "time", "lower", HEADLINE, unit="s", fmt=".2f", on_failure=False),
    # input view (listed in full: they are columns of their own table)
    _m("input_psnr", "PSNR", "higher", INPUT_VIEW, **_PSNR),
    _m("input_psnr_masked", "PSNR masked", "higher", INPUT_VIEW, **_PSNR),
    _m("input_ssim", "SSIM", "higher", INPUT_VIEW, **_SHARE),
    _m("input_lpips", "LPIPS", "lower", INPUT_VIEW, source="input_lpips_alex", **_SHARE),
    _m("input_mask_iou", "mask IoU", "higher", INPUT_VIEW, **_SHARE),
    # usability of the asset as written (docs/metrics.md, "Usability"); shares of assets for yes/no figures
    _m("usable_as_is", "usable as is", "higher", USABILITY, **_SHARE),
    _m("watertight", "watertight", "higher", USABILITY, **_SHARE),
    _m("floater_area_share", "floater area", "lower", USABILITY, **_SHARE),
    _m("nonmanifold_edge_share", "non-manifold edges", "lower", USABILITY, **_SHARE),
    _m("degenerate_face_share", "degenerate faces", "lower", USABILITY, **_SHARE),
    _m("triangles", "triangles", None, USABILITY, fmt=",.0f", on_failure=False),
    _m("has_texture", "textured", None, USABILITY, **_SHARE, on_failure=False),
    _m("file_size_mb", "file", None, USABILITY, unit="MB", fmt=".3g", on_failure=False),
)

_BY_NAME = {m.name: m for m in METRICS}


def metric(name: str) -> Metric:
    """The catalogue entry of `name`, or of its base metric for prefixed and threshold variants (the
    variant keeps its own name and key); KeyError names what is known."""
    if name == "time":
        name = "time_s"
    if name in _BY_NAME:
        return _BY_NAME[name]
    for prefix in PREFIXES:
        if name.startswith(prefix):
            base = metric(name[len(prefix) :])
            return replace(base, name=name, sets=frozenset(), source=prefix + base.source if base.source else None)
    base_name, _, suffix = name.rpartition("_")
    if suffix.isdigit() and base_name in _BY_NAME:
        base = _BY_NAME[base_name]
        label = f"{base.label}@{int(suffix) / 100:g}"
        return replace(base, name=name, label=label, sets=frozenset(), source=None)
    raise KeyError(
        f"no metric {name!r} in the catalogue (reconbench/results/catalogue.py); known: {', '.join(_BY_NAME)}"
    )


def metric_set(name: str, headline: str = "aligned") -> tuple[Metric, ...]:
    """The metrics of one table set, in catalogue order. OTHER_ALIGNMENT carries the prefix of the set that
    is not the headline (`unaligned_` when the headline is `aligned`, else `aligned_`)."""
    members = tuple(m for m in METRICS if name in m.sets)
    if name != OTHER_ALIGNMENT:
        return members
    prefix = "unaligned_" if headline == "aligned" else "aligned_"
    return tuple(metric(prefix + m.name) for m in members)


def higher_is_better(name: str) -> bool:
    """Whether a larger value of `name` is better; KeyError for a metric with no known direction."""
    return metric(name).higher_is_better


def clean_value(name: str, value: Any) -> float | None:
    """`metric(name).clean(value)`, for a name that may not be in the catalogue (plain NaN/inf rules then,
    with the PSNR cap for any name containing `psnr`)."""
    try:
        entry = metric(name)
    except KeyError:
        entry = Metric(name, name, None, cap=PSNR_CAP_DB if "psnr" in name else None)
    return entry.clean(value)
