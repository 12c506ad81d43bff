"""The runner: jobs (method x object x protocol x seed), the method worker, the results store, exports.

The driver is `reconbench.runner.run` (`run_benchmark`, `RunConfig`); it imports the scoring and rendering
stack, so this package face re-exports nothing and `reconbench.runner.store` (all that reading a run needs)
stays light.
"""
