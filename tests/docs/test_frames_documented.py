"""Every named coordinate frame is written down where a spec author looks for it: the generic frames of
protocol/frames.py in docs/protocol.md and docs/methods.md, every frame a registered method declares in its own
spec (MethodSpec.frames) in docs/adapters.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconbench.protocol.frames import FRAMES
from reconbench.registry import get_method, method_names

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("doc", ["protocol.md", "methods.md"])
def test_every_generic_frame_is_named_in_the_docs(doc):
    text = (DOCS / doc).read_text(encoding="utf-8")
    assert [name for name in FRAMES if f"`{name}`" not in text] == []


def test_every_frame_a_method_declares_is_named_in_the_adapters_doc():
    declared = [frame.name for m in method_names() for frame in get_method(m).declared_frames]
    assert declared  # the adapters declare theirs (instantmesh-obj, ...): an empty list would test nothing
    text = (DOCS / "adapters.md").read_text(encoding="utf-8")
    assert [name for name in declared if f"`{name}`" not in text] == []
