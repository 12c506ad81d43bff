"""One small data file per method: a module defining SPEC, a plain dict (see methods.base.MethodSpec)."""
