"""Every named coordinate frame of protocol/frames.py is written down where methods and the protocol are
documented, so a spec author finds every frame a `frame` field may name."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconbench.protocol.frames import FRAMES

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("doc", ["protocol.md", "methods.md"])
def test_every_frame_is_named_in_the_docs(doc):
    text = (DOCS / doc).read_text(encoding="utf-8")
    assert [name for name in FRAMES if f"`{name}`" not in text] == []
