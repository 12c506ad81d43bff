"""RECONBENCH_RECIPE_OVERRIDES (envs/overrides.py): local recipe changes reach every backend, get their own hash,
and a key or replacement that does not fit the recipe is an error naming it."""

from __future__ import annotations

import json

import pytest
from envs_helpers import toy_spec

from reconbench.upstream.envs import dockerfile
from reconbench.upstream.envs.overrides import OVERRIDES_ENV, OverrideError, environment_of
from reconbench.upstream.envs.recipe import (
    environment_for,
    package_groups,
    python_version,
    recipe_hash,
    seed_requirements,
)

GIT = "git+https://github.com/tatsy/torchmcubes.git@bc36b08c62c5931e1dfc666581b3a8589278647f"


def spec():
    return toy_spec(
        "toy-over",
        "https://example.invalid/toy.git",
        "a" * 40,
        python="3.10",
        packages=["torch==2.1.2", "setuptools==69.5.1"],
        pip_args=["--extra-index-url", "https://download.pytorch.org/whl/cu121"],
        build=[["{python}", "-m", "pip", "install", "--no-build-isolation", GIT]],
    )


def write(tmp_path, monkeypatch, data) -> None:
    path = tmp_path / "over.json"
    path.write_text(json.dumps(data))
    monkeypatch.setenv(OVERRIDES_ENV, str(path))


def test_no_variable_no_change(monkeypatch):
    monkeypatch.delenv(OVERRIDES_ENV, raising=False)
    assert environment_of("toy-over", spec().recipe.environment) == spec().recipe.environment


def test_overrides_reach_the_recipe_and_change_its_hash(tmp_path, monkeypatch):
    monkeypatch.delenv(OVERRIDES_ENV, raising=False)
    before = recipe_hash(spec().name, spec().recipe, "venv")
    write(
        tmp_path,
        monkeypatch,
        {
            "toy-over": {
                "python": "3.11",
                "pip_args": [],
                "replace": {
                    "torch==2.1.2": "torch==2.13.0+cpu",
                    "setuptools==69.5.1": "setuptools>=77",
                    GIT: "git+file:///tmp/mc@bc36",
                },
            },
            "other": {"python": "2.7"},
        },
    )
    s = spec()
    env = environment_for(s)
    assert env.python == "3.11" and env.pip_args == () and env.build[0].argv[-1] == "git+file:///tmp/mc@bc36"
    assert python_version(s.name, environment_for(s)) == "3.11" and package_groups(
        environment_for(s), python="p", repo="r"
    ) == [["torch==2.13.0+cpu", "setuptools>=77"]]
    assert seed_requirements(environment_for(s)) == ["setuptools>=77", "wheel"]
    assert recipe_hash(s.name, s.recipe, "venv") != before
    text = dockerfile(s)
    assert "torch==2.13.0+cpu" in text and "download.pytorch.org" not in text and "torch==2.1.2" not in text


def test_a_replacement_that_matches_nothing_is_an_error(tmp_path, monkeypatch):
    write(tmp_path, monkeypatch, {"toy-over": {"replace": {"torch==2.1.1": "torch==2.13.0"}}})
    with pytest.raises(OverrideError, match=r"'replace' names \['torch==2.1.1'\]"):
        environment_for(spec())


def test_unknown_keys_and_unreadable_files_are_errors(tmp_path, monkeypatch):
    write(tmp_path, monkeypatch, {"toy-over": {"pyhton": "3.11"}})
    with pytest.raises(OverrideError, match=r"unknown key\(s\) \['pyhton'\]"):
        environment_for(spec())
    monkeypatch.setenv(OVERRIDES_ENV, str(tmp_path / "none.json"))
    with pytest.raises(OverrideError, match="cannot read it as JSON"):
        environment_for(spec())


def test_the_cli_reports_a_bad_overrides_file_as_a_usage_error(tmp_path, monkeypatch, capsys):
    from reconbench.cli import main

    monkeypatch.setenv(OVERRIDES_ENV, str(tmp_path / "none.json"))
    assert main(["install", "triposr"]) == 2
    assert (
        f"reconbench: error: {OVERRIDES_ENV}={tmp_path / 'none.json'}: cannot read it as JSON"
        in capsys.readouterr().err
    )


def test_an_override_of_the_wrong_shape_is_read_as_strictly_as_a_spec(tmp_path, monkeypatch):
    write(tmp_path, monkeypatch, {"toy-over": {"pip_args": "--no-deps"}})  # a string, not a list
    with pytest.raises(ValueError, match=r"RECONBENCH_RECIPE_OVERRIDES: method 'toy-over': environment\.pip_args"):
        environment_for(spec())
