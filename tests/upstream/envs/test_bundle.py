"""Offline bundles and local checkouts (envs/bundle.py, envs/sources.py): the checks that refuse a wrong bundle or
checkout, each with a message that names what is wrong. The end-to-end path is in test_bundle_e2e.py."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest
from envs_helpers import git, make_toy_package, toy_spec

from reconbench.cli import main
from reconbench.upstream.envs.bundle import (
    FORMAT,
    BundleError,
    install_weights,
    method_entry,
    platform_fits,
    read_bundle,
    sha256_file,
    split_git_requirement,
)
from reconbench.upstream.envs.recipe import recipe_hash
from reconbench.upstream.envs.sources import LocalSources, SourceMismatch, verify_checkout
from reconbench.upstream.envs.weights import missing_weights


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("up") / "rbtoy"
    return folder, make_toy_package(folder)


def test_git_requirements_are_parsed_like_pip():
    url = "https://github.com/tatsy/torchmcubes.git"
    assert split_git_requirement(f"git+{url}@bc36b08c62c5931e1dfc666581b3a8589278647f") == (
        url,
        "bc36b08c62c5931e1dfc666581b3a8589278647f",
        "",
    )
    assert split_git_requirement(f"git+{url}") == (url, "", "")
    assert split_git_requirement(f"mcubes @ git+{url}@v1#subdirectory=py&egg=x") == (url, "v1", "py")
    assert split_git_requirement("git+ssh://git@github.com/a/b.git@abc") == ("ssh://git@github.com/a/b.git", "abc", "")
    assert split_git_requirement("torch==2.1.2") is None and split_git_requirement("-r req.txt") is None


def test_offline_pip_options_drop_every_index():
    sources = LocalSources(find_links="/b/wheels")
    recipe = [
        "--extra-index-url",
        "https://download.pytorch.org/whl/cu121",
        "--index-url=https://x",
        "-i",
        "https://y",
        "--trusted-host",
        "h",
        "--no-cache-dir",
    ]
    assert sources.pip_options(recipe) == ["--no-cache-dir", "--no-index", "--find-links", "/b/wheels"]
    assert sources.pip_env() == {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": "/b/wheels"}
    assert LocalSources().pip_options(recipe) == recipe and LocalSources().pip_env() == {}


def test_platform_fits():
    assert platform_fits("linux-x86_64", "linux-x86_64")
    assert platform_fits("manylinux2014_x86_64", "linux-x86_64") and platform_fits(
        "manylinux_2_28_x86_64", "linux-x86_64"
    )
    assert not platform_fits("manylinux2014_aarch64", "linux-x86_64")
    assert not platform_fits("macosx_11_0_arm64", "linux-x86_64") and not platform_fits("linux-aarch64", "linux-x86_64")


def test_verify_checkout_names_wrong_commit_and_local_changes(toy, tmp_path):
    repo, commit = toy
    verify_checkout(repo, commit, "x")  # the pinned commit, clean: passes
    with pytest.raises(SourceMismatch, match=f"is at commit {commit}, the spec pins {'1' * 40}"):
        verify_checkout(repo, "1" * 40, "x")
    with pytest.raises(SourceMismatch, match="is not a git checkout"):
        verify_checkout(tmp_path, commit, "x")
    (repo / "data.txt").write_text("changed\n")
    try:
        with pytest.raises(SourceMismatch, match=r"local changes to tracked files \(data.txt\)"):
            verify_checkout(repo, commit, "x")
    finally:
        git("checkout", "--", "data.txt", cwd=repo)


def _bundle(folder, manifest, files):
    for rel, data in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    manifest = {
        "format": FORMAT,
        "platform": "linux-x86_64",
        "methods": {},
        **manifest,
        "files": {rel: sha256_file(folder / rel) for rel in files},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return manifest


def test_read_bundle_refuses_missing_manifest_other_format_and_damaged_files(tmp_path):
    with pytest.raises(BundleError, match="is not a reconbench bundle: it has no manifest.json"):
        read_bundle(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"format": "other/9"}))
    with pytest.raises(BundleError, match="format 'other/9'"):
        read_bundle(tmp_path)
    _bundle(tmp_path, {}, {"wheels/a.whl": b"a", "wheels/b.whl": b"b"})
    assert set(read_bundle(tmp_path)["files"]) == {"wheels/a.whl", "wheels/b.whl"}
    (tmp_path / "wheels" / "a.whl").write_bytes(b"changed")
    (tmp_path / "wheels" / "b.whl").unlink()
    with pytest.raises(BundleError, match="wheels/a.whl has a different sha256.*wheels/b.whl is missing"):
        read_bundle(tmp_path)


def test_method_entry_checks_method_commit_recipe_python_platform(toy, tmp_path, monkeypatch):
    repo, commit = toy
    spec = toy_spec("toy-bundle", repo, commit)
    good = {
        "recipe_hash": recipe_hash(spec.name, spec.recipe, "venv"),
        "python": spec.environment["python"],
        "upstream": [{"repo": str(repo), "commit": commit, "dest": "", "file": "source/toy/0.bundle"}],
    }
    manifest = {"format": FORMAT, "platform": "linux-x86_64", "methods": {"toy-bundle": good, "other": {}}}
    monkeypatch.setattr("reconbench.upstream.envs.bundle.host_platform", lambda: "linux-x86_64")
    assert method_entry(manifest, spec, tmp_path) is good
    with pytest.raises(BundleError, match=r"'nope' is not in the bundle .* \(it holds: other, toy-bundle\)"):
        method_entry(manifest, toy_spec("nope", repo, commit), tmp_path)
    moved = toy_spec("toy-bundle", repo, "2" * 40)
    with pytest.raises(
        BundleError, match=f"holds commit\\(s\\) \\['{commit}'\\], this reconbench pins \\['{'2' * 40}'\\]"
    ):
        method_entry(manifest, moved, tmp_path)
    changed = toy_spec("toy-bundle", repo, commit, packages=["numpy"])
    with pytest.raises(BundleError, match="made for another recipe"):
        method_entry(manifest, changed, tmp_path)
    with pytest.raises(BundleError, match="packages are for Python 2.7"):
        method_entry({**manifest, "methods": {"toy-bundle": {**good, "python": "2.7"}}}, spec, tmp_path)
    with pytest.raises(BundleError, match="made for platform 'manylinux2014_aarch64', this machine is 'linux-x86_64'"):
        method_entry({**manifest, "platform": "manylinux2014_aarch64"}, spec, tmp_path)


def test_install_weights_fills_the_hub_cache_layout_huggingface_hub_reads(toy, tmp_path, monkeypatch):
    """A bundled file lands where huggingface_hub's own cache lookup (try_to_load_from_cache) finds it."""
    repo, commit = toy
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("RECONBENCH_CACHE", str(tmp_path / "rb"))
    spec = toy_spec("toy-w", repo, commit)
    spec = type(spec).from_dict(
        {
            **asdict(spec),
            "weights": [
                {"kind": "hf", "repo_id": "org/model", "files": ["sub/model.ckpt"]},
                {"kind": "url", "url": "https://example.invalid/u2net.onnx", "dest": "u2net/u2net.onnx"},
            ],
        }
    )
    snapshot = "a" * 40
    entry = {
        "weights": [
            {
                "kind": "hf",
                "repo_id": "org/model",
                "repo_type": "model",
                "revision": "main",
                "commit": snapshot,
                "folder": "models--org--model",
                "filename": "sub/model.ckpt",
                "path": f"weights/hf/models--org--model/{snapshot}",
                "label": "ckpt",
            },
            {"kind": "url", "dest": "u2net/u2net.onnx", "path": "weights/url/u2net/u2net.onnx", "label": "u2net"},
        ]
    }
    bundle = tmp_path / "bundle"
    (bundle / "weights/hf/models--org--model" / snapshot / "sub").mkdir(parents=True)
    (bundle / "weights/hf/models--org--model" / snapshot / "sub/model.ckpt").write_bytes(b"ckpt")
    (bundle / "weights/url/u2net").mkdir(parents=True)
    (bundle / "weights/url/u2net/u2net.onnx").write_bytes(b"onnx")
    assert len(missing_weights(spec)) == 2
    assert install_weights(bundle, entry, spec) == ["ckpt", "u2net"]
    assert missing_weights(spec) == []
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache("org/model", "sub/model.ckpt", cache_dir=str(tmp_path / "hub"))
    assert open(found, "rb").read() == b"ckpt"
    assert install_weights(bundle, entry, spec) == []  # already there: nothing copied
    with pytest.raises(BundleError, match="still missing: org/model/sub/model.ckpt"):
        monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub2"))
        install_weights(bundle, {"weights": entry["weights"][1:]}, spec)


def test_install_cli_refuses_a_bundle_without_manifest_and_source_for_several(tmp_path, capsys):
    assert main(["install"]) == 2
    assert "name at least one METHOD" in capsys.readouterr().err
    assert main(["install", "sphere", "--from-bundle", str(tmp_path)]) == 2
    assert "has no manifest.json" in capsys.readouterr().err
    assert main(["install", "sphere", "--source", str(tmp_path), "--backend", "docker"]) == 2
    assert "build venv environments only" in capsys.readouterr().err
    assert main(["install", "sphere", "visual-hull", "--source", str(tmp_path)]) == 2
    assert "name exactly one METHOD" in capsys.readouterr().err


def test_download_packages_targets_the_recipe_python_and_platform(tmp_path):
    """Another Python or a platform: wheels only, for that target; git requirements are archived apart, `-e` is
    not a download, the setuptools pin comes first and the local project's build system is added."""
    from reconbench.upstream.envs.build_log import BuildLog
    from reconbench.upstream.envs.bundle import download_packages

    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "pyproject.toml").write_text('[build-system]\nrequires = ["setuptools>=61", "cython"]\n')
    calls = []

    class Recording(BuildLog):
        def run(self, argv, *, cwd=None, env=None, check=True):
            calls.append([str(a) for a in argv])
            return 0

    spec = toy_spec(
        "toy-dl",
        "https://example.invalid/x.git",
        "a" * 40,
        python="3.9",
        packages=[["torch==2.1.2"], "-e {repo}", "git+https://example.invalid/ext.git@abc", "numpy<2"],
        pip_args=["--extra-index-url", "https://download.pytorch.org/whl/cu121"],
    )
    download_packages(
        spec, repo, tmp_path / "wheels", Recording(tmp_path / "log"), python="3.9", platform="manylinux2014_x86_64"
    )
    target = [
        "--only-binary=:all:",
        "--python-version",
        "3.9",
        "--implementation",
        "cp",
        "--platform",
        "manylinux2014_x86_64",
        "--extra-index-url",
        "https://download.pytorch.org/whl/cu121",
    ]
    assert all(c[1:3] == ["-m", "pip"] for c in calls)
    assert [c[3:] for c in calls] == [
        ["download", "--dest", str(tmp_path / "wheels"), *target, "setuptools<70", "wheel"],
        ["download", "--dest", str(tmp_path / "wheels"), *target, "setuptools", "wheel", "setuptools>=61", "cython"],
        ["download", "--dest", str(tmp_path / "wheels"), *target, "torch==2.1.2"],
        ["download", "--dest", str(tmp_path / "wheels"), *target, str(repo), "numpy<2"],
    ]


def test_a_git_requirement_is_archived_at_its_commit_without_git_metadata(toy, tmp_path):
    import tarfile

    from reconbench.upstream.envs.build_log import BuildLog
    from reconbench.upstream.envs.bundle import archive_git_requirement

    repo, commit = toy
    (tmp_path / "wheels").mkdir()
    (tmp_path / "work").mkdir()
    out = archive_git_requirement(
        f"git+{repo.as_uri()}@{commit}", tmp_path / "wheels", tmp_path / "work", BuildLog(tmp_path / "log")
    )
    assert out.name == f"rbtoy-{commit[:12]}.tar.gz"
    with tarfile.open(out) as tar:
        names = tar.getnames()
    root = f"rbtoy-{commit[:12]}"
    assert f"{root}/pyproject.toml" in names and f"{root}/rbtoy/__init__.py" in names
    assert not any("/.git" in n for n in names)
