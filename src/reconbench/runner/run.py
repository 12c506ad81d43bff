"""The benchmark run: every (method, object, seed) of a dataset under one protocol, evaluated the
same way, each result committed to the store as soon as it is known.

The driver (this module) plans the jobs, hands the pending ones to an executor (runner/executors:
in the driver itself, in local worker processes, or on a Ray cluster), and alone writes the store as
records come back, in whatever order they finish. An interrupt (Ctrl-C) stops the executor, keeps
every record already committed, writes the exports, and re-raises KeyboardInterrupt; `--resume`
then runs only the jobs missing from the store.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from reconbench import __version__
from reconbench.datasets import open_dataset, parse_spec
from reconbench.evaluation import DEFAULT_LPIPS, check_lpips
from reconbench.methods import MethodSpec, get_method
from reconbench.protocol import Protocol, get_protocol
from reconbench.runner.execute import JobTask, RunSettings, record_for
from reconbench.runner.executors import DEFAULT_MAX_ATTEMPTS, EXECUTORS, Executor, make_executor
from reconbench.runner.export import write_anytime_csv, write_csv, write_report
from reconbench.runner.jobs import plan_jobs
from reconbench.runner.store import JobRecord, ResultsStore


class RunError(Exception):
    """The run cannot start (an existing run folder without --resume, a changed configuration...)."""


@dataclass
class RunConfig:
    dataset: str
    methods: list[str]
    protocol: str
    out: Path
    objects: list[str] | None = None
    limit: int | None = None
    object_list: str | None = None
    seeds: list[int] = field(default_factory=lambda: [0])
    align: str = "icp"
    lpips: tuple[str, ...] = DEFAULT_LPIPS
    timeout_s: float | None = None  # overrides each method's own limit
    resume: bool = False
    retry_failed: bool = False
    progress: bool = True
    # Where the jobs execute (runner/executors, docs/cluster.md); not part of the run's identity, so a
    # run started on one executor can be resumed on another.
    executor: str = "local"  # local | ray
    workers: int = 1  # local: jobs at once (1: in the driver process)
    ray_address: str | None = None  # ray: the cluster to join (None: start a local one)
    max_attempts: int = DEFAULT_MAX_ATTEMPTS  # runs of a job whose executing process died

    def identity(self) -> dict:
        """What must not change between a run and its resumption."""
        return {"dataset": self.dataset, "protocol": self.protocol, "align": self.align, "lpips": list(self.lpips)}


@dataclass
class RunSummary:
    out: Path
    total: int
    ran: int
    ok: int
    failed: int
    skipped: int


def run_benchmark(cfg: RunConfig, on_job_done: Callable[[JobRecord], None] | None = None,
                  executor: Executor | None = None) -> RunSummary:
    """Run every pending job of the configuration; `executor` overrides cfg.executor (and is then the
    caller's to keep: it is shut down only when this function made it)."""
    protocol = get_protocol(cfg.protocol)
    object_list = cfg.object_list or protocol.default_object_list(parse_spec(cfg.dataset)[0])
    dataset = open_dataset(cfg.dataset, object_list).select(cfg.objects, cfg.limit)
    specs = {name: get_method(name) for name in cfg.methods}
    if executor is None and cfg.executor not in EXECUTORS:
        raise RunError(f"unknown executor {cfg.executor!r}; choose one of {', '.join(EXECUTORS)}")
    if executor is None and cfg.executor == "ray" and cfg.ray_address and not Path(cfg.out).is_absolute():
        raise RunError(f"--out {cfg.out}: with --ray-address, give an absolute path to a folder every node mounts at that path (docs/cluster.md)")
    try:
        check_lpips(cfg.lpips)
    except Exception as exc:
        raise RunError(f"{exc} (or run with --lpips none)") from exc
    out = Path(cfg.out)
    with ResultsStore(out / "results.sqlite") as store:
        _check_meta(store, cfg)
        jobs = plan_jobs(dataset.objects, cfg.methods, protocol.name, cfg.seeds)
        done = store.done_keys(include_failed=not cfg.retry_failed)
        pending = [j for j in jobs if j.key not in done]
        counts = {"ok": 0, "failed": 0, "skipped": 0}
        owned = executor is None
        if owned and pending:
            try:
                executor = make_executor(cfg.executor, cfg.workers, cfg.ray_address, cfg.max_attempts)
            except Exception as exc:  # no Ray, an unreachable cluster...: nothing written yet, the same command works once fixed
                raise RunError(f"cannot start the {cfg.executor} executor: {type(exc).__name__}: {exc}") from exc
        _write_meta(store, cfg, protocol, specs)
        bar = _progress(len(jobs), len(jobs) - len(pending), cfg.progress)

        def commit(record: JobRecord) -> None:
            store.put(record)
            counts[record.status] += 1
            if on_job_done:
                on_job_done(record)
            bar.update(1)
            bar.set_postfix(failed=counts["failed"], skipped=counts["skipped"], refresh=False)

        try:
            if not pending:
                return _finish(store, out, jobs, pending, counts, bar)
            unavailable = {n: why for n, s in specs.items() for why in [executor.unavailable(s)] if why}
            for name, why in unavailable.items():
                print(f"reconbench: method {name} cannot run {'on this machine' if executor.name == 'local' else 'on the Ray cluster'}: {why}; "
                      "its jobs are recorded as skipped", file=sys.stderr)
            settings = RunSettings(protocol, out, cfg.align, tuple(cfg.lpips), cfg.timeout_s)
            objects = {o.id: o for o in dataset.objects}
            tasks = []
            for job in pending:  # planned grouped by object, so an executing process prepares each object once
                if job.method in unavailable:
                    commit(record_for(job, "skipped", f"cannot run on this machine: {unavailable[job.method]}"))
                else:
                    tasks.append((job, JobTask(objects[job.object_id], specs[job.method], settings)))
            for record in executor.run(tasks):
                commit(record)
        except KeyboardInterrupt:
            if owned and executor is not None:
                executor.shutdown()
            bar.close()
            export(store, out)
            finished = len(store.done_keys())
            print(f"\nreconbench: interrupted; {finished} of {len(jobs)} jobs are finished and kept in {out / 'results.sqlite'} "
                  f"(exports written). Finish the run with the same command plus --resume.", file=sys.stderr)
            raise
        finally:
            if owned and executor is not None:
                executor.shutdown()
            bar.close()
        return _finish(store, out, jobs, pending, counts, bar)


def _finish(store: ResultsStore, out: Path, jobs: list, pending: list, counts: dict, bar) -> RunSummary:
    bar.close()
    export(store, out)
    return RunSummary(out, len(jobs), len(pending), counts["ok"], counts["failed"], counts["skipped"])


def export(store: ResultsStore, out: Path) -> None:
    records = list(store.records())
    write_csv(records, out / "results.csv")
    write_anytime_csv(records, out / "anytime.csv")
    write_report(records, store.get_meta(), out / "report.md")


def _check_meta(store: ResultsStore, cfg: RunConfig) -> None:
    """Refuse to overwrite a run without --resume, or to resume it with a different configuration."""
    existing = store.get_meta()
    if existing and not cfg.resume:
        raise RunError(f"{cfg.out} already holds a run: pass --resume to finish it, or choose another --out")
    changed = {k: (existing[k], v) for k, v in cfg.identity().items() if k in existing and existing[k] != v}
    if changed:
        raise RunError(f"{cfg.out}: cannot resume with a different configuration: " + ", ".join(f"{k} was {a!r}, now {b!r}" for k, (a, b) in changed.items()))


def _write_meta(store: ResultsStore, cfg: RunConfig, protocol: Protocol, specs: dict[str, MethodSpec]) -> None:
    existing = store.get_meta()
    paradigms = {**existing.get("paradigms", {}), **{n: s.paradigm for n, s in specs.items()}}
    store.set_meta({**cfg.identity(), "headline": protocol.evaluation.headline, "evaluation": protocol.evaluation.to_dict(),
                    "evaluation_label": protocol.evaluation.label(), "paradigms": paradigms, "reconbench": __version__})


def _progress(total: int, initial: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="job", desc="run", disable=not enabled, dynamic_ncols=True)
