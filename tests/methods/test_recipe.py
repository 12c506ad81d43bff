"""The typed upstream recipe: a misspelled key at any level of a spec is an error naming the method, the field's
path and the allowed keys (validation at registration: tests/test_registry.py)."""

from __future__ import annotations

import copy

import pytest

from reconbench.methods.base import MethodSpec
from reconbench.methods.recipe import (
    EnvironmentRecipe,
    InputSpec,
    SpecError,
    UpstreamRecipe,
    git_build,
    is_commit,
    is_relative,
    torch_index,
)
from reconbench.registry import get_method, method_names


def _spec() -> dict:
    return {
        "name": "toy-recipe",
        "paradigm": "feed-forward",
        "representation": "mesh",
        "description": "a toy adapter",
        "upstream": {
            "repo": "https://github.com/example/toy",
            "commit": "0" * 40,
            "extra": [{"repo": "https://github.com/example/dep", "commit": "1" * 40, "dest": "third/dep"}],
        },
        "environment": {
            "python": "3.10",
            "packages": ["numpy==1.26.4", ["torch==2.1.2"]],
            "build": [["{python}", "setup.py"], {"argv": ["make"], "cwd": "sub"}],
            "env": {"A": "1"},
        },
        "weights": ({"kind": "hf", "repo_id": "org/model", "files": ["m.ckpt"], "env": {"X": "m"}},),
        "steps": ({"stage": "generation", "argv": ["{python}", "run.py", "{inputs}", "--out", "{out}"]},),
        "output": {"path": "0/mesh.obj", "format": "obj"},
        "inputs": {"background": "transparent", "resolution": 256, "removes_background": True, "batch": True},
        "stage_markers": ({"stage": "generation", "pattern": "done"},),
        "input_camera": {"azimuth": 0.0, "source": "run.py:1"},
        "intermediate_views": {
            "path": "views.png",
            "cameras": [{"view": 0, "azimuth": 0.0, "elevation": 0.0}],
            "fov": 30.0,
            "distance": 2.0,
        },
        "frame": "y-up",
        "scale": "bbox",
        "sources": ({"title": "toy", "url": "https://example.org"},),
        "licence": "MIT",
    }


def test_a_sound_spec_reads_into_typed_fields():
    spec = MethodSpec.from_dict(_spec())
    recipe = spec.recipe
    assert isinstance(recipe, UpstreamRecipe)
    assert recipe.upstream.extra[0].dest == "third/dep" and recipe.upstream.repos[0].dest == ""
    assert isinstance(recipe.environment, EnvironmentRecipe)
    assert recipe.environment.packages == ("numpy==1.26.4", ("torch==2.1.2",))
    assert [b.cwd for b in recipe.environment.build] == ["", "sub"]
    assert recipe.inputs == InputSpec(resolution=256, removes_background=True, batch=True)
    assert recipe.weights[0].files == ("m.ckpt",) and recipe.steps[0].cwd == "{out}"
    assert recipe.intermediate_views is not None and recipe.intermediate_views.cameras[0].view == 0


# (where the typo goes, the misspelled key, the path the message must name, an allowed key it must list)
TYPOS = [
    ((), "descripton", "method 'toy-recipe'", "description"),
    (("upstream",), "comit", "upstream", "commit"),
    (("upstream", "extra", 0), "dst", "upstream.extra[0]", "dest"),
    (("environment",), "packges", "environment", "packages"),
    (("environment", "build", 1), "cdw", "environment.build[1]", "cwd"),
    (("weights", 0), "repoid", "weights[0]", "repo_id"),
    (("steps", 0), "arg", "steps[0]", "argv"),
    (("output",), "formt", "output", "format"),
    (("inputs",), "removes_backround", "inputs", "removes_background"),
    (("stage_markers", 0), "patern", "stage_markers[0]", "pattern"),
    (("input_camera",), "azimut", "input_camera", "azimuth"),
    (("intermediate_views",), "grd", "intermediate_views", "grid"),
    (("intermediate_views", "cameras", 0), "elev", "intermediate_views.cameras[0]", "elevation"),
]


@pytest.mark.parametrize(("where", "typo", "path", "allowed"), TYPOS, ids=[t[2] + "." + t[1] for t in TYPOS])
def test_a_misspelled_key_at_any_level_is_an_error_naming_method_path_and_allowed_keys(where, typo, path, allowed):
    d = _spec()
    d["steps"] = [dict(s) for s in d["steps"]]
    d["weights"] = [dict(w) for w in d["weights"]]
    d["stage_markers"] = [dict(m) for m in d["stage_markers"]]
    d = copy.deepcopy(d)
    target = d
    for key in where:
        target = target[key]
    target[typo] = True
    with pytest.raises(SpecError) as err:
        MethodSpec.from_dict(d)
    message = str(err.value)
    assert "'toy-recipe'" in message and path in message and repr(typo) in message and allowed in message


def test_wrong_shapes_are_errors_too():
    d = _spec()
    d["environment"] = {**d["environment"], "pip_args": "--no-deps"}  # a string, not a list
    with pytest.raises(SpecError, match=r"environment\.pip_args must be a list"):
        MethodSpec.from_dict(d)
    d = _spec()
    d["output"] = ["0/mesh.obj"]
    with pytest.raises(SpecError, match="output must be a mapping"):
        MethodSpec.from_dict(d)


def test_an_in_process_method_takes_no_upstream_fields():
    with pytest.raises(SpecError, match="in-process method"):
        MethodSpec.from_dict(
            {
                "name": "inproc",
                "paradigm": "reference",
                "representation": "mesh",
                "description": "x",
                "entry": "m:f",
                "inputs": {"resolution": 64},
            }
        )


def test_every_registered_adapter_has_a_typed_recipe():
    external = [get_method(n) for n in method_names() if get_method(n).is_external]
    assert len(external) >= 10
    for spec in external:
        assert spec.recipe is not None and len(spec.recipe.steps) == len(spec.steps), spec.name
        assert spec.recipe.output.path == spec.output["path"], spec.name


def test_one_commit_and_one_relative_path_check():
    assert is_commit("0123456789abcdef" * 2 + "01234567") and not is_commit("0123abc") and not is_commit(None)
    assert not is_commit("0123456789ABCDEF" * 2 + "01234567")  # git prints lowercase; a pin is copied from it
    assert is_relative("a/b.obj") and is_relative("0/*.ply")
    for bad in ("", "/abs", "~/x", "a/../../b", "..", "\\x", "a\\..\\b"):
        assert not is_relative(bad), bad


def test_spec_helpers_write_the_plain_data_they_stand_for():
    assert torch_index("cu121") == ["--extra-index-url", "https://download.pytorch.org/whl/cu121"]
    commit = "c5caf7bdb8a2448acc491a9faa47753972edd380"
    assert git_build("https://github.com/NVlabs/nvdiffrast.git", commit) == [
        "{python}",
        "-m",
        "pip",
        "install",
        "--no-build-isolation",
        f"git+https://github.com/NVlabs/nvdiffrast.git@{commit}",
    ]
    assert git_build("https://x.org/r.git", commit, "bindings/torch")[-1].endswith(
        f"@{commit}#subdirectory=bindings/torch"
    )
    with pytest.raises(SpecError, match="40-hex"):
        git_build("https://github.com/KAIR-BAIR/nerfacc.git", "v0.5.2")  # a tag can move: pins are commits


def test_the_recorded_upstream_is_the_spec_as_written_for_every_adapter():
    """run_external records recipe.upstream.to_dict(): the same repository, commit and extras the spec wrote."""
    from reconbench.registry import get_method, method_names

    external = [get_method(n) for n in method_names() if get_method(n).is_external]
    assert external and any(s.upstream.get("extra") for s in external)  # extras included, or this tests less
    for spec in external:
        assert spec.recipe is not None and spec.recipe.upstream.to_dict() == spec.upstream, spec.name
