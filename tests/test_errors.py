"""One base for user-facing errors: `reconbench` reports them in one line (exit 2); anything else is a bug
and shows its traceback with a hint to report it (exit 1), so a bug never looks like a user error."""

import pytest

from reconbench import cli
from reconbench.errors import ReconbenchError, UnknownName


def test_user_facing_errors_share_the_base():
    from reconbench.assets import AssetLoadError
    from reconbench.datasets import DatasetError
    from reconbench.limits import LimitError
    from reconbench.results import RecordError
    from reconbench.runner.run import RunError
    from reconbench.runner.store import StoreError
    from reconbench.upstream.envs.base import EnvironmentMissing
    from reconbench.upstream.envs.build_log import EnvironmentBuildError
    from reconbench.upstream.envs.bundle import BundleError
    from reconbench.upstream.envs.weights import WeightsMissing
    from reconbench.viewscore.score import ViewError

    for cls in (
        AssetLoadError,
        DatasetError,
        EnvironmentBuildError,
        EnvironmentMissing,
        BundleError,
        WeightsMissing,
        LimitError,
        RecordError,
        RunError,
        StoreError,
        ViewError,
        cli.UsageError,
    ):
        assert issubclass(cls, ReconbenchError), cls


def test_unknown_names_are_user_errors_and_still_key_errors(capsys):
    from reconbench.protocol import get_protocol
    from reconbench.registry import get_method

    for lookup, name in ((get_protocol, "no-such-protocol"), (get_method, "no-such-method")):
        with pytest.raises(UnknownName) as info:
            lookup(name)
        assert isinstance(info.value, KeyError) and str(info.value).startswith("unknown ")  # a plain message
    assert cli.main(["protocols", "-v"]) == 0
    capsys.readouterr()
    assert (
        cli.main(["render", "--dataset", "procedural", "--protocol", "no-such-protocol", "--out", "/nonexistent"]) == 2
    )
    err = capsys.readouterr().err
    assert err.startswith("reconbench: error: unknown protocol 'no-such-protocol'") and "Traceback" not in err


def test_an_unreadable_protocol_file_is_a_one_line_error(tmp_path, capsys):
    bad = tmp_path / "p.json"
    bad.write_text("{not json")
    assert cli.main(["render", "--dataset", "procedural", "--protocol", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"reconbench: error: {bad}: cannot read protocol file") and "Traceback" not in err


@pytest.mark.parametrize("bug", [KeyError("internal"), RuntimeError("boom"), ZeroDivisionError()])
def test_a_bug_shows_its_traceback_and_is_not_a_user_error(monkeypatch, capsys, bug):
    def broken(args):
        raise bug

    from reconbench.cli import protocols

    monkeypatch.setattr(protocols, "run", broken)
    assert cli.main(["protocols"]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "this is a bug in reconbench" in err
    assert "reconbench: error:" not in err


def test_ctrl_c_ends_a_command_with_130_and_no_traceback(monkeypatch, capsys):
    from reconbench.cli import protocols

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(protocols, "run", interrupted)
    assert cli.main(["protocols"]) == 130
    assert capsys.readouterr().err == "reconbench: interrupted\n"


def test_a_closed_stdout_ends_a_command_quietly(monkeypatch, capsys):
    """`reconbench methods | head`: the reader went away; no error line, no traceback, SIGPIPE's status."""
    from reconbench.cli import protocols

    def reader_gone(args):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(protocols, "run", reader_gone)
    assert cli.main(["protocols"]) == 141
    assert capsys.readouterr().err == ""
