"""Stage times of an upstream command from the moments its output lines arrived.

A step is one process. It starts when the runner spawns it; the shim's marker line ends the
`environment_start` stage; each line matching one of the spec's stage markers ends that stage; what
is left until the process exits belongs to the step's own stage. A marker that appears several times
(one per input, for a command given several inputs) gives one duration per input: the first is the
cold time (model load included), the others warm.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from reconbench.methods.recipe import StageMarker
from reconbench.upstream.shim import SHIM_READY_LINE

ENVIRONMENT_START = "environment_start"


@dataclass
class StepTiming:
    stage: str
    wall_s: float
    stages: dict[str, list[float]] = field(default_factory=dict)  # stage -> durations, in order
    marks: list[tuple[str, float]] = field(default_factory=list)  # (stage ended, seconds since spawn)

    def totals(self) -> dict[str, float]:
        return {k: float(sum(v)) for k, v in self.stages.items()}


def compile_markers(markers: Iterable[StageMarker]) -> list[tuple[str, re.Pattern]]:
    """(stage, compiled pattern) of a typed recipe's stage markers, in order."""
    return [(m.stage, re.compile(m.pattern)) for m in markers]


def step_timing(
    lines: Sequence[tuple[float, str]], start: float, end: float, stage: str, markers: Sequence[tuple[str, re.Pattern]]
) -> StepTiming:
    """Split [start, end] at the marker lines among `lines` ((arrival time, text), in order)."""
    timing = StepTiming(stage, end - start)
    last = start
    for t, text in lines:
        if text.strip() == SHIM_READY_LINE and ENVIRONMENT_START not in timing.stages:
            label = ENVIRONMENT_START
        else:
            label = next((name for name, pattern in markers if pattern.search(text)), None)
        if label is None:
            continue
        timing.stages.setdefault(label, []).append(t - last)
        timing.marks.append((label, t - start))
        last = t
    timing.stages.setdefault(stage, []).append(end - last)
    return timing


def combine(steps: Sequence[StepTiming]) -> tuple[dict[str, float], dict]:
    """(seconds per stage summed over steps, details: per-step stages and cold/warm for repeated stages)."""
    totals: dict[str, float] = {}
    for step in steps:
        for name, seconds in step.totals().items():
            totals[name] = totals.get(name, 0.0) + seconds
    repeated = {name: {"cold_s": d[0], "warm_s": d[1:]} for s in steps for name, d in s.stages.items() if len(d) > 1}
    details = {
        "steps": [{"stage": s.stage, "wall_s": s.wall_s, "stages": s.stages} for s in steps],
        "repeated": repeated,
    }
    return totals, details
