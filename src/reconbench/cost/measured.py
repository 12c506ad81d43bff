"""Training cost measured by `reconbench train`, read from the runs that used the trained weights.

A method trained here (voxel-cnn) records in each result the training record of the weights it
used (provenance method.info.training: device, device_seconds, data_cpu_seconds, checkpoint hash,
date, commit). The cost model takes its training cost from that record instead of a published
figure. Hours keep the device they were spent on: a CPU-trained method's training is CPU-hours,
and CPU and GPU hours are never added or compared without a conversion the user states
(`--cpu-as GPU=FACTOR`, docs/cost.md "Same-device comparison").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

CPU = "cpu"


def recorded_training(records: Sequence[Any], method: str) -> dict[str, Any] | None:
    """The training record a method's completed jobs carry, when they all used the same weights
    (same checkpoint hash); None when none carries one or they differ."""
    found: dict[str, dict[str, Any]] = {}
    for r in records:
        if _get(r, "method") != method or _get(r, "status") != "ok":
            continue
        info = ((_get(r, "provenance") or {}).get("method") or {}).get("info") or {}
        training = info.get("training")
        if not training:
            return None
        found[str(training.get("checkpoint_sha256"))] = training
    return next(iter(found.values())) if len(found) == 1 else None


def recorded_cpu(records: Sequence[Any], method: str) -> str | None:
    """The CPU model a method's jobs say they ran on (provenance method.info.cpu), if they agree."""
    cpus = set()
    for r in records:
        if _get(r, "method") == method and _get(r, "status") == "ok":
            cpus.add((((_get(r, "provenance") or {}).get("method") or {}).get("info") or {}).get("cpu"))
    return cpus.pop() if len(cpus) == 1 and None not in cpus else None


def training_hours(training: Mapping[str, Any]):
    """A measured training record as a GPUHours figure (cost.model), on the device it was spent on.

    CPU training counts the optimisation loop and the building of the training set (both CPU time
    of the same machine); GPU training counts the GPU-seconds of the loop, and the CPU-seconds of
    building its data are stated in the note, not added to GPU hours.
    """
    from reconbench.cost.model import GPUHours, gpu_type

    device = training.get("device") or {}
    seconds = float(training["device_seconds"])
    data = float(training.get("data_cpu_seconds") or 0.0)
    when = f"{training.get('date', '?')}, commit {str(training.get('commit', '?'))[:12]}"
    if device.get("kind") == "gpu":
        gpu = gpu_type(device.get("name", "unknown GPU"))
        hours = seconds / 3600
        note = f"plus {data / 3600:.3g} CPU-hours building the training set, not added to GPU hours"
        source = f"measured by reconbench train on {device.get('count', 1)} x {device.get('name')} ({when})"
        return GPUHours(hours, hours, hours, gpu, source, note)
    hours = (seconds + data) / 3600
    source = (
        f"measured by reconbench train on CPU {device.get('name', '?')}, {device.get('threads', '?')} threads "
        f"({when}): {seconds:.0f} s training + {data:.0f} s building the training set"
    )
    return GPUHours(hours, hours, hours, CPU, source, "CPU-hours")


def _get(record: Any, name: str) -> Any:
    return record.get(name) if isinstance(record, Mapping) else getattr(record, name, None)
