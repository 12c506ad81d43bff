"""Published results, times and training compute as typed data, and what is computed from them alone:
the literature tables, the break-even volumes of published figures, measured-versus-published in reports.

Per-method figures live in each method spec's `published` field (methods/specs/*.py); the papers and the
protocols of their tables in `papers`; rows of methods reconbench does not run in `others`.
This package imports no method code (the host lists it all without installing anything).
"""
