"""`reconbench` with the test methods registered, run as a separate driver process by the interrupt and
killed-driver tests (multiprocessing spawn and Ray need a real script file)."""

import sys

from runner_helpers import register  # this script's folder is sys.path[0], as is fake_methods'

from reconbench.cli import main

FAKES = {"test-slow": "fake_methods:slow_sphere"}


if __name__ == "__main__":
    for name, entry in FAKES.items():
        register(name, entry)
    sys.exit(main(sys.argv[1:]))
