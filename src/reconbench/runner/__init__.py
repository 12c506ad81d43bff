"""The runner: jobs (method x object x protocol x seed), the method worker, the results store, exports."""

from reconbench.runner.run import RunConfig, RunError, RunSummary, run_benchmark

__all__ = ["RunConfig", "RunError", "RunSummary", "run_benchmark"]
