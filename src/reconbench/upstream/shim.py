"""Launcher placed in front of an upstream Python command: `python shim.py script.py ARGS` or
`python shim.py -m module ARGS`.

It prints one marker line as soon as the method's interpreter is up, so the runner can tell the
environment's start-up time from the method's own work, then runs the script or module exactly as
`python script.py ARGS` / `python -m module ARGS` would (as __main__, same argv, same sys.path[0]).
Standard library only: it runs inside the method's environment, whatever its Python version.
"""

import os
import runpy
import sys

SHIM_READY_LINE = "[reconbench] interpreter ready"


def main(argv):
    if not argv:
        sys.exit("shim: nothing to run (expected SCRIPT ARGS or -m MODULE ARGS)")
    print(SHIM_READY_LINE, flush=True)
    if argv[0] == "-m":
        if len(argv) < 2:
            sys.exit("shim: -m needs a module name")
        sys.argv = [argv[1], *argv[2:]]
        sys.path[0] = os.getcwd()
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    else:
        script = os.path.abspath(argv[0])
        sys.argv = [argv[0], *argv[1:]]
        sys.path[0] = os.path.dirname(script)
        runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
