"""The C3 connection-table explorer: its pure state, its error banner and its repr."""

from __future__ import annotations

import pytest
from IPython.lib.pretty import pretty
from matplotlib.figure import Figure

from cnnlab.models.lenet import C3_TABLE, PartialConv2d
from cnnlab.widgets.lenet_c3 import (
    PRESETS,
    c3_explorer,
    c3_state,
    draw_c3_table,
    format_table,
    parse_table,
)


def test_state_of_the_papers_table() -> None:
    s = c3_state()
    assert (s.params, s.full_params) == (1516, 2416)
    assert s.connections == 151_600 and s.mult_adds == 100 * 60 * 25
    assert s.same_inputs == () and round(s.saving, 4) == round(900 / 2416, 4)
    assert s.matrix.shape == (6, 16) and int(s.matrix.sum()) == 60
    assert s.matrix[:, 15].all() and s.matrix[[0, 1, 2], 0].all()


@pytest.mark.parametrize("name", list(PRESETS))
def test_params_equal_the_real_layer(name: str) -> None:
    table = PRESETS[name]
    s = c3_state(table, kernel_size=3)
    layer = PartialConv2d(6, table, 3)
    assert s.params == sum(p.numel() for p in layer.parameters())


def test_text_tables_and_same_inputs() -> None:
    assert parse_table("012, 345;5") == ((0, 1, 2), (3, 4, 5), (5,))
    assert parse_table(format_table(C3_TABLE)) == C3_TABLE
    s = c3_state("01 10 2", selected=2)
    assert s.same_inputs == ((0, 1),) and s.table[2] == (2,)
    assert s.full_params == 3 * (6 * 25 + 1)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("01 2x", "map 1: '2x' is not a group of digits"),
        ("", "the table is empty"),
        ("011", "lists an input map twice"),
        ("06", "reads input map 6; inputs are 0..5"),
        ([[0], []], "map 1 reads no input map"),
    ],
)
def test_bad_tables_are_named(table: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        c3_state(table)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="selected map 16 does not exist"):
        c3_state(C3_TABLE, selected=16)
    with pytest.raises(TypeError, match="table must be text"):
        parse_table(3)


def test_draw_returns_a_figure() -> None:
    fig = draw_c3_table(c3_state(selected=4))
    assert isinstance(fig, Figure) and "1,516 parameters" in fig.axes[0].get_title()


def test_explorer_presets_edits_error_banner_and_repr() -> None:
    w = c3_explorer(selected=6)
    assert repr(w) == "C3Explorer(16 maps, 60 connections, 1,516 parameters (full 2,416), map 6)"
    assert pretty(w) == repr(w)
    assert "S2 maps <b>0, 1, 2, 3</b>" in w.summary.value and w.preset.value == "LeNet-5 (Table I)"
    w.preset.value = "full connection"
    assert w.state.params == 2416 and "only their random initial weights" in w.message.value
    w.table.value = "01 2x"
    assert w.error == "map 1: '2x' is not a group of digits (input maps)"
    assert repr(w).startswith("C3Explorer(invalid input: map 1")
    assert w.image.layout.display == "none" and w.state.params == 2416  # last good state kept
    w.table.value = "01 23 45"
    assert w.error is None and w.preset.value == "custom"
    assert w.selected.max == 2 and w.state.selected == 2  # clamped to the shorter table
    assert w.image.value[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="unknown preset"):
        w.preset.value = "LeNet-7"
