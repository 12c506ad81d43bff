"""`reconbench` with the test methods registered, run as a separate driver process by the interrupt and
killed-driver tests (multiprocessing spawn and Ray need a real script file)."""

import sys

from reconbench.cli import main
from reconbench.registry import register_method

FAKES = {"test-slow": "fake_methods:slow_sphere"}


def register_fakes() -> None:
    for name, entry in FAKES.items():
        register_method(
            {
                "name": name,
                "paradigm": "reference",
                "representation": "mesh",
                "entry": entry,
                "description": "test double",
                "input_views": (1, 4),
                "timeout_s": 30,
            }
        )


if __name__ == "__main__":
    register_fakes()  # fake_methods imports from this script's folder, sys.path[0]
    sys.exit(main(sys.argv[1:]))
