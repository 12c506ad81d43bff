"""The tiny stand-in upstream method (tests/data/tiny_external) as a git repository and an external spec."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SOURCE = Path(__file__).parents[1] / "data" / "tiny_external"
LOAD_S, GEN_S, ALLOC_MB = 0.3, 0.5, 150


def git_repo(folder: Path) -> tuple[Path, str]:
    """A git repository holding the tiny method, and its commit."""
    shutil.copytree(SOURCE, folder)
    git = ["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "tiny method"], check=True)
    commit = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    return folder, commit


def tiny_spec(repo: Path, commit: str, name: str = "tiny-external", extra_args: tuple[str, ...] = ()) -> dict:
    return {
        "name": name,
        "paradigm": "feed-forward",
        "representation": "mesh",
        "description": "test stand-in for an upstream method",
        "upstream": {"repo": str(repo), "commit": commit},
        "environment": {"python": f"{sys.version_info.major}.{sys.version_info.minor}", "packages": ["{repo}"]},
        "steps": (
            {
                "stage": "export",
                "argv": [
                    "{python}",
                    "-m",
                    "tiny_recon",
                    "{inputs}",
                    "--out",
                    "{out}",
                    "--load-s",
                    str(LOAD_S),
                    "--gen-s",
                    str(GEN_S),
                    "--alloc-mb",
                    str(ALLOC_MB),
                    *extra_args,
                ],
            },
        ),
        "output": {"path": "0/mesh.obj", "format": "obj"},
        "inputs": {"background": "transparent", "resolution": 128, "batch": True},
        "stage_markers": (
            {"stage": "model_load", "pattern": "^model loaded"},
            {"stage": "generation", "pattern": "^generation done"},
        ),
        "frame": "z-up-front-x",
        "scale": "bbox",
        "timeout_s": 120,
    }


# Two-stage variant: the tiny method also writes "generated" views of its box (flat colour, ray cast) at these
# (azimuth, elevation) pairs, vertical fov and distance (file units), and the spec declares them.
VIEWS, VIEWS_FOV, VIEWS_DISTANCE, VIEWS_SIZE = ((0.0, 20.0), (90.0, -10.0), (200.0, 35.0)), 40.0, 2.0, 64


def with_views(spec: dict, cameras=VIEWS, distance: float = VIEWS_DISTANCE, path: str = "0/views.png") -> dict:
    """The spec, made to write its views (always at VIEWS) and to declare `cameras` at `distance` for them."""
    args = (
        "--views",
        ",".join(f"{a}:{e}" for a, e in VIEWS),
        "--views-fov",
        str(VIEWS_FOV),
        "--views-distance",
        str(VIEWS_DISTANCE),
        "--views-size",
        str(VIEWS_SIZE),
    )
    step = spec["steps"][0]
    return {
        **spec,
        "steps": ({**step, "argv": [*step["argv"], *args]},),
        "intermediate_views": {
            "path": path,
            "grid": [1, len(VIEWS)],
            "fov": VIEWS_FOV,
            "distance": distance,
            "saved_by": "upstream",
            "cameras": [{"view": k, "azimuth": a, "elevation": e} for k, (a, e) in enumerate(cameras)],
            "source": "tests/data/tiny_external/tiny_recon.py:render_row",
        },
    }


@pytest.fixture
def fake_backend(monkeypatch):
    """Every method's environment is the test's own interpreter with the tiny method's source on PYTHONPATH.
    A test module uses it with `fake_backend = tiny_external.fake_backend`."""
    import reconbench.upstream.envs as envs
    from reconbench.upstream.envs import Environment

    class Backend:
        name = "fake"

        def environment(self, spec):
            return Environment(spec.name, sys.executable, str(SOURCE), {"PYTHONPATH": str(SOURCE)})

    monkeypatch.setattr(envs, "get_backend", lambda name=None: Backend())
