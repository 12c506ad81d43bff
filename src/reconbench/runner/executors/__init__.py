"""Executors: where the jobs of a run execute. The driver (runner/run.py) hands an executor every
pending job and receives JobRecords as they finish, in any order; it alone writes the results store.

- `local` (default): one worker runs the jobs in the driver process, one after another; N workers run
  them in N spawned processes on this machine, N bounded by the cores, the jobs and, for GPU methods,
  the GPUs.
- `ray`: one Ray task per job, asking Ray for the GPUs its method needs, on an existing cluster
  (`--ray-address`) or on a local one started for the run (docs/cluster.md).

Both retry a job whose executing process died (up to `max_attempts` runs in all), then record it
as failed with the reason; a job whose method raises, hangs or crashes is recorded at once (the method
runs in its own child process, so that costs the job, not the executing process).

`base` holds the interface (`Executor`) and `make_executor`; `local` and `ray_executor` the two kinds.
"""

from reconbench.runner.executors.base import DEFAULT_MAX_ATTEMPTS, EXECUTORS, Executor, make_executor

__all__ = ["DEFAULT_MAX_ATTEMPTS", "EXECUTORS", "Executor", "make_executor"]
