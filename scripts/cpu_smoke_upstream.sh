#!/usr/bin/env bash
# TripoSR's real upstream code run through reconbench on a CPU, with randomly initialised weights of the right shapes
# (docs/adapters.md "Upstream code on a CPU"). Not part of CI: it builds a PyTorch environment (~1.9 GB, minutes) and
# runs a 420M-parameter model and 256^3 marching cubes on the CPU. Quality is meaningless with random weights; what
# it checks is everything around the model: the environment builds from the recipe, run.py accepts the argv, the
# output is found and converted, the stage markers match.
#
#   TRIPOSR_SRC=/path/to/TripoSR-checkout-at-the-pinned-commit scripts/cpu_smoke_upstream.sh
#
# Variables (defaults in brackets):
#   TRIPOSR_SRC       a git checkout of VAST-AI-Research/TripoSR at the spec's pinned commit (required; used with
#                     `reconbench install triposr --source`, which checks the commit and that nothing tracked changed)
#   TORCHMCUBES_SRC   a git checkout of tatsy/torchmcubes holding the pinned commit, for machines that cannot reach
#                     GitHub [unset: pip clones it from GitHub]
#   SMOKE_PYTHON      Python of the CPU environment [3.11]
#   SMOKE_TORCH       the torch requirement replacing the recipe's torch==2.1.2 (a CPU build) [torch==2.13.0+cpu,
#                     which the machine this was written on has as a local wheel; elsewhere add
#                     --extra-index-url https://download.pytorch.org/whl/cpu through pip's own configuration]
#   WORK              scratch folder: cache, Hugging Face cache, weights, run [/tmp/reconbench-cpu-smoke]
#   PYTHON            interpreter with reconbench installed [python3]
# The recipe is changed only through RECONBENCH_RECIPE_OVERRIDES (docs/environments.md): the GPU recipe in the spec
# stays as it is, and the CPU environment gets its own folder (its own hash).
set -euo pipefail

: "${TRIPOSR_SRC:?set TRIPOSR_SRC to a TripoSR checkout at the pinned commit}"
WORK=${WORK:-/tmp/reconbench-cpu-smoke}
PYTHON=${PYTHON:-python3}
SMOKE_PYTHON=${SMOKE_PYTHON:-3.11}
SMOKE_TORCH=${SMOKE_TORCH:-torch==2.13.0+cpu}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$WORK"

export RECONBENCH_CACHE=${RECONBENCH_CACHE:-$WORK/cache}
export HF_HOME=$WORK/hf
unset HF_HUB_CACHE HUGGINGFACE_HUB_CACHE
export RECONBENCH_RECIPE_OVERRIDES=$WORK/overrides.json

# The CPU recipe: another Python and torch (no CUDA wheel index), setuptools as that torch requires (the <70 pin
# is for torch <= 2.1), torchmcubes from a local clone when given. Each replaced string must occur in the recipe.
"$PYTHON" - "$WORK/overrides.json" "$SMOKE_PYTHON" "$SMOKE_TORCH" "${TORCHMCUBES_SRC:-}" <<'EOF'
import json, sys
from pathlib import Path
from reconbench.registry import get_method
out, python, torch, mcubes = sys.argv[1:]
build = get_method("triposr").environment["build"][0]
git = next(a for a in build if a.startswith("git+"))
replace = {"torch==2.1.2": torch, "setuptools==69.5.1": "setuptools>=77.0.3"}
if mcubes:
    replace[git] = f"git+{Path(mcubes).resolve().as_uri()}@{git.rsplit('@', 1)[1]}"
Path(out).write_text(json.dumps({"triposr": {"python": python, "pip_args": [], "replace": replace}}, indent=1))
EOF
echo "== overrides: $(tr -d '\n' < "$WORK/overrides.json")"

echo "== 1. environment: reconbench install triposr --source $TRIPOSR_SRC"
nice -n 10 "$PYTHON" -m reconbench.cli install triposr --source "$TRIPOSR_SRC"
read -r ENV_PY ENV_REPO < <("$PYTHON" -c "
from reconbench.upstream.envs import get_backend; from reconbench.registry import get_method
e = get_backend('venv').environment(get_method('triposr')); print(e.python, e.repo)")

echo "== 2. random weights of the right shapes (scripts/cpu_smoke_weights.py)"
"$ENV_PY" -m pip install --quiet --no-deps --target "$WORK/pyextra" onnx ml_dtypes  # only to write the U2-Net stub
"$ENV_PY" - "$WORK/input.png" <<'EOF'
import sys
from PIL import Image, ImageDraw
im = Image.new("RGBA", (512, 512), (0, 0, 0, 0))
ImageDraw.Draw(im).ellipse((140, 100, 372, 412), fill=(200, 80, 40, 255))
im.save(sys.argv[1])
EOF
HF_HUB_OFFLINE=1 PYTHONPATH="$WORK/pyextra" nice -n 10 "$ENV_PY" "$HERE/cpu_smoke_weights.py" --repo "$ENV_REPO" \
    --hub "$HF_HOME/hub" --weights "$RECONBENCH_CACHE/weights" --image "$WORK/input.png"
"$PYTHON" -m reconbench.cli fetch-weights triposr  # must find all three in the caches: downloads nothing

echo "== 3. reconbench run --methods triposr (CPU)"
rm -rf "$WORK/run"
# rembg checks U2-Net's md5 before opening it; the stub differs, so that check is switched off (rembg's own variable).
MODEL_CHECKSUM_DISABLED=1 nice -n 10 "$PYTHON" -m reconbench.cli run --dataset procedural --limit 1 --methods triposr \
    --out "$WORK/run" --lpips none --no-progress

"$PYTHON" - "$WORK/run" <<'EOF'
import json, sys
from pathlib import Path
from reconbench.runner.store import ResultsStore
with ResultsStore(Path(sys.argv[1]) / "results.sqlite") as store:
    records = list(store.records())
for r in records:
    print(json.dumps({"status": r.status, "error": r.error, "method_stages": r.timings.get("method_stages"),
                      "commit": r.provenance.get("method", {}).get("upstream", {}).get("commit"),
                      "chamfer": r.metrics.get("chamfer"), "mask_iou": r.metrics.get("mask_iou")}, indent=1, default=str))
sys.exit(0 if records and all(r.status == "ok" for r in records) else 1)
EOF
