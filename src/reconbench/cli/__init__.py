"""The `reconbench` command line: one module per command (run.py, cost.py, ...), registered lazily in
_main.py; arguments shared by several commands in _args.py."""

from reconbench.cli._args import UsageError
from reconbench.cli._main import COMMANDS, build_parser, main

__all__ = ["COMMANDS", "UsageError", "build_parser", "main"]
