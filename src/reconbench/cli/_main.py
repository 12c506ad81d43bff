"""The `reconbench` command: global options, the table of commands, logging, and how errors end a command.

Commands are registered lazily: the table below names each command's module and its one-line help, and
a command's module is imported only when that command runs (or its own --help is asked for), so
`reconbench --help` imports neither numpy nor the renderer nor torch. Each command module defines
DESCRIPTION, EXAMPLES, add_arguments(parser) and run(args) -> exit code.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import sys
import textwrap
import traceback
from collections.abc import Sequence
from dataclasses import dataclass

from reconbench import __version__
from reconbench.errors import ReconbenchError


@dataclass(frozen=True)
class Command:
    module: str  # imported only when the command is chosen
    help: str  # the line `reconbench --help` shows


COMMANDS: dict[str, Command] = {
    "run": Command(
        "reconbench.cli.run",
        "the benchmark: run and score every (method, object) pair, write results.sqlite, results.csv, report.md",
    ),
    "methods": Command(
        "reconbench.cli.methods", "list every method and whether it can run on this machine (and why not)"
    ),
    "install": Command(
        "reconbench.cli.install", "build the environment of upstream methods (a venv in the cache, or a Docker image)"
    ),
    "fetch-weights": Command(
        "reconbench.cli.fetch_weights", "download the weights of methods into the local caches, so runs work offline"
    ),
    "bundle": Command(
        "reconbench.cli.bundle",
        "gather upstream code, packages and weights of methods into a folder, for clusters without internet",
    ),
    "doctor": Command(
        "reconbench.cli.doctor",
        "per upstream method: build, fetch weights, run one object and score it (--preflight: check the spec only)",
    ),
    "evaluate": Command(
        "reconbench.cli.evaluate",
        "score one predicted asset against a ground-truth object (image and geometry metrics)",
    ),
    "evaluate-views": Command(
        "reconbench.cli.evaluate_views",
        "score a folder of images (a multi-view generator's output) against ground-truth renders or another folder",
    ),
    "cost": Command(
        "reconbench.cli.cost",
        "GPU-hours and money per asset over asset volumes, and feed-forward vs per-scene break-even volumes",
    ),
    "volume": Command(
        "reconbench.cli.volume", "wall-clock hours for a volume of assets on K workers, from a run's per-asset times"
    ),
    "report": Command(
        "reconbench.cli.report",
        "one self-contained HTML report (tables, figures, qualitative grid) and summary.md of a run",
    ),
    "literature": Command(
        "reconbench.cli.literature",
        "published results, times, training compute and break-even volumes, with sources (no run needed)",
    ),
    "train": Command(
        "reconbench.cli.train",
        "train a method that is trained here (voxel-cnn): checkpoints, resume, a training record",
    ),
    "protocols": Command("reconbench.cli.protocols", "list evaluation protocols (camera rigs, resolution, lighting)"),
    "datasets": Command("reconbench.cli.datasets", "list dataset sources, or the objects of one dataset"),
    "render": Command(
        "reconbench.cli.render",
        "render ground-truth objects at a protocol's views (PNG, depth, normals, cameras.json)",
    ),
}


def _verbosity_options(top_level: bool) -> argparse.ArgumentParser:
    """-v/-q, accepted before the command and after it (where a command's own -v also prints more)."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_mutually_exclusive_group()
    # Below the top level the default is SUPPRESS, so a command's parser never resets what was given before it.
    default = False if top_level else argparse.SUPPRESS
    group.add_argument(
        "-v", "--verbose", action="store_true", default=default, help="more output: debug messages, details"
    )
    group.add_argument("-q", "--quiet", action="store_true", default=default, help="errors only, no other messages")
    return parent


def build_parser(*load: str) -> argparse.ArgumentParser:
    """The parser of `reconbench`, with the full arguments of the commands in `load` (the others are
    listed by name and help only, their modules not imported)."""
    parser = argparse.ArgumentParser(
        prog="reconbench",
        description=(
            "Feed-forward vs per-scene single/sparse-view 3D reconstruction: every method run and scored the same way."
        ),
        epilog="`reconbench COMMAND --help` describes a command, with examples.",
        parents=[_verbosity_options(top_level=True)],
    )
    parser.add_argument("--version", action="version", version=f"reconbench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    verbosity = _verbosity_options(top_level=False)
    for name, command in COMMANDS.items():
        p = sub.add_parser(
            name, help=command.help, parents=[verbosity], formatter_class=argparse.RawDescriptionHelpFormatter
        )
        if name in load:
            module = importlib.import_module(command.module)
            p.description = textwrap.fill(module.DESCRIPTION, width=100)
            p.epilog = "examples:\n" + "\n".join(f"  {line}" for line in module.EXAMPLES.strip().splitlines())
            module.add_arguments(p)
            p.set_defaults(func=module.run)
    return parser


def _command_in(argv: Sequence[str]) -> str | None:
    """The command named in argv: the first word that is not an option (the global options take no value)."""
    return next((a for a in argv if not a.startswith("-")), None)


class _Format(logging.Formatter):
    """`reconbench: message`, `reconbench: warning: message`; debug lines also name their module."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if record.levelno >= logging.WARNING:
            return f"reconbench: {record.levelname.lower()}: {text}"
        if record.levelno < logging.INFO:
            return f"reconbench: debug: {record.name}: {text}"
        return f"reconbench: {text}"


def _log_to_stderr(verbose: bool, quiet: bool) -> tuple[logging.Handler, int, bool]:
    """Show the `reconbench` loggers' messages on stderr: info and up by default, debug too with -v, errors only
    with -q. Returns what `_restore_logging` needs (main may be called again, in tests or a notebook)."""
    logger = logging.getLogger("reconbench")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Format())
    before = (handler, logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose else logging.ERROR if quiet else logging.INFO)
    logger.propagate = False  # shown once, here, even where the root logger has handlers of its own
    return before


def _restore_logging(state: tuple[logging.Handler, int, bool]) -> None:
    handler, level, propagate = state
    logger = logging.getLogger("reconbench")
    logger.removeHandler(handler)
    logger.setLevel(level)
    logger.propagate = propagate


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit code. A ReconbenchError (bad input, files, machine) is one line
    and exit 2; an OSError (a read-only or full disk, a missing file) too; anything else, a KeyError
    included, is a bug: its traceback, a hint, exit 1; Ctrl-C is exit 130. Bad arguments and --help return
    argparse's code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = _command_in(argv)
    try:
        args = build_parser(*([command] if command in COMMANDS else [])).parse_args(argv)
    except SystemExit as exc:  # --help, --version, or an argument argparse refused (it printed why)
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
    args.verbose, args.quiet = getattr(args, "verbose", False), getattr(args, "quiet", False)
    if args.verbose and args.quiet:
        print("reconbench: error: give -v or -q, not both", file=sys.stderr)
        return 2
    logging_state = _log_to_stderr(args.verbose, args.quiet)
    try:
        return args.func(args)
    except KeyboardInterrupt:  # Ctrl-C in a command that does not handle it itself (run and train do)
        print("reconbench: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of stdout went away (`reconbench methods | head`): stop quietly, as
        # SIGPIPE would; stdout goes to /dev/null so that flushing it at exit raises nothing more (Python docs, signal)
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except ReconbenchError as exc:
        print(f"reconbench: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"reconbench: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except Exception:
        traceback.print_exc()
        print(
            f"reconbench {__version__}: this is a bug in reconbench, not a problem with your input; please report it "
            "with the traceback above and the command you ran",
            file=sys.stderr,
        )
        return 1
    finally:
        _restore_logging(logging_state)
