"""The benchmark run: every (method, object, seed) of a dataset under one protocol, evaluated the
same way, each result committed to the store as soon as it is known.

The driver (this module) plans the jobs, hands the pending ones to an executor (runner/executors:
in the driver itself, in local worker processes, or on a Ray cluster), and alone writes the store as
records come back, in whatever order they finish. An interrupt (Ctrl-C) stops the executor, keeps
every record already committed, writes the exports, and re-raises KeyboardInterrupt; `--resume`
then runs only the jobs missing from the store.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from reconbench import __version__
from reconbench.datasets import Dataset, open_dataset, parse_spec, read_object_list
from reconbench.errors import ReconbenchError
from reconbench.evaluation import DEFAULT_LPIPS, check_lpips
from reconbench.methods import MethodSpec
from reconbench.protocol import Protocol, get_protocol
from reconbench.provenance import sha256_file
from reconbench.registry import get_method
from reconbench.runner.execute import JobTask, RunSettings, record_for
from reconbench.runner.executors import DEFAULT_MAX_ATTEMPTS, EXECUTORS, Executor, make_executor
from reconbench.runner.export import write_anytime_csv, write_csv, write_report
from reconbench.runner.jobs import plan_jobs
from reconbench.runner.legacy import legacy_harness
from reconbench.runner.pipeline import check_overlap_option
from reconbench.runner.renders import DEFAULT_RENDERS, check_renders_option
from reconbench.runner.store import JobRecord, ResultsStore

logger = logging.getLogger(__name__)


class RunError(ReconbenchError):
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
    other_set: str | None = None  # overrides the protocol's evaluation "other_set" (recorded with its settings)
    resume: bool = False
    retry_failed: bool = False
    progress: bool = True
    renders: str = DEFAULT_RENDERS  # small | full | none: the PNGs of each prediction (runner/renders.py)
    # Where the jobs execute (runner/executors, docs/cluster.md); not part of the run's identity, so a
    # run started on one executor can be resumed on another.
    executor: str = "local"  # local | ray
    workers: int = 1  # local: jobs at once (1: in the driver process)
    ray_address: str | None = None  # ray: the cluster to join (None: start a local one)
    max_attempts: int = DEFAULT_MAX_ATTEMPTS  # runs of a job whose executing process died
    overlap: str = "auto"  # local: score a job while the next job's method runs (runner/pipeline.py)

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


def run_benchmark(
    cfg: RunConfig, on_job_done: Callable[[JobRecord], None] | None = None, executor: Executor | None = None
) -> RunSummary:
    """Run every pending job of the configuration; `executor` overrides cfg.executor (and is then the
    caller's to keep: it is shut down only when this function made it)."""
    protocol = get_protocol(cfg.protocol)
    if cfg.other_set is not None:
        protocol = replace(protocol, evaluation=protocol.evaluation.with_other_set(cfg.other_set))
    object_list = cfg.object_list or protocol.default_object_list(parse_spec(cfg.dataset)[0])
    dataset = open_dataset(cfg.dataset, object_list).select(cfg.objects, cfg.limit)
    specs = {name: get_method(name) for name in cfg.methods}
    if executor is None and cfg.executor not in EXECUTORS:
        raise RunError(f"unknown executor {cfg.executor!r}; choose one of {', '.join(EXECUTORS)}")
    if executor is None and cfg.executor == "ray" and cfg.ray_address and not Path(cfg.out).is_absolute():
        raise RunError(
            f"--out {cfg.out}: with --ray-address, give an absolute path to a folder every node mounts at that path "
            f"(docs/cluster.md)"
        )
    try:
        check_renders_option(cfg.renders)
        check_overlap_option(cfg.overlap)
    except ValueError as exc:
        raise RunError(str(exc)) from None
    try:
        check_lpips(cfg.lpips)
    except Exception as exc:
        raise RunError(f"{exc} (or run with --lpips none)") from exc
    out = Path(cfg.out)
    store = ResultsStore(out / "results.sqlite", wal=not legacy_harness())  # one fast commit per job (store.py)
    with store, _run_lock(out), _sigterm_as_interrupt():
        _check_meta(store, cfg)
        _check_object_list(store, cfg, object_list)
        fingerprints = _fingerprints(dataset, protocol)
        _check_fingerprints(store, cfg, dataset, fingerprints)
        jobs = plan_jobs(dataset.objects, cfg.methods, protocol.name, cfg.seeds)
        done = store.done_keys(include_failed=not cfg.retry_failed)
        pending = [j for j in jobs if j.key not in done]
        logger.debug(
            f"{len(jobs)} job(s) planned in {out}, {len(jobs) - len(pending)} finished before, {len(pending)} to run"
        )
        counts = {"ok": 0, "failed": 0, "skipped": 0}
        owned = executor is None
        if owned and pending:
            try:
                executor = make_executor(cfg.executor, cfg.workers, cfg.ray_address, cfg.max_attempts)
            except (
                Exception
            ) as exc:  # no Ray, an unreachable cluster...: nothing written yet, the same command works once fixed
                raise RunError(f"cannot start the {cfg.executor} executor: {type(exc).__name__}: {exc}") from exc
        _write_meta(store, cfg, protocol, specs, dataset, object_list, fingerprints)
        bar = _progress(len(jobs), len(jobs) - len(pending), cfg.progress)

        def commit(record: JobRecord) -> None:
            store.put(record)
            logger.debug(f"job {record.job}: {record.status}" + (f" ({record.error})" if record.error else ""))
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
                logger.warning(
                    f"method {name} cannot run "
                    f"{'on this machine' if executor.name == 'local' else 'on the Ray cluster'}: {why}; "
                    "its jobs are recorded as skipped"
                )
            settings = RunSettings(
                protocol, out, cfg.align, tuple(cfg.lpips), cfg.timeout_s, renders=cfg.renders, overlap=cfg.overlap
            )
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
            logger.warning(
                f"{'terminated (SIGTERM)' if isinstance(sys.exc_info()[1], Terminated) else 'interrupted'}; {finished} "
                f"of {len(jobs)} jobs are finished and kept in {out / 'results.sqlite'} "
                f"(exports written). Finish the run with the same command plus --resume."
            )
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
        raise RunError(
            f"{cfg.out}: cannot resume with a different configuration: "
            + ", ".join(f"{k} was {a!r}, now {b!r}" for k, (a, b) in changed.items())
        )


def _check_object_list(store: ResultsStore, cfg: RunConfig, object_list: str | None) -> None:
    """A resume must use the object list the run started with (ids under another list name other objects)."""
    existing = store.get_meta()
    if "object_list" in existing and existing["object_list"] != (str(object_list) if object_list else None):
        raise RunError(
            f"{cfg.out}: cannot resume with a different object list: was {existing['object_list']!r}, now "
            f"{object_list!r}"
        )


def _write_meta(
    store: ResultsStore,
    cfg: RunConfig,
    protocol: Protocol,
    specs: dict[str, MethodSpec],
    dataset: Dataset,
    object_list: str | None,
    fingerprints: dict,
) -> None:
    """The run's identity, what it selected (objects under their evaluation ids with their dataset ids, methods,
    seeds; a resume adds to them, so readers never reopen the dataset another way) and the fingerprints a resume
    is checked against. Unchanged: nothing written (a finished run on a read-only mount resumes)."""
    existing = store.get_meta()
    paradigms = {**existing.get("paradigms", {}), **{n: s.paradigm for n, s in specs.items()}}
    names = {e.id: e.dataset_id for e in read_object_list(object_list)} if object_list else {}
    objects = {e[0]: list(e) for e in existing.get("objects") or []}
    objects.update({o.id: [o.id, names.get(o.id, o.id), o.yaw_deg] for o in dataset.objects})
    stamps = {**existing.get("ground_truth_stamp", {}), **fingerprints["ground_truth_stamp"]}
    meta = {
        **cfg.identity(),
        "headline": protocol.evaluation.headline,
        "evaluation": protocol.evaluation.to_dict(),
        "evaluation_label": protocol.evaluation.label(),
        "paradigms": paradigms,
        "reconbench": __version__,
        "object_list": str(object_list) if object_list else None,
        "objects": list(objects.values()),
        "methods": sorted({*existing.get("methods", []), *cfg.methods}),
        "seeds": sorted({*existing.get("seeds", []), *cfg.seeds}),
        "protocol_fingerprint": fingerprints["protocol_fingerprint"],
        "ground_truth_stamp": stamps,
    }
    if any(existing.get(k) != v for k, v in meta.items()):
        store.set_meta(meta)


class Terminated(KeyboardInterrupt):
    """SIGTERM (`timeout`, Slurm, Kubernetes), handled like Ctrl-C: finished jobs kept, exports written."""


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """While the run goes, SIGTERM raises Terminated in the driver (the CLI exits 143; Ctrl-C exits 130)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum, frame):
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _run_lock(out: Path):
    """One driver per run folder: a second `run` (with or without --resume) on a folder in use stops at once
    instead of doing every job again and rewriting the work folders under the first one."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(out / ".run.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise RunError(
            f"{out} is in use by another reconbench run (it holds {out / '.run.lock'}); wait for it to finish, "
            "or choose another --out"
        ) from None
    try:
        yield
    finally:
        lock.release()


def _fingerprints(dataset, protocol: Protocol) -> dict:
    """What the scores depend on besides the methods: the protocol's cameras, lighting and evaluation
    settings (hashed by part, so a mismatch can say which part changed), and a cheap stamp (size, mtime) of
    each ground-truth file; the file's SHA-256 is already in every record scored against it."""
    parts = {"cameras": protocol.cameras, "lighting": protocol.lighting, "evaluation": protocol.evaluation}
    stamps = {}
    for o in dataset.objects:
        if o.has_ground_truth and Path(o.path).is_file():
            st = Path(o.path).stat()
            stamps[o.id] = [st.st_size, st.st_mtime_ns]
    return {
        "protocol_fingerprint": {k: hashlib.sha256(repr(v).encode()).hexdigest()[:16] for k, v in parts.items()},
        "ground_truth_stamp": stamps,
    }


def _check_fingerprints(store: ResultsStore, cfg: RunConfig, dataset, fingerprints: dict) -> None:
    """Refuse to resume when the protocol's definition or a ground-truth file changed since records were
    scored: the report would average scores against two different references. A file whose stamp changed
    is hashed and compared with the SHA-256 its records hold (a file copied or touched unchanged passes)."""
    existing = store.get_meta()
    changes = []
    old_protocol = existing.get("protocol_fingerprint") or {}
    changes += [
        f"protocol {cfg.protocol!r}: its {part} changed"
        for part, h in fingerprints["protocol_fingerprint"].items()
        if part in old_protocol and old_protocol[part] != h
    ]
    old_stamps, new_stamps = existing.get("ground_truth_stamp") or {}, fingerprints["ground_truth_stamp"]
    touched = {i for i, stamp in new_stamps.items() if i in old_stamps and old_stamps[i] != stamp}
    if touched:
        scored = {
            r.object: r.provenance.get("ground_truth_sha256")
            for r in store.records()
            if r.object in touched and (r.provenance or {}).get("ground_truth_sha256")
        }
        paths = {o.id: o.path for o in dataset.objects}
        changed = [(i, sha, sha256_file(paths[i])) for i, sha in sorted(scored.items())]
        changed = [(i, old, new) for i, old, new in changed if old != new]
        if changed:
            changes.append(
                f"ground truth of {len(changed)} object(s) changed: "
                + ", ".join(f"{i} (sha256 {old[:12]}… now {new[:12]}…)" for i, old, new in changed[:5])
                + ("…" if len(changed) > 5 else "")
            )
    if changes:
        raise RunError(
            f"{cfg.out}: cannot resume: " + "; ".join(changes) + ". Results scored before and after would be mixed; "
            "restore the original files or start a new run with another --out"
        )


def _progress(total: int, initial: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="job", desc="run", disable=not enabled, dynamic_ncols=True)
