"""The inception designer: its state agrees with cnnlab.cost on the real module, errors show
a banner, and its repr is short and deterministic."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from cnnlab.cost import summary
from cnnlab.models.inception import GOOGLENET_TABLE, Inception
from cnnlab.widgets.inception_designer import draw_inception, inception_designer, inception_state


@pytest.mark.parametrize("name", ["3a", "4e"])
def test_state_matches_the_cost_table_of_the_real_module(name: str) -> None:
    cin = {"3a": 192, "4e": 528}[name]
    size = {"3a": 28, "4e": 14}[name]
    row = GOOGLENET_TABLE[name]
    st = inception_state(cin, size, *row)
    s = summary(Inception(cin, *row), (cin, size, size))
    convs = sum(r.mult_adds for r in s.select(["Conv2d"]))
    assert st.params == s.totals.params and st.mult_adds == convs
    assert st.out_channels == row[0] + row[2] + row[4] + row[5]


def test_naive_module_passes_the_pool_through() -> None:
    st = inception_state(reductions=False)
    assert st.out_channels == 64 + 128 + 32 + 192
    assert st.mult_adds > 2 * inception_state().mult_adds


def test_state_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="c5r"):
        inception_state(c5r=0)
    with pytest.raises(ValueError, match="size"):
        inception_state(size=0)


def test_designer_updates_shows_errors_and_has_a_short_repr() -> None:
    w = inception_designer()
    assert repr(w) == (
        "InceptionDesigner(reduced inception module on 192×28×28: 256 maps, 163,696 parameters)"
    )
    assert "256 output maps" in w.summary.value and w.image.value[:4] == b"\x89PNG"
    w.reductions.value = False
    assert w.state.out_channels == 416 and not w.state.reductions
    w.channels.value = 0
    assert w.error and "⚠" in w.message.value and w.state.channels == 192
    w.channels.value = 64
    assert w.error is None and w.state.channels == 64
    assert plt.get_fignums() == []


def test_draw_has_two_panels() -> None:
    fig = draw_inception(inception_state())
    assert len(fig.axes) == 2 and "pool proj" in fig.axes[0].get_yticklabels()[-1].get_text()
