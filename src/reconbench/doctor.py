"""`reconbench doctor`: can each method be built, fed its weights and run here, and does its output
hold up? One row per method, so a GPU machine's first hour tells which adapters work.

Each step that fails records why and the method's later steps are skipped; other methods go on.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from reconbench.methods.base import MethodSpec
from reconbench.registry import availability, get_method, method_names

DOCTOR_DATASET = "procedural"


@dataclass
class Diagnosis:
    method: str
    built: str = "-"  # "yes", "not needed", or "no: why"
    weights: str = "-"
    ran: str = "-"
    output_valid: str = "-"
    time_s: float | None = None
    stages: dict | None = None
    gpu: dict | None = None
    metrics: dict | None = None
    cold_s: float | None = None  # several inputs in one process (spec inputs.batch): first input, load included
    warm_s: float | None = None  # ... and the mean of the later ones
    warm: str = "-"

    @property
    def ok(self) -> bool:
        return self.output_valid == "yes"


def _no(exc: BaseException) -> str:
    return f"no: {type(exc).__name__}: {exc}".splitlines()[0][:300]


def diagnose(
    spec: MethodSpec,
    out: Path,
    *,
    protocol: str = "default",
    install: bool = True,
    fetch: bool = True,
    warm_inputs: int = 3,
) -> Diagnosis:
    from reconbench.runner.run import RunConfig, run_benchmark

    d = Diagnosis(spec.name)
    if spec.is_external:
        from reconbench.upstream.envs import get_backend
        from reconbench.upstream.envs.weights import fetch_weights, missing_weights

        backend = get_backend()
        try:
            if install:
                backend.build(spec)
            d.built = "yes" if backend.is_built(spec) else f"no: not built (reconbench install {spec.name})"
        except Exception as exc:
            d.built = _no(exc)
        try:
            if fetch:
                fetch_weights(spec, progress=False)
            missing = missing_weights(spec)
            d.weights = "yes" if not missing else f"no: missing {', '.join(missing)}"
        except Exception as exc:
            d.weights = _no(exc)
    else:
        d.built = d.weights = "not needed"
    ok, why = availability(spec)
    if not ok:
        d.ran = f"no: {why}"
        return d
    records = []
    folder = out.resolve() / spec.name
    shutil.rmtree(folder, ignore_errors=True)  # every diagnosis runs afresh
    try:
        run_benchmark(
            RunConfig(
                dataset=DOCTOR_DATASET, methods=[spec.name], protocol=protocol, out=folder, limit=1, progress=False
            ),
            on_job_done=records.append,
        )
    except Exception as exc:
        d.ran = _no(exc)
        return d
    if not records:
        d.ran = "no: nothing ran"
        return d
    rec = records[0]
    if rec.status != "ok":
        failed_in_method = (rec.error or "").startswith("method failed")
        d.ran = f"no: {rec.error}" if failed_in_method or rec.status == "skipped" else "yes"
        d.output_valid = "-" if failed_in_method or rec.status == "skipped" else f"no: {rec.error}"
        return d
    d.ran = d.output_valid = "yes"
    d.time_s = rec.time_s
    d.stages = dict(rec.timings.method_stages)
    d.gpu = rec.provenance.gpu.to_dict() if rec.provenance.gpu else None
    d.metrics = {k: rec.metrics.get(k) for k in ("psnr", "chamfer", "fscore") if rec.metrics and k in rec.metrics}
    if spec.recipe is not None and spec.recipe.inputs.batch and warm_inputs > 1:
        _time_warm(d, spec, folder / "warm", protocol, warm_inputs)
    return d


def _time_warm(d: Diagnosis, spec: MethodSpec, folder: Path, protocol: str, n: int) -> None:
    """Cold and warm times from one process given the first input view of `n` objects."""
    from reconbench.datasets import open_dataset
    from reconbench.protocol import get_protocol
    from reconbench.runner.inputs import prepare_inputs
    from reconbench.upstream.run import time_batch

    proto = get_protocol(protocol)
    objects = open_dataset(DOCTOR_DATASET).select(None, n).objects
    images = [prepare_inputs(obj.load(), proto, folder / "inputs" / obj.id)[0][0] for obj in objects]
    try:
        result = time_batch(spec, images, folder, proto.input_cameras)  # every object's first input view: one camera
    except Exception as exc:
        d.warm = _no(exc)
        return
    d.cold_s, d.warm_s = result["cold_s"], sum(result["warm_s"]) / len(result["warm_s"])
    d.warm = f"yes ({len(images)} inputs, per-input stage {result['per_input_stage']})"


def _specs(names: list[str] | None) -> list[MethodSpec]:
    """The named methods, else every external one."""
    if names:
        return [get_method(n) for n in names]
    return [spec for spec in map(get_method, method_names()) if spec.is_external]


def run_doctor(
    names: list[str] | None,
    out: Path,
    *,
    protocol: str = "default",
    install: bool = True,
    fetch: bool = True,
    warm_inputs: int = 3,
) -> list[Diagnosis]:
    """Diagnose the named methods (default: every external one) and write out/doctor.json."""
    specs = _specs(names)
    out.mkdir(parents=True, exist_ok=True)
    results = [
        diagnose(spec, out, protocol=protocol, install=install, fetch=fetch, warm_inputs=warm_inputs) for spec in specs
    ]
    (out / "doctor.json").write_text(json.dumps([asdict(r) for r in results], indent=2, default=str))
    return results


def format_table(results: list[Diagnosis]) -> str:
    width = max([len(r.method) for r in results] + [6])
    lines = [f"{'method':{width}s}  built  weights  ran  output  time (s)  cold (s)  warm (s)"]
    for r in results:
        short = lambda s: {"not needed": "n/a"}.get(s, s if s in ("yes", "-") else "no")  # noqa: E731
        fmt = lambda v: f"{v:.1f}" if v is not None else "-"  # noqa: E731
        lines.append(
            f"{r.method:{width}s}  {short(r.built):5s}  {short(r.weights):7s}  {short(r.ran):3s}  "
            f"{short(r.output_valid):6s}  "
            f"{fmt(r.time_s):8s}  {fmt(r.cold_s):8s}  {fmt(r.warm_s)}"
        )
    reasons = [
        f"  {r.method}: {step} {value}"
        for r in results
        for step, value in (
            ("built", r.built),
            ("weights", r.weights),
            ("ran", r.ran),
            ("output", r.output_valid),
            ("warm timing", r.warm),
        )
        if value.startswith("no")
    ]
    return "\n".join(lines + (["", "why not:"] + reasons if reasons else []))


def checkout_of(spec: MethodSpec) -> Path | None:
    """The upstream checkout an installed environment of `spec` holds on this machine (venv backend, or a
    docker build context of a local repository), if any."""
    from reconbench.upstream.envs import get_backend

    for name in dict.fromkeys(["venv", get_backend().name]):
        repo = get_backend(name).env_dir(spec) / "repo"
        if repo.is_dir():
            return repo
    return None


def run_preflight(names: list[str] | None, source: Path | None = None, out: Path | None = None) -> list:
    """Preflight every named external method (default: all) against `source` or its installed checkout;
    writes out/preflight.json when `out` is given (reconbench.upstream.preflight)."""
    from reconbench.upstream.preflight import Preflight, preflight

    specs = _specs(names)
    results = []
    for spec in specs:
        if not spec.is_external:
            continue
        where = Path(source) if source else checkout_of(spec)
        pinned = spec.recipe.upstream.commit if spec.recipe else ""
        if where is None:
            results.append(
                Preflight(
                    spec.name,
                    "",
                    error=f"no checkout of the upstream source: run `reconbench install "
                    f"{spec.name}` or give --source DIR (a checkout at {pinned[:7]})",
                )
            )
            continue
        results.append(preflight(spec, where))
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "preflight.json").write_text(json.dumps([r.to_dict() for r in results], indent=2))
    return results
