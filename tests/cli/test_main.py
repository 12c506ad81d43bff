"""The `reconbench` entry point: every command has help with examples that parse, the top-level help
imports no heavy module, -v/-q set what library logging shows, and errors end a command in one line."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from reconbench.cli import COMMANDS, build_parser, main

HEAVY = ("numpy", "torch", "moderngl", "trimesh", "scipy", "PIL", "reconbench.render", "reconbench.methods")


def test_every_command_is_listed_and_has_help_with_examples_that_parse(capsys):
    assert main(["--help"]) == 0
    top = capsys.readouterr().out
    for name in COMMANDS:
        assert f"\n    {name}" in top, name
        assert main([name, "--help"]) == 0, name
        text = capsys.readouterr().out
        assert text.startswith(f"usage: reconbench {name}") and "\nexamples:\n" in text, name
        examples = [line.strip() for line in text.split("\nexamples:\n", 1)[1].splitlines() if line.strip()]
        assert examples, name
        parser = build_parser(name)
        for example in examples:
            argv = shlex.split(example, comments=True)
            assert argv[:2] == ["reconbench", name], example
            parser.parse_args(argv[1:])  # an example that no longer parses raises SystemExit here


def test_every_command_module_is_reachable_by_its_table_entry():
    import importlib

    for name, command in COMMANDS.items():
        module = importlib.import_module(command.module)
        assert module.DESCRIPTION.strip() and callable(module.add_arguments) and callable(module.run), name


def test_top_level_help_imports_no_heavy_module():
    probe = (
        "import sys; from reconbench.cli import build_parser; build_parser().format_help(); "
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""
    timed = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "reconbench", "--help"], capture_output=True, text=True
    )
    assert timed.returncode == 0 and "usage: reconbench" in timed.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in timed.stderr.splitlines() if line.startswith("import time")}
    assert "reconbench.cli._main" in imported  # the probe sees what is imported
    assert not imported & set(HEAVY), imported & set(HEAVY)


@pytest.mark.parametrize("entry", [["-m", "reconbench"], ["-m", "reconbench.cli"], "script"])
def test_every_entry_point_runs_the_same_command(entry):
    if entry == "script":
        script = Path(sys.executable).with_name("reconbench")
        if not script.is_file():
            pytest.skip("no `reconbench` console script beside this interpreter (not installed)")
        argv = [str(script)]
    else:
        argv = [sys.executable, *entry]
    proc = subprocess.run([*argv, "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("reconbench "), proc.stderr


@pytest.fixture
def unavailable_method():
    """A registered method that cannot run here (a module it requires is missing)."""
    from reconbench.registry import _registry, register_method

    name = "test-unavailable"
    register_method(
        {
            "name": name,
            "paradigm": "reference",
            "representation": "mesh",
            "entry": "reconbench.methods.reference.sphere:run",
            "description": "test double",
            "requires": ["reconbench_no_such_module"],
        }
    )
    yield name
    _registry().pop(name, None)


def test_verbosity_options_set_what_library_logging_shows(unavailable_method, tmp_path, capsys):
    """runner.run warns that a method cannot run here (shown by default, hidden by -q) and logs each job at
    debug level (shown by -v only); the command's own output on stdout is the same in every case."""
    warning = f"reconbench: warning: method {unavailable_method} cannot run on this machine"
    debug = "reconbench: debug: reconbench.runner.run: job "
    runs = {}
    for flags in ([], ["-q"], ["-v"], ["--verbose"]):
        out = tmp_path / ("run" + "".join(flags))
        argv = ["run", "--dataset", "procedural", "--limit", "1", "--methods", unavailable_method, "--out", str(out)]
        assert main([*flags, *argv, "--lpips", "none", "--no-progress"]) == 0
        runs[tuple(flags)] = capsys.readouterr()
    assert warning in runs[()].err and debug not in runs[()].err
    assert runs[("-q",)].err == ""
    assert warning in runs[("-v",)].err and debug in runs[("-v",)].err
    assert debug in runs[("--verbose",)].err
    assert all("1 of 1 jobs run now (0 ok, 0 failed, 1 skipped)" in r.out for r in runs.values())
    # after the command, logging is as it was (main may be called again in one process)
    import logging

    assert not logging.getLogger("reconbench").handlers


def test_verbosity_options_are_accepted_after_the_command_and_not_together(capsys):
    assert main(["protocols", "-q"]) == 0
    assert "default" in capsys.readouterr().out
    assert main(["-q", "protocols", "-v"]) == 2
    assert capsys.readouterr().err == "reconbench: error: give -v or -q, not both\n"


def test_bad_arguments_return_2_with_argparse_message(capsys):
    assert main(["volume", "somewhere", "--workers", "8,0"]) == 2
    assert "argument --workers: expected positive integers" in capsys.readouterr().err
    assert main(["cost", "somewhere", "--cpu-price", "nan"]) == 2
    assert "argument --cpu-price: expected a positive number, got 'nan'" in capsys.readouterr().err
    assert main(["no-such-command"]) == 2
    assert "invalid choice: 'no-such-command'" in capsys.readouterr().err


def test_dataset_help_lists_every_source(capsys):
    from reconbench.datasets.sources import SOURCES

    assert main(["run", "--help"]) == 0
    flat = " ".join(capsys.readouterr().out.split())
    for name, source in SOURCES.items():
        assert (f"{name}:PATH" if source["needs_path"] else name) in flat, name
    assert "images:PATH" in flat


def test_no_egl_gives_a_one_line_error_from_evaluate(tmp_path):
    """A machine without EGL: creating the context fails, and `reconbench evaluate` says so in one line."""
    import trimesh

    gt = tmp_path / "box.ply"
    trimesh.creation.box().export(gt)
    script = (
        "import sys, moderngl\n"
        "def no_egl(*a, **k): raise RuntimeError('eglGetDisplay failed (no EGL here)')\n"
        "moderngl.create_context = no_egl\n"
        "from reconbench.cli import main\n"
        f"sys.exit(main(['evaluate', '--pred', {str(gt)!r}, '--gt', {str(gt)!r}, '--lpips', 'none']))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("reconbench: error: cannot create a headless EGL OpenGL 3.3 context")
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
