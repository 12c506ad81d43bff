#!/usr/bin/env bash
# The checks of scoring's GPU paths that a machine without a GPU cannot run (issue #18; docs/metrics.md,
# "Speed"): the renderer on the NVIDIA EGL device, LPIPS and SSIM on CUDA equal to their CPU values (IEEE float32,
# no TF32), whole evaluations on CUDA equal to the CPU's, and the seconds per pair on the GPU against the target
# (<= 0.3 s under `default`). Run from the repository root on a machine with an NVIDIA GPU, either with reconbench
# installed (`pip install -e .`) or, offline, with what scripts/gpu_wheels.sh packed in .whl/ and .gl/:
#
#   bash scripts/gpu_check.sh           # logs in $OUT (default gpu-check-out/)
#
# Not yet timed on a GPU (none was lent where it was written). The pytest run is `-m gpu`: the tests marked for a GPU, which skip where torch sees no CUDA.
set -uo pipefail

cd "$(dirname "$0")/.."
OUT=${OUT:-gpu-check-out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH="src${PYTHONPATH:+:$PYTHONPATH}"
if [ -d .gl ] && compgen -G ".gl/*.deb" >/dev/null; then
    if [ -w / ]; then
        for f in .gl/*.deb; do dpkg -x "$f" /; done
        ldconfig
    else
        echo "gpu_check.sh: not root: the GL loaders in .gl/ are not unpacked; the EGL checks may fail" >&2
    fi
fi
if [ -d .whl ] && compgen -G ".whl/*.whl" >/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        || exit 1
    export PYTHONPATH="$PYTHONPATH:/tmp/site"
fi
[ -f .whl/lpips/alex-v0.1.npz ] && export RECONBENCH_LPIPS_WEIGHTS="$PWD/.whl/lpips"
export RECONBENCH_CACHE=${RECONBENCH_CACHE:-/tmp/reconbench-cache}

status=0
step() {  # step NAME COMMAND...: run, keep its output in $OUT/NAME.txt, remember a failure
    echo "== $1"
    local name=$1
    shift
    "$@" 2>&1 | tee "$OUT/$name.txt"
    local rc=${PIPESTATUS[0]}
    echo "== $name: exit $rc"
    [ "$rc" -eq 0 ] || status=1
}
step environment python3 -c "
import torch
from reconbench.render.context import egl_devices, renderer_info
print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')
print('EGL devices', egl_devices())
print('renderer', renderer_info())"
step gpu-tests python3 -m pytest -q -m gpu -rs -p no:cacheprovider tests/metrics/test_image_metrics.py \
    tests/metrics/test_lpips.py tests/test_evaluation.py tests/render/test_egl_device.py
step eval-speed python3 benchmarks/eval_speed.py --device cuda --repeat 3 --protocols default,sparse4 --baseline none
step eval-speed-cpu python3 benchmarks/eval_speed.py --device cpu --repeat 3 --protocols default --baseline none
exit $status
