"""The literature tables never mix protocols in one column, and the command prints, writes JSON and HTML."""

from __future__ import annotations

import json

from reconbench.cli import main
from reconbench.literature.collect import entries, fidelity_tables, side_by_side
from reconbench.literature.papers import PROTOCOLS
from reconbench.literature.render import SIDE_BY_SIDE, literature_data


def _tables():
    items = entries()
    return fidelity_tables(items) + [side_by_side(d, m, items) for d, m in SIDE_BY_SIDE]


def test_no_column_mixes_protocols():
    for table in _tables():
        for j, column in enumerate(table.columns):
            assert column.protocol in PROTOCOLS and f"[{column.protocol}]" in column.header
            for _, values in table.rows:
                if values[j] is not None:
                    assert (values[j].protocol, values[j].metric) == (column.protocol, column.metric), table.title
    for table in fidelity_tables():
        assert len({c.protocol for c in table.columns}) == 1  # one paper table, one protocol
    for table in literature_data()["fidelity"] + literature_data()["side_by_side"]:
        for column in table["columns"]:
            assert set(column) == {"protocol", "metric"}


def test_side_by_side_shows_the_disagreement_as_separate_columns():
    t = side_by_side("gso", "chamfer")
    cols = [c.protocol for c in t.columns]
    (row,) = [values for label, values in t.rows if label == "triposr"]
    by_protocol = {p: (v.value if v else None) for p, v in zip(cols, row)}
    assert by_protocol["sf3d-gso"] == 0.111 and by_protocol["spar3d-gso"] == 0.145
    assert {PROTOCOLS[p].dataset for p in cols} == {"gso"}


def test_methods_with_identical_figures_share_a_row():
    (sf3d,) = [t for t in fidelity_tables() if t.columns[0].protocol == "sf3d-gso"]
    assert "lgm, lgm-mesh" in [label for label, _ in sf3d.rows]


def test_command_text_json_and_html(capsys, tmp_path):
    assert main(["literature"]) == 0
    text = capsys.readouterr().out
    for heading in (
        "The published answer",
        "sf3d-gso",
        "syncdreamer-gso30",
        "Published time per asset",
        "Training compute",
        "Break-even",
    ):
        assert heading in text
    assert "openlrm vs dreamgaussian: feed-forward cheaper above N* = 1,722,129" in text  # 8448 / ((24 - 6.34) / 3600)
    assert main(["literature", "--json", "--html", str(tmp_path / "lit.html")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"papers", "protocols", "fidelity", "side_by_side", "methods", "break_even"} <= set(data)
    page = (tmp_path / "lit.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<table>" in page and "font-family" in page and "<script" not in page
    for section in (
        "The published answer",
        "(a) Published fidelity",
        "(b) Published time per asset",
        "(c) Break-even",
        "Protocols",
        "syncdreamer-gso30",
    ):
        assert section in page
    assert main(["literature", "--throughput", "H100=nope"]) == 2
