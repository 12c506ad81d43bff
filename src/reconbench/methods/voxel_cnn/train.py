"""Training voxel-cnn: the loop, its checkpoints (resume after an interruption) and its training record.

Determinism: weights start from torch.manual_seed(seed); the batch of step k (which samples, which
are mirrored) is drawn from numpy's generator seeded with (seed, k), and the learning rate is a
function of k, so a run resumed from a checkpoint takes exactly the steps an uninterrupted one
takes; the same seed on the same machine and thread count gives the same weights.

The training record (`training.json`) is what the cost model reads: the device and its
device-seconds, steps, samples, the data source and its seed range, final losses, versions.
"""

from __future__ import annotations

import json
import logging
import math
import os
import platform
import subprocess
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

CHECKPOINT = "checkpoint.pt"  # model + optimiser + step, rewritten every `checkpoint_every` steps
MODEL = "model.pt"  # the final weights: a plain state_dict, loadable with torch.load(weights_only=True)
RECORD = "training.json"


@dataclass(frozen=True)
class TrainConfig:
    """What a training run does; the shipped checkpoint uses the defaults."""

    samples: int = 1200  # training variants 0 .. samples - 1
    steps: int = 500
    batch_size: int = 16
    lr: float = 2e-3
    seed: int = 0
    checkpoint_every: int = 100
    colour_weight: float = 1.0
    iou_weight: float = 0.5

    def __post_init__(self) -> None:
        for name in ("samples", "steps", "batch_size", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.batch_size > self.samples:
            raise ValueError(f"batch size {self.batch_size} exceeds the {self.samples} training samples")


def learning_rate(cfg: TrainConfig, step: int) -> float:
    """Cosine decay from cfg.lr to 5 % of it, after 20 warm-up steps."""
    warm = min(1.0, (step + 1) / 20)
    return cfg.lr * warm * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * step / cfg.steps)))


def batch_indices(cfg: TrainConfig, step: int) -> tuple[np.ndarray, np.ndarray]:
    """(sample indices, mirror flags) of one step: a pure function of (seed, step)."""
    rng = np.random.default_rng([cfg.seed, step])
    return rng.choice(cfg.samples, cfg.batch_size, replace=False), rng.random(cfg.batch_size) < 0.5


FULL_AT = 0.25  # a cell a quarter filled or more is a full target


def occupancy_target(fraction_255: np.ndarray) -> np.ndarray:
    """Training target from the stored fraction inside (x 255): min(1, fraction / FULL_AT).

    With the fraction itself as target, the 1/2 iso-surface drops every part thinner than half a
    cell (table legs, frame, spanner: 0.02-0.04 wide against 0.034 cells); counting a quarter-filled
    cell as full keeps them, at the price of surfaces up to about a cell too far out, under the
    F-score threshold of 0.05."""
    return np.minimum(fraction_255.astype(np.float32) / (255.0 * FULL_AT), 1.0)


def make_batch(data, idx: np.ndarray, mirror: np.ndarray, device: str):
    """Tensors of one batch; a mirrored sample flips the image left-right and the grid along x."""
    import torch

    images = data.images[idx].astype(np.float32) / 255.0  # (B, 64, 64, 4)
    occ = occupancy_target(data.occupancy[idx])
    colour = data.colour[idx].astype(np.float32) / 255.0
    band = data.band[idx]
    images[mirror] = images[mirror][:, :, ::-1]
    occ[mirror], colour[mirror], band[mirror] = occ[mirror][:, ::-1], colour[mirror][:, ::-1], band[mirror][:, ::-1]
    to = lambda a: torch.from_numpy(np.ascontiguousarray(a)).to(device)  # noqa: E731
    return to(images.transpose(0, 3, 1, 2)), to(occ), to(colour), to(band)


def losses(out, occ, colour, band, cfg: TrainConfig) -> dict[str, Any]:
    """Binary cross-entropy on the soft occupancy, a soft-IoU term (objects fill ~5 % of the grid, so
    BCE alone favours empty space), and L1 on colour within the band near the surface."""
    import torch
    import torch.nn.functional as F

    logit, rgb = out[:, 0], torch.sigmoid(out[:, 1:]).permute(0, 2, 3, 4, 1)
    bce = F.binary_cross_entropy_with_logits(logit, occ)
    p = torch.sigmoid(logit)
    inter, union = (p * occ).sum((1, 2, 3)), (p + occ - p * occ).sum((1, 2, 3))
    iou = 1 - (inter / union.clamp_min(1e-6)).mean()
    mask = band.unsqueeze(-1).float()
    l1 = ((rgb - colour).abs() * mask).sum() / (3 * mask.sum()).clamp_min(1.0)
    total = bce + cfg.iou_weight * iou + cfg.colour_weight * l1
    return {"total": total, "bce": bce, "iou": iou, "colour_l1": l1}


def device_description(device: str) -> dict[str, Any]:
    """The training device as the record states it: GPU name and count, or the CPU model."""
    if device.startswith("cuda"):
        import torch

        return {"kind": "gpu", "name": torch.cuda.get_device_name(0), "count": 1}
    import torch

    return {
        "kind": "cpu",
        "name": cpu_model(),
        "count": 1,
        "threads": torch.get_num_threads(),
        "logical_cpus": os.cpu_count(),
    }


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (Linux), else platform.processor()."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def git_commit() -> str:
    """The commit of the reconbench checkout this runs from (+ "-dirty" with uncommitted changes), or "unknown"."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return "unknown"
        dirty = subprocess.run(
            ["git", "-C", str(here), "status", "--porcelain", "--", "."], capture_output=True, text=True, timeout=10
        )
        return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def _save_atomic(obj: Any, path: Path) -> None:
    import torch

    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def train(
    cfg: TrainConfig,
    out_dir: str | Path,
    *,
    device: str | None = None,
    resume: bool = True,
    progress: bool = True,
    stop_after: int | None = None,
    threads: int | None = None,
) -> dict[str, Any] | None:
    """Train (or resume) into `out_dir`; returns the training record, or None when stopped early.

    `threads` sets torch's CPU threads (on a shared 2-core machine 1 thread is much faster than 2,
    which wait on each other); the record states it, since results differ in the last bits across
    thread counts.

    `stop_after` ends the session after that many steps with a checkpoint, as an interruption would
    (tests use it to check that resuming gives the weights of an uninterrupted run).
    """
    import torch
    from tqdm import tqdm

    from reconbench.methods.voxel_cnn.data import training_set
    from reconbench.methods.voxel_cnn.network import VoxelCNN

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if threads:
        torch.set_num_threads(threads)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    load_start = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    with tqdm(total=cfg.samples, desc="training set", unit="obj", disable=not progress) as bar:
        data = training_set(cfg.samples, 0, progress=bar.update)
    data_seconds = data.build_seconds  # counted even when an earlier run built (and cached) it

    torch.manual_seed(cfg.seed)
    model = VoxelCNN().to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    state = {"step": 0, "seconds": 0.0, "history": []}
    ckpt = out / CHECKPOINT
    if resume and ckpt.is_file():
        saved = torch.load(ckpt, map_location=device, weights_only=True)
        if saved["config"] != asdict(cfg):
            raise ValueError(
                f"{ckpt} was written with another configuration {saved['config']}; "
                f"use a new folder or the same settings (or delete it to start again)"
            )
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimiser"])
        state = {
            "step": int(saved["step"]),
            "seconds": float(saved["seconds"]),
            "history": [list(h) for h in saved["history"]],
        }

    def checkpoint() -> None:
        _save_atomic(
            {
                "model": model.state_dict(),
                "optimiser": opt.state_dict(),
                "step": state["step"],
                "seconds": state["seconds"],
                "history": state["history"],
                "config": asdict(cfg),
            },
            ckpt,
        )

    model.train()
    end = cfg.steps if stop_after is None else min(cfg.steps, state["step"] + stop_after)
    session_start, session_step0 = time.perf_counter(), state["step"]
    bar = tqdm(total=cfg.steps, initial=state["step"], desc="voxel-cnn", unit="step", disable=not progress)
    try:
        while state["step"] < end:
            step = state["step"]
            tick = time.perf_counter()
            for group in opt.param_groups:
                group["lr"] = learning_rate(cfg, step)
            idx, mirror = batch_indices(cfg, step)
            image, occ, colour, band = make_batch(data, idx, mirror, device)
            terms = losses(model(image), occ, colour, band, cfg)
            opt.zero_grad(set_to_none=True)
            terms["total"].backward()
            opt.step()
            state["seconds"] += time.perf_counter() - tick
            state["history"].append([float(terms[k].detach()) for k in ("total", "bce", "iou", "colour_l1")])
            state["step"] = step + 1
            done = state["step"] - session_step0
            rate = done * cfg.batch_size / max(time.perf_counter() - session_start, 1e-9)
            bar.set_postfix(loss=f"{state['history'][-1][0]:.4f}", samples_s=f"{rate:.1f}")
            bar.update(1)
            if state["step"] % cfg.checkpoint_every == 0:
                checkpoint()
    except KeyboardInterrupt:
        checkpoint()
        bar.close()
        logger.warning(f"interrupted at step {state['step']}; run the same command again to resume from {ckpt}")
        raise
    bar.close()
    checkpoint()
    if state["step"] < cfg.steps:
        return None
    model_path = out / MODEL
    _save_atomic({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, model_path)
    record = training_record(cfg, state, data, data_seconds, device, model_path, load_start)
    (out / RECORD).write_text(json.dumps(record, indent=1) + "\n")
    return record


def training_record(
    cfg: TrainConfig, state: dict, data, data_seconds: float, device: str, model_path: Path, load_start: float | None
) -> dict[str, Any]:
    """The record the cost model reads (docs/cost.md, "Measured training")."""
    import torch

    from reconbench import __version__
    from reconbench.datasets.procedural.variants import VARIANTS_VERSION, variant_seed
    from reconbench.methods.voxel_cnn.data import DATA_VERSION, PROTOCOL
    from reconbench.provenance import sha256_file

    tail = np.asarray(state["history"][-50:])
    final = dict(zip(("total", "bce", "iou", "colour_l1"), (float(x) for x in tail.mean(0))))
    info = device_description(device)
    load_end = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {
        "method": "voxel-cnn",
        "device": info,
        # Optimisation loop on the training device (summed over resumed sessions), times the devices used.
        "device_seconds": state["seconds"] * info["count"],
        # Building the training set (render + targets, one CPU thread), as timed when it was built.
        "data_cpu_seconds": data_seconds,
        "steps": state["step"],
        "samples": state["step"] * cfg.batch_size,
        "config": asdict(cfg),
        "data": {
            "source": f"procedural variants v{VARIANTS_VERSION} (reconbench.datasets.procedural.variants), "
            f"rendered at the `{PROTOCOL}` protocol's input camera; targets v{DATA_VERSION}",
            "variants": [0, cfg.samples - 1],
            "seeds": [variant_seed(0), variant_seed(cfg.samples - 1)],
            "families": sorted(set(str(f) for f in data.families)),
        },
        "final_losses": final,
        "loss_curve_every_50": [round(float(h[0]), 5) for h in state["history"][::50]],
        "checkpoint_sha256": sha256_file(model_path),
        "reconbench": __version__,
        "commit": git_commit(),
        "torch": torch.__version__,
        "machine_load": {
            "loadavg_1min_start": load_start,
            "loadavg_1min_end": load_end,
            "logical_cpus": os.cpu_count(),
        },
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def quick_config(**overrides: Any) -> TrainConfig:
    """The defaults with some fields replaced (command line, tests)."""
    return replace(TrainConfig(), **overrides)


def train_entry(
    out_dir: str | Path, *, options: dict[str, Any], device: str | None, resume: bool, threads: int | None = None
) -> dict[str, Any]:
    """`reconbench train voxel-cnn`: the defaults with the command line's options."""
    record = train(quick_config(**options), out_dir, device=device, resume=resume, threads=threads)
    assert record is not None  # only `stop_after` ends early
    return record
