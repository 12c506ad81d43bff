"""hooks/save_multiview.py, the hook that keeps LGM's ImageDream views: run on CPU against a stand-in pipeline
class and script laid out like LGM's checkout (mvdream/pipeline_mvdream.py, infer.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

import reconbench.upstream.hooks as hooks

HOOK = Path(hooks.__file__).with_name("save_multiview.py")


def _checkout(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "mvdream").mkdir(parents=True)
    (repo / "mvdream" / "__init__.py").write_text("")
    (repo / "mvdream" / "pipeline_mvdream.py").write_text(
        "import numpy as np\n"
        "class MVDreamPipeline:\n"
        "    def __call__(self, prompt, image, elevation=0):\n"
        "        # five views, view k filled with k / 10, like MVDream's numpy output\n"
        "        return np.stack([np.full((6, 8, 3), k / 10, np.float32) for k in range(5)])\n"
    )
    (repo / "infer.py").write_text(
        "import sys\n"
        "from mvdream.pipeline_mvdream import MVDreamPipeline\n"
        "out = MVDreamPipeline()('', None)\n"
        "print('infer got', out.shape, 'args', sys.argv[1:])\n"
    )
    return repo


def test_views_are_written_and_the_script_runs_unchanged(tmp_path):
    repo = _checkout(tmp_path)
    dest = tmp_path / "out" / "views"
    proc = subprocess.run(
        [
            sys.executable,
            str(HOOK),
            "--pipeline",
            "mvdream.pipeline_mvdream:MVDreamPipeline",
            "--dest",
            str(dest),
            "--views",
            "4",
            "--",
            str(repo / "infer.py"),
            "big",
            "--x",
            "1",
        ],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "infer got (5, 6, 8, 3) args ['big', '--x', '1']" in proc.stdout  # the caller sees the images untouched
    row = np.asarray(Image.open(dest / "mv_0.png"))
    assert row.shape == (6, 32, 3)  # the first four views side by side
    assert [int(row[0, 8 * k, 0]) for k in range(4)] == [round(k / 10 * 255) for k in range(4)]


def test_an_unknown_pipeline_is_a_clear_error(tmp_path):
    repo = _checkout(tmp_path)
    proc = subprocess.run(
        [
            sys.executable,
            str(HOOK),
            "--pipeline",
            "mvdream.pipeline_mvdream:Nope",
            "--dest",
            str(tmp_path / "v"),
            "--",
            str(repo / "infer.py"),
        ],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "cannot find the pipeline mvdream.pipeline_mvdream:Nope" in proc.stderr
