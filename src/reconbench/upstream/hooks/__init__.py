"""Our own helper scripts that run inside an upstream method's environment (never imported by reconbench).

Each is a standalone script run as `{python} {hooks}/<script>.py ...` by a spec's steps, using only the
standard library and what that environment has. They ship as package data of reconbench so that the
runner can point `{hooks}` at this folder.
"""
