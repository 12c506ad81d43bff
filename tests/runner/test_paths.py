"""Every path a run writes for an object or a method stays inside the run folder."""

from pathlib import Path

import pytest

from reconbench.runner.paths import UnsafePathError, run_path


def test_plain_names_join_under_the_run_folder(tmp_path):
    assert run_path(tmp_path, "work", "oracle", "my obj", "seed0") == tmp_path / "work" / "oracle" / "my obj" / "seed0"
    assert run_path(tmp_path, "inputs", "a..b") == tmp_path / "inputs" / "a..b"  # a name, not a parent step


@pytest.mark.parametrize("part", ["/etc", "../x", "..", ".", "a/b", "a\\b", "", "x\0y"])
def test_a_part_that_is_not_one_path_component_is_refused(tmp_path, part):
    with pytest.raises(UnsafePathError, match="one path component"):
        run_path(tmp_path, "work", part, "seed0")


def test_execute_builds_every_object_and_method_folder_through_run_path():
    # Guard against a new `out / ... / obj.id` join that bypasses the check.
    source = (Path(__file__).parents[2] / "src" / "reconbench" / "runner" / "execute.py").read_text()
    assert "run_path(" in source
    for unchecked in ("/ obj.id", "/ job.object_id", "/ job.method"):
        assert unchecked not in source, unchecked
