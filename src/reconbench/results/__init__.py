"""A run's results, typed: the job record (record), the metric catalogue (catalogue), a run folder
(run: `load_run`), and the tables every report renders (tables). Reading results imports neither the
renderer nor torch, so `reconbench cost` and `reconbench report` work without them."""

from reconbench.results.catalogue import METRICS, PSNR_CAP_DB, Metric, metric, metric_set
from reconbench.results.record import GpuInfo, JobRecord, MethodProvenance, Provenance, RecordError, Resources, Timings
from reconbench.results.run import Run, RunMeta, load_run

__all__ = [
    "METRICS",
    "PSNR_CAP_DB",
    "GpuInfo",
    "JobRecord",
    "Metric",
    "MethodProvenance",
    "Provenance",
    "RecordError",
    "Resources",
    "Run",
    "RunMeta",
    "Timings",
    "load_run",
    "metric",
    "metric_set",
]
