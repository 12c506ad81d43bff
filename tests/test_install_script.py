"""scripts/install.sh chooses the PyTorch build on purpose (the CPU wheel index without an NVIDIA driver,
the default index with one) and falls back to the default index quickly when the chosen one is
unreachable. Only the choice is run here (--print-torch-choice), never an installation."""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[1] / "scripts" / "install.sh"
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the CPU index is chosen on Linux only")


def choice(**env) -> tuple[list[str], str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("RECONBENCH_TORCH")}
    # A hang (pip-like minutes of retries) would end in TimeoutExpired: the probe must give up by itself.
    out = subprocess.run(
        ["bash", str(SCRIPT), "--print-torch-choice"],
        env={**full, **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    args, why = (out.split("\n") + ["", ""])[:2]
    return args.split(), why


@pytest.fixture
def cpu_index(tmp_path):
    """A local stand-in for the CPU wheel index that answers /torch/."""
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "index.html").write_text("<html></html>")
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path))  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_cpu_index_without_an_nvidia_driver(cpu_index):
    args, why = choice(RECONBENCH_ASSUME_NVIDIA="0", RECONBENCH_TORCH_CPU_INDEX=cpu_index)
    assert args == ["--index-url", cpu_index] and "CPU build" in why


def test_default_index_with_an_nvidia_driver(cpu_index):
    args, why = choice(RECONBENCH_ASSUME_NVIDIA="1", RECONBENCH_TORCH_CPU_INDEX=cpu_index)
    assert args == [] and "NVIDIA driver is present" in why


def test_falls_back_quickly_when_the_cpu_index_does_not_answer():
    with socket.socket() as silent:  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        args, why = choice(
            RECONBENCH_ASSUME_NVIDIA="0", RECONBENCH_TORCH_CPU_INDEX=url, RECONBENCH_TORCH_PROBE_TIMEOUT_S="1"
        )
    assert args == [] and "fallback" in why and url in why


def test_an_explicit_index_wins():
    args, _ = choice(RECONBENCH_TORCH_INDEX="https://example.org/simple", RECONBENCH_ASSUME_NVIDIA="1")
    assert args == ["--index-url", "https://example.org/simple"]
